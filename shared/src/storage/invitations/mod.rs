//! Invitations: the item and record, reads and lists, and the sparse expiry index. Writes
//! live beside: `send` (bulk invite, resend), `close` (revoke, decline, expire, accept), and
//! `claims` (the per-(org, email) pending claims).

mod claims;
mod close;
mod send;

use super::{Store, cursor, keys, n, s};
use crate::domain::{Cursor, Timestamp};
use crate::domain::{
    DeliveryStatus, Email, Invitation, InvitationId, InvitationStatus, OrgId, OrgRole, Page, UserId,
};
use crate::error::ServiceResult;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct InvitationItem {
    pk: String,
    sk: String,
    id: InvitationId,
    org_id: OrgId,
    email: Email,
    role: OrgRole,
    status: InvitationStatus,
    expires_at: Timestamp,
    expires_epoch: i64,
    created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invited_by: Option<UserId>,
    inviter_name: String,
    send_count: u32,
    last_sent_at: Timestamp,
    email_delivery: DeliveryStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    accepted_at: Option<Timestamp>,
    nonce_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    ttl: i64,
}

impl InvitationItem {
    fn into_record(self, now: i64) -> Invitation {
        Invitation {
            id: self.id,
            org_id: self.org_id,
            email: self.email,
            role: self.role,
            status: self.status.effective(self.expires_epoch, now),
            expires_at: self.expires_at,
            created_at: self.created_at,
            invited_by: self.invited_by,
            inviter_name: self.inviter_name,
            send_count: self.send_count,
            last_sent_at: self.last_sent_at,
            email_delivery: self.email_delivery,
            accepted_at: self.accepted_at,
            expires_epoch: self.expires_epoch,
            nonce_hash: self.nonce_hash,
            stored_status: self.status,
        }
    }
}

/// A new link for an invitation: what a send or resend writes.
#[derive(Debug, Clone)]
pub struct Link {
    pub nonce_hash: String,
    pub expires_at: String,
    pub expires_epoch: i64,
}

/// One invitation write of a bulk invite.
#[derive(Debug, Clone)]
pub enum InviteWrite {
    Create(Invitation),
    /// A pending invitation exists for this email: new link, new expiry, role as asked.
    Resend {
        id: InvitationId,
        email: Email,
        role: OrgRole,
        link: Link,
    },
}

/// How long invitations stay listable after they expire (DESIGN: INVITATION_RETENTION).
pub struct Retention(pub i64);

impl Store {
    pub(super) fn invitation_key(
        org: &OrgId,
        id: &InvitationId,
    ) -> HashMap<String, AttributeValue> {
        Self::key(keys::org_pk(org), &keys::invitation_sk(id))
    }

    pub async fn get_invitation(
        &self,
        org: &OrgId,
        id: &InvitationId,
        now: i64,
    ) -> ServiceResult<Option<Invitation>> {
        let item: Option<InvitationItem> = self.get(Self::invitation_key(org, id)).await?;
        Ok(item.map(|i| i.into_record(now)))
    }

