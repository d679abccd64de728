//! Configuration: read from the environment once per cold start. A missing or bad variable
//! stops the function at init with an error that names it.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

#[derive(Clone)]
pub struct Config {
    pub table_name: String,
    /// The keys every function verifies access tokens with, all published as the JWKS
    /// (`JWT_PUBLIC_KEYS`: comma-separated `kid=x`, x the base64url Ed25519 public key).
    pub jwt_public_keys: crate::auth::jwt::PublicKeys,
    /// Secrets Manager id (name or ARN) of the private signing key, set only on the functions
    /// that sign (auth, accept); read once per cold start (`auth::signing_key`).
    pub jwt_signing_key_secret: Option<String>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub allow_self_service_orgs: bool,
    /// TIERS: each tier's invitations per day and seat limit; the first is the default.
    pub tiers: crate::domain::Tiers,
    /// Failed sign-ins at one account from one client address before that address (only)
    /// gets 429 for the rest of `login_lockout`.
    pub login_max_failures: u32,
    pub login_lockout: Duration,
    /// Failed sign-ins at one account from any addresses per minute (five times that per
    /// hour) before everyone waits: reached only by a distributed attack.
    pub login_max_failures_per_email: u32,
    /// Failed sign-ins from one client address (any emails) before 429.
    pub login_max_failures_per_source: u32,
    /// Acceptance attempts with unknown or stale links from one address before 429.
    pub accept_max_failures_per_source: u32,
    /// The window both per-address limits count in.
    pub source_lockout: Duration,
    /// Invitations (new and resent) one organization may send per UTC day, for tiers that
    /// set no `invites=` of their own.
    pub invitations_per_org_per_day: u64,
    /// Invitation emails (new and resent) the whole deployment may send per UTC day.
    pub invitations_per_day: u64,
    pub app_base_url: String,
    pub ses_from_address: String,
    pub invitation_ttl: Duration,
    pub invitation_retention: Duration,
    /// How many invitation emails a bulk invite sends at once.
    pub mail_concurrency: usize,
    /// How long one attempt of an AWS request may take before it is retried (the whole
    /// operation gets a bit more than twice that; see `app::timeouts`).
    pub aws_attempt_timeout: Duration,
    /// Certificate authorities the HTTPS client trusts (`TLS_ROOTS`: `aws` or `os`).
    pub tls_roots: crate::tls::TlsRoots,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("table_name", &self.table_name)
            .field("jwt_public_keys", &self.jwt_public_keys.to_string())
            .field("jwt_signing_key_secret", &self.jwt_signing_key_secret)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("tiers", &self.tiers)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The numbers of the limits a password attempt counts against.
    pub fn password_limits(&self) -> crate::domain::limits::PasswordLimits {
        crate::domain::limits::PasswordLimits {
            per_email_from_source: self.login_max_failures,
            per_email_from_source_window_secs: self.login_lockout.as_secs() as i64,
            per_source: self.login_max_failures_per_source,
            per_source_window_secs: self.source_lockout.as_secs() as i64,
            per_email_per_minute: self.login_max_failures_per_email,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads through `get` so tests can supply variables without touching the process env.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let or =
            |name: &'static str, default: &str| get(name).unwrap_or_else(|| default.to_string());
        let seconds = |name: &'static str, default: u64| -> Result<Duration, ConfigError> {
            match get(name) {
                None => Ok(Duration::from_secs(default)),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|s| *s > 0)
                    .map(Duration::from_secs)
                    .ok_or(ConfigError::Invalid {
                        name,
                        reason: format!("expected a positive number of seconds, got {v:?}"),
                    }),
            }
        };
        let flag = |name: &'static str, default: bool| -> Result<bool, ConfigError> {
            match get(name).as_deref().map(str::trim) {
                None => Ok(default),
                Some("true" | "1" | "yes") => Ok(true),
                Some("false" | "0" | "no") => Ok(false),
                Some(v) => Err(ConfigError::Invalid {
                    name,
                    reason: format!("expected true or false, got {v:?}"),
                }),
            }
        };
        let tiers =
            crate::domain::Tiers::parse(&or("TIERS", "free,pro,enterprise")).map_err(|e| {
                ConfigError::Invalid {
                    name: "TIERS",
                    reason: e.message,
                }
            })?;
        let count = |name: &'static str, default: &str| -> Result<u64, ConfigError> {
            or(name, default)
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=u32::MAX as u64).contains(n))
                .ok_or(ConfigError::Invalid {
                    name,
                    reason: "expected a positive integer".into(),
                })
        };
        let login_max_failures = count("LOGIN_MAX_FAILURES", "5")? as u32;
        Ok(Config {
            table_name: required("TABLE_NAME")?,
            jwt_public_keys: crate::auth::jwt::PublicKeys::parse(&required("JWT_PUBLIC_KEYS")?)
                .map_err(|reason| ConfigError::Invalid {
                    name: "JWT_PUBLIC_KEYS",
                    reason,
                })?,
            jwt_signing_key_secret: get("JWT_SIGNING_KEY_SECRET")
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty()),
            jwt_issuer: or("JWT_ISSUER", "roster"),
            jwt_audience: or("JWT_AUDIENCE", "roster-api"),
            access_token_ttl: seconds("ACCESS_TOKEN_TTL_SECONDS", 900)?,
            refresh_token_ttl: seconds("REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600)?,
            allow_self_service_orgs: flag("ALLOW_SELF_SERVICE_ORGS", true)?,
            tiers,
            login_max_failures,
            login_lockout: seconds("LOGIN_LOCKOUT_SECONDS", 900)?,
            login_max_failures_per_email: count("LOGIN_MAX_FAILURES_PER_EMAIL", "20")? as u32,
            login_max_failures_per_source: count("LOGIN_MAX_FAILURES_PER_SOURCE", "50")? as u32,
            accept_max_failures_per_source: count("ACCEPT_MAX_FAILURES_PER_SOURCE", "20")? as u32,
            source_lockout: seconds("SOURCE_LOCKOUT_SECONDS", 900)?,
            invitations_per_org_per_day: count("INVITATIONS_PER_ORG_PER_DAY", "1000")?,
            invitations_per_day: count("INVITATIONS_PER_DAY", "10000")?,
            app_base_url: or("APP_BASE_URL", "http://localhost:9000")
                .trim_end_matches('/')
                .to_string(),
            ses_from_address: or("SES_FROM_ADDRESS", "roster@roster.local"),
            invitation_ttl: seconds("INVITATION_TTL_SECONDS", 7 * 24 * 3600)?,
            invitation_retention: seconds("INVITATION_RETENTION_SECONDS", 7 * 24 * 3600)?,
            mail_concurrency: or("MAIL_CONCURRENCY", "10")
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or(ConfigError::Invalid {
                    name: "MAIL_CONCURRENCY",
                    reason: "expected an integer from 1 to 100".into(),
                })?,
            aws_attempt_timeout: seconds("AWS_ATTEMPT_TIMEOUT_SECONDS", 3)?,
            tls_roots: crate::tls::TlsRoots::parse(&or("TLS_ROOTS", "aws")).ok_or(
                ConfigError::Invalid {
                    name: "TLS_ROOTS",
                    reason: "expected aws or os".into(),
                },
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A valid JWT_PUBLIC_KEYS value (the RFC 8032 test key).
    const KEYS: &str = "roster-1=11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn names_the_missing_variable() {
        let err = Config::from_lookup(lookup(&[("JWT_PUBLIC_KEYS", KEYS)])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable TABLE_NAME is required but not set"
        );
    }

    #[test]
    fn names_the_bad_variable() {
        let err = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("JWT_PUBLIC_KEYS", KEYS),
            ("ACCESS_TOKEN_TTL_SECONDS", "soon"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("ACCESS_TOKEN_TTL_SECONDS"),
            "{err}"
        );
        let err = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("JWT_PUBLIC_KEYS", KEYS),
            ("ALLOW_SELF_SERVICE_ORGS", "maybe"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("ALLOW_SELF_SERVICE_ORGS"), "{err}");
    }

    #[test]
    fn defaults_apply() {
        let c =
            Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("JWT_PUBLIC_KEYS", KEYS)])).unwrap();
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        assert!(c.allow_self_service_orgs);
        assert_eq!(c.tiers.names(), vec!["free", "pro", "enterprise"]);
        assert_eq!(c.invitations_per_org_per_day, 1000);
        assert_eq!(c.invitations_per_day, 10_000);
        assert!(!format!("{c:?}").contains("\"k\""));
        assert_eq!(c.jwt_public_keys.to_string(), KEYS);
        assert_eq!(c.jwt_signing_key_secret, None);
    }

    #[test]
    fn public_keys_are_required_and_checked_by_name() {
        let err = Config::from_lookup(lookup(&[("TABLE_NAME", "t")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable JWT_PUBLIC_KEYS is required but not set"
        );
        for bad in [
            "roster-1",
            "roster-1=abc",
            "../etc=11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        ] {
            let err = Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("JWT_PUBLIC_KEYS", bad)]))
                .unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("environment variable JWT_PUBLIC_KEYS is invalid: "),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_signing_key_secret_is_only_an_id() {
        let c = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("JWT_PUBLIC_KEYS", KEYS),
            ("JWT_SIGNING_KEY_SECRET", " roster/signing-key "),
        ]))
        .unwrap();
        assert_eq!(
            c.jwt_signing_key_secret.as_deref(),
            Some("roster/signing-key")
        );
        let blank = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("JWT_PUBLIC_KEYS", KEYS),
            ("JWT_SIGNING_KEY_SECRET", ""),
        ]))
        .unwrap();
        assert_eq!(blank.jwt_signing_key_secret, None);
    }

    #[test]
    fn tiers_and_the_daily_cap_are_read_and_checked() {
        let c = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("JWT_PUBLIC_KEYS", KEYS),
            (
                "TIERS",
                "free:invites=100:seats=10,pro:invites=1000,enterprise",
            ),
            ("INVITATIONS_PER_DAY", "500"),
        ]))
        .unwrap();
        assert_eq!(c.tiers.first().name, "free");
        assert_eq!(c.tiers.first().seats, Some(10));
        assert_eq!(c.tiers.limits_of("pro").invites_per_day, Some(1000));
        assert_eq!(c.invitations_per_day, 500);
        for (name, value) in [
            ("TIERS", "free:seats=ten"),
            ("TIERS", "free,,pro"),
            ("TIERS", ""),
            ("INVITATIONS_PER_DAY", "0"),
            ("INVITATIONS_PER_DAY", "lots"),
        ] {
            let err = Config::from_lookup(lookup(&[
                ("TABLE_NAME", "t"),
                ("JWT_PUBLIC_KEYS", KEYS),
                (name, value),
            ]))
            .unwrap_err();
            assert!(err.to_string().contains(name), "{value:?}: {err}");
        }
    }
}
