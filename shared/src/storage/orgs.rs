//! Organizations and their unique code claims.

use super::items::{ClaimItem, OrgItem, UserItem};
use super::retry::SendRetrying;
use super::tx::{self, Tx};
use super::{Authority, Store, counts, cursor, errors, keys, s};
use crate::domain::{
    CountShard, Cursor, Description, OrgCode, OrgId, OrgName, OrgRole, Organization, Page, Tier,
    User,
};
use crate::error::{ServiceError, ServiceResult};
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};
use futures_util::{StreamExt, stream};

pub struct NewOrg {
    pub id: OrgId,
    pub name: OrgName,
    pub code: OrgCode,
    pub description: Description,
    pub tier: Tier,
    pub now: String,
}

/// The fields a PATCH may change; `None` keeps the current value.
#[derive(Default)]
pub struct OrgChanges {
    pub name: Option<OrgName>,
    pub description: Option<Description>,
    pub tier: Option<Tier>,
    pub code: Option<OrgCode>,
}

impl From<OrgItem> for Organization {
    fn from(item: OrgItem) -> Self {
        organization(item, Vec::new())
    }
}

/// The organization as shown: its member count is the org item's own plus its shards'.
fn organization(item: OrgItem, shards: Vec<CountShard>) -> Organization {
    Organization {
        id: item.id,
        name: item.name,
        code: item.code,
        description: item.description,
        tier: Tier::stored(item.tier),
        owner_id: item.owner_id,
        member_count: counts::member_total(item.member_count, &shards),
        created_at: item.created_at,
        updated_at: item.updated_at,
        count_shards: shards,
    }
}

const ORG_LIST_ATTRS: [&str; 4] = [keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK];

/// A page of organizations as the list index holds them, before their counts are read.
pub struct OrgPage(Page<OrgItem>);

impl Store {
    /// Creates the organization and claims its code in one transaction. With `owner`, the
    /// caller becomes its owner in the same transaction (self-service); otherwise the caller
    /// must still be a platform admin.
    pub async fn create_org(
        &self,
        org: &NewOrg,
        caller: &User,
        owner: bool,
    ) -> ServiceResult<Organization> {
        let item = OrgItem {
            pk: keys::org_pk(&org.id),
            sk: keys::PROFILE.into(),
            id: org.id,
            name: org.name.to_string(),
            code: org.code.clone(),
            description: org.description.to_string(),
            tier: org.tier.as_ref().to_string(),
            owner_id: owner.then_some(caller.id),
            member_count: i64::from(owner),
            created_at: org.now.as_str().into(),
            updated_at: org.now.as_str().into(),
            deleted_at: None,
            gsi1pk: keys::ORGS_LIST.into(),
            gsi1sk: keys::org_list_sk(&org.now, &org.id),
        };
        let claim = ClaimItem {
            pk: keys::code_pk(&org.code),
            sk: keys::CODE_SK.into(),
            owner: org.id.to_string(),
        };
        let mut tx = Tx::new();
        if owner {
            // Self-service: the caller joins as its owner, provided they are in no org.
            let join = self.join_org_update(caller, &org.id, OrgRole::Owner, &org.now)?;
            tx.push(join, tx::IN_ANOTHER_ORG);
        } else {
            tx.push(
                self.authority_check(caller, &Authority::PlatformAdmin)?,
                tx::FORBIDDEN,
            );
        }
        let epoch = crate::clock::Now::get().epoch();
        tx.push(self.put_new(serde_dynamo::to_item(claim)?)?, tx::CODE_TAKEN);
        tx.push(
            self.put_new(serde_dynamo::to_item(item.clone())?)?,
            tx::CONFLICT,
        );
        tx.push(
            self.audit_put(super::Audit {
                org: org.id,
                actor: Some(caller.id),
                action: "org.created",
                target: org.id.to_string(),
                before: None,
                after: Some(serde_json::json!({"name": item.name, "code": item.code, "tier": item.tier, "owner_id": item.owner_id})),
                at: &org.now,
                epoch,
            })?,
            tx::CONFLICT,
        );
        self.transact(tx).await?;
        Ok(item.into())
    }

