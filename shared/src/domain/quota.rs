//! Daily invitation quotas, as arithmetic: which UTC day a moment falls on, what was sent
//! that day by one organization and by the whole deployment, and whether `count` more
//! emails fit both limits. Pure; `storage::quota` reads and adds the counters.

pub const DAY_SECS: i64 = 86_400;

/// Days since the Unix epoch (UTC) of `epoch` seconds.
pub fn utc_day(epoch: i64) -> i64 {
    epoch.div_euclid(DAY_SECS)
}

/// Seconds from `now` until `day` ends (midnight UTC), at least 1.
pub fn until_day_ends(day: i64, now: i64) -> u64 {
    ((day + 1) * DAY_SECS - now).max(1) as u64
}

/// Invitation emails (new and resent) sent on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyCounts {
    pub day: i64,
    /// By one organization.
    pub org: u64,
    /// By every organization of the deployment.
    pub deployment: u64,
}

/// The two daily limits that apply to one organization's invitations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyLimits {
    /// The organization's tier's invitations per day.
    pub org: u64,
    /// INVITATIONS_PER_DAY: every organization together.
    pub deployment: u64,
}

impl DailyCounts {
    /// `Ok` when `count` more emails keep both counts within their limits; otherwise the
    /// seconds until the day ends, when both counts start again from zero. Nothing to send
    /// always fits.
    pub fn admit(&self, limits: DailyLimits, count: u64, now: i64) -> Result<(), u64> {
        let fits = |sent: u64, limit: u64| sent.saturating_add(count) <= limit;
        if count == 0 || (fits(self.org, limits.org) && fits(self.deployment, limits.deployment)) {
            Ok(())
        } else {
            Err(until_day_ends(self.day, now))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DailyLimits = DailyLimits {
        org: 5,
        deployment: 8,
    };

    fn counts(org: u64, deployment: u64) -> DailyCounts {
        DailyCounts {
            day: 20_000,
            org,
            deployment,
        }
    }

    #[test]
    fn days_are_utc_days() {
        assert_eq!(utc_day(0), 0);
        assert_eq!(utc_day(DAY_SECS - 1), 0);
        assert_eq!(utc_day(DAY_SECS), 1);
        assert_eq!(utc_day(-1), -1);
        assert_eq!(until_day_ends(0, 0), 86_400);
        assert_eq!(until_day_ends(0, DAY_SECS - 1), 1);
        // A clock a moment past midnight still waits at least a second.
        assert_eq!(until_day_ends(0, DAY_SECS + 5), 1);
    }

    #[test]
    fn the_organizations_limit_is_inclusive() {
        let now = 20_000 * DAY_SECS + 3_600;
        assert_eq!(counts(0, 0).admit(LIMITS, 5, now), Ok(()));
        assert_eq!(counts(3, 3).admit(LIMITS, 2, now), Ok(()));
        assert_eq!(counts(3, 3).admit(LIMITS, 3, now), Err(82_800));
        assert_eq!(counts(5, 5).admit(LIMITS, 1, now), Err(82_800));
    }

    #[test]
    fn the_deployments_limit_stops_an_organization_with_room_left() {
        let now = 20_000 * DAY_SECS;
        assert_eq!(counts(0, 7).admit(LIMITS, 1, now), Ok(()));
        assert_eq!(counts(0, 7).admit(LIMITS, 2, now), Err(86_400));
        assert_eq!(counts(0, 8).admit(LIMITS, 1, now), Err(86_400));
    }

    #[test]
    fn nothing_to_send_always_fits_and_nothing_overflows() {
        assert_eq!(counts(99, 99).admit(LIMITS, 0, 0), Ok(()));
        assert!(counts(u64::MAX, 0).admit(LIMITS, 1, 0).is_err());
        let all = DailyLimits {
            org: u64::MAX,
            deployment: u64::MAX,
        };
        assert_eq!(counts(1, 1).admit(all, u64::MAX - 1, 0), Ok(()));
    }
}
