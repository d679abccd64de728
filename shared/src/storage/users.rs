//! Users, their email claims and their membership (org_id + role on the user item).

use super::items::{ClaimItem, UserItem};
use super::retry::SendRetrying;
use super::tx::{self, Tx};
use super::{Authority, Condition, Store, errors, keys, n, s};
use crate::domain::{Email, OrgId, OrgRole, User, UserId};

/// What a PATCH /users/{id} changes; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub password_hash: Option<String>,
    pub role: Option<OrgRole>,
}
use crate::error::ServiceResult;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use std::collections::HashMap;

impl UserChanges {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.email.is_none()
            && self.password_hash.is_none()
            && self.role.is_none()
    }
}

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
        // gsi1 lists an org's members, and the platform admins who belong to no org.
        let member = match user.org_id {
            Some(org) => Some((keys::org_members_pk(&org), keys::member_sk(&user.id))),
            None if user.platform_admin => {
                Some((keys::PLATFORM_ADMINS.to_string(), keys::member_sk(&user.id)))
            }
            None => None,
        };
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

/// The update expression that takes a user out of their organization, and its values: a
/// platform admin goes back on the platform-admin list (gsi1, as `UserItem` lists them), as
/// anyone else leaves gsi1. The flag is set when an account is created and never changes,
/// so the value read decides without a condition on it.
pub(crate) fn leave_org_update(
    id: &UserId,
    platform_admin: bool,
) -> (&'static str, HashMap<String, AttributeValue>) {
    if platform_admin {
        (
            "REMOVE org_id, #role, joined_at SET gsi1pk = :admins, gsi1sk = :admin_sk",
            HashMap::from([
                (":admins".to_string(), s(keys::PLATFORM_ADMINS)),
                (":admin_sk".to_string(), s(keys::member_sk(id))),
            ]),
        )
    } else {
        (
            "REMOVE org_id, #role, joined_at, gsi1pk, gsi1sk",
            HashMap::new(),
        )
    }
}

