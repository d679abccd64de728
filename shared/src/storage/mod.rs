//! The single-table mapping. Only this module knows key formats; services call the
//! operations below and get domain records or typed `ServiceError`s back.

mod attempts;
mod audit;
pub mod cursor;
mod email_changes;
mod errors;
mod invitations;
mod items;
pub mod keys;
mod members;
mod orgs;
mod quota;
mod sessions;
pub mod table;
mod users;

pub use attempts::Counter;
pub use audit::Audit;
pub use email_changes::EmailChange;
pub use errors::sdk_error;
pub use invitations::{InviteWrite, Link, Retention};
pub use members::MemberSearch;
pub use orgs::{NewOrg, OrgChanges};
pub use quota::InviteQuota;
pub use sessions::Session;
pub use users::UserChanges;

use crate::domain::{OrgId, OrgRole, User};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use std::collections::HashMap;

#[derive(Clone)]
pub struct Store {
    client: Client,
    table: String,
    /// The seat condition joins carry (`with_tiers`); none without seat limits.
    seats: Option<quota::SeatRule>,
}

/// What the caller must still be at the moment of a write: checked by a ConditionCheck on
/// the caller's own item inside the same transaction, not only by the earlier read.
#[derive(Debug, Clone)]
pub enum Authority {
    PlatformAdmin,
    OrgRole {
        org: OrgId,
        roles: &'static [OrgRole],
    },
    /// Signed in with these credentials still valid (no role needed).
    SignedIn,
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Store {
            client,
            table: table.into(),
            seats: None,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(pk: String, sk: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([(keys::PK.to_string(), s(pk)), (keys::SK.to_string(), s(sk))])
    }

    /// Runs one transaction; a cancellation is mapped by `reason` from the index of the first
    /// item whose condition failed (see `errors::transaction_error`).
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        reason: impl Fn(usize) -> crate::error::ServiceError,
    ) -> crate::error::ServiceResult<()> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| errors::transaction_error(e, reason))
    }

    /// As `transact`, with `reason` also given the refused item as it was (for items that
    /// ask DynamoDB to return it).
    pub(crate) async fn transact_with_item(
        &self,
        items: Vec<TransactWriteItem>,
        reason: impl Fn(usize, Option<&HashMap<String, AttributeValue>>) -> crate::error::ServiceError,
    ) -> crate::error::ServiceResult<()> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| errors::transaction_error_with_item(e, reason))
    }

    /// The ConditionCheck that re-asserts `caller` holds `authority` at write time.
    pub(crate) fn authority_check(
        &self,
        caller: &User,
        authority: &Authority,
    ) -> Result<TransactWriteItem, crate::error::ServiceError> {
        let c = Condition::authority(caller, authority);
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(&caller.id), keys::PROFILE)))
            .condition_expression(c.expression)
            .set_expression_attribute_values(Some(c.values))
            .set_expression_attribute_names((!c.names.is_empty()).then_some(c.names))
            .build()?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Runs a transaction whose item `caller_at` (if any) is the caller's own user item,
    /// carrying their authority (`Condition::on_user`). When that item's condition fails, the
    /// caller is read again (the failure path only) to say why: credentials changed since
    /// their read (or the account is gone) is a 401, anything else is `reason`'s answer.
    pub(crate) async fn transact_as(
        &self,
        items: Vec<TransactWriteItem>,
        caller: &User,
        caller_at: Option<usize>,
        reason: impl Fn(usize) -> crate::error::ServiceError,
    ) -> crate::error::ServiceResult<()> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        // Atomic rather than a Cell: the future must stay Send.
        let failed = AtomicUsize::new(usize::MAX);
        let outcome = self
            .transact(items, |i| {
                failed.store(i, Ordering::Relaxed);
                reason(i)
            })
            .await;
        match outcome {
            Err(e) if caller_at.is_some() && Some(failed.load(Ordering::Relaxed)) == caller_at => {
                match self.get_user(&caller.id).await? {
                    Some(now) if now.token_version == caller.token_version => Err(e),
                    _ => Err(crate::error::ServiceError::Unauthorized),
                }
            }
            other => other,
        }
    }

    /// Queries from `start` until it has seen one item more than `limit` (then there is a
    /// next page) or the end, `limit + 1` at a time, so a page holds min(limit, what remains)
    /// items even when a filter drops some, and has a cursor only when more remain. The
    /// cursor is the key (`key_attrs`) of the last item returned. `query` has its key
    /// condition and filter set; this sets its limit and start.
    pub(crate) async fn query_page(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        key_attrs: &[&str],
        limit: i32,
        start: Option<cursor::Key>,
    ) -> crate::error::ServiceResult<(Vec<cursor::Key>, Option<String>)> {
        let wanted = limit.max(1) as usize;
        let mut items: Vec<cursor::Key> = Vec::new();
        let mut start = start;
        // Bounded: a filter that matches almost nothing ends the page early, with a cursor
        // where the reading stopped.
        for _ in 0..MAX_PAGE_QUERIES {
            let out = query
                .clone()
                .limit(limit.saturating_add(1))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_error)?;
            items.extend(out.items.unwrap_or_default());
            if items.len() > wanted {
                items.truncate(wanted);
                let last = items.last().map(|item| {
                    key_attrs
                        .iter()
                        .filter_map(|a| item.get(*a).map(|v| (a.to_string(), v.clone())))
                        .collect::<cursor::Key>()
                });
                return Ok((items, last.as_ref().and_then(cursor::encode)));
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok((items, None));
            }
        }
        Ok((items, start.as_ref().and_then(cursor::encode)))
    }
}

