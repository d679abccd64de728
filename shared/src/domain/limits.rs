//! The arithmetic of the attempt limits: fixed windows, and the limits a password attempt
//! counts against (pure; the counters live in storage, the policy's use in services).

/// A limit: at most `max` attempts in each fixed window of `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: i64,
}

impl Limit {
    /// The window `now` falls in (its number since the epoch).
    pub fn window(&self, now: i64) -> i64 {
        now.div_euclid(self.window_secs.max(1))
    }

    /// When the window `now` falls in closes: a refused attempt waits until then.
    pub fn window_ends(&self, now: i64) -> i64 {
        (self.window(now) + 1) * self.window_secs.max(1)
    }
}

/// What one limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Password attempts at one account from one client address: an address can lock only
    /// itself out of an account.
    EmailFromSource,
    /// Password attempts from one client address, at any accounts.
    Source,
    /// Password attempts at one account from anywhere, per minute: reached only by many
    /// addresses at once, and then a short wait.
    EmailPerMinute,
    /// The same per hour: the wait grows if the distributed attack goes on.
    EmailPerHour,
    /// Unknown or stale invitation links opened from one client address.
    LinkSource,
}

impl Counted {
    pub fn as_str(self) -> &'static str {
        match self {
            Counted::EmailFromSource => "LOGIN-PAIR",
            Counted::Source => "LOGIN-SOURCE",
            Counted::EmailPerMinute => "LOGIN-EMAIL-MINUTE",
            Counted::EmailPerHour => "LOGIN-EMAIL-HOUR",
            Counted::LinkSource => "ACCEPT-SOURCE",
        }
    }
}

/// The configured numbers of the password limits.
#[derive(Debug, Clone, Copy)]
pub struct PasswordLimits {
    /// Per account per address, in `per_source_window_secs`.
    pub per_email_from_source: u32,
    pub per_email_from_source_window_secs: i64,
    /// Per address (any accounts), in `per_source_window_secs`.
    pub per_source: u32,
    pub per_source_window_secs: i64,
    /// Per account from anywhere, per minute; five times that per hour.
    pub per_email_per_minute: u32,
}

/// How many times the per-minute limit the hourly one allows: a distributed attack first
/// waits at most a minute, then, if it keeps going, until the hour ends.
pub const HOURLY_FACTOR: u32 = 5;

impl PasswordLimits {
    /// The limits one password attempt counts against. Without an email (a malformed one)
    /// only the address's; the account limits apply to unknown accounts too, so they
    /// reveal nothing.
    pub fn applying(&self, with_email: bool) -> Vec<(Counted, Limit)> {
        let mut limits = vec![(
            Counted::Source,
            Limit {
                max: self.per_source,
                window_secs: self.per_source_window_secs,
            },
        )];
        if with_email {
            limits.extend([
                (
                    Counted::EmailFromSource,
                    Limit {
                        max: self.per_email_from_source,
                        window_secs: self.per_email_from_source_window_secs,
                    },
                ),
                (
                    Counted::EmailPerMinute,
                    Limit {
                        max: self.per_email_per_minute,
                        window_secs: 60,
                    },
                ),
                (
                    Counted::EmailPerHour,
                    Limit {
                        max: self.per_email_per_minute.saturating_mul(HOURLY_FACTOR),
                        window_secs: 3600,
                    },
                ),
            ]);
        }
        limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_fixed_and_end_on_their_boundary() {
        let l = Limit {
            max: 5,
            window_secs: 900,
        };
        assert_eq!(l.window(0), 0);
        assert_eq!(l.window(899), 0);
        assert_eq!(l.window(900), 1);
        assert_eq!(l.window_ends(1), 900);
        assert_eq!(l.window_ends(900), 1800);
        // A zero window (never configured: config refuses it) cannot divide by zero.
        let z = Limit {
            max: 1,
            window_secs: 0,
        };
        assert_eq!(z.window_ends(10), 11);
    }

    #[test]
    fn a_password_attempt_counts_per_account_only_when_there_is_one() {
        let limits = PasswordLimits {
            per_email_from_source: 5,
            per_email_from_source_window_secs: 900,
            per_source: 50,
            per_source_window_secs: 900,
            per_email_per_minute: 20,
        };
        let kinds = |v: Vec<(Counted, Limit)>| v.into_iter().map(|(c, _)| c).collect::<Vec<_>>();
        assert_eq!(kinds(limits.applying(false)), vec![Counted::Source]);
        let all = limits.applying(true);
        assert_eq!(
            kinds(all.clone()),
            vec![
                Counted::Source,
                Counted::EmailFromSource,
                Counted::EmailPerMinute,
                Counted::EmailPerHour
            ]
        );
        assert_eq!(
            all[3].1,
            Limit {
                max: 100,
                window_secs: 3600
            }
        );
    }
}
