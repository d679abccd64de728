//! Item shapes, mapped with serde_dynamo, and their conversion to domain records.

use crate::domain::{Email, OrgCode, OrgId, OrgRole, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// A user account; membership (org_id + role) lives on it, so "one org per user" is one
/// attribute and every check of it is a condition on one item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserItem {
    pub pk: String,
    pub sk: String,
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub password_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<OrgId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<OrgRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_at: Option<Timestamp>,
    pub platform_admin: bool,
    pub token_version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    pub gsi2pk: String,
    pub gsi2sk: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgItem {
    pub pk: String,
    pub sk: String,
    pub id: OrgId,
    pub name: String,
    pub code: OrgCode,
    pub description: String,
    pub tier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<UserId>,
    /// Signed: in a tier counted on shards, removals may be counted here (`counts`).
    pub member_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Timestamp>,
    pub gsi1pk: String,
    pub gsi1sk: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimItem {
    pub pk: String,
    pub sk: String,
    /// The id of the user (email claim) or organization (code claim) holding the value.
    pub owner: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionItem {
    pub pk: String,
    pub sk: String,
    pub user_id: UserId,
    pub token_hash: String,
    pub token_version: u64,
    pub created_at: Timestamp,
    pub expires_at: i64,
    pub ttl: i64,
}
