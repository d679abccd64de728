//! The scheduled cleanup: expires pending invitations past their expiry (with audit
//! entries) and finishes organization deletions. It reads only the sparse expiry index and
//! the deleting-orgs list, so its cost follows the work to do, never the table's size; it
//! stops before `deadline` and is safe to run again at any time.

use crate::app::App;
use crate::clock::Now;
use crate::domain::InvitationStatus;
use crate::error::{ServiceError, ServiceResult};
use crate::storage::keys::EXPIRY_SHARDS;
use futures_util::{StreamExt, stream};
use serde::Serialize;
use tokio::time::Instant;

#[derive(Debug, Default, Serialize)]
pub struct CleanupReport {
    pub invitations_expired: u64,
    pub orgs_finished: u64,
    /// True when the deadline stopped it with work left (the next run continues).
    pub stopped_early: bool,
}

const PAGE: i32 = 100;

pub async fn run(app: &App, deadline: Instant) -> ServiceResult<CleanupReport> {
    let mut report = CleanupReport::default();
    for shard in 0..EXPIRY_SHARDS {
        loop {
            if Instant::now() >= deadline {
                report.stopped_early = true;
                return Ok(report);
            }
            let now = Now::get();
            let due = app.store.due_invitations(shard, now.epoch(), PAGE).await?;
            if due.is_empty() {
                break;
            }
            let full_page = due.len() as i32 == PAGE;
            let outcomes: Vec<ServiceResult<()>> = stream::iter(due)
                .map(|inv| async move {
                    app.store
                        .close_invitation(
                            &inv,
                            InvitationStatus::Expired,
                            None,
                            None,
                            &now.rfc3339(),
                            now.epoch(),
                        )
                        .await
                })
                .buffer_unordered(8)
                .collect()
                .await;
            for outcome in outcomes {
                match outcome {
                    Ok(()) => report.invitations_expired += 1,
                    // Accepted, revoked or resent meanwhile: nothing to expire.
                    Err(ServiceError::Conflict) => {}
                    Err(e) => return Err(e),
                }
            }
            if !full_page {
                break;
            }
        }
    }
    for org in app.store.deleting_orgs(PAGE).await? {
        if Instant::now() >= deadline {
            report.stopped_early = true;
            break;
        }
        if app.store.detach_members(&org, deadline).await? {
            report.orgs_finished += 1;
        } else {
            report.stopped_early = true;
        }
    }
    Ok(report)
}
