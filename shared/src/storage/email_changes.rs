//! A self-service change of email address waits for the new address to confirm it: the
//! pending change (new email, digest of the link's secret, expiry) is one item under the
//! user's pk, replaced by a newer request and deleted by the confirmation that uses it.

use super::retry::SendRetrying;
use super::tx::{self, Tx};
use super::{Store, keys, n, s};
use crate::domain::{Email, User, UserId};
use crate::error::ServiceResult;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmailChange {
    pub user_id: UserId,
    pub new_email: Email,
    pub nonce_hash: String,
    pub expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct EmailChangeItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    change: EmailChange,
    ttl: i64,
}

impl Store {
    /// Stores the pending change; any earlier one (and its link) is replaced.
    pub async fn put_email_change(&self, change: &EmailChange) -> ServiceResult<()> {
        let item = EmailChangeItem {
            pk: keys::user_pk(&change.user_id),
            sk: keys::EMAIL_CHANGE_SK.into(),
            change: change.clone(),
            ttl: change.expires_at,
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item)?))
            .send_retrying()
            .await
            .map_err(super::sdk_error)?;
        Ok(())
    }

    pub async fn get_email_change(&self, user: &UserId) -> ServiceResult<Option<EmailChange>> {
        let key = Self::key(keys::user_pk(user), keys::EMAIL_CHANGE_SK);
        let item: Option<EmailChangeItem> = self.get(key).await?;
        Ok(item.map(|i| i.change))
    }

    /// Whether an account (or a pending account creation) holds `email`'s claim now.
    pub async fn email_claimed(&self, email: &Email) -> ServiceResult<bool> {
        let key = Self::key(keys::email_pk(email), keys::EMAIL_SK);
        Ok(self.get_raw(key).await?.is_some())
    }

    /// Applies a confirmed change, once: the pending item goes (on the digest the link
    /// matched), the user's email and lookup key change provided the old email is still
    /// theirs, the new email is claimed (`email_taken` if someone holds it) and the old one
    /// released; in an organization, with its audit entry.
    pub async fn confirm_email_change(
        &self,
        user: &User,
        change: &EmailChange,
        at: &str,
        epoch: i64,
    ) -> ServiceResult<()> {
        let mut tx = Tx::new();
        let used = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::user_pk(&user.id),
                keys::EMAIL_CHANGE_SK,
            )))
            .condition_expression("nonce_hash = :h AND expires_at > :now")
            .expression_attribute_values(":h", s(&change.nonce_hash))
            .expression_attribute_values(":now", n(epoch))
            .build()?;
        // The link was used or replaced meanwhile.
        tx.push(
            TransactWriteItem::builder().delete(used).build(),
            tx::NOT_FOUND,
        );
        if change.new_email == user.email {
            // The address became the account's meanwhile (an admin's edit): nothing to
            // move; the link is used up. (Claiming and releasing the same address would
            // name its claim twice.)
            return self.transact(tx).await;
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(&user.id), keys::PROFILE)))
            .update_expression("SET email = :new, gsi2pk = :g2pk, updated_at = :at")
            .condition_expression("attribute_exists(pk) AND email = :old")
            .expression_attribute_values(":new", s(change.new_email.as_ref()))
            .expression_attribute_values(":g2pk", s(keys::email_pk(&change.new_email)))
            .expression_attribute_values(":old", s(user.email.as_ref()))
            .expression_attribute_values(":at", s(at))
            .build()?;
        tx.push(
            TransactWriteItem::builder().update(update).build(),
            tx::CONFLICT,
        );
        let claim = super::items::ClaimItem {
            pk: keys::email_pk(&change.new_email),
            sk: keys::EMAIL_SK.into(),
            owner: user.id.to_string(),
        };
        tx.push(
            self.put_new(serde_dynamo::to_item(claim)?)?,
            tx::EMAIL_TAKEN,
        );
        tx.push(self.release_email(&user.email, &user.id)?, tx::CONFLICT);
        if let Some(org) = user.org_id {
            tx.push(
                self.audit_put(super::Audit {
                    org,
                    actor: Some(user.id),
                    action: "user.email_changed",
                    target: user.id.to_string(),
                    before: Some(serde_json::json!({"email": user.email})),
                    after: Some(serde_json::json!({"email": change.new_email})),
                    at,
                    epoch,
                })?,
                tx::CONFLICT,
            );
        }
        self.transact(tx).await
    }
}
