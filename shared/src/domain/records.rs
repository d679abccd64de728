//! The records services work with, serialised as the API's resources. Secrets are skipped.

use super::{DeliveryStatus, Email, OrgCode, OrgId, OrgRole, Tier, Timestamp, UserId};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub org_id: Option<OrgId>,
    pub role: Option<OrgRole>,
    pub platform_admin: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(skip)]
    pub joined_at: Option<Timestamp>,
    #[serde(skip)]
    pub password_hash: String,
    /// Bumped to end every session of the user at once.
    #[serde(skip)]
    pub token_version: u64,
}

impl User {
    /// A new account as of `now`: in no organization, not a platform admin, no session yet.
    pub fn new(email: Email, name: String, password_hash: String, now: &str) -> User {
        User {
            id: UserId::new(),
            email,
            name,
            org_id: None,
            role: None,
            platform_admin: false,
            created_at: now.to_string().into(),
            updated_at: now.to_string().into(),
            joined_at: None,
            password_hash,
            token_version: 0,
        }
    }

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
    pub code: OrgCode,
    pub description: String,
    pub tier: Tier,
    pub owner_id: Option<UserId>,
    pub member_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The member count's shards as read with the organization (`storage::counts`): what a
    /// tier change folds into the org item's own counter, or opens again.
    #[serde(skip)]
    pub count_shards: Vec<CountShard>,
}

/// One shard of an organization's member count, as read: joins and removals in a tier
/// without a seat limit add to a random shard instead of the org item, so they do not
/// race each other there. `closed` once a change to a seat-limited tier folded it into the
/// org item's exact counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountShard {
    pub index: u32,
    pub delta: i64,
    pub closed: bool,
}

/// One page of a list: `{ "items": [...], "next_cursor": string|null }`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub id: super::InvitationId,
    pub org_id: OrgId,
    pub email: Email,
    pub role: OrgRole,
    /// As seen when read: a pending invitation past `expires_at` shows `expired`.
    pub status: super::InvitationStatus,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
    pub invited_by: Option<UserId>,
    pub inviter_name: String,
    pub send_count: u32,
    pub last_sent_at: Timestamp,
    pub email_delivery: DeliveryStatus,
    pub accepted_at: Option<Timestamp>,
    #[serde(skip)]
    pub expires_epoch: i64,
    #[serde(skip)]
    pub nonce_hash: String,
    /// The stored status before expiry is applied.
    #[serde(skip)]
    pub stored_status: super::InvitationStatus,
}

/// One line of an organization's audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: Timestamp,
    pub org_id: OrgId,
    /// The acting user, or null for the system (cleanup, expiry).
    pub actor: Option<UserId>,
    pub action: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
}
