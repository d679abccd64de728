//! The single-table mapping. Only this module knows key formats; services call the
//! operations below and get domain records or typed `ServiceError`s back.

mod audit;
pub mod cursor;
mod errors;
mod invitations;
mod items;
pub mod keys;
mod members;
mod orgs;
mod quota;
mod sessions;
pub mod table;
mod throttle;
mod users;

pub use audit::Audit;
pub use errors::sdk_error;
pub use invitations::{InviteWrite, Link, Retention};
pub use orgs::{NewOrg, OrgChanges};
pub use quota::InviteQuota;
pub use sessions::Session;
pub use throttle::{Throttle, ThrottleKey};
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
        let mut values = HashMap::from([(":ver".to_string(), n(caller.token_version))]);
        let mut names = HashMap::new();
        let condition = match authority {
            Authority::SignedIn => "token_version = :ver".to_string(),
            Authority::PlatformAdmin => {
                values.insert(":yes".into(), AttributeValue::Bool(true));
                "token_version = :ver AND platform_admin = :yes".to_string()
            }
            Authority::OrgRole { org, roles } => {
                values.insert(":org".into(), s(org.to_string()));
                names.insert("#role".to_string(), "role".to_string());
                let mut placeholders = Vec::new();
                for (i, role) in roles.iter().enumerate() {
                    values.insert(format!(":r{i}"), s(role.as_str()));
                    placeholders.push(format!(":r{i}"));
                }
                format!(
                    "token_version = :ver AND org_id = :org AND #role IN ({})",
                    placeholders.join(", ")
                )
            }
        };
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(&caller.id), keys::PROFILE)))
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .build()?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }
}
