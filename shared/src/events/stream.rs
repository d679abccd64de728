//! The DynamoDB stream event Lambda delivers, as far as the events function reads it, and
//! the partial-batch response it answers with.
//!
//! Our own small types rather than aws_lambda_events' (which would add chrono for a
//! timestamp we never read); the images are serde_dynamo items, the stream's own
//! AttributeValue JSON.

use serde::{Deserialize, Serialize};

/// The audit items' partition key prefix (`storage::keys::audit_pk`).
pub const AUDIT_PK_PREFIX: &str = "AUDIT#";

/// The event source mapping's filter, verbatim in template.yaml: only new audit items reach
/// the function (an audit entry is written once and only ever removed by its TTL).
pub const FILTER_PATTERN: &str =
    r#"{"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "AUDIT#"}]}}}}"#;

#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    #[serde(rename = "dynamodb")]
    pub change: Change,
}

#[derive(Debug, Deserialize)]
pub struct Change {
    #[serde(rename = "Keys", default)]
    pub keys: serde_dynamo::Item,
    #[serde(rename = "NewImage", default)]
    pub new_image: Option<serde_dynamo::Item>,
    #[serde(rename = "SequenceNumber", default)]
    pub sequence_number: Option<String>,
}

impl StreamRecord {
    /// What the mapping's filter lets through; the function applies it again, so a mapping
    /// deployed without the filter still publishes nothing but audit entries.
    pub fn is_audit_insert(&self) -> bool {
        self.event_name == "INSERT"
            && matches!(
                self.change.keys.get("pk"),
                Some(serde_dynamo::AttributeValue::S(pk)) if pk.starts_with(AUDIT_PK_PREFIX)
            )
    }
}

/// Turns on the table's stream (NEW_IMAGE: the item as written) unless it is on, as
/// template.yaml's StreamSpecification does; waits for the table to be ACTIVE first, since a
/// table being created or updated refuses UpdateTable. `roster-admin create-table` and the
/// events tests call it.
pub async fn enable_stream(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), aws_sdk_dynamodb::Error> {
    use aws_sdk_dynamodb::types::{StreamSpecification, StreamViewType, TableStatus};
    for _ in 0..120 {
        let described = client.describe_table().table_name(table).send().await?;
        let t = described.table();
        if t.and_then(|t| t.stream_specification())
            .is_some_and(|s| s.stream_enabled())
        {
            return Ok(());
        }
        if t.and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            let spec = StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()?;
            client
                .update_table()
                .table_name(table)
                .stream_specification(spec)
                .send()
                .await?;
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Ok(())
}

/// `ReportBatchItemFailures`: Lambda checkpoints before the lowest sequence number listed
/// and retries from there.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrgId;

    #[test]
    fn the_prefix_is_the_audit_items_key_and_the_template_filters_on_it() {
        assert!(crate::storage::keys::audit_pk(&OrgId::new()).starts_with(AUDIT_PK_PREFIX));
        let pattern: serde_json::Value = serde_json::from_str(FILTER_PATTERN).expect("json");
        assert_eq!(
            pattern["dynamodb"]["Keys"]["pk"]["S"][0]["prefix"],
            AUDIT_PK_PREFIX
        );
        let template = include_str!("../../../template.yaml");
        assert!(
            template.contains(&format!("Pattern: '{FILTER_PATTERN}'")),
            "template.yaml's event source mapping filters with FILTER_PATTERN"
        );
    }

    #[test]
    fn only_inserted_audit_items_pass() {
        let record = |name: &str, pk: &str| -> StreamRecord {
            serde_json::from_value(serde_json::json!({
                "eventName": name,
                "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "x"}}, "SequenceNumber": "1"}
            }))
            .expect("record")
        };
        assert!(record("INSERT", "AUDIT#o").is_audit_insert());
        assert!(!record("REMOVE", "AUDIT#o").is_audit_insert());
        assert!(!record("MODIFY", "AUDIT#o").is_audit_insert());
        assert!(!record("INSERT", "ORG#o").is_audit_insert());
    }

    #[test]
    fn the_response_lists_failures_as_lambda_reads_them() {
        let r = BatchResponse {
            batch_item_failures: vec![ItemFailure {
                item_identifier: "42".into(),
            }],
        };
        assert_eq!(
            serde_json::to_value(&r).expect("json"),
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "42"}]})
        );
    }
}
