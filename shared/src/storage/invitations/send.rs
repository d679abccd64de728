//! Sending invitations: a bulk invite's writes, in as few transactions as fit, and resends.

use super::{InvitationItem, Link};
use crate::clock::Now;
use crate::domain::{
    DeliveryStatus, Invitation, InvitationId, InvitationStatus, OrgId, OrgRole, User,
};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::audit::Audit;
use crate::storage::tx::{self, Tx};
use crate::storage::{Authority, InviteQuota, InviteWrite, Retention, Store, keys, n, s};
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem, Update};

impl Store {
    fn invitation_put(
        &self,
        inv: &Invitation,
        retention: &Retention,
    ) -> ServiceResult<TransactWriteItem> {
        let item = InvitationItem {
            pk: keys::org_pk(&inv.org_id),
            sk: keys::invitation_sk(&inv.id),
            id: inv.id,
            org_id: inv.org_id,
            email: inv.email.clone(),
            role: inv.role,
            status: InvitationStatus::Pending,
            expires_at: inv.expires_at.clone(),
            expires_epoch: inv.expires_epoch,
            created_at: inv.created_at.clone(),
            invited_by: inv.invited_by,
            inviter_name: inv.inviter_name.clone(),
            send_count: inv.send_count,
            last_sent_at: inv.last_sent_at.clone(),
            email_delivery: inv.email_delivery,
            accepted_at: None,
            nonce_hash: inv.nonce_hash.clone(),
            gsi1pk: Some(keys::expiry_pk(&inv.id)),
            gsi1sk: Some(keys::expiry_sk(inv.expires_epoch, &inv.id)),
            ttl: inv.expires_epoch + retention.0,
        };
        self.put_new(serde_dynamo::to_item(item)?)
    }