/// Queries one list page may make before it stops short (`Store::query_page`).
const MAX_PAGE_QUERIES: usize = 10;

/// A condition expression with its own placeholders, to be joined to an item's own
/// condition with AND.
pub(crate) struct Condition {
    expression: String,
    values: HashMap<String, AttributeValue>,
    names: HashMap<String, String>,
}

impl Condition {
    /// What `caller` must still be, on their own user item: the same credentials (token
    /// version) and `authority`.
    fn authority(caller: &User, authority: &Authority) -> Condition {
        let mut values = HashMap::from([(":caller_ver".to_string(), n(caller.token_version))]);
        let mut names = HashMap::new();
        let expression = match authority {
            Authority::SignedIn => "token_version = :caller_ver".to_string(),
            Authority::PlatformAdmin => {
                values.insert(":caller_pa".into(), AttributeValue::Bool(true));
                "token_version = :caller_ver AND platform_admin = :caller_pa".to_string()
            }
            Authority::OrgRole { org, roles } => {
                values.insert(":caller_org".into(), s(org.to_string()));
                names.insert("#role".to_string(), "role".to_string());
                let mut placeholders = Vec::new();
                for (i, role) in roles.iter().enumerate() {
                    values.insert(format!(":caller_r{i}"), s(role.as_str()));
                    placeholders.push(format!(":caller_r{i}"));
                }
                format!(
                    "token_version = :caller_ver AND org_id = :caller_org AND #role IN ({})",
                    placeholders.join(", ")
                )
            }
        };
        Condition {
            expression,
            values,
            names,
        }
    }

    /// What a write by `caller` demands of a user item it changes (`target`), beyond the
    /// item's own state: an organization-level caller never acts on a platform admin
    /// (DESIGN §10); and the caller's own item carries the caller's authority, since one
    /// transaction may not also hold a ConditionCheck on it (leaving, self-demotion, an
    /// owner's own transfer). `None` when nothing is demanded.
    pub(crate) fn on_user(
        caller: &User,
        authority: &Authority,
        target: &crate::domain::UserId,
    ) -> Option<Condition> {
        if *target == caller.id {
            return Some(Condition::authority(caller, authority));
        }
        (!caller.platform_admin).then(|| Condition {
            expression: "platform_admin = :target_pa".to_string(),
            values: HashMap::from([(":target_pa".to_string(), AttributeValue::Bool(false))]),
            names: HashMap::new(),
        })
    }

    /// `own` AND this condition, set on an Update with this condition's placeholders.
    pub(crate) fn and_update(
        extra: Option<Condition>,
        own: &str,
        mut update: aws_sdk_dynamodb::types::builders::UpdateBuilder,
    ) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        let Some(c) = extra else {
            return update.condition_expression(own);
        };
        for (k, v) in c.values {
            update = update.expression_attribute_values(k, v);
        }
        for (k, v) in c.names {
            update = update.expression_attribute_names(k, v);
        }
        update.condition_expression(format!("({own}) AND ({})", c.expression))
    }

    /// As `and_update`, for a Delete.
    pub(crate) fn and_delete(
        extra: Option<Condition>,
        own: &str,
        mut delete: aws_sdk_dynamodb::types::builders::DeleteBuilder,
    ) -> aws_sdk_dynamodb::types::builders::DeleteBuilder {
        let Some(c) = extra else {
            return delete.condition_expression(own);
        };
        for (k, v) in c.values {
            delete = delete.expression_attribute_values(k, v);
        }
        for (k, v) in c.names {
            delete = delete.expression_attribute_names(k, v);
        }
        delete.condition_expression(format!("({own}) AND ({})", c.expression))
    }
}
