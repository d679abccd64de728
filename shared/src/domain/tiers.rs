//! The deployment's tier table (`TIERS`): each tier's name, its invitations per UTC day and
//! its optional seat limit. Pure: parsed once at init, then only looked up.
//!
//! Syntax: comma-separated entries `name[:invites=N][:seats=N]`, e.g.
//! `free:invites=100:seats=10,pro:invites=1000,enterprise`. The first tier is the default and
//! the one every self-service organization starts on. A tier without `invites=` uses the
//! deployment's `INVITATIONS_PER_ORG_PER_DAY`; one without `seats=` has no seat limit.

use super::Invalid;

/// Most tiers a deployment may define (each one is a term of the seat condition that
/// DynamoDB evaluates on every join; see `storage::quota`).
pub const MAX_TIERS: usize = 20;

/// One tier's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierLimits {
    pub name: String,
    /// Invitation emails (new and resent) per UTC day; `None`: the deployment's default.
    pub invites_per_day: Option<u64>,
    /// Members an organization on this tier may have; `None`: no limit.
    pub seats: Option<u64>,
}

impl TierLimits {
    /// This tier's invitations per day, with `default` for a tier that sets none.
    pub fn invites_or(&self, default: u64) -> u64 {
        self.invites_per_day.unwrap_or(default)
    }

    /// True when an organization with `member_count` members has no seat left.
    pub fn is_full(&self, member_count: u64) -> bool {
        self.seats.is_some_and(|seats| member_count >= seats)
    }
}

/// The tier table, in configured order (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tiers(Vec<TierLimits>);

impl Tiers {
    pub fn parse(raw: &str) -> Result<Tiers, Invalid> {
        let mut tiers: Vec<TierLimits> = Vec::new();
        for (i, entry) in raw.split(',').enumerate() {
            let tier = parse_entry(entry.trim())
                .map_err(|e| Invalid::new(format!("entry {} ({entry:?}): {e}", i + 1)))?;
            if tiers.iter().any(|t| t.name == tier.name) {
                return Err(Invalid::new(format!(
                    "tier {:?} is listed twice",
                    tier.name
                )));
            }
            tiers.push(tier);
        }
        if tiers.len() > MAX_TIERS {
            return Err(Invalid::new(format!("at most {MAX_TIERS} tiers")));
        }
        Ok(Tiers(tiers))
    }

    /// The default tier: the first configured, where self-service organizations start.
    pub fn first(&self) -> &TierLimits {
        // `parse` refuses an empty table (an empty entry is malformed).
        &self.0[0]
    }

    pub fn get(&self, name: &str) -> Option<&TierLimits> {
        self.0.iter().find(|t| t.name == name)
    }

    /// The limits an organization on `name` gets: its tier's, or the first tier's when the
    /// stored tier is no longer configured (TIERS changed after it was set).
    pub fn limits_of(&self, name: &str) -> &TierLimits {
        self.get(name).unwrap_or_else(|| self.first())
    }

    pub fn iter(&self) -> impl Iterator<Item = &TierLimits> {
        self.0.iter()
    }

    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|t| t.name.as_str()).collect()
    }

    /// True when some tier limits seats (only then do joins carry a seat condition).
    pub fn any_seat_limit(&self) -> bool {
        self.0.iter().any(|t| t.seats.is_some())
    }
}

fn parse_entry(entry: &str) -> Result<TierLimits, String> {
    let mut parts = entry.split(':');
    let name = parts.next().unwrap_or("").trim();
    let name_ok = (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !name_ok {
        return Err("a tier name is 1 to 32 letters, digits, '_' or '-'".into());
    }
    let mut tier = TierLimits {
        name: name.to_string(),
        invites_per_day: None,
        seats: None,
    };
    for part in parts {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("expected invites=N or seats=N, got {part:?}"))?;
        let number = value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=u64::from(u32::MAX)).contains(n))
            .ok_or_else(|| format!("{key} must be a positive integer, got {value:?}"))?;
        let slot = match key.trim() {
            "invites" => &mut tier.invites_per_day,
            "seats" => &mut tier.seats,
            other => return Err(format!("unknown limit {other:?} (invites or seats)")),
        };
        if slot.replace(number).is_some() {
            return Err(format!("{} is given twice", key.trim()));
        }
    }
    Ok(tier)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(name: &str, invites: Option<u64>, seats: Option<u64>) -> TierLimits {
        TierLimits {
            name: name.into(),
            invites_per_day: invites,
            seats,
        }
    }

    #[test]
    fn parses_names_and_limits_in_order() {
        let t = Tiers::parse("free:invites=100:seats=10, pro:invites=1000 ,enterprise").unwrap();
        assert_eq!(
            t.iter().cloned().collect::<Vec<_>>(),
            vec![
                tier("free", Some(100), Some(10)),
                tier("pro", Some(1000), None),
                tier("enterprise", None, None),
            ]
        );
        assert_eq!(t.first().name, "free");
        assert_eq!(t.names(), vec!["free", "pro", "enterprise"]);
        assert!(t.any_seat_limit());
        // Either order of the limits.
        let t = Tiers::parse("team:seats=5:invites=7").unwrap();
        assert_eq!(t.first(), &tier("team", Some(7), Some(5)));
    }

    #[test]
    fn the_default_table_has_no_limits_of_its_own() {
        let t = Tiers::parse("free,pro,enterprise").unwrap();
        assert!(!t.any_seat_limit());
        assert!(t.iter().all(|t| t.invites_per_day.is_none()));
        assert_eq!(t.first().invites_or(1000), 1000);
    }

    #[test]
    fn refuses_malformed_entries() {
        for bad in [
            "",
            "free,",
            ",free",
            "free,,pro",
            "fr ee",
            "free:invites",
            "free:invites=",
            "free:invites=0",
            "free:invites=-1",
            "free:invites=ten",
            "free:seats=0",
            "free:seats=4294967296",
            "free:colour=red",
            "free:invites=1:invites=2",
            "free:seats=1:seats=1",
            ":invites=5",
            "free,FREE,free",
            &"t".repeat(33),
        ] {
            assert!(Tiers::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let many = (0..=MAX_TIERS)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(Tiers::parse(&many).is_err());
        let err = Tiers::parse("free,pro:seats=none").unwrap_err();
        assert!(err.message.contains("entry 2"), "{err}");
    }

    #[test]
    fn unknown_stored_tiers_get_the_first_tiers_limits() {
        let t = Tiers::parse("free:invites=5:seats=2,pro").unwrap();
        assert_eq!(t.limits_of("pro").name, "pro");
        assert_eq!(t.limits_of("legacy").name, "free");
        assert!(t.get("legacy").is_none());
    }

    #[test]
    fn seats_are_full_at_the_limit() {
        let limited = tier("free", None, Some(3));
        assert!(!limited.is_full(0));
        assert!(!limited.is_full(2));
        assert!(limited.is_full(3));
        assert!(limited.is_full(4));
        assert!(!tier("pro", None, None).is_full(u64::MAX));
        assert_eq!(limited.invites_or(1000), 1000);
        assert_eq!(tier("x", Some(9), None).invites_or(1000), 9);
    }
}
