//! The records services work with, serialised as the API's resources. Secrets are skipped.

use super::{Email, OrgId, OrgRole, UserId};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub org_id: Option<OrgId>,
    pub role: Option<OrgRole>,
    pub platform_admin: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip)]
    pub joined_at: Option<String>,
    #[serde(skip)]
    pub password_hash: String,
    /// Bumped to end every session of the user at once.
    #[serde(skip)]
    pub token_version: u64,
}

impl User {
    /// The caller's role in `org`, if they are a member of it.
    pub fn role_in(&self, org: &OrgId) -> Option<OrgRole> {
        (self.org_id.as_ref() == Some(org))
            .then_some(self.role)
            .flatten()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub code: String,
    pub description: String,
    pub tier: String,
    pub owner_id: Option<UserId>,
    pub member_count: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// One page of a list: `{ "items": [...], "next_cursor": string|null }`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
