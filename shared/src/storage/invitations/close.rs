//! Ending a pending invitation: revoked, declined, expired, or accepted (which joins or
//! creates the account and signs it in, in the same transaction).

use crate::domain::{Invitation, InvitationStatus, OrgRole, User};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::audit::Audit;
use crate::storage::items::{ClaimItem, UserItem};
use crate::storage::tx::{self, Tx};
use crate::storage::{Authority, MemberCounter, Session, Store, keys, n, s};
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

impl Store {
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
                before: Some(serde_json::json!({"status": InvitationStatus::Pending})),
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
    /// otherwise `user` must still be in no organization. `counter` is where the org's tier
    /// (as read) counts members: on a shard, the org item is not part of the transaction
    /// (an owner invitation still writes it: it sets `owner_id`).
    #[allow(clippy::too_many_arguments)]
    pub async fn accept_invitation(
        &self,
        inv: &Invitation,
        user: &User,
        counter: MemberCounter,
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
                _ => crate::storage::quota::join_refusal(old),
            }
        } else {
            crate::storage::quota::join_refusal
        };
        if owner || counter == MemberCounter::OrgItem {
            tx.push(
                TransactWriteItem::builder()
                    .update(org_update.build()?)
                    .build(),
                org_refused,
            );
        } else {
            // No seat limit: a shard counts the member. The org being live is no condition
            // of this write: the invitation must be pending, and a membership of a deleted
            // organization counts as none (docs/storage.md, Conflicts).
            tx.push(self.shard_add(&inv.org_id, 1)?, tx::CONFLICT);
        }
        if new_account {
            let mut member = user.clone();
            member.org_id = Some(inv.org_id);
            member.role = Some(inv.role);
            member.joined_at = Some(now.into());
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
            before: Some(serde_json::json!({"status": InvitationStatus::Pending})),
            after: Some(serde_json::json!({"status": InvitationStatus::Accepted, "invitation_id": inv.id, "role": inv.role, "user_id": user.id})),
            at: now,
            epoch,
        })?, tx::CONFLICT);
        tx.push(self.audit_put(Audit {
            org: inv.org_id,
            actor: Some(user.id),
            action: "member.joined",
            target: user.id.to_string(),
            before: None,
            after: Some(serde_json::json!({"email": user.email, "role": inv.role, "invitation_id": inv.id})),
            at: now,
            epoch,
        })?, tx::CONFLICT);
        // The acceptor is signed in by the same write (one round trip, not two).
        tx.push(self.session_put(session, now)?, tx::CONFLICT);
        self.transact(tx).await
    }
}
