//! Invitations per organization per UTC day. The counter expires by TTL.

use super::{Store, keys, n};
use crate::domain::OrgId;
use crate::error::ServiceResult;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

/// What an organization's invitations today may still be.
#[derive(Debug, Clone, Copy)]
pub struct InviteQuota {
    pub org: OrgId,
    pub day: i64,
    pub sent: u64,
}

pub const DAY_SECS: i64 = 86_400;

impl Store {
    /// Invitations `org` sent on the UTC day of `now`.
    pub async fn get_invite_quota(&self, org: &OrgId, now: i64) -> ServiceResult<InviteQuota> {
        let day = now.div_euclid(DAY_SECS);
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::invite_quota_pk(org, day),
                keys::THROTTLE_SK,
            )))
            .send()
            .await
            .map_err(super::sdk_error)?;
        let sent = out
            .item
            .and_then(|i| i.get("sent").and_then(|v| v.as_n().ok()).cloned())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(InviteQuota {
            org: *org,
            day,
            sent,
        })
    }

    /// Adds `count` to the day's invitation counter, as one item of a transaction.
    pub(crate) fn invite_quota_add(
        &self,
        quota: &InviteQuota,
        count: u64,
    ) -> ServiceResult<TransactWriteItem> {
        Ok(TransactWriteItem::builder()
            .update(self.invite_quota_update(quota, count)?)
            .build())
    }

    /// The same, on its own (when the transaction that carried it had to be split).
    pub async fn add_to_invite_quota(&self, quota: &InviteQuota, count: u64) -> ServiceResult<()> {
        let u = self.invite_quota_update(quota, count)?;
        self.client
            .update_item()
            .table_name(u.table_name)
            .set_key(Some(u.key))
            .update_expression(u.update_expression)
            .set_expression_attribute_names(u.expression_attribute_names)
            .set_expression_attribute_values(u.expression_attribute_values)
            .send()
            .await
            .map_err(super::sdk_error)?;
        Ok(())
    }

    fn invite_quota_update(&self, quota: &InviteQuota, count: u64) -> ServiceResult<Update> {
        Ok(Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::invite_quota_pk(&quota.org, quota.day),
                keys::THROTTLE_SK,
            )))
            .update_expression("ADD sent :n SET #ttl = :ttl")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":n", n(count as i64))
            .expression_attribute_values(":ttl", n((quota.day + 2) * DAY_SECS))
            .build()?)
    }
}
