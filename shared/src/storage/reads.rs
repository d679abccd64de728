//! Reads every entity shares: one item by key, many by key (BatchGetItem, retrying the keys
//! DynamoDB left unprocessed with backoff), and one page of a query.

use super::{Store, cursor, keys, s, sdk_error};
use crate::error::{ServiceError, ServiceResult};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::time::Duration;

/// Queries one list page may make before it stops short (`Store::query_page`).
const MAX_PAGE_QUERIES: usize = 10;

/// Keys one BatchGetItem may ask for.
const BATCH_GET_MAX: usize = 100;

/// Requests per batch of keys before the keys still unprocessed make it fail (503).
const BATCH_GET_TRIES: u32 = 5;

/// The wait before retry `attempt` (1-based) of unprocessed keys: 25 ms doubling, so four
/// retries wait 375 ms in all, with up to half again at random (concurrent readers that
/// were throttled together do not come back together).
pub(crate) fn batch_backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 25u64 << attempt.saturating_sub(1).min(10);
    Duration::from_millis(base + (base as f64 * jitter.clamp(0.0, 1.0) / 2.0) as u64)
}

impl Store {
    pub(crate) fn key(pk: String, sk: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([(keys::PK.to_string(), s(pk)), (keys::SK.to_string(), s(sk))])
    }

    /// One item by key (strongly consistent), mapped to its item shape.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        key: HashMap<String, AttributeValue>,
    ) -> ServiceResult<Option<T>> {
        self.get_raw(key)
            .await?
            .map(|item| serde_dynamo::from_item(item).map_err(Into::into))
            .transpose()
    }

    /// One item by key (strongly consistent), as stored.
    pub(crate) async fn get_raw(
        &self,
        key: HashMap<String, AttributeValue>,
    ) -> ServiceResult<Option<HashMap<String, AttributeValue>>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(out.item)
    }

    /// The items of `wanted` that exist (BatchGetItem, 100 keys per request), following
    /// UnprocessedKeys with backoff (`batch_backoff`).
    pub(crate) async fn batch_get(
        &self,
        wanted: Vec<HashMap<String, AttributeValue>>,
    ) -> ServiceResult<Vec<HashMap<String, AttributeValue>>> {
        let mut found = Vec::new();
        for chunk in wanted.chunks(BATCH_GET_MAX) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()?,
            );
            let mut attempt = 0;
            while let Some(request) = pending.take() {
                if attempt > 0 {
                    tokio::time::sleep(batch_backoff(attempt, rand::random::<f64>())).await;
                }
                attempt += 1;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(sdk_error)?;
                if let Some(mut items) = out.responses {
                    found.extend(items.remove(&self.table).unwrap_or_default());
                }
                pending = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table));
                if pending.is_some() && attempt >= BATCH_GET_TRIES {
                    return Err(ServiceError::Unavailable(
                        "batch get left keys unprocessed".into(),
                    ));
                }
            }
        }
        Ok(found)
    }

    /// Queries from `start` until it has seen one item more than `limit` (then there is a
    /// next page) or the end, `limit + 1` at a time, so a page holds min(limit, what remains)
    /// items even when a filter drops some, and has a cursor only when more remain. The
    /// cursor is the key (`key_attrs`) of the last item returned. `query` has its key
    /// condition and filter set; this sets its limit and start.
    pub(crate) async fn query_page(
        &self,
        query: QueryFluentBuilder,
        key_attrs: &[&str],
        limit: i32,
        start: Option<cursor::Key>,
    ) -> ServiceResult<(Vec<cursor::Key>, Option<String>)> {
        let wanted = limit.max(1) as usize;
        let mut items: Vec<cursor::Key> = Vec::new();
        let mut start = start;
        // Bounded: a filter that matches almost nothing ends the page early, with a cursor
        // where the reading stopped.
        for _ in 0..MAX_PAGE_QUERIES {
            let out = query
                .clone()
                .limit(limit.saturating_add(1))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            items.extend(out.items.unwrap_or_default());
            if items.len() > wanted {
                items.truncate(wanted);
                let last = items.last().map(|item| {
                    key_attrs
                        .iter()
                        .filter_map(|a| item.get(*a).map(|v| (a.to_string(), v.clone())))
                        .collect::<cursor::Key>()
                });
                return Ok((items, last.as_ref().and_then(cursor::encode)));
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok((items, None));
            }
        }
        Ok((items, start.as_ref().and_then(cursor::encode)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unprocessed_keys_wait_longer_each_time() {
        let waits: Vec<u64> = (1..BATCH_GET_TRIES)
            .map(|a| batch_backoff(a, 0.0).as_millis() as u64)
            .collect();
        assert_eq!(waits, [25, 50, 100, 200]);
        assert_eq!(batch_backoff(1, 1.0), Duration::from_millis(37));
        // Out-of-range jitter and far attempts stay bounded.
        assert_eq!(batch_backoff(2, 7.0), Duration::from_millis(75));
        assert!(batch_backoff(99, 1.0) < Duration::from_secs(60));
    }
}