    /// A live organization (one being deleted answers `None`), with its member count
    /// shards: one strongly consistent Query of the sort keys under `PROFILE`.
    pub async fn get_org(&self, id: &OrgId) -> ServiceResult<Option<Organization>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :profile)")
            .expression_attribute_values(":pk", s(keys::org_pk(id)))
            .expression_attribute_values(":profile", s(keys::PROFILE))
            .consistent_read(true)
            .send()
            .await
            .map_err(super::sdk_error)?;
        let found = Self::org_with_shards(out.items.unwrap_or_default())?;
        Ok(found
            .filter(|(item, _)| item.deleted_at.is_none())
            .map(|(item, shards)| organization(item, shards)))
    }

    /// The member count shards of each of `orgs` (BatchGetItem, 100 keys a request, all
    /// requests at once).
    async fn shards_of(&self, orgs: &[OrgItem]) -> ServiceResult<Vec<Vec<CountShard>>> {
        let keys: Vec<_> = orgs
            .iter()
            .flat_map(|o| {
                (0..keys::MEMBER_COUNT_SHARDS)
                    .map(|k| Self::key(keys::org_pk(&o.id), &keys::member_count_shard_sk(k)))
            })
            .collect();
        let reads = keys.chunks(100).map(|chunk| self.batch_get(chunk.to_vec()));
        let mut found: std::collections::HashMap<String, Vec<CountShard>> = Default::default();
        for items in futures_util::future::try_join_all(reads).await? {
            for item in items {
                let pk = item.get(keys::PK).and_then(|v| v.as_s().ok()).cloned();
                if let (Some(pk), Some(shard)) = (pk, counts::shard_of(&item)) {
                    found.entry(pk).or_default().push(shard);
                }
            }
        }
        Ok(orgs
            .iter()
            .map(|o| found.remove(&keys::org_pk(&o.id)).unwrap_or_default())
            .collect())
    }

    /// Every live organization, newest first, with its member count.
    pub async fn list_orgs(
        &self,
        limit: i32,
        cursor: Option<&Cursor>,
    ) -> ServiceResult<Page<Organization>> {
        let page = self.org_page(limit, cursor).await?;
        self.counted(page).await
    }

    /// A page of live organizations, newest first, without their counts' shards: `counted`
    /// reads those once the page is known (a second round trip).
    pub async fn org_page(&self, limit: i32, cursor: Option<&Cursor>) -> ServiceResult<OrgPage> {
        let start = cursor
            .map(|c| cursor::key(c, &ORG_LIST_ATTRS, (keys::GSI1PK, keys::ORGS_LIST), None))
            .transpose()?;
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(keys::ORGS_LIST))
            .scan_index_forward(false);
        let (items, next_cursor) = self
            .query_page(query, &ORG_LIST_ATTRS, limit, start)
            .await?;
        let items = items
            .into_iter()
            .map(serde_dynamo::from_item::<_, OrgItem>)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OrgPage(Page { items, next_cursor }))
    }

    /// The page with each organization's member count, its shards read by key.
    pub async fn counted(&self, OrgPage(page): OrgPage) -> ServiceResult<Page<Organization>> {
        let shards = if page.items.is_empty() {
            Vec::new()
        } else {
            self.shards_of(&page.items).await?
        };
        let items = page
            .items
            .into_iter()
            .zip(shards)
            .map(|(item, shards)| organization(item, shards))
            .collect();
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// Applies `changes` to `org` as read (a live organization whose code is unchanged) and
    /// returns it as written; moving to a new code releases the old claim and takes the new
    /// one in the same transaction.
    pub async fn update_org(
        &self,
        org: &Organization,
        changes: &OrgChanges,
        caller: &User,
        authority: &Authority,
        now: &str,
    ) -> ServiceResult<Organization> {
        self.write_org_changes(org, changes, caller, authority, now)
            .await?;
        let mut written = org.clone();
        written.updated_at = now.into();
        if let Some(name) = &changes.name {
            written.name = name.to_string();
        }
        if let Some(description) = &changes.description {
            written.description = description.to_string();
        }
        if let Some(tier) = &changes.tier {
            written.tier = tier.clone();
        }
        if let Some(code) = &changes.code {
            written.code = code.clone();
        }
        Ok(written)
    }

    async fn write_org_changes(
        &self,
        org: &Organization,
        changes: &OrgChanges,
        caller: &User,
        authority: &Authority,
        now: &str,
    ) -> ServiceResult<()> {
        let (id, current_code) = (&org.id, &org.code);
        let mut sets = vec!["updated_at = :now".to_string()];
        let mut condition =
            "attribute_exists(pk) AND attribute_not_exists(deleted_at) AND code = :old_code"
                .to_string();
        let mut adds = Vec::new();
        let mut shard_items = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::org_pk(id), keys::PROFILE)))
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":old_code", s(current_code.as_ref()));
        if let Some(name) = &changes.name {
            sets.push("#name = :name".into());
            update = update
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":name", s(name.as_ref()));
        }
        if let Some(description) = &changes.description {
            sets.push("description = :description".into());
            update = update.expression_attribute_values(":description", s(description.as_ref()));
        }
        if let Some(tier) = &changes.tier {
            sets.push("tier = :tier".into());
            // The tier read decides where members were counted (`counts`): it must not
            // have changed meanwhile.
            condition.push_str(" AND tier = :old_tier");
            update = update
                .expression_attribute_values(":tier", s(tier.as_ref()))
                .expression_attribute_values(":old_tier", s(org.tier.as_ref()));
            let (fold, items) = self.tier_change_shards(org, tier)?;
            if !items.is_empty() {
                adds.push("member_count :fold");
                update = update.expression_attribute_values(":fold", super::n(fold));
            }
            shard_items = items;
        }
        let new_code = changes.code.as_ref().filter(|c| *c != current_code);
        if let Some(code) = new_code {
            sets.push("code = :code".into());
            update = update.expression_attribute_values(":code", s(code.as_ref()));
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !adds.is_empty() {
            expression.push_str(&format!(" ADD {}", adds.join(", ")));
        }
        let update = update
            .update_expression(expression)
            .condition_expression(condition)
            .build()?;
        let mut tx = Tx::new();
        tx.push(self.authority_check(caller, authority)?, tx::FORBIDDEN);
        // Deleted, or its code changed, since it was read.
        tx.push(
            TransactWriteItem::builder().update(update).build(),
            tx::CONFLICT,
        );
        tx.push(
            self.audit_put(super::Audit {
                org: *id,
                actor: Some(caller.id),
                action: "org.updated",
                target: id.to_string(),
                before: Some(serde_json::json!({"code": current_code})),
                after: Some(serde_json::json!({
                    "name": changes.name.as_ref().map(|v| v.to_string()),
                    "description": changes.description.as_ref().map(|v| v.to_string()),
                    "tier": changes.tier.as_ref().map(|v| v.as_ref().to_string()),
                    "code": changes.code.as_ref().map(|v| v.to_string()),
                })),
                at: now,
                epoch: crate::clock::Now::get().epoch(),
            })?,
            tx::CONFLICT,
        );
        if let Some(code) = new_code {
            let claim = ClaimItem {
                pk: keys::code_pk(code),
                sk: keys::CODE_SK.into(),
                owner: id.to_string(),
            };
            tx.push(self.put_new(serde_dynamo::to_item(claim)?)?, tx::CODE_TAKEN);
            tx.push(self.release_code(current_code, id)?, tx::CONFLICT);
        }
        // A shard changed since it was read (a join or removal): read again.
        for item in shard_items {
            tx.push(item, tx::CONFLICT);
        }
        self.transact(tx).await
    }

    fn release_code(&self, code: &OrgCode, org: &OrgId) -> ServiceResult<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::code_pk(code), keys::CODE_SK)))
            .condition_expression("#owner = :org")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":org", s(org.to_string()))
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Deletes an organization as far as every reader is concerned: the org item becomes a
    /// tombstone (404 everywhere, listed only for cleanup) and its code is free again, in one
    /// transaction. Members are detached afterwards by `detach_members`.
    pub async fn tombstone_org(
        &self,
        org: &Organization,
        caller: &User,
        authority: &Authority,
        now: &str,
    ) -> ServiceResult<()> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::org_pk(&org.id), keys::PROFILE)))
            .update_expression("SET deleted_at = :now, updated_at = :now, gsi1pk = :deleting")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(deleted_at)")
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":deleting", s(keys::DELETING_ORGS))
            .build()?;
        let mut tx = Tx::new();
        tx.push(self.authority_check(caller, authority)?, tx::FORBIDDEN);
        tx.push(
            TransactWriteItem::builder().update(update).build(),
            tx::NOT_FOUND,
        );
        tx.push(self.release_code(&org.code, &org.id)?, tx::CONFLICT);
        tx.push(
            self.audit_put(super::Audit {
                org: org.id,
                actor: Some(caller.id),
                action: "org.deleted",
                target: org.id.to_string(),
                before: Some(serde_json::json!({"name": org.name, "code": org.code})),
                after: None,
                at: now,
                epoch: crate::clock::Now::get().epoch(),
            })?,
            tx::CONFLICT,
        );
        self.transact(tx).await
    }

    /// Detaches members of a deleted organization, a page at a time, until none are left
    /// (then removes the tombstone and returns true) or `deadline` passes (returns false;
    /// cleanup carries on from where it stopped). A member whose detach keeps losing races
    /// (or is throttled) is passed over, not the end of the run: the walk goes on past them
    /// through the index, and returns false at its end so the next run finishes them. The
    /// index lags on DynamoDB: it may still list members already detached, whose detach is
    /// then a no-op (`org_id` no longer matches); the walk ends once a pass from the start
    /// found no one left to detach, so stale entries never hold it up.
    pub async fn detach_members(
        &self,
        org: &OrgId,
        deadline: tokio::time::Instant,
    ) -> ServiceResult<bool> {
        let mut start = None;
        let mut passed_over = 0usize;
        let mut detached = 0usize;
        loop {
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            if start.is_none() {
                detached = 0;
            }
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("gsi1pk = :pk")
                .expression_attribute_values(":pk", s(keys::org_members_pk(org)))
                .set_exclusive_start_key(start.take())
                .limit(100)
                .send()
                .await
                .map_err(super::sdk_error)?;
            let members = out
                .items
                .unwrap_or_default()
                .into_iter()
                .map(serde_dynamo::from_item::<_, UserItem>)
                .collect::<Result<Vec<_>, _>>()?;
            let results: Vec<ServiceResult<bool>> = stream::iter(members)
                .map(|m| self.detach_member(org, m))
                .buffer_unordered(8)
                .collect()
                .await;
            for result in results {
                match result {
                    Ok(true) => detached += 1,
                    // Already detached: the index had not caught up.
                    Ok(false) => {}
                    Err(e @ (ServiceError::Conflict | ServiceError::Unavailable(_))) => {
                        tracing::warn!(error = %e, org_id = %org, "member not detached this run");
                        passed_over += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
            // Past the members passed over; from the start again (for any who joined in the
            // meantime) only when none were.
            start = out.last_evaluated_key;
            if start.is_none() && passed_over > 0 {
                return Ok(false);
            }
            if start.is_none() && detached == 0 {
                break;
            }
        }
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::org_pk(org), keys::PROFILE)))
            .condition_expression("attribute_exists(deleted_at)")
            .send_retrying()
            .await
            .map(|_| true)
            .or_else(|e| {
                if errors::is_condition_failure(&e) {
                    Ok(true)
                } else {
                    Err(super::sdk_error(e))
                }
            })
    }

    /// Organizations deleted but not yet fully detached (cleanup's work list).
    pub async fn deleting_orgs(&self, limit: i32) -> ServiceResult<Vec<OrgId>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(keys::DELETING_ORGS))
            .limit(limit)
            .send()
            .await
            .map_err(super::sdk_error)?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|i| {
                serde_dynamo::from_item::<_, OrgItem>(i)
                    .map(|o| o.id)
                    .map_err(Into::into)
            })
            .collect()
    }

    /// `user` once a membership in an organization that no longer exists is released (one
    /// deleted whose detach missed them: the members index lags, or they joined a moment
    /// before the deletion). Such an account behaves as having no organization; the
    /// organization is read only when the user has one.
    pub async fn without_dead_membership(&self, user: User) -> ServiceResult<User> {
        let Some(org) = user.org_id else {
            return Ok(user);
        };
        if self.get_org(&org).await?.is_some() {
            return Ok(user);
        }
        tracing::info!(user_id = %user.id, org_id = %org, "releasing a membership of a deleted organization");
        self.detach_member(&org, UserItem::from(&user)).await?;
        // Released here, or already (by the detach or a concurrent request): none either way.
        Ok(User {
            org_id: None,
            role: None,
            joined_at: None,
            ..user
        })
    }

    /// Takes `member` out of `org`: true when this write did, false when they were no
    /// longer in it.
    async fn detach_member(&self, org: &OrgId, member: UserItem) -> ServiceResult<bool> {
        let (expression, values) =
            super::users::leave_org_update(&member.id, member.platform_admin);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(member.pk, keys::PROFILE)))
            .update_expression(expression)
            .set_expression_attribute_values(Some(values))
            .condition_expression("org_id = :org")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":org", s(org.to_string()))
            .send_retrying()
            .await;
        match out {
            Ok(_) => Ok(true),
            // Already detached or moved on: nothing to do.
            Err(e) if errors::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(super::sdk_error(e)),
        }
    }
}
