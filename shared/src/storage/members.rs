//! Membership changes: list, role changes, removal, ownership transfer. Each write
//! re-checks the caller and the target's current membership inside its transaction.

use super::audit::Audit;
use super::items::UserItem;
use super::{Authority, Store, cursor, keys, s};
use crate::clock::Now;
use crate::domain::{OrgId, OrgRole, Page, User, UserId};
use crate::error::{ServiceError, ServiceResult};
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

const LIST_ATTRS: [&str; 4] = [keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK];

/// Items DynamoDB allows in one transaction.
const MAX_TX_ITEMS: usize = 100;

impl Store {
    /// Users listed under one gsi1 partition (an org's members, or the platform admins).
    async fn list_gsi1_users(
        &self,
        partition: &str,
        role: Option<OrgRole>,
        limit: i32,
        cursor_raw: Option<&str>,
    ) -> ServiceResult<Page<User>> {
        let mut start = cursor_raw
            .map(|c| {
                cursor::decode(
                    c,
                    &LIST_ATTRS,
                    (keys::GSI1PK, partition),
                    Some((keys::GSI1SK, "USER#")),
                )
            })
            .transpose()?;
        let mut items: Vec<User> = Vec::new();
        let mut last_included = None;
        for _ in 0..10 {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("gsi1pk = :pk")
                .expression_attribute_values(":pk", s(partition))
                .limit(limit)
                .set_exclusive_start_key(start.take());
            if let Some(role) = role {
                query = query
                    .filter_expression("#role = :role")
                    .expression_attribute_names("#role", "role")
                    .expression_attribute_values(":role", s(role.as_str()));
            }
            let out = query.send().await.map_err(super::sdk_error)?;
            for item in out.items.unwrap_or_default() {
                let user: UserItem = serde_dynamo::from_item(item)?;
                if items.len() < limit as usize {
                    last_included =
                        Some((user.pk.clone(), user.gsi1sk.clone().unwrap_or_default()));
                    items.push(user.into());
                } else {
                    let (pk, sk) = last_included.clone().unwrap_or_default();
                    let key = std::collections::HashMap::from([
                        (keys::PK.to_string(), s(pk)),
                        (keys::SK.to_string(), s(keys::PROFILE)),
                        (keys::GSI1PK.to_string(), s(partition)),
                        (keys::GSI1SK.to_string(), s(sk)),
                    ]);
                    return Ok(Page {
                        items,
                        next_cursor: cursor::encode(&key),
                    });
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() || items.len() >= limit as usize {
                break;
            }
        }
        let next_cursor = start.as_ref().and_then(cursor::encode);
        Ok(Page { items, next_cursor })
    }

    pub async fn list_members(
        &self,
        org: &OrgId,
        role: Option<OrgRole>,
        limit: i32,
        cursor_raw: Option<&str>,
    ) -> ServiceResult<Page<User>> {
        self.list_gsi1_users(&keys::org_members_pk(org), role, limit, cursor_raw)
            .await
    }

    pub async fn list_platform_admins(
        &self,
        limit: i32,
        cursor_raw: Option<&str>,
    ) -> ServiceResult<Page<User>> {
        self.list_gsi1_users(keys::PLATFORM_ADMINS, None, limit, cursor_raw)
            .await
    }

    /// The users with these ids that exist (one batch read per 100).
    pub async fn get_users(&self, ids: &[UserId]) -> ServiceResult<Vec<User>> {
        let wanted = ids
            .iter()
            .map(|id| Self::key(keys::user_pk(id), keys::PROFILE))
            .collect();
        self.batch_get(wanted)
            .await?
            .into_iter()
            .map(|i| {
                serde_dynamo::from_item::<_, UserItem>(i)
                    .map(User::from)
                    .map_err(Into::into)
            })
            .collect()
    }

    /// Sets `user`'s role, provided they are still a non-owner member of `org` with `from`.
    fn role_update(
        &self,
        org: &OrgId,
        user: &UserId,
        from: OrgRole,
        to: OrgRole,
        now: &str,
    ) -> ServiceResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(user), keys::PROFILE)))
            .update_expression("SET #role = :to, updated_at = :now")
            .condition_expression("org_id = :org AND #role = :from")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":from", s(from.as_str()))
            .expression_attribute_values(":org", s(org.to_string()))
            .expression_attribute_values(":now", s(now))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Detaches `user` from `org`, provided they are still a member with `role`.
    fn detach_update(
        &self,
        org: &OrgId,
        user: &User,
        role: OrgRole,
    ) -> ServiceResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(&user.id), keys::PROFILE)))
            .update_expression("REMOVE org_id, #role, joined_at, gsi1pk, gsi1sk")
            .condition_expression("org_id = :org AND #role = :role")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":org", s(org.to_string()))
            .expression_attribute_values(":role", s(role.as_str()))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The caller's authority check, or none when the caller is among the targets (leaving,
    /// or changing their own role): one transaction may not touch an item twice, and the
    /// target's own update already re-checks its membership and role.
    fn caller_check_unless_target(
        &self,
        caller: &User,
        authority: &Authority,
        targets: &[User],
    ) -> ServiceResult<Vec<TransactWriteItem>> {
        if targets.iter().any(|t| t.id == caller.id) {
            return Ok(Vec::new());
        }
        Ok(vec![self.authority_check(caller, authority)?])
    }

    /// Sets every listed member's role, all or nothing. Up to 97 fit one transaction with the
    /// caller check, the org check and the audit entry; a larger set is applied in two and, if
    /// the second fails, the first is put back (each step conditional on what it expects).
    pub async fn change_roles(
        &self,
        org: &OrgId,
        caller: &User,
        authority: &Authority,
        members: &[User],
        to: OrgRole,
        now: Now,
    ) -> ServiceResult<()> {
        let per_tx = MAX_TX_ITEMS - 3;
        let mut done: Vec<&[User]> = Vec::new();
        for chunk in members.chunks(per_tx) {
            let mut items = self.caller_check_unless_target(caller, authority, chunk)?;
            let offset = items.len();
            for m in chunk {
                items.push(self.role_update(
                    org,
                    &m.id,
                    m.role.unwrap_or(OrgRole::Member),
                    to,
                    &now.rfc3339(),
                )?);
            }
            items.push(self.member_count_change(org, 0)?);
            items.push(
                self.audit_put(Audit {
                    org: *org,
                    actor: Some(caller.id),
                    action: "member.role_changed",
                    target: chunk
                        .iter()
                        .map(|m| m.id.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                    before: Some(serde_json::json!(
                        chunk
                            .iter()
                            .map(|m| serde_json::json!({"user_id": m.id, "role": m.role}))
                            .collect::<Vec<_>>()
                    )),
                    after: Some(serde_json::json!({"role": to})),
                    at: &now.rfc3339(),
                    epoch: now.epoch(),
                })?,
            );
            let count = chunk.len();
            let outcome = self
                .transact(items, |i| match i.checked_sub(offset) {
                    None => ServiceError::Forbidden,
                    Some(i) if i < count => ServiceError::Conflict,
                    _ => ServiceError::NotFound,
                })
                .await;
            if let Err(e) = outcome {
                for applied in done {
                    self.undo_roles(org, applied, to, &now.rfc3339()).await;
                }
                return Err(e);
            }
            done.push(chunk);
        }
        Ok(())
    }

    async fn undo_roles(&self, org: &OrgId, members: &[User], applied: OrgRole, now: &str) {
        for m in members {
            let Some(previous) = m.role else { continue };
            let item = self.role_update(org, &m.id, applied, previous, now);
            if let Ok(item) = item
                && let Err(e) = self.transact(vec![item], |_| ServiceError::Conflict).await
            {
                tracing::error!(user_id = %m.id, error = %e, "could not restore a role after a failed bulk change");
            }
        }
    }

    /// Removes every listed member from `org`, all or nothing (as `change_roles`).
    pub async fn remove_members(
        &self,
        org: &OrgId,
        caller: &User,
        authority: &Authority,
        members: &[User],
        now: Now,
    ) -> ServiceResult<()> {
        let per_tx = MAX_TX_ITEMS - 3;
        let mut done: Vec<&[User]> = Vec::new();
        for chunk in members.chunks(per_tx) {
            let mut items = self.caller_check_unless_target(caller, authority, chunk)?;
            let offset = items.len();
            for m in chunk {
                items.push(self.detach_update(org, m, m.role.unwrap_or(OrgRole::Member))?);
            }
            items.push(self.member_count_change(org, -(chunk.len() as i64))?);
            items.push(self.audit_put(Audit {
                org: *org,
                actor: Some(caller.id),
                action: "member.removed",
                target: chunk.iter().map(|m| m.id.to_string()).collect::<Vec<_>>().join(","),
                before: Some(serde_json::json!(chunk.iter().map(|m| serde_json::json!({"user_id": m.id, "email": m.email, "role": m.role})).collect::<Vec<_>>())),
                after: None,
                at: &now.rfc3339(),
                epoch: now.epoch(),
            })?);
            let count = chunk.len();
            let outcome = self
                .transact(items, |i| match i.checked_sub(offset) {
                    None => ServiceError::Forbidden,
                    Some(i) if i < count => ServiceError::Conflict,
                    _ => ServiceError::NotFound,
                })
                .await;
            if let Err(e) = outcome {
                for applied in done {
                    self.undo_removal(org, applied).await;
                }
                return Err(e);
            }
            done.push(chunk);
        }
        Ok(())
    }

    async fn undo_removal(&self, org: &OrgId, members: &[User]) {
        for m in members {
            if let Err(e) = self.restore_member(org, m).await {
                tracing::error!(user_id = %m.id, error = %e, "could not restore a member after a failed bulk removal");
            }
        }
    }

    async fn restore_member(&self, org: &OrgId, m: &User) -> ServiceResult<()> {
        let restore = UserItem::from(m);
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(&m.id), keys::PROFILE)))
            .update_expression("SET org_id = :org, #role = :role, joined_at = :joined, gsi1pk = :g1pk, gsi1sk = :g1sk")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(org_id)")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":org", s(org.to_string()))
            .expression_attribute_values(":role", s(m.role.unwrap_or(OrgRole::Member).as_str()))
            .expression_attribute_values(":joined", s(m.joined_at.clone().unwrap_or_default()))
            .expression_attribute_values(":g1pk", s(restore.gsi1pk.unwrap_or_default()))
            .expression_attribute_values(":g1sk", s(restore.gsi1sk.unwrap_or_default()))
            .build()?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            self.member_count_change(org, 1)?,
        ];
        self.transact(items, |_| ServiceError::Conflict).await
    }

    /// Makes `target` the owner and `owner` an admin, and points the org at the new owner,
    /// atomically; each step is conditional on the state it replaces.
    pub async fn transfer_ownership(
        &self,
        org: &OrgId,
        caller: &User,
        authority: &Authority,
        owner: &UserId,
        target: &User,
        now: Now,
    ) -> ServiceResult<()> {
        let at = now.rfc3339();
        let target_role = target.role.unwrap_or(OrgRole::Member);
        let org_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::org_pk(org), keys::PROFILE)))
            .update_expression("SET owner_id = :new, updated_at = :now")
            .condition_expression("owner_id = :old AND attribute_not_exists(deleted_at)")
            .expression_attribute_values(":new", s(target.id.to_string()))
            .expression_attribute_values(":old", s(owner.to_string()))
            .expression_attribute_values(":now", s(&at))
            .build()?;
        // When the caller is the owner, the owner's own update (role = owner) re-checks them:
        // one transaction may not touch an item twice.
        let mut items = Vec::new();
        if caller.id != *owner {
            items.push(self.authority_check(caller, authority)?);
        }
        let offset = items.len();
        items.push(self.role_update(org, owner, OrgRole::Owner, OrgRole::Admin, &at)?);
        items.push(self.role_update(org, &target.id, target_role, OrgRole::Owner, &at)?);
        items.push(TransactWriteItem::builder().update(org_update).build());
        items.push(self.audit_put(Audit {
            org: *org,
            actor: Some(caller.id),
            action: "org.ownership_transferred",
            target: target.id.to_string(),
            before: Some(serde_json::json!({"owner_id": owner})),
            after: Some(serde_json::json!({"owner_id": target.id})),
            at: &at,
            epoch: now.epoch(),
        })?);
        self.transact(items, |i| match i.checked_sub(offset) {
            None => ServiceError::Forbidden,
            Some(0 | 2) => ServiceError::Conflict,
            Some(1) => ServiceError::NotFound,
            _ => ServiceError::Conflict,
        })
        .await
    }
}
