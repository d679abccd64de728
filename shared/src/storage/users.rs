//! Users, their email claims and their membership (org_id + role on the user item).

use super::items::{ClaimItem, UserItem};
use super::{Authority, Store, errors, keys, n, s};
use crate::domain::{Email, OrgId, OrgRole, User, UserId};
use crate::error::{ServiceError, ServiceResult};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use std::collections::HashMap;

impl From<UserItem> for User {
    fn from(item: UserItem) -> Self {
        User {
            id: item.id,
            email: item.email,
            name: item.name,
            org_id: item.org_id,
            role: item.role,
            platform_admin: item.platform_admin,
            created_at: item.created_at,
            updated_at: item.updated_at,
            joined_at: item.joined_at,
            password_hash: item.password_hash,
            token_version: item.token_version,
        }
    }
}

impl From<&User> for UserItem {
    fn from(user: &User) -> Self {
        let member = user
            .org_id
            .map(|org| (keys::org_members_pk(&org), keys::member_sk(&user.id)));
        UserItem {
            pk: keys::user_pk(&user.id),
            sk: keys::PROFILE.into(),
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            password_hash: user.password_hash.clone(),
            org_id: user.org_id,
            role: user.role,
            joined_at: user.joined_at.clone(),
            platform_admin: user.platform_admin,
            token_version: user.token_version,
            created_at: user.created_at.clone(),
            updated_at: user.updated_at.clone(),
            gsi1pk: member.as_ref().map(|m| m.0.clone()),
            gsi1sk: member.map(|m| m.1),
            gsi2pk: keys::email_pk(&user.email),
            gsi2sk: keys::EMAIL_LOOKUP_SK.into(),
        }
    }
}

impl Store {
    pub async fn get_user(&self, id: &UserId) -> ServiceResult<Option<User>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(id), keys::PROFILE)))
            .consistent_read(true)
            .send()
            .await
            .map_err(super::sdk_error)?;
        match out.item {
            Some(item) => Ok(Some(serde_dynamo::from_item::<_, UserItem>(item)?.into())),
            None => Ok(None),
        }
    }

    /// Looks a user up by email through gsi2 (one round trip; eventually consistent, which
    /// only matters in the milliseconds after an account is created).
    pub async fn find_user_by_email(&self, email: &Email) -> ServiceResult<Option<User>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI2)
            .key_condition_expression("gsi2pk = :pk AND gsi2sk = :sk")
            .expression_attribute_values(":pk", s(keys::email_pk(email)))
            .expression_attribute_values(":sk", s(keys::EMAIL_LOOKUP_SK))
            .limit(1)
            .send()
            .await
            .map_err(super::sdk_error)?;
        match out.items.unwrap_or_default().into_iter().next() {
            Some(item) => Ok(Some(serde_dynamo::from_item::<_, UserItem>(item)?.into())),
            None => Ok(None),
        }
    }

    /// Creates an account and claims its email, atomically (`email_taken` if claimed).
    /// `authority`, when given, is re-checked on the acting user in the same transaction.
    pub async fn create_user(
        &self,
        user: &User,
        actor: Option<(&User, &Authority)>,
    ) -> ServiceResult<()> {
        let mut items = Vec::new();
        if let Some((caller, authority)) = actor {
            items.push(self.authority_check(caller, authority)?);
        }
        let claim = ClaimItem {
            pk: keys::email_pk(&user.email),
            sk: keys::EMAIL_SK.into(),
            owner: user.id.to_string(),
        };
        items.push(self.put_new(serde_dynamo::to_item(claim)?)?);
        items.push(self.put_new(serde_dynamo::to_item(UserItem::from(user))?)?);
        let has_actor = actor.is_some();
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                errors::transaction_error(e, |i| match (has_actor, i) {
                    (true, 0) => ServiceError::Forbidden,
                    _ if i == usize::from(has_actor) => ServiceError::EmailTaken,
                    _ => ServiceError::Conflict,
                })
            })
    }

    /// A Put that only creates.
    pub(crate) fn put_new(
        &self,
        item: HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    ) -> ServiceResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Makes `user` a member of `org` with `role`, provided they are in no organization now
    /// and their credentials are unchanged.
    pub(crate) fn join_org_update(
        &self,
        user: &User,
        org: &OrgId,
        role: OrgRole,
        now: &str,
    ) -> ServiceResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(&user.id), keys::PROFILE)))
            .update_expression(
                "SET org_id = :org, #role = :role, joined_at = :now, updated_at = :now, gsi1pk = :g1pk, gsi1sk = :g1sk",
            )
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(org_id) AND token_version = :ver")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":org", s(org.to_string()))
            .expression_attribute_values(":role", s(role.as_str()))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":g1pk", s(keys::org_members_pk(org)))
            .expression_attribute_values(":g1sk", s(keys::member_sk(&user.id)))
            .expression_attribute_values(":ver", n(user.token_version))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Ends every session and access token of the user at once.
    pub async fn revoke_all_sessions(&self, id: &UserId) -> ServiceResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(id), keys::PROFILE)))
            .update_expression("ADD token_version :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if errors::is_condition_failure(&e) {
                    Ok(())
                } else {
                    Err(super::sdk_error(e))
                }
            })
    }
}
