//! The single-table mapping. Only `keys` knows key formats; services call the operations
//! below and get domain records or typed `ServiceError`s back. One module per entity
//! (users, orgs, members, invitations, sessions, ...); the helpers they share stand apart:
//! `reads` (get, batch get, query pages), `tx` (transactions that name their failures),
//! `conditions` (the caller's authority at write time), `errors`, `cursor`.

mod attempts;
mod audit;
mod conditions;
mod counts;
pub mod cursor;
mod email_changes;
mod errors;
mod invitations;
mod items;
pub mod keys;
mod members;
mod orgs;
mod quota;
mod reads;
mod retry;
mod sessions;
pub mod table;
mod tx;
mod users;

pub use crate::domain::requests::MemberSearch;
pub use attempts::Counter;
pub use audit::Audit;
pub use conditions::Authority;
pub(crate) use conditions::Condition;
pub use counts::MemberCounter;
pub use email_changes::EmailChange;
pub use errors::sdk_error;
pub use invitations::{InviteWrite, Link, Retention};
pub use orgs::{NewOrg, OrgChanges};
pub use quota::InviteQuota;
pub use retry::ATTEMPTS as WRITE_ATTEMPTS;
pub use sessions::Session;
pub use users::UserChanges;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

#[derive(Clone)]
pub struct Store {
    client: Client,
    table: String,
    /// The seat condition joins carry (`with_tiers`); none without seat limits.
    seats: Option<quota::SeatRule>,
    /// The tier table (`with_tiers`): which tiers count members on shards (`counts`).
    tiers: Option<crate::domain::Tiers>,
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
            tiers: None,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}