impl Store {
    pub async fn get_user(&self, id: &UserId) -> ServiceResult<Option<User>> {
        let item: Option<UserItem> = self
            .get(Self::key(keys::user_pk(id), keys::PROFILE))
            .await?;
        Ok(item.map(User::from))
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

    /// Creates an account and claims its email, atomically (`email_taken` if claimed). In an
    /// organization it also counts the member (on the org item) and writes the audit entry.
    /// `actor`, when given, has its authority re-checked in the same transaction.
    pub async fn create_user(
        &self,
        user: &User,
        actor: Option<(&User, &Authority)>,
    ) -> ServiceResult<()> {
        self.create_user_counted(user, actor, super::MemberCounter::OrgItem)
            .await
    }

    /// `create_user`, counting a member where `counter` says (`Store::counter` of the org's
    /// tier as read).
    pub async fn create_user_counted(
        &self,
        user: &User,
        actor: Option<(&User, &Authority)>,
        counter: super::MemberCounter,
    ) -> ServiceResult<()> {
        let now = crate::clock::Now::get();
        let mut tx = Tx::new();
        if let Some((caller, authority)) = actor {
            tx.push(self.authority_check(caller, authority)?, tx::FORBIDDEN);
        }
        let claim = ClaimItem {
            pk: keys::email_pk(&user.email),
            sk: keys::EMAIL_SK.into(),
            owner: user.id.to_string(),
        };
        tx.push(
            self.put_new(serde_dynamo::to_item(claim)?)?,
            tx::EMAIL_TAKEN,
        );
        tx.push(
            self.put_new(serde_dynamo::to_item(UserItem::from(user))?)?,
            tx::CONFLICT,
        );
        if let Some(org) = user.org_id {
            match counter {
                super::MemberCounter::OrgItem => {
                    tx.push(self.member_join(&org)?, super::quota::join_refusal)
                }
                // A tier without a seat limit (see `counts`).
                super::MemberCounter::Shard => tx.push(self.shard_add(&org, 1)?, tx::CONFLICT),
            }
            tx.push(self.audit_put(super::Audit {
                org,
                actor: actor.map(|(c, _)| c.id),
                action: "user.created",
                target: user.id.to_string(),
                before: None,
                after: Some(
                    serde_json::json!({"email": user.email, "name": user.name, "role": user.role}),
                ),
                at: &now.rfc3339(),
                epoch: now.epoch(),
            })?, tx::CONFLICT);
            tx.push(
                self.audit_put(super::Audit {
                    org,
                    actor: actor.map(|(c, _)| c.id),
                    action: "member.joined",
                    target: user.id.to_string(),
                    before: None,
                    after: Some(serde_json::json!({"email": user.email, "role": user.role})),
                    at: &now.rfc3339(),
                    epoch: now.epoch(),
                })?,
                tx::CONFLICT,
            );
        }
        self.transact(tx).await
    }

    pub(crate) fn member_count_change(
        &self,
        org: &OrgId,
        delta: i64,
    ) -> ServiceResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::org_pk(org), keys::PROFILE)))
            .update_expression("ADD member_count :d")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(deleted_at)")
            .expression_attribute_values(":d", n(delta))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Applies `changes` to `user` as read (its token version must be unchanged) and returns
    /// the user as written. A new email moves the claim; a new password hash ends every
    /// session but `keep_session` (the user's own, when they change their own password),
    /// which moves to the new token version.
    pub async fn update_user(
        &self,
        user: &User,
        changes: &UserChanges,
        actor: &User,
        authority: &Authority,
        keep_session: Option<&str>,
    ) -> ServiceResult<User> {
        let now = crate::clock::Now::get();
        let at = now.rfc3339();
        let mut tx = Tx::new();
        // On one's own account the caller's authority rides on the update itself.
        let self_edit = actor.id == user.id;
        if !self_edit {
            tx.push(self.authority_check(actor, authority)?, tx::FORBIDDEN);
        }
        let mut sets = vec!["updated_at = :now".to_string()];
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(&user.id), keys::PROFILE)))
            .expression_attribute_values(":ver", n(user.token_version))
            .expression_attribute_values(":now", s(&at));
        let mut condition = "attribute_exists(pk) AND token_version = :ver".to_string();
        if let Some(name) = &changes.name {
            sets.push("#name = :name".into());
            update = update
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":name", s(name));
        }
        if let Some(email) = &changes.email {
            sets.push("email = :email, gsi2pk = :g2pk".into());
            update = update
                .expression_attribute_values(":email", s(email.as_ref()))
                .expression_attribute_values(":g2pk", s(keys::email_pk(email)));
        }
        if let Some(hash) = &changes.password_hash {
            sets.push("password_hash = :hash, token_version = :next".into());
            update = update
                .expression_attribute_values(":hash", s(hash))
                .expression_attribute_values(":next", n(user.token_version + 1));
        }
        if let Some(role) = changes.role {
            // Only a member's role changes here, and never to or from owner.
            sets.push("#role = :role".into());
            condition.push_str(" AND org_id = :org AND #role <> :owner");
            update = update
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":role", s(role.as_str()))
                .expression_attribute_values(
                    ":org",
                    s(user.org_id.map(|o| o.to_string()).unwrap_or_default()),
                )
                .expression_attribute_values(":owner", s(OrgRole::Owner.as_str()));
        }
        let update = Condition::and(
            Condition::on_user(actor, authority, &user.id),
            &condition,
            update,
        );
        let update = update
            .update_expression(format!("SET {}", sets.join(", ")))
            .build()?;
        tx.push_maybe_caller(
            TransactWriteItem::builder().update(update).build(),
            self_edit.then_some(actor),
            tx::CONFLICT,
        );
        if let (Some(session), Some(_)) = (keep_session, &changes.password_hash) {
            let keep = Update::builder()
                .table_name(&self.table)
                .set_key(Some(Self::key(keys::session_pk(session), keys::SESSION_SK)))
                .update_expression("SET token_version = :next")
                .condition_expression("attribute_exists(pk) AND user_id = :uid")
                .expression_attribute_values(":next", n(user.token_version + 1))
                .expression_attribute_values(":uid", s(user.id.to_string()))
                .build()?;
            // The session the request came from has ended meanwhile.
            tx.push(
                TransactWriteItem::builder().update(keep).build(),
                tx::UNAUTHORIZED,
            );
        }
        if let Some(email) = &changes.email {
            let claim = ClaimItem {
                pk: keys::email_pk(email),
                sk: keys::EMAIL_SK.into(),
                owner: user.id.to_string(),
            };
            tx.push(
                self.put_new(serde_dynamo::to_item(claim)?)?,
                tx::EMAIL_TAKEN,
            );
            tx.push(self.release_email(&user.email, &user.id)?, tx::CONFLICT);
        }
        if let Some(org) = user.org_id {
            tx.push(self.audit_put(super::Audit {
                org,
                actor: Some(actor.id),
                action: "user.updated",
                target: user.id.to_string(),
                before: Some(
                    serde_json::json!({"name": user.name, "email": user.email, "role": user.role}),
                ),
                after: Some(serde_json::json!({
                    "name": changes.name, "email": changes.email, "role": changes.role,
                    "password_changed": changes.password_hash.is_some(),
                })),
                at: &at,
                epoch: now.epoch(),
            })?, tx::CONFLICT);
        }
        self.transact(tx).await?;
        let mut written = user.clone();
        written.updated_at = at.into();
        if let Some(name) = &changes.name {
            written.name = name.clone();
        }
        if let Some(email) = &changes.email {
            written.email = email.clone();
        }
        if let Some(hash) = &changes.password_hash {
            written.password_hash = hash.clone();
            written.token_version += 1;
        }
        if changes.role.is_some() {
            written.role = changes.role;
        }
        Ok(written)
    }

    pub(super) fn release_email(
        &self,
        email: &Email,
        owner: &UserId,
    ) -> ServiceResult<TransactWriteItem> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::email_pk(email), keys::EMAIL_SK)))
            .condition_expression("#owner = :id")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":id", s(owner.to_string()))
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Deletes the account (never an owner's), frees its email and leaves its org, atomically.
    /// Its sessions die with it: a refresh finds no user.
    pub async fn delete_user(
        &self,
        user: &User,
        actor: &User,
        authority: &Authority,
    ) -> ServiceResult<()> {
        let now = crate::clock::Now::get();
        let mut tx = Tx::new();
        // Deleting one's own account: the caller's authority rides on the delete itself.
        let self_delete = actor.id == user.id;
        if !self_delete {
            tx.push(self.authority_check(actor, authority)?, tx::FORBIDDEN);
        }
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(&user.id), keys::PROFILE)))
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":ver", n(user.token_version))
            .expression_attribute_values(":owner", s(OrgRole::Owner.as_str()));
        let delete = Condition::and(
            Condition::on_user(actor, authority, &user.id),
            "token_version = :ver AND (attribute_not_exists(#role) OR #role <> :owner)",
            delete,
        );
        tx.push_maybe_caller(
            TransactWriteItem::builder().delete(delete.build()?).build(),
            self_delete.then_some(actor),
            tx::CONFLICT,
        );
        tx.push(self.release_email(&user.email, &user.id)?, tx::CONFLICT);
        if let Some(org) = user.org_id {
            tx.push(self.member_count_change(&org, -1)?, tx::CONFLICT);
            tx.push(self.audit_put(super::Audit {
                org,
                actor: Some(actor.id),
                action: "user.deleted",
                target: user.id.to_string(),
                before: Some(
                    serde_json::json!({"email": user.email, "name": user.name, "role": user.role}),
                ),
                after: None,
                at: &now.rfc3339(),
                epoch: now.epoch(),
            })?, tx::CONFLICT);
        }
        self.transact(tx).await
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
            .send_retrying()
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
}
