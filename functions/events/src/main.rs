//! The `events` Lambda, fed by the table's stream (audit items only, by the event source
//! mapping's filter): publishes each audit entry on EventBridge and answers with the
//! records to retry (`ReportBatchItemFailures`).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use roster::events::{BatchResponse, Publisher, StreamEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    roster::telemetry::init();
    let publisher = Arc::new(Publisher::from_env().inspect_err(|e| {
        tracing::error!(error = %e, "init failed");
    })?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let publisher = publisher.clone();
        async move { Ok::<BatchResponse, Error>(publisher.handle(event.payload).await?) }
    }))
    .await
}
