//! Membership changes: list, role changes, removal, ownership transfer. Each write
//! re-checks the caller and the target's current membership inside its transaction.

use super::audit::Audit;
use super::items::UserItem;
use super::tx::{self, Tx};
use super::{Authority, Condition, Store, cursor, keys, s};
use crate::clock::Now;
use crate::domain::{Cursor, OrgId, OrgRole, Page, User, UserId};
use crate::error::ServiceResult;
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
        cursor: Option<&Cursor>,
    ) -> ServiceResult<Page<User>> {
        self.list_gsi1_users_matching(partition, role, None, limit, cursor)
            .await
    }

    async fn list_gsi1_users_matching(
        &self,
        partition: &str,
        role: Option<OrgRole>,
        search: Option<&super::MemberSearch>,
        limit: i32,
        cursor: Option<&Cursor>,
    ) -> ServiceResult<Page<User>> {
        let start = cursor
            .map(|c| {
                cursor::key(
                    c,
                    &LIST_ATTRS,
                    (keys::GSI1PK, partition),
                    Some((keys::GSI1SK, keys::MEMBER_PREFIX)),
                )
            })
            .transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(partition));
        let mut filters = Vec::new();
        if let Some(role) = role {
            filters.push("#role = :role");
            query = query
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":role", s(role.as_str()));
        }
        if let Some(q) = search {
            // Emails are stored lower case; names as typed, so the term is tried as typed,
            // lower case and capitalised ("ada" finds "Ada Lovelace").
            filters.push(
                "(contains(email, :q_lower) OR contains(#name, :q_typed) OR \
                 contains(#name, :q_lower) OR contains(#name, :q_title))",
            );
            query = query
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":q_lower", s(&q.lower))
                .expression_attribute_values(":q_typed", s(&q.typed))
                .expression_attribute_values(":q_title", s(&q.title));
        }
        if !filters.is_empty() {
            query = query.filter_expression(filters.join(" AND "));
        }
        let (items, next_cursor) = self.query_page(query, &LIST_ATTRS, limit, start).await?;
        let items = items
            .into_iter()
            .map(|i| Ok(serde_dynamo::from_item::<_, UserItem>(i)?.into()))
            .collect::<ServiceResult<Vec<User>>>()?;
        Ok(Page { items, next_cursor })
    }

    pub async fn list_members(
        &self,
        org: &OrgId,
        role: Option<OrgRole>,
        limit: i32,
        cursor: Option<&Cursor>,
    ) -> ServiceResult<Page<User>> {
        self.list_gsi1_users(&keys::org_members_pk(org), role, limit, cursor)
            .await
    }

    /// `list_members`, only those whose email or name contains the search term.
    pub async fn list_members_matching(
        &self,
        org: &OrgId,
        role: Option<OrgRole>,
        search: &super::MemberSearch,
        limit: i32,
        cursor: Option<&Cursor>,
    ) -> ServiceResult<Page<User>> {
        let pk = keys::org_members_pk(org);
        self.list_gsi1_users_matching(&pk, role, Some(search), limit, cursor)
            .await
    }

    pub async fn list_platform_admins(
        &self,
        limit: i32,
        cursor: Option<&Cursor>,
    ) -> ServiceResult<Page<User>> {
        self.list_gsi1_users(keys::PLATFORM_ADMINS, None, limit, cursor)
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

    /// Sets `user`'s role, provided they are still a member of `org` with `from` (and meet
    /// `guard`, see `Condition::on_user`).
    fn role_update(
        &self,
        org: &OrgId,
        user: &UserId,
        (from, to): (OrgRole, OrgRole),
        now: &str,
        guard: Option<Condition>,
    ) -> ServiceResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(user), keys::PROFILE)))
            .update_expression("SET #role = :to, updated_at = :now")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":from", s(from.as_str()))
            .expression_attribute_values(":org", s(org.to_string()))
            .expression_attribute_values(":now", s(now));
        let update = Condition::and(guard, "org_id = :org AND #role = :from", update);
        Ok(TransactWriteItem::builder().update(update.build()?).build())
    }

    /// Detaches `user` from `org`, provided they are still a member with `role` (and meet
    /// `guard`).
    fn detach_update(
        &self,
        org: &OrgId,
        user: &User,
        role: OrgRole,
        guard: Option<Condition>,
    ) -> ServiceResult<TransactWriteItem> {
        let (expression, values) = super::users::leave_org_update(&user.id, user.platform_admin);
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(&user.id), keys::PROFILE)))
            .update_expression(expression)
            .set_expression_attribute_values(Some(values))
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":org", s(org.to_string()))
            .expression_attribute_values(":role", s(role.as_str()));
        let update = Condition::and(guard, "org_id = :org AND #role = :role", update);
        Ok(TransactWriteItem::builder().update(update.build()?).build())
    }

    /// A transaction that starts with the caller's authority check, unless the caller is
    /// among the targets: then their own item's write carries it (`Condition::on_user`), as
    /// one transaction may not name an item twice.
    fn tx_checking_caller(
        &self,
        caller: &User,
        authority: &Authority,
        targets: &[User],
    ) -> ServiceResult<Tx> {
        let mut tx = Tx::new();
        if !targets.iter().any(|t| t.id == caller.id) {
            tx.push(self.authority_check(caller, authority)?, tx::FORBIDDEN);
        }
        Ok(tx)
    }

    /// Sets every listed member's role, all or nothing. Up to 97 fit one transaction with the
    /// caller check and the audit entry (one to spare); a larger set is applied in two and, if
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
            let mut tx = self.tx_checking_caller(caller, authority, chunk)?;
            for m in chunk {
                let update = self.role_update(
                    org,
                    &m.id,
                    (m.role.unwrap_or(OrgRole::Member), to),
                    &now.rfc3339(),
                    Condition::on_user(caller, authority, &m.id),
                )?;
                // The member's role or membership changed since it was read.
                tx.push_maybe_caller(update, (m.id == caller.id).then_some(caller), tx::CONFLICT);
            }
            // No write or check of the org item: every accept, invite and removal in the
            // org writes it, and on DynamoDB a transaction naming it (a ConditionCheck too)
            // is cancelled by any of them. Each member's own condition (still in `org` with
            // the role read) is the guarantee; a change landing between a deletion's
            // tombstone and its detach is one that landed just before the deletion.
            tx.push(
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
                tx::CONFLICT,
            );
            if let Err(e) = self.transact(tx).await {
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
            let item = self.role_update(org, &m.id, (applied, previous), now, None);
            if let Ok(item) = item
                && let Err(e) = self.transact(Tx::of(item, tx::CONFLICT)).await
            {
                tracing::error!(user_id = %m.id, error = %e, "could not restore a role after a failed bulk change");
            }
        }
    }

    /// Removes every listed member from `org`, all or nothing (as `change_roles`), taking
    /// them off the count where `counter` says.
    #[allow(clippy::too_many_arguments)]
    pub async fn remove_members(
        &self,
        org: &OrgId,
        counter: super::MemberCounter,
        caller: &User,
        authority: &Authority,
        members: &[User],
        now: Now,
    ) -> ServiceResult<()> {
        let per_tx = MAX_TX_ITEMS - 3;
        let mut done: Vec<&[User]> = Vec::new();
        for chunk in members.chunks(per_tx) {
            let mut tx = self.tx_checking_caller(caller, authority, chunk)?;
            for m in chunk {
                let update = self.detach_update(
                    org,
                    m,
                    m.role.unwrap_or(OrgRole::Member),
                    Condition::on_user(caller, authority, &m.id),
                )?;
                // The member's role or membership changed since it was read.
                tx.push_maybe_caller(update, (m.id == caller.id).then_some(caller), tx::CONFLICT);
            }
            let gone = -(chunk.len() as i64);
            match counter {
                super::MemberCounter::OrgItem => {
                    tx.push(self.member_count_change(org, gone)?, tx::NOT_FOUND)
                }
                // A change to a seat-limited tier closed the shard since the org was read.
                super::MemberCounter::Shard => tx.push(self.shard_add(org, gone)?, tx::CONFLICT),
            }
            tx.push(self.audit_put(Audit {
                org: *org,
                actor: Some(caller.id),
                // A member removing themself left; anyone else was removed.
                action: if chunk.len() == 1 && chunk[0].id == caller.id {
                    "member.left"
                } else {
                    "member.removed"
                },
                target: chunk.iter().map(|m| m.id.to_string()).collect::<Vec<_>>().join(","),
                before: Some(serde_json::json!(chunk.iter().map(|m| serde_json::json!({"user_id": m.id, "email": m.email, "role": m.role})).collect::<Vec<_>>())),
                after: None,
                at: &now.rfc3339(),
                epoch: now.epoch(),
            })?, tx::CONFLICT);
            if let Err(e) = self.transact(tx).await {
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
            .expression_attribute_values(":joined", s(m.joined_at.as_ref().map_or("", |t| t.as_str())))
            .expression_attribute_values(":g1pk", s(restore.gsi1pk.unwrap_or_default()))
            .expression_attribute_values(":g1sk", s(restore.gsi1sk.unwrap_or_default()))
            .build()?;
        let mut tx = Tx::new();
        tx.push(
            TransactWriteItem::builder().update(update).build(),
            tx::CONFLICT,
        );
        tx.push(self.member_count_change(org, 1)?, tx::CONFLICT);
        self.transact(tx).await
    }

    /// Makes `target` the owner and `owner` (if the organization has one) an admin, and
    /// points the org at the new owner, atomically; each step is conditional on the state it
    /// replaces. Without an owner, `target` becomes the first one.
    pub async fn transfer_ownership(
        &self,
        org: &OrgId,
        caller: &User,
        authority: &Authority,
        owner: Option<&UserId>,
        target: &User,
        now: Now,
    ) -> ServiceResult<()> {
        let at = now.rfc3339();
        let target_role = target.role.unwrap_or(OrgRole::Member);
        let org_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::org_pk(org), keys::PROFILE)))
            .update_expression("SET owner_id = :new, updated_at = :now")
            .expression_attribute_values(":new", s(target.id.to_string()))
            .expression_attribute_values(":now", s(&at));
        let org_update = match owner {
            Some(owner) => org_update
                .condition_expression("owner_id = :old AND attribute_not_exists(deleted_at)")
                .expression_attribute_values(":old", s(owner.to_string())),
            None => org_update.condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(owner_id) AND attribute_not_exists(deleted_at)",
            ),
        };
        // The caller's authority rides on their own item when they are the owner (or the
        // target): one transaction may not name an item twice. Any failure past the caller's
        // check is a concurrent change: the owner, the target's role or membership, or the
        // organization moved since they were read.
        let mut tx = Tx::new();
        if owner != Some(&caller.id) && target.id != caller.id {
            tx.push(self.authority_check(caller, authority)?, tx::FORBIDDEN);
        }
        if let Some(owner) = owner {
            let demote = self.role_update(
                org,
                owner,
                (OrgRole::Owner, OrgRole::Admin),
                &at,
                Condition::on_user(caller, authority, owner),
            )?;
            tx.push_maybe_caller(
                demote,
                (*owner == caller.id).then_some(caller),
                tx::CONFLICT,
            );
        }
        let promote = self.role_update(
            org,
            &target.id,
            (target_role, OrgRole::Owner),
            &at,
            Condition::on_user(caller, authority, &target.id),
        )?;
        tx.push_maybe_caller(
            promote,
            (target.id == caller.id).then_some(caller),
            tx::CONFLICT,
        );
        tx.push(
            TransactWriteItem::builder()
                .update(org_update.build()?)
                .build(),
            tx::CONFLICT,
        );
        tx.push(
            self.audit_put(Audit {
                org: *org,
                actor: Some(caller.id),
                action: "org.ownership_transferred",
                target: target.id.to_string(),
                before: Some(serde_json::json!({ "owner_id": owner })),
                after: Some(serde_json::json!({"owner_id": target.id})),
                at: &at,
                epoch: now.epoch(),
            })?,
            tx::CONFLICT,
        );
        self.transact(tx).await
    }
}