    fn live_org_check(&self, org: &OrgId) -> ServiceResult<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::org_pk(org), keys::PROFILE)))
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(deleted_at)")
            .build()?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The update that gives an invitation a new link (resend), reviving an expired one.
    fn relink_update(
        &self,
        org: &OrgId,
        id: &InvitationId,
        role: OrgRole,
        link: &Link,
        now: &str,
        retention: &Retention,
    ) -> ServiceResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::invitation_key(org, id)))
            .update_expression(
                "SET nonce_hash = :h, expires_at = :exp, expires_epoch = :exp_e, last_sent_at = :now, \
                 #role = :role, #status = :pending, email_delivery = :sent, gsi1pk = :g1pk, gsi1sk = :g1sk, #ttl = :ttl \
                 ADD send_count :one",
            )
            .condition_expression("#status IN (:pending, :expired)")
            .expression_attribute_names("#role", "role")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":h", s(&link.nonce_hash))
            .expression_attribute_values(":exp", s(&link.expires_at))
            .expression_attribute_values(":exp_e", n(link.expires_epoch))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":role", s(role.as_str()))
            .expression_attribute_values(":pending", s(InvitationStatus::Pending.as_str()))
            .expression_attribute_values(":expired", s(InvitationStatus::Expired.as_str()))
            .expression_attribute_values(":sent", s(DeliveryStatus::Sent.as_str()))
            .expression_attribute_values(":g1pk", s(keys::expiry_pk(id)))
            .expression_attribute_values(":g1sk", s(keys::expiry_sk(link.expires_epoch, id)))
            .expression_attribute_values(":ttl", n(link.expires_epoch + retention.0))
            .expression_attribute_values(":one", n(1))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn items_for(
        &self,
        w: &InviteWrite,
        org: &OrgId,
        actor: &User,
        now: &str,
        epoch: i64,
        retention: &Retention,
    ) -> ServiceResult<Vec<TransactWriteItem>> {
        Ok(match w {
            InviteWrite::Create(inv) => vec![
                self.invitation_put(inv, retention)?,
                self.pending_claim_put(org, &inv.email, &inv.id, false)?,
                self.audit_put(Audit {
                    org: *org,
                    actor: Some(actor.id),
                    action: "invitation.sent",
                    target: inv.email.to_string(),
                    before: None,
                    after: Some(serde_json::json!({"invitation_id": inv.id, "role": inv.role, "expires_at": inv.expires_at})),
                    at: now,
                    epoch,
                })?,
            ],
            InviteWrite::Resend { id, email, role, link } => vec![
                self.relink_update(org, id, *role, link, now, retention)?,
                self.pending_claim_put(org, email, id, true)?,
                self.audit_put(Audit {
                    org: *org,
                    actor: Some(actor.id),
                    action: "invitation.resent",
                    target: email.to_string(),
                    before: None,
                    after: Some(serde_json::json!({"invitation_id": id, "role": role, "expires_at": link.expires_at})),
                    at: now,
                    epoch,
                })?,
            ],
        })
    }

    /// Writes a bulk invite in as few transactions as fit (three items per invitation, with
    /// the caller's authority and the org's existence re-checked in each). A transaction that
    /// loses a race is retried one invitation at a time; the result per write says whether it
    /// was stored.
    #[allow(clippy::too_many_arguments)]
    pub async fn write_invitations<'a>(
        &self,
        org: &OrgId,
        actor: &User,
        authority: &Authority,
        writes: &'a [InviteWrite],
        now: Now,
        retention: &Retention,
        quota: Option<&InviteQuota>,
    ) -> ServiceResult<Vec<ServiceResult<()>>> {
        // 2 checks + 2 day counters (the org's, the deployment's) + 32 x 3 items = 100, DynamoDB's
        // most; later chunks carry only their 96.
        const PER_TX: usize = 32;
        let chunks: Vec<&[InviteWrite]> = writes.chunks(PER_TX).collect();
        // DynamoDB refuses concurrent transactions that touch the same item, the condition
        // checks on the caller and the org included. So the first chunk carries those checks
        // and runs alone; once it landed, the rest (disjoint items) run together.
        let Some((first, rest)) = chunks.split_first() else {
            return Ok(Vec::new());
        };
        // The day's invitation counts move with the first transaction, by the whole request.
        let count = writes.len() as u64;
        let write = |chunk: &'a [InviteWrite], checks: bool, counts: bool| {
            let counted = quota.filter(|_| counts).map(|q| (q, count));
            self.write_chunk(
                org, actor, authority, chunk, now, retention, checks, counted,
            )
        };
        let mut outcomes = vec![write(first, true, true).await];
        // Refused, throttled or unreachable: the request fails as a whole, at once (one
        // address at a time would only be throttled again, past the Lambda's timeout).
        match &outcomes[0] {
            Err(ServiceError::Forbidden) => return Err(ServiceError::Forbidden),
            Err(ServiceError::NotFound) => return Err(ServiceError::NotFound),
            Err(ServiceError::Unavailable(e)) => return Err(ServiceError::Unavailable(e.clone())),
            _ => {}
        }
        outcomes.extend(
            futures_util::future::join_all(rest.iter().map(|chunk| write(chunk, false, false)))
                .await,
        );
        if let (Some(q), Err(_)) = (quota, &outcomes[0]) {
            self.add_to_invite_quota_after(q, count).await;
        }
        let mut results: Vec<ServiceResult<()>> = Vec::with_capacity(writes.len());
        for (i, (chunk, outcome)) in chunks.iter().zip(outcomes).enumerate() {
            match outcome {
                Ok(()) => results.extend(chunk.iter().map(|_| Ok(()))),
                Err(ServiceError::Unavailable(e)) => return Err(ServiceError::Unavailable(e)),
                // A chunk lost a race on one of its items: write its invitations one by one,
                // so only the failing ones fail. The first chunk also carried the day counts,
                // the deployment's being one item every invite request writes: a single
                // invitation is retried too, without them (they were added above).
                Err(ServiceError::Conflict) if chunk.len() > 1 || (i == 0 && quota.is_some()) => {
                    for w in chunk.iter() {
                        results.push(write(std::slice::from_ref(w), i == 0, false).await);
                    }
                }
                Err(e) => results.push(Err(e)),
            }
        }
        Ok(results)
    }

    /// One transaction of invitation writes, with the caller and org checks when `checks`.
    #[allow(clippy::too_many_arguments)]
    async fn write_chunk(
        &self,
        org: &OrgId,
        actor: &User,
        authority: &Authority,
        chunk: &[InviteWrite],
        now: Now,
        retention: &Retention,
        checks: bool,
        counted: Option<(&InviteQuota, u64)>,
    ) -> ServiceResult<()> {
        let mut tx = Tx::new();
        if checks {
            tx.push(self.authority_check(actor, authority)?, tx::FORBIDDEN);
            tx.push(self.live_org_check(org)?, tx::NOT_FOUND);
        }
        if let Some((quota, count)) = counted {
            for add in self.invite_quota_add(quota, count)? {
                tx.push(add, tx::CONFLICT);
            }
        }
        // An invitation or pending claim that moved since it was read.
        for w in chunk {
            for item in self.items_for(w, org, actor, &now.rfc3339(), now.epoch(), retention)? {
                tx.push(item, tx::CONFLICT);
            }
        }
        self.transact(tx).await
    }

    /// Gives one invitation a new link (resend of a pending or expired invitation).
    #[allow(clippy::too_many_arguments)]
    pub async fn relink_invitation(
        &self,
        inv: &Invitation,
        link: &Link,
        actor: &User,
        authority: &Authority,
        now: Now,
        retention: &Retention,
        quota: Option<&InviteQuota>,
    ) -> ServiceResult<()> {
        let w = InviteWrite::Resend {
            id: inv.id,
            email: inv.email.clone(),
            role: inv.role,
            link: link.clone(),
        };
        let write = |counted| {
            self.write_chunk(
                &inv.org_id,
                actor,
                authority,
                std::slice::from_ref(&w),
                now,
                retention,
                true,
                counted,
            )
        };
        match (write(quota.map(|q| (q, 1))).await, quota) {
            // The race may have been on the deployment's day count, which every invite
            // request writes: once more without the counts, which are then added on their own.
            (Err(ServiceError::Conflict), Some(q)) => {
                write(None).await?;
                self.add_to_invite_quota_after(q, 1).await;
                Ok(())
            }
            (outcome, _) => outcome,
        }
    }

    /// Counts invitations already stored: their mails must go out, so a count that still
    /// cannot be written (after `retry`'s tries) is logged, not the request's failure. The
    /// day's quota then undercounts by at most this request.
    async fn add_to_invite_quota_after(&self, quota: &InviteQuota, count: u64) {
        if let Err(e) = self.add_to_invite_quota(quota, count).await {
            tracing::warn!(error = %e, org_id = %quota.org, count, "invitations stored but not counted against the day's quota");
        }
    }
}
