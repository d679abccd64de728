//! Refresh sessions: one item per session, holding only the SHA-256 of the current refresh
//! secret. Rotation replaces the hash under a condition on the old one, so a secret works once.

use super::items::SessionItem;
use super::retry::SendRetrying;
use super::tx::{self, Tx};
use super::{Authority, Store, errors, keys, s};
use crate::domain::{User, UserId};
use crate::error::ServiceResult;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user_id: UserId,
    pub token_hash: String,
    pub token_version: u64,
    pub expires_at: i64,
}

impl Store {
    pub async fn put_session(&self, session: &Session, created_at: &str) -> ServiceResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::session_item(session, created_at)?))
            .condition_expression("attribute_not_exists(pk)")
            .send_retrying()
            .await
            .map_err(super::sdk_error)?;
        Ok(())
    }

    /// The new session as one item of a transaction (accepting an invitation signs in too).
    pub(crate) fn session_put(
        &self,
        session: &Session,
        created_at: &str,
    ) -> ServiceResult<TransactWriteItem> {
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::session_item(session, created_at)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn session_item(
        session: &Session,
        created_at: &str,
    ) -> ServiceResult<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>
    {
        let item = SessionItem {
            pk: keys::session_pk(&session.id),
            sk: keys::SESSION_SK.into(),
            user_id: session.user_id,
            token_hash: session.token_hash.clone(),
            token_version: session.token_version,
            created_at: created_at.into(),
            expires_at: session.expires_at,
            ttl: session.expires_at,
        };
        Ok(serde_dynamo::to_item(item)?)
    }

    pub async fn get_session(&self, id: &str) -> ServiceResult<Option<Session>> {
        let key = Self::key(keys::session_pk(id), keys::SESSION_SK);
        let Some(item) = self.get::<SessionItem>(key).await? else {
            return Ok(None);
        };
        Ok(Some(Session {
            id: id.to_string(),
            user_id: item.user_id,
            token_hash: item.token_hash,
            token_version: item.token_version,
            expires_at: item.expires_at,
        }))
    }

    /// Swaps the session's secret hash from `old_hash` to `new_hash`, provided the user's
    /// credentials are still those the session was issued under. A lost race means the old
    /// secret was already used: `Unauthorized`.
    pub async fn rotate_session(
        &self,
        session: &Session,
        user: &User,
        new_hash: &str,
    ) -> ServiceResult<()> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::session_pk(&session.id),
                keys::SESSION_SK,
            )))
            .update_expression("SET token_hash = :new")
            .condition_expression("token_hash = :old")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(&session.token_hash))
            .build()?;
        // A lost race on the secret, or credentials changed since the session was issued.
        let mut tx = Tx::new();
        tx.push(
            TransactWriteItem::builder().update(update).build(),
            tx::UNAUTHORIZED,
        );
        tx.push(
            self.authority_check(user, &Authority::SignedIn)?,
            tx::UNAUTHORIZED,
        );
        self.transact(tx).await
    }

    /// Deletes a session if `token_hash` is still its current secret; returns whether it did.
    /// Ends a session named by a signed access token (sign-out without the refresh token):
    /// the id embeds its user's, so a token can name only its own user's sessions.
    pub async fn end_session(&self, id: &str) -> ServiceResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::session_pk(id), keys::SESSION_SK)))
            .send()
            .await
            .map_err(super::sdk_error)?;
        Ok(())
    }

    pub async fn delete_session(&self, id: &str, token_hash: &str) -> ServiceResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::session_pk(id), keys::SESSION_SK)))
            .condition_expression("token_hash = :h")
            .expression_attribute_values(":h", s(token_hash))
            .send_retrying()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if errors::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(super::sdk_error(e)),
        }
    }
}
