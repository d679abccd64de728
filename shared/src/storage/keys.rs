//! Every key of the single table, and nothing else: the only place that knows key formats.
//!
//! | item              | pk                     | sk        | gsi1pk / gsi1sk                     | gsi2pk / gsi2sk    |
//! |-------------------|------------------------|-----------|-------------------------------------|--------------------|
//! | user              | `USER#<user_id>`       | `PROFILE` | `ORG#<org_id>#MEMBERS` / `USER#<id>` (members), `PLATFORM_ADMINS` / same (platform admins without an org) | `EMAIL#<email>` / `USER` |
//! | email change      | `USER#<user_id>`       | `EMAIL_CHANGE` |                                |                    |
//! | email claim       | `EMAIL#<email>`        | `EMAIL`   |                                     |                    |
//! | organization      | `ORG#<org_id>`         | `PROFILE` | `ORGS` / `<created_at>#<org_id>` (live) or `DELETING_ORGS` / same (being deleted) | |
//! | member count shard | `ORG#<org_id>`        | `PROFILE#COUNT#<k:02>` (k < 16) |                   |                    |
//! | org code claim    | `CODE#<CODE>`          | `CODE`    |                                     |                    |
//! | session           | `SESSION#<session_id>` | `SESSION` |                                     |                    |
//! | attempt counter   | `ATTEMPTS#<kind>#<window>#<ip or email or ip#email>` | `ATTEMPTS` |       |                    |
//! | invitation quota  | `THROTTLE#INVITES#<org_id>#<day>` | `THROTTLE` |                         |                    |
//! | deployment quota  | `THROTTLE#INVITES-ALL#<day>` | `THROTTLE` |                             |                    |
//! | invitation        | `ORG#<org_id>`         | `INV#<invitation_id>` | `INVEXP#<shard>` / `<expires_epoch:012>#<id>` (pending only) | |
//! | pending claim     | `ORG#<org_id>`         | `PENDING#<email>` |                             |                    |
//! | audit entry       | `AUDIT#<org_id>`       | `<at>#<entry_id>` |                             |                    |

use crate::domain::{Email, OrgCode, OrgId, UserId};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
pub const GSI2: &str = "gsi2";
pub const GSI2PK: &str = "gsi2pk";
pub const GSI2SK: &str = "gsi2sk";
pub const TTL: &str = "ttl";

pub const PROFILE: &str = "PROFILE";

pub fn user_pk(id: &UserId) -> String {
    format!("USER#{id}")
}

pub fn email_pk(email: &Email) -> String {
    format!("EMAIL#{email}")
}
pub const EMAIL_SK: &str = "EMAIL";
/// A user's pending change of email address (one at a time), under the user's own pk.
pub const EMAIL_CHANGE_SK: &str = "EMAIL_CHANGE";
pub const EMAIL_LOOKUP_SK: &str = "USER";

pub fn org_pk(id: &OrgId) -> String {
    format!("ORG#{id}")
}

/// An organization's member count is its own `member_count` plus these shards' deltas; all
/// sort under `PROFILE`, so one Query (`begins_with(sk, PROFILE)`) reads the org and them.
pub const MEMBER_COUNT_SHARDS: u32 = 16;
pub const MEMBER_COUNT_SHARD_PREFIX: &str = "PROFILE#COUNT#";

pub fn member_count_shard_sk(k: u32) -> String {
    format!("{MEMBER_COUNT_SHARD_PREFIX}{k:02}")
}

pub fn org_members_pk(id: &OrgId) -> String {
    format!("ORG#{id}#MEMBERS")
}

pub const MEMBER_PREFIX: &str = "USER#";

pub fn member_sk(id: &UserId) -> String {
    format!("{MEMBER_PREFIX}{id}")
}

pub const ORGS_LIST: &str = "ORGS";
pub const PLATFORM_ADMINS: &str = "PLATFORM_ADMINS";
pub const DELETING_ORGS: &str = "DELETING_ORGS";

pub fn org_list_sk(created_at: &str, id: &OrgId) -> String {
    format!("{created_at}#{id}")
}

pub fn code_pk(code: &OrgCode) -> String {
    format!("CODE#{code}")
}
pub const CODE_SK: &str = "CODE";

pub fn session_pk(session_id: &str) -> String {
    format!("SESSION#{session_id}")
}
pub const SESSION_SK: &str = "SESSION";

/// One attempt counter: its kind, its fixed window's number, and what it counts (an
/// address, an email, or an address and an email: an address never contains `#`).
pub fn attempts_pk(kind: &str, window: i64, subject: &str) -> String {
    format!("ATTEMPTS#{kind}#{window}#{subject}")
}
pub const ATTEMPTS_SK: &str = "ATTEMPTS";
/// Invitations an organization sent on one UTC day (days since the epoch).
pub fn invite_quota_pk(org: &OrgId, day: i64) -> String {
    format!("THROTTLE#INVITES#{org}#{day}")
}
/// Invitations every organization together sent on one UTC day (INVITATIONS_PER_DAY).
pub fn deployment_invite_quota_pk(day: i64) -> String {
    format!("THROTTLE#INVITES-ALL#{day}")
}
pub const THROTTLE_SK: &str = "THROTTLE";

pub const INVITATION_PREFIX: &str = "INV#";

pub fn invitation_sk(id: &crate::domain::InvitationId) -> String {
    format!("{INVITATION_PREFIX}{id}")
}

pub const PENDING_CLAIM_PREFIX: &str = "PENDING#";

pub fn pending_claim_sk(email: &Email) -> String {
    format!("{PENDING_CLAIM_PREFIX}{email}")
}

/// Pending invitations are spread over this many expiry partitions so that no single GSI
/// partition takes every tenant's writes; cleanup queries them all, concurrently.
pub const EXPIRY_SHARDS: u32 = 16;

pub fn expiry_shard_pk(shard: u32) -> String {
    format!("INVEXP#{shard:02}")
}

pub fn expiry_pk(id: &crate::domain::InvitationId) -> String {
    let bytes = id.to_string().into_bytes();
    let sum: u32 = bytes.iter().map(|b| u32::from(*b)).sum();
    expiry_shard_pk(sum % EXPIRY_SHARDS)
}

pub fn expiry_sk(expires_epoch: i64, id: &crate::domain::InvitationId) -> String {
    format!("{expires_epoch:012}#{id}")
}

/// The expiry sort keys below this one are of invitations due before `epoch`.
pub fn expiry_due_before(epoch: i64) -> String {
    format!("{epoch:012}")
}

pub fn audit_pk(org: &OrgId) -> String {
    format!("AUDIT#{org}")
}

/// Audit entries sort by time, the entry's id breaking ties.
pub fn audit_sk(at: &str, entry_id: &str) -> String {
    format!("{at}#{entry_id}")
}
