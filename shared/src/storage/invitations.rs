//! Invitations, their per-(org, email) pending claims, and the sparse expiry index.

use super::audit::Audit;
use super::items::{ClaimItem, UserItem};
use super::tx::{self, Tx};
use super::{Authority, InviteQuota, Session, Store, cursor, errors, keys, n, s};
use crate::clock::Now;
use crate::domain::{
    DeliveryStatus, Email, Invitation, InvitationId, InvitationStatus, OrgId, OrgRole, Page, User,
    UserId,
};
use crate::error::{ServiceError, ServiceResult};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
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
    expires_at: String,
    expires_epoch: i64,
    created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invited_by: Option<UserId>,
    inviter_name: String,
    send_count: u32,
    last_sent_at: String,
    email_delivery: DeliveryStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    accepted_at: Option<String>,
    nonce_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    ttl: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct PendingClaim {
    pk: String,
    sk: String,
    invitation_id: InvitationId,
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
    fn invitation_key(org: &OrgId, id: &InvitationId) -> HashMap<String, AttributeValue> {
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

    /// The pending invitation id for each of `emails` in `org`, where one exists.
    pub async fn pending_invitations(
        &self,
        org: &OrgId,
        emails: &[Email],
    ) -> ServiceResult<HashMap<Email, InvitationId>> {
        if emails.is_empty() {
            return Ok(HashMap::new());
        }
        let wanted = emails
            .iter()
            .map(|e| Self::key(keys::org_pk(org), &keys::pending_claim_sk(e)))
            .collect();
        let mut out = HashMap::new();
        for item in self.batch_get(wanted).await? {
            let claim: PendingClaim = serde_dynamo::from_item(item)?;
            if let Some(email) = claim
                .sk
                .strip_prefix(keys::PENDING_CLAIM_PREFIX)
                .and_then(|e| Email::parse(e).ok())
            {
                out.insert(email, claim.invitation_id);
            }
        }
        Ok(out)
    }

    /// The accounts holding each of `emails`, where one does (two batch reads: claims, users).
    pub async fn users_by_email(&self, emails: &[Email]) -> ServiceResult<HashMap<Email, User>> {
        if emails.is_empty() {
            return Ok(HashMap::new());
        }
        let claims = self
            .batch_get(
                emails
                    .iter()
                    .map(|e| Self::key(keys::email_pk(e), keys::EMAIL_SK))
                    .collect(),
            )
            .await?;
        let ids: Vec<UserId> = claims
            .into_iter()
            .map(serde_dynamo::from_item::<_, ClaimItem>)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter_map(|c| UserId::parse(&c.owner).ok())
            .collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let users = self
            .batch_get(
                ids.iter()
                    .map(|id| Self::key(keys::user_pk(id), keys::PROFILE))
                    .collect(),
            )
            .await?;
        let mut out = HashMap::new();
        for item in users {
            let user: User = serde_dynamo::from_item::<_, UserItem>(item)?.into();
            out.insert(user.email.clone(), user);
        }
        Ok(out)
    }

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

    /// Claims "the pending invitation of `email` in `org`" for `id`. `reclaim` also accepts a
    /// claim this invitation already holds (a resend of an expired invitation).
    fn pending_claim_put(
        &self,
        org: &OrgId,
        email: &Email,
        id: &InvitationId,
        reclaim: bool,
    ) -> ServiceResult<TransactWriteItem> {
        let claim = PendingClaim {
            pk: keys::org_pk(org),
            sk: keys::pending_claim_sk(email),
            invitation_id: *id,
        };
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(claim)?));
        put = if reclaim {
            put.condition_expression("attribute_not_exists(pk) OR invitation_id = :id")
                .expression_attribute_values(":id", s(id.to_string()))
        } else {
            put.condition_expression("attribute_not_exists(pk)")
        };
        Ok(TransactWriteItem::builder().put(put.build()?).build())
    }

    fn pending_claim_delete(
        &self,
        org: &OrgId,
        email: &Email,
        id: &InvitationId,
    ) -> ServiceResult<TransactWriteItem> {
        // Only this invitation's claim; a missing claim is fine (the condition allows it).
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::org_pk(org),
                &keys::pending_claim_sk(email),
            )))
            .condition_expression("attribute_not_exists(pk) OR invitation_id = :id")
            .expression_attribute_values(":id", s(id.to_string()))
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
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
            self.add_to_invite_quota(q, count).await?;
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

    /// Records that the email for the invitation's current link could not be sent.
    pub async fn mark_delivery_failed(
        &self,
        org: &OrgId,
        id: &InvitationId,
        nonce_hash: &str,
    ) -> ServiceResult<()> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::invitation_key(org, id)))
            .update_expression("SET email_delivery = :failed")
            .condition_expression("nonce_hash = :h")
            .expression_attribute_values(":failed", s(DeliveryStatus::Failed.as_str()))
            .expression_attribute_values(":h", s(nonce_hash))
            .send()
            .await;
        match out {
            // A newer link replaced this one: its own send decides.
            Err(e) if !errors::is_condition_failure(&e) => Err(super::sdk_error(e)),
            _ => Ok(()),
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
        cursor_raw: Option<&str>,
        now: i64,
    ) -> ServiceResult<Page<Invitation>> {
        self.invitations_page(org, status, None, limit, cursor_raw, now)
            .await
    }

    /// An organization's pending invitations (optionally of one role), oldest first: the
    /// member list's second part.
    pub async fn list_pending_invitations(
        &self,
        org: &OrgId,
        role: Option<OrgRole>,
        limit: i32,
        cursor_raw: Option<&str>,
        now: i64,
    ) -> ServiceResult<Page<Invitation>> {
        let pending = Some(InvitationStatus::Pending);
        self.invitations_page(org, pending, role, limit, cursor_raw, now)
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
        cursor_raw: Option<&str>,
        now: i64,
    ) -> ServiceResult<Page<Invitation>> {
        let pk = keys::org_pk(org);
        let start = cursor_raw
            .map(|c| {
                cursor::decode(
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
                self.add_to_invite_quota(q, 1).await
            }
            (outcome, _) => outcome,
        }
    }

    /// Ends a pending invitation as `revoked` (by an admin) or `declined` (by its invitee) or
    /// `expired` (by cleanup). `nonce_hash`, when given, must still be the current link's.
    #[allow(clippy::too_many_arguments)]
    pub async fn close_invitation(
        &self,
        inv: &Invitation,
        to: InvitationStatus,
        nonce_hash: Option<&str>,
        actor: Option<(&User, &Authority)>,
        now: &str,
        epoch: i64,
    ) -> ServiceResult<()> {
        let mut condition = "#status = :pending".to_string();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::invitation_key(&inv.org_id, &inv.id)))
            .update_expression("SET #status = :to, updated_at = :now REMOVE gsi1pk, gsi1sk")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":pending", s(InvitationStatus::Pending.as_str()));
        if let Some(h) = nonce_hash {
            condition.push_str(" AND nonce_hash = :h");
            update = update.expression_attribute_values(":h", s(h));
        }
        match to {
            // Expiry only once it is due; the others only while it is still live.
            InvitationStatus::Expired => condition.push_str(" AND expires_epoch <= :epoch"),
            _ if nonce_hash.is_some() => condition.push_str(" AND expires_epoch > :epoch"),
            _ => {}
        }
        if condition.contains(":epoch") {
            update = update.expression_attribute_values(":epoch", n(epoch));
        }
        let update = update.condition_expression(condition).build()?;
        let action = match to {
            InvitationStatus::Revoked => "invitation.revoked",
            InvitationStatus::Declined => "invitation.declined",
            _ => "invitation.expired",
        };
        let mut tx = Tx::new();
        if let Some((user, authority)) = actor {
            tx.push(self.authority_check(user, authority)?, tx::FORBIDDEN);
        }
        // No longer pending, or a newer link, or (for expiry) not due yet.
        tx.push(
            TransactWriteItem::builder().update(update).build(),
            tx::CONFLICT,
        );
        tx.push(
            self.pending_claim_delete(&inv.org_id, &inv.email, &inv.id)?,
            tx::CONFLICT,
        );
        tx.push(
            self.audit_put(Audit {
                org: inv.org_id,
                actor: actor.map(|(u, _)| u.id),
                action,
                target: inv.email.to_string(),
                before: Some(serde_json::json!({"status": "pending"})),
                after: Some(serde_json::json!({"status": to.as_str(), "invitation_id": inv.id})),
                at: now,
                epoch,
            })?,
            tx::CONFLICT,
        );
        self.transact(tx).await
    }

    /// Accepts an invitation: marks it accepted, releases its pending claim, counts the
    /// member (making them owner for an owner invitation), joins or creates the account and
    /// writes the audit entry, all in one transaction. `new_account` creates the user;
    /// otherwise `user` must still be in no organization.
    pub async fn accept_invitation(
        &self,
        inv: &Invitation,
        user: &User,
        new_account: bool,
        session: &Session,
        now: &str,
        epoch: i64,
    ) -> ServiceResult<()> {
        let accept = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::invitation_key(&inv.org_id, &inv.id)))
            .update_expression("SET #status = :accepted, accepted_at = :now REMOVE gsi1pk, gsi1sk")
            .condition_expression(
                "#status = :pending AND nonce_hash = :h AND expires_epoch > :epoch",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":accepted", s(InvitationStatus::Accepted.as_str()))
            .expression_attribute_values(":pending", s(InvitationStatus::Pending.as_str()))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":h", s(&inv.nonce_hash))
            .expression_attribute_values(":epoch", n(epoch))
            .build()?;
        let mut org_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::org_pk(&inv.org_id), keys::PROFILE)))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(now));
        let owner = inv.role == OrgRole::Owner;
        // Joining takes a seat: the seat condition is part of the org update (see `quota`).
        org_update = if owner {
            let update = org_update
                .update_expression("SET owner_id = :uid, updated_at = :now ADD member_count :one")
                .expression_attribute_values(":uid", s(user.id.to_string()));
            self.with_seat_check(
                update,
                "attribute_exists(pk) AND attribute_not_exists(deleted_at) AND attribute_not_exists(owner_id)",
            )
        } else {
            let update =
                org_update.update_expression("SET updated_at = :now ADD member_count :one");
            self.with_seat_check(
                update,
                "attribute_exists(pk) AND attribute_not_exists(deleted_at)",
            )
        };
        let mut tx = Tx::new();
        tx.push(
            TransactWriteItem::builder().update(accept).build(),
            tx::CONFLICT,
        );
        tx.push(
            self.pending_claim_delete(&inv.org_id, &inv.email, &inv.id)?,
            tx::CONFLICT,
        );
        let org_refused: tx::Refusal = if owner {
            // An owner invitation of an org that has its owner: as if the org were gone.
            |old| match old {
                Some(o) if o.contains_key("owner_id") => ServiceError::NotFound,
                _ => super::quota::join_refusal(old),
            }
        } else {
            super::quota::join_refusal
        };
        tx.push(
            TransactWriteItem::builder()
                .update(org_update.build()?)
                .build(),
            org_refused,
        );
        if new_account {
            let mut member = user.clone();
            member.org_id = Some(inv.org_id);
            member.role = Some(inv.role);
            member.joined_at = Some(now.to_string());
            let claim = ClaimItem {
                pk: keys::email_pk(&user.email),
                sk: keys::EMAIL_SK.into(),
                owner: user.id.to_string(),
            };
            tx.push(
                self.put_new(serde_dynamo::to_item(UserItem::from(&member))?)?,
                tx::CONFLICT,
            );
            tx.push(
                self.put_new(serde_dynamo::to_item(claim)?)?,
                tx::EMAIL_TAKEN,
            );
        } else {
            let join = self.join_org_update(user, &inv.org_id, inv.role, now)?;
            tx.push(join, tx::IN_ANOTHER_ORG);
        }
        tx.push(self.audit_put(Audit {
            org: inv.org_id,
            actor: Some(user.id),
            action: "invitation.accepted",
            target: inv.email.to_string(),
            before: Some(serde_json::json!({"status": "pending"})),
            after: Some(serde_json::json!({"status": "accepted", "invitation_id": inv.id, "role": inv.role, "user_id": user.id})),
            at: now,
            epoch,
        })?, tx::CONFLICT);
        // The acceptor is signed in by the same write (one round trip, not two).
        tx.push(self.session_put(session, now)?, tx::CONFLICT);
        self.transact(tx).await
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
