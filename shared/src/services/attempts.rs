//! The abuse limits as services use them: an attempt is taken from every limit that applies
//! before the secret (a password, an invitation link) is checked, and given back when it
//! turns out not to count. See docs/security.md for the numbers and why.

use crate::app::App;
use crate::clock::Now;
use crate::domain::Email;
use crate::domain::limits::{Counted, Limit};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::Counter;
use futures_util::future::join_all;

/// The address used when the request carries none (a direct invocation): such callers
/// share one address's limits rather than escaping them.
const UNKNOWN_SOURCE: &str = "unknown";

/// Attempts taken from every limit that applies, before the secret is checked.
#[must_use = "say how the attempt ended: succeeded, failed or give_back"]
pub struct Attempt {
    taken: Vec<(Counted, Counter)>,
}

/// Takes one attempt from each limit, all at once (one round trip). If any limit is
/// reached, the others are given back and the answer is 429 with the longest wait: an
/// attempt refused by one address's limit does not count against the account's.
async fn take(
    app: &App,
    limits: Vec<(Counted, Limit)>,
    subject: impl Fn(Counted) -> String,
) -> ServiceResult<Attempt> {
    let now = Now::get().epoch();
    let counters: Vec<(Counted, Counter)> = limits
        .into_iter()
        .map(|(counted, limit)| {
            (
                counted,
                Counter::new(counted, limit, &subject(counted), now),
            )
        })
        .collect();
    let results = join_all(counters.iter().map(|(_, c)| app.store.take_attempt(c))).await;
    let mut taken = Vec::new();
    let mut wait: Option<i64> = None;
    let mut failure = None;
    for ((counted, counter), result) in counters.into_iter().zip(results) {
        match result {
            Ok(true) => taken.push((counted, counter)),
            Ok(false) => wait = wait.max(Some(counter.window_ends - now)),
            Err(e) => failure = Some(e),
        }
    }
    let attempt = Attempt { taken };
    if let Some(e) = failure {
        attempt.give_back(app).await?;
        return Err(e);
    }
    if let Some(wait) = wait {
        attempt.give_back(app).await?;
        return Err(ServiceError::RateLimited {
            retry_after_secs: wait.max(1) as u64,
        });
    }
    Ok(attempt)
}

/// A password attempt at `email` (None: the email was malformed) from `source`.
pub async fn password(
    app: &App,
    email: Option<&Email>,
    source: Option<&str>,
) -> ServiceResult<Attempt> {
    let source = source.unwrap_or(UNKNOWN_SOURCE);
    let limits = app.config.password_limits().applying(email.is_some());
    let email = email.map(|e| e.to_string()).unwrap_or_default();
    take(app, limits, |counted| match counted {
        Counted::EmailFromSource => format!("{source}#{email}"),
        Counted::EmailPerMinute | Counted::EmailPerHour => email.clone(),
        Counted::Source | Counted::LinkSource => source.to_string(),
    })
    .await
}

/// An invitation link opened from `source`: counts only if the link is unknown or stale.
pub async fn link(app: &App, source: Option<&str>) -> ServiceResult<Attempt> {
    let source = source.unwrap_or(UNKNOWN_SOURCE);
    let limit = Limit {
        max: app.config.accept_max_failures_per_source,
        window_secs: app.config.source_lockout.as_secs() as i64,
    };
    take(app, vec![(Counted::LinkSource, limit)], |_| {
        source.to_string()
    })
    .await
}

impl Attempt {
    /// The secret was right: the attempt does not count, and the address's count for this
    /// account starts again (it proved it knows the password).
    pub async fn succeeded(self, app: &App) -> ServiceResult<()> {
        let done = join_all(self.taken.iter().map(|(counted, c)| async move {
            match counted {
                Counted::EmailFromSource => app.store.clear_attempts(c).await,
                _ => app.store.give_back_attempt(c).await,
            }
        }))
        .await;
        done.into_iter().collect()
    }

    /// The secret was wrong: the attempt stays counted.
    pub fn failed(self) {}

    /// Nothing was attempted after all (no such account to check a password against).
    pub async fn give_back(self, app: &App) -> ServiceResult<()> {
        let done = join_all(
            self.taken
                .iter()
                .map(|(_, c)| app.store.give_back_attempt(c)),
        )
        .await;
        done.into_iter().collect()
    }
}