    /// Records that the email for the invitation's current link could not be sent, with its
    /// audit entry (an event for the applications). A newer link that replaced this one has
    /// its own send to decide: then nothing is written.
    pub async fn mark_delivery_failed(
        &self,
        org: &OrgId,
        id: &InvitationId,
        email: &Email,
        nonce_hash: &str,
        now: crate::clock::Now,
    ) -> ServiceResult<()> {
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::invitation_key(org, id)))
            .update_expression("SET email_delivery = :failed")
            .condition_expression("nonce_hash = :h")
            .expression_attribute_values(":failed", s(DeliveryStatus::Failed.as_str()))
            .expression_attribute_values(":h", s(nonce_hash))
            .build()?;
        let mut tx = super::tx::Tx::of(
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .update(update)
                .build(),
            // The link was replaced: told apart from a race that outlasted the retries.
            |_| crate::error::ServiceError::InvitationSuperseded,
        );
        tx.push(
            self.audit_put(super::Audit {
                org: *org,
                actor: None,
                action: "invitation.delivery_failed",
                target: email.to_string(),
                before: Some(serde_json::json!({"email_delivery": DeliveryStatus::Sent.as_str()})),
                after: Some(serde_json::json!({"email_delivery": DeliveryStatus::Failed.as_str(), "invitation_id": id})),
                at: &now.rfc3339(),
                epoch: now.epoch(),
            })?,
            super::tx::CONFLICT,
        );
        match self.transact(tx).await {
            Err(crate::error::ServiceError::InvitationSuperseded) => Ok(()),
            other => other,
        }
    }

    /// An organization's invitations, oldest first, optionally by effective status. With a
    /// filter, DynamoDB applies `Limit` before filtering, so this reads on until the page is
    /// full (`Store::query_page`), and the cursor points after the last item returned.
    pub async fn list_invitations(
        &self,
        org: &OrgId,
        status: Option<InvitationStatus>,
        limit: i32,
        cursor: Option<&Cursor>,
        now: i64,
    ) -> ServiceResult<Page<Invitation>> {
        self.invitations_page(org, status, None, limit, cursor, now)
            .await
    }

    /// An organization's pending invitations (optionally of one role), oldest first: the
    /// member list's second part.
    pub async fn list_pending_invitations(
        &self,
        org: &OrgId,
        role: Option<OrgRole>,
        limit: i32,
        cursor: Option<&Cursor>,
        now: i64,
    ) -> ServiceResult<Page<Invitation>> {
        let pending = Some(InvitationStatus::Pending);
        self.invitations_page(org, pending, role, limit, cursor, now)
            .await
    }

    /// The cursor of an invitation list that continues after `inv`.
    pub fn invitation_cursor(inv: &Invitation) -> Option<String> {
        cursor::encode(&Self::invitation_key(&inv.org_id, &inv.id))
    }

    async fn invitations_page(
        &self,
        org: &OrgId,
        status: Option<InvitationStatus>,
        role: Option<OrgRole>,
        limit: i32,
        cursor: Option<&Cursor>,
        now: i64,
    ) -> ServiceResult<Page<Invitation>> {
        let pk = keys::org_pk(org);
        let start = cursor
            .map(|c| {
                cursor::key(
                    c,
                    &[keys::PK, keys::SK],
                    (keys::PK, &pk),
                    Some((keys::SK, keys::INVITATION_PREFIX)),
                )
            })
            .transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":prefix", s(keys::INVITATION_PREFIX));
        let mut filters = Vec::new();
        if let Some(status) = status {
            filters.push(match status {
                InvitationStatus::Pending => "#status = :pending AND expires_epoch > :now",
                InvitationStatus::Expired => {
                    "(#status = :expired OR (#status = :pending AND expires_epoch <= :now))"
                }
                _ => "#status = :wanted",
            });
            query = query.expression_attribute_names("#status", "status");
            query = match status {
                InvitationStatus::Pending => query
                    .expression_attribute_values(":pending", s(InvitationStatus::Pending.as_str()))
                    .expression_attribute_values(":now", n(now)),
                InvitationStatus::Expired => query
                    .expression_attribute_values(":pending", s(InvitationStatus::Pending.as_str()))
                    .expression_attribute_values(":expired", s(InvitationStatus::Expired.as_str()))
                    .expression_attribute_values(":now", n(now)),
                other => query.expression_attribute_values(":wanted", s(other.as_str())),
            };
        }
        if let Some(role) = role {
            filters.push("#role = :role");
            query = query
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":role", s(role.as_str()));
        }
        if !filters.is_empty() {
            query = query.filter_expression(filters.join(" AND "));
        }
        let (items, next_cursor) = self
            .query_page(query, &[keys::PK, keys::SK], limit, start)
            .await?;
        let items = items
            .into_iter()
            .map(|i| Ok(serde_dynamo::from_item::<_, InvitationItem>(i)?.into_record(now)))
            .collect::<ServiceResult<Vec<_>>>()?;
        Ok(Page { items, next_cursor })
    }

    /// Pending invitations whose expiry has passed, from one expiry shard (oldest first).
    pub async fn due_invitations(
        &self,
        shard: u32,
        now: i64,
        limit: i32,
    ) -> ServiceResult<Vec<Invitation>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk AND gsi1sk < :due")
            .expression_attribute_values(":pk", s(keys::expiry_shard_pk(shard)))
            .expression_attribute_values(":due", s(keys::expiry_due_before(now + 1)))
            .limit(limit)
            .send()
            .await
            .map_err(super::sdk_error)?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|i| {
                serde_dynamo::from_item::<_, InvitationItem>(i)
                    .map(|it| it.into_record(now))
                    .map_err(Into::into)
            })
            .collect()
    }
}
