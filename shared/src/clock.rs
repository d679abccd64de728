//! Time as the API shows it (RFC 3339, UTC, milliseconds) and as TTLs need it (epoch seconds).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Copy)]
pub struct Now(OffsetDateTime);

impl Now {
    pub fn get() -> Self {
        // Millisecond precision keeps stored timestamps a fixed width, so they sort as strings.
        let t = OffsetDateTime::now_utc();
        Now(t
            .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
            .unwrap_or(t))
    }

    pub fn epoch(self) -> i64 {
        self.0.unix_timestamp()
    }

    pub fn rfc3339(self) -> String {
        format_rfc3339(self.0)
    }

    pub fn after_secs(self, secs: i64) -> Now {
        Now(self.0 + time::Duration::seconds(secs))
    }
}

fn format_rfc3339(t: OffsetDateTime) -> String {
    // Fixed width: always three fractional digits.
    let base = t
        .replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default();
    let trimmed = base.trim_end_matches('Z');
    format!("{trimmed}.{:03}Z", t.millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_and_sort() {
        let a = Now::get();
        let b = a.after_secs(1);
        assert_eq!(a.rfc3339().len(), 24, "{}", a.rfc3339());
        assert!(a.rfc3339() < b.rfc3339());
        assert_eq!(b.epoch() - a.epoch(), 1);
    }
}
