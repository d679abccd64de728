//! PutEvents, ten entries a call, in the stream's order; the first record not published
//! and every record after it are reported as batch item failures, since Lambda retries
//! from the lowest failure anyway (publishing later ones now would only duplicate them).

use super::detail::{Event, SOURCE};
use super::stream::{BatchResponse, ItemFailure, StreamEvent};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

/// PutEvents takes at most ten entries.
pub const MAX_ENTRIES: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Without it the record cannot be reported alone: the whole batch fails, and Lambda
    /// retries it, bisecting.
    #[error("a stream record has no sequence number")]
    NoSequenceNumber,
    #[error("EVENT_BUS_NAME is not set")]
    NoBus,
    #[error(transparent)]
    Init(#[from] crate::app::InitError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

pub struct Publisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl Publisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Publisher {
            client,
            bus: bus.into(),
        }
    }

    /// The function's init: the bus from `EVENT_BUS_NAME`, the client as every function
    /// builds its clients (`app::lambda_sdk_config`, bounded timeouts).
    pub fn from_env() -> Result<Self, PublishError> {
        let env = |name: &str| std::env::var(name).ok();
        let config = crate::config::Config::from_lookup(env)?;
        let bus = env("EVENT_BUS_NAME")
            .filter(|b| !b.trim().is_empty())
            .ok_or(PublishError::NoBus)?;
        let aws = crate::app::lambda_sdk_config(&config, env)?;
        let conf = aws_sdk_eventbridge::config::Builder::from(&aws)
            .timeout_config(crate::app::timeouts(config.aws_attempt_timeout))
            .build();
        Ok(Self::new(aws_sdk_eventbridge::Client::from_conf(conf), bus))
    }

    /// One invocation of the event source mapping.
    pub async fn handle(&self, event: StreamEvent) -> Result<BatchResponse, PublishError> {
        let mut records = Vec::new();
        for record in event.records {
            if !record.is_audit_insert() {
                continue;
            }
            let seq = record
                .change
                .sequence_number
                .clone()
                .ok_or(PublishError::NoSequenceNumber)?;
            let entry = Event::from_image(record.change.new_image)
                .map_err(|e| tracing::error!(sequence_number = %seq, error = %e, "not an audit entry; reported failed, ends in the dead-letter queue"))
                .map(|e| self.entry(&e));
            records.push((seq, entry));
        }
        let convertible = records.iter().take_while(|(_, e)| e.is_ok()).count();
        let entries: Vec<_> = records[..convertible]
            .iter()
            .filter_map(|(_, e)| e.as_ref().ok().cloned())
            .collect();
        let mut first_failed = convertible;
        for (n, chunk) in entries.chunks(MAX_ENTRIES).enumerate() {
            if let Some(i) = self.put(chunk).await {
                first_failed = n * MAX_ENTRIES + i;
                break;
            }
        }
        let failures: Vec<_> = records[first_failed..]
            .iter()
            .map(|(seq, _)| ItemFailure {
                item_identifier: seq.clone(),
            })
            .collect();
        tracing::info!(
            published = first_failed,
            failed = failures.len(),
            "events published"
        );
        Ok(BatchResponse {
            batch_item_failures: failures,
        })
    }

    fn entry(&self, event: &Event) -> PutEventsRequestEntry {
        use aws_smithy_types::date_time::{DateTime, Format};
        // A Detail is plain strings and JSON values: serialising it cannot fail.
        let detail = serde_json::to_string(&event.detail).unwrap_or_default();
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(SOURCE)
            .detail_type(event.detail_type)
            .detail(detail)
            .set_time(DateTime::from_str(&event.detail.occurred_at, Format::DateTime).ok())
            .build()
    }

    /// One PutEvents call; the index of the first entry not published, if any.
    async fn put(&self, chunk: &[PutEventsRequestEntry]) -> Option<usize> {
        let out = match self
            .client
            .put_events()
            .set_entries(Some(chunk.to_vec()))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                tracing::warn!(error = %aws_sdk_eventbridge::error::DisplayErrorContext(&e), "PutEvents failed");
                return Some(0);
            }
        };
        let results = out.entries();
        // A result per entry, in order; an entry with no result was not published either.
        let failed = (0..chunk.len()).find(|&i| {
            results
                .get(i)
                .is_none_or(|r| r.error_code().is_some() || r.event_id().is_none())
        });
        if let Some(i) = failed {
            let r = results.get(i);
            tracing::warn!(
                failed_entry_count = out.failed_entry_count(),
                error_code = r.and_then(|r| r.error_code()),
                error_message = r.and_then(|r| r.error_message()),
                "PutEvents did not publish every entry"
            );
        }
        failed
    }
}
