//! PutEvents, up to ten entries (256 KB) a call, in the stream's order (a record may give
//! several: one per member of a bulk change); the record of the first entry not published
//! and every record after it are reported as batch item failures, since
//! Lambda retries from the lowest failure anyway (publishing later ones now would only
//! duplicate them).

use super::detail::{Event, SOURCE};
use super::stream::{BatchResponse, ItemFailure, StreamEvent};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

/// PutEvents takes at most ten entries, of at most 256 KB together.
pub const MAX_ENTRIES: usize = 10;
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

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
            // Reported failed, it is retried and ends in the dead-letter queue.
            let entries = Event::all_from_image(record.change.new_image)
                .map_err(|e| {
                    tracing::error!(sequence_number = %seq, error = %e, "not an audit entry");
                })
                .map(|events| events.iter().map(|e| self.entry(e)).collect::<Vec<_>>());
            records.push((seq, entries));
        }
        let convertible = records.iter().take_while(|(_, e)| e.is_ok()).count();
        // Each entry with the record it came from (a bulk change's record gives several).
        let (owners, entries): (Vec<usize>, Vec<_>) = records[..convertible]
            .iter()
            .enumerate()
            .flat_map(|(r, (_, e))| e.iter().flatten().map(move |entry| (r, entry.clone())))
            .unzip();
        let mut first_failed = convertible;
        for range in batches(&entries) {
            if let Some(i) = self.put(&entries[range.clone()]).await {
                first_failed = owners[range.start + i];
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

/// EventBridge's size of an entry: its time, source, detail-type, detail and resources.
fn entry_size(e: &PutEventsRequestEntry) -> usize {
    let text = |v: Option<&str>| v.map_or(0, str::len);
    e.time().map_or(0, |_| 14)
        + text(e.source())
        + text(e.detail_type())
        + text(e.detail())
        + e.resources().iter().map(String::len).sum::<usize>()
}

/// Consecutive ranges of `entries`, each one PutEvents: at most ten entries and 256 KB. An
/// entry over 256 KB alone goes in a range of its own (EventBridge refuses it; the record is
/// reported failed and ends in the dead-letter queue).
fn batches(entries: &[PutEventsRequestEntry]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, e) in entries.iter().enumerate() {
        let size = entry_size(e);
        if i > start && (i - start == MAX_ENTRIES || bytes + size > MAX_REQUEST_BYTES) {
            out.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < entries.len() {
        out.push(start..entries.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(detail_bytes: usize) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .source("roster")
            .detail_type("x")
            .detail("d".repeat(detail_bytes))
            .build()
    }

    #[test]
    fn a_putevents_takes_at_most_ten_entries_and_256_kb() {
        let small: Vec<_> = (0..23).map(|_| entry(100)).collect();
        assert_eq!(batches(&small), vec![0..10, 10..20, 20..23]);
        assert!(batches(&[]).is_empty());

        // 100 KB each: two fit in 256 KB, a third does not.
        let big: Vec<_> = (0..5).map(|_| entry(100 * 1024)).collect();
        assert_eq!(batches(&big), vec![0..2, 2..4, 4..5]);

        // One too big for any request still gets its own, and the rest move on.
        let mixed = vec![entry(10), entry(300 * 1024), entry(10)];
        assert_eq!(batches(&mixed), vec![0..1, 1..2, 2..3]);
        for range in batches(&big) {
            let total: usize = big[range].iter().map(entry_size).sum();
            assert!(total <= MAX_REQUEST_BYTES);
        }
    }
}
