//! The `cleanup` Lambda, run by an EventBridge schedule: expires invitations and finishes
//! organization deletions, stopping a safe margin before the invocation's deadline.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use roster::services::cleanup;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time kept in hand after the last unit of work, to answer before Lambda's deadline
/// (a fifth of the time left when that is less: local runs have short timeouts).
const MARGIN: Duration = Duration::from_secs(5);
/// The budget when the runtime gives no usable deadline (local emulators may send none).
const FALLBACK: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> Result<(), Error> {
    roster::telemetry::init();
    let app = roster::App::from_env().await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let app = app.clone();
        async move {
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            let left = match event.context.deadline.checked_sub(now_ms) {
                Some(ms) if ms > 0 => {
                    let left = Duration::from_millis(ms);
                    left.saturating_sub(MARGIN.min(left / 5))
                }
                _ => {
                    tracing::warn!(
                        deadline_ms = event.context.deadline,
                        "no usable deadline; using the fallback budget"
                    );
                    FALLBACK
                }
            };
            let deadline = tokio::time::Instant::now() + left;
            let report = cleanup::run(&app, deadline).await?;
            let calls = app.calls.take();
            tracing::info!(?report, ?calls, "cleanup finished");
            Ok::<_, Error>(serde_json::to_value(&report)?)
        }
    }))
    .await
}
