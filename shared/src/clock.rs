//! Time as the API shows it (RFC 3339, UTC, milliseconds) and as TTLs need it (epoch seconds).

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// RFC 3339 in UTC with exactly three fractional digits: fixed width, so stored timestamps
/// sort as strings.
const RFC3339_MILLIS: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

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
    // Every value is UTC (`now_utc` plus durations), which the literal `Z` states.
    t.format(RFC3339_MILLIS).unwrap_or_default()
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

    #[test]
    fn the_format_is_rfc3339_utc_with_three_fractional_digits() {
        use time::macros::datetime;
        let cases = [
            (
                datetime!(2026-12-01 03:04:05.678_901 UTC),
                "2026-12-01T03:04:05.678Z",
            ),
            (
                datetime!(2026-01-02 00:00:00 UTC),
                "2026-01-02T00:00:00.000Z",
            ),
            (
                datetime!(1999-12-31 23:59:59.999_999_999 UTC),
                "1999-12-31T23:59:59.999Z",
            ),
            (
                datetime!(2026-06-30 12:00:00.05 UTC),
                "2026-06-30T12:00:00.050Z",
            ),
        ];
        for (t, want) in cases {
            assert_eq!(format_rfc3339(t), want);
            // Well-formed RFC 3339: time's own parser reads the same instant (to the second).
            let back = OffsetDateTime::parse(want, &time::format_description::well_known::Rfc3339);
            assert_eq!(back.map(|b| b.unix_timestamp()), Ok(t.unix_timestamp()));
        }
    }
}
