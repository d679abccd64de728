//! Audit entries: written inside the transaction of the change they record.

use super::{Store, cursor, keys, s};
use crate::domain::Timestamp;
use crate::domain::{AuditEntry, Cursor, OrgId, Page, UserId};
use crate::error::ServiceResult;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

/// Audit entries are kept for a year.
const RETENTION_SECS: i64 = 365 * 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct AuditItem {
    pk: String,
    sk: String,
    id: String,
    at: Timestamp,
    org_id: OrgId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actor: Option<UserId>,
    action: String,
    target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    ttl: i64,
}

/// What a change records about itself.
pub struct Audit<'a> {
    pub org: OrgId,
    pub actor: Option<UserId>,
    pub action: &'a str,
    pub target: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub at: &'a str,
    pub epoch: i64,
}

impl Store {
    pub(crate) fn audit_put(&self, entry: Audit<'_>) -> ServiceResult<TransactWriteItem> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let item = AuditItem {
            pk: keys::audit_pk(&entry.org),
            sk: keys::audit_sk(entry.at, &id),
            id,
            at: entry.at.into(),
            org_id: entry.org,
            actor: entry.actor,
            action: entry.action.to_string(),
            target: entry.target,
            before: entry.before.map(|v| v.to_string()),
            after: entry.after.map(|v| v.to_string()),
            ttl: entry.epoch + RETENTION_SECS,
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item)?))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The organization's audit log, newest first.
    pub async fn list_audit(
        &self,
        org: &OrgId,
        limit: i32,
        cursor: Option<&Cursor>,
    ) -> ServiceResult<Page<AuditEntry>> {
        let pk = keys::audit_pk(org);
        let start = cursor
            .map(|c| cursor::key(c, &[keys::PK, keys::SK], (keys::PK, &pk), None))
            .transpose()?;
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(&pk))
            .scan_index_forward(false);
        let (items, next_cursor) = self
            .query_page(query, &[keys::PK, keys::SK], limit, start)
            .await?;
        let parse = |v: Option<String>| v.and_then(|t| serde_json::from_str(&t).ok());
        let items = items
            .into_iter()
            .map(|i| {
                serde_dynamo::from_item::<_, AuditItem>(i).map(|a| AuditEntry {
                    id: a.id,
                    at: a.at,
                    org_id: a.org_id,
                    actor: a.actor,
                    action: a.action,
                    target: a.target,
                    before: parse(a.before),
                    after: parse(a.after),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next_cursor })
    }
}
