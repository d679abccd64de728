//! Typed requests: what the http edge parses a request's path, query and body into before
//! any service runs. Built from the domain newtypes; no raw role, id or status strings.
//!
//! An id in the path that is malformed is kept as `None`: it names nothing, so it reads as
//! a missing resource (the same 404, after the caller's own checks).

use super::{
    AssignableRole, Cursor, Description, Email, GivenPassword, InvitationId, InvitationStatus,
    OrgCode, OrgId, OrgName, OrgRole, Password, PersonName, Tier, Tiers, UserId,
};
use crate::error::{FieldError, ServiceError, ServiceResult};
use std::collections::HashSet;

/// Page size from `?limit=`: 1 to 100, default 50.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(i32);

impl PageLimit {
    pub fn parse(raw: Option<&str>) -> ServiceResult<Self> {
        match raw {
            None => Ok(PageLimit(50)),
            Some(v) => v
                .parse::<i32>()
                .ok()
                .filter(|l| (1..=100).contains(l))
                .map(PageLimit)
                .ok_or_else(|| ServiceError::field("limit", "must be an integer from 1 to 100")),
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// One page of a list: its size, and the cursor (opaque, from an earlier page) it
/// continues after.
#[derive(Debug, Clone)]
pub struct PageQuery {
    pub limit: PageLimit,
    pub cursor: Option<Cursor>,
}

impl PageQuery {
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> ServiceResult<Self> {
        Ok(PageQuery {
            limit: PageLimit::parse(limit)?,
            cursor: cursor.map(Cursor::parse).transpose()?,
        })
    }
}

/// A member named by the path.
#[derive(Debug, Clone, Copy)]
pub struct MemberRef {
    pub org: Option<OrgId>,
    pub user: Option<UserId>,
}

/// GET /orgs/{org_id}/members: members first, then (when asked) pending invitations; the
/// cursor says which list it continues (`m.` or `i.` + that list's own cursor).
#[derive(Debug, Clone)]
pub struct ListMembers {
    pub org: Option<OrgId>,
    pub limit: PageLimit,
    pub role: Option<OrgRole>,
    pub include_pending: bool,
    /// The cursor points into the pending invitations (past the members).
    pub pending_phase: bool,
    pub cursor: Option<Cursor>,
    /// Members whose email or name holds this (never with `include_pending`).
    pub search: Option<MemberSearch>,
}

impl ListMembers {
    pub fn parse(
        org: Option<OrgId>,
        limit: Option<&str>,
        role: Option<&str>,
        include_pending: bool,
        cursor: Option<&str>,
        search: Option<&str>,
    ) -> ServiceResult<Self> {
        let limit = PageLimit::parse(limit)?;
        let search = MemberSearch::parse(search)?;
        // A search finds members; pending invitations are the invitation list's (by status).
        if search.is_some() && include_pending {
            return Err(ServiceError::field(
                "q",
                "cannot be combined with include_pending",
            ));
        }
        let role = role
            .map(|r| OrgRole::parse(r).map_err(|e| ServiceError::field("role", e.message)))
            .transpose()?;
        let bad_cursor = || ServiceError::field("cursor", "is not a valid cursor");
        let (phase, inner) = match cursor {
            None => ("m", None),
            Some(c) => {
                let (p, rest) = c.split_once('.').ok_or_else(bad_cursor)?;
                if p != "m" && p != "i" {
                    return Err(bad_cursor());
                }
                let inner = (!rest.is_empty())
                    .then(|| Cursor::parse(rest))
                    .transpose()?;
                (p, inner)
            }
        };
        if phase == "i" && !include_pending {
            return Err(bad_cursor());
        }
        Ok(ListMembers {
            org,
            limit,
            role,
            include_pending,
            pending_phase: phase == "i",
            cursor: inner,
            search,
        })
    }
}

/// A search of the member list by email or name (`?q=`): a substring, 1 to 100 characters.
#[derive(Debug, Clone)]
pub struct MemberSearch {
    pub(crate) typed: String,
    pub(crate) lower: String,
    pub(crate) title: String,
}

impl MemberSearch {
    /// The term, trimmed; none when blank; a validation error past 100 characters.
    pub fn parse(raw: Option<&str>) -> ServiceResult<Option<MemberSearch>> {
        let Some(typed) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if typed.chars().count() > 100 {
            return Err(ServiceError::field("q", "must be at most 100 characters"));
        }
        let lower = typed.to_lowercase();
        let mut chars = lower.chars();
        let title = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        Ok(Some(MemberSearch {
            typed: typed.to_string(),
            lower,
            title,
        }))
    }
}

/// PATCH /orgs/{org_id}/members/{user_id}.
#[derive(Debug, Clone, Copy)]
pub struct ChangeRole {
    pub member: MemberRef,
    pub role: AssignableRole,
}

pub const MAX_BULK: usize = 100;

/// The users a bulk request lists: 1 to `MAX_BULK`, well formed, de-duplicated in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIds(Vec<UserId>);

impl UserIds {
    /// Every malformed entry is named (`user_ids[i]`), not just the first.
    pub fn parse(raw_ids: &[String]) -> ServiceResult<Self> {
        if raw_ids.is_empty() || raw_ids.len() > MAX_BULK {
            return Err(ServiceError::field(
                "user_ids",
                format!("must list 1 to {MAX_BULK} users"),
            ));
        }
        let mut ids = Vec::new();
        let mut seen = HashSet::new();
        let mut invalid = Vec::new();
        for (i, raw) in raw_ids.iter().enumerate() {
            match UserId::parse(raw) {
                Ok(id) if seen.insert(id) => ids.push(id),
                Ok(_) => {}
                Err(e) => invalid.push(FieldError::new(format!("user_ids[{i}]"), e.message)),
            }
        }
        if !invalid.is_empty() {
            return Err(ServiceError::Validation(invalid));
        }
        Ok(UserIds(ids))
    }

    pub fn as_slice(&self) -> &[UserId] {
        &self.0
    }
}

/// POST /orgs/{org_id}/members/bulk-role.
#[derive(Debug, Clone)]
pub struct BulkRole {
    pub org: Option<OrgId>,
    pub users: UserIds,
    pub role: AssignableRole,
}

/// POST /orgs/{org_id}/members/bulk-remove.
#[derive(Debug, Clone)]
pub struct BulkRemove {
    pub org: Option<OrgId>,
    pub users: UserIds,
}

/// POST /orgs/{org_id}/transfer-ownership.
#[derive(Debug, Clone, Copy)]
pub struct TransferOwnership {
    pub org: Option<OrgId>,
    pub to: UserId,
}

pub const MAX_EMAILS: usize = 100;

/// One address of an invitation request: a valid one, or what was given and why it is
/// not (it gets its own `invalid` result; the others still go out).
#[derive(Debug, Clone)]
pub enum Address {
    Valid(Email),
    Invalid { given: String, reason: String },
}

/// POST /orgs/{org_id}/invitations.
#[derive(Debug, Clone)]
pub struct Invite {
    pub org: Option<OrgId>,
    pub addresses: Vec<Address>,
    pub role: AssignableRole,
    /// The link's lifetime (validated); `None`: the deployment's default.
    pub expires_in: Option<i64>,
}

impl Invite {
    /// All of the body's field errors at once.
    pub fn parse(
        org: Option<OrgId>,
        emails: &[String],
        role: &str,
        expires_in_seconds: Option<i64>,
    ) -> ServiceResult<Self> {
        let mut errors = Vec::new();
        if emails.is_empty() || emails.len() > MAX_EMAILS {
            errors.push(FieldError::new(
                "emails",
                format!("must list 1 to {MAX_EMAILS} addresses"),
            ));
        }
        let role = AssignableRole::parse(role)
            .map_err(|e| errors.push(FieldError::new("role", e.message)))
            .ok();
        let expires_in = match expires_in_seconds {
            Some(secs) => match super::parse_expires_in(secs) {
                Ok(secs) => Some(Some(secs)),
                Err(e) => {
                    errors.push(FieldError::new("expires_in_seconds", e.message));
                    None
                }
            },
            None => Some(None),
        };
        let (Some(role), Some(expires_in), true) = (role, expires_in, errors.is_empty()) else {
            return Err(ServiceError::Validation(errors));
        };
        let addresses = emails
            .iter()
            .map(|raw| match Email::parse(raw) {
                Ok(email) => Address::Valid(email),
                Err(e) => Address::Invalid {
                    given: raw.trim().chars().take(254).collect(),
                    reason: format!("email {}", e.message),
                },
            })
            .collect();
        Ok(Invite {
            org,
            addresses,
            role,
            expires_in,
        })
    }
}

/// GET /orgs/{org_id}/invitations.
#[derive(Debug, Clone)]
pub struct ListInvitations {
    pub org: Option<OrgId>,
    pub status: Option<InvitationStatus>,
    pub page: PageQuery,
}

/// An invitation named by the path.
#[derive(Debug, Clone, Copy)]
pub struct InvitationRef {
    pub org: Option<OrgId>,
    pub invitation: Option<InvitationId>,
}

/// POST /orgs. The body arrives as `CreateOrg<String>` and its tier is looked up in the
/// deployment's tiers (`with_tiers`) before any service runs.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg<T = Tier> {
    pub name: OrgName,
    pub code: OrgCode,
    #[serde(default)]
    pub description: Option<Description>,
    #[serde(default = "none")]
    pub tier: Option<T>,
    /// Platform admins only: invite this person as the organization's owner.
    #[serde(default)]
    pub owner_email: Option<Email>,
}

impl CreateOrg<String> {
    pub fn with_tiers(self, tiers: &Tiers) -> ServiceResult<CreateOrg> {
        Ok(CreateOrg {
            name: self.name,
            code: self.code,
            description: self.description,
            tier: tier_in(self.tier, tiers)?,
            owner_email: self.owner_email,
        })
    }
}

/// The body of PATCH /orgs/{org_id}: the fields to change (the tier as for `CreateOrg`).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgPatch<T = Tier> {
    #[serde(default)]
    pub name: Option<OrgName>,
    #[serde(default)]
    pub description: Option<Description>,
    #[serde(default = "none")]
    pub tier: Option<T>,
    #[serde(default)]
    pub code: Option<OrgCode>,
}

impl OrgPatch<String> {
    pub fn with_tiers(self, tiers: &Tiers) -> ServiceResult<OrgPatch> {
        Ok(OrgPatch {
            name: self.name,
            description: self.description,
            tier: tier_in(self.tier, tiers)?,
            code: self.code,
        })
    }
}

fn none<T>() -> Option<T> {
    None
}

/// A tier named in a body: one of the deployment's, or a 400 on `tier`.
fn tier_in(raw: Option<String>, tiers: &Tiers) -> ServiceResult<Option<Tier>> {
    raw.map(|t| Tier::parse(&t, tiers).map_err(|e| ServiceError::field("tier", e.message)))
        .transpose()
}

/// PATCH /orgs/{org_id}.
#[derive(Debug)]
pub struct UpdateOrg {
    pub org: Option<OrgId>,
    pub patch: OrgPatch,
}

/// DELETE /orgs/{org_id}?confirm=CODE.
#[derive(Debug, Clone)]
pub struct DeleteOrg {
    pub org: Option<OrgId>,
    /// What the caller typed to confirm, as a code (trimmed, any case); what is not a code
    /// can match none, so it is kept as `None`.
    pub confirm: Option<OrgCode>,
}

/// POST /users.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: Email,
    pub name: PersonName,
    pub password: Password,
    #[serde(default)]
    pub role: Option<AssignableRole>,
    #[serde(default)]
    pub org_id: Option<OrgId>,
    #[serde(default)]
    pub platform_admin: bool,
}

/// GET /users.
#[derive(Debug, Clone)]
pub struct ListUsers {
    pub org: Option<OrgId>,
    pub platform_admins: bool,
    pub page: PageQuery,
    /// Users of `org` whose email or name holds this.
    pub search: Option<MemberSearch>,
}

/// The body of PATCH /users/{user_id}.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub name: Option<PersonName>,
    #[serde(default)]
    pub email: Option<Email>,
    #[serde(default)]
    pub password: Option<Password>,
    #[serde(default)]
    pub role: Option<AssignableRole>,
    /// Required to change one's own password or email (ASVS 2.1.6).
    #[serde(default)]
    pub current_password: Option<GivenPassword>,
}

/// PATCH /users/{user_id}.
#[derive(Debug)]
pub struct UpdateUser {
    pub user: Option<UserId>,
    pub patch: UserPatch,
}

/// DELETE /users/{user_id}: deleting one's own account needs the password.
#[derive(Debug, Clone)]
pub struct DeleteUser {
    pub user: Option<UserId>,
    pub current_password: Option<GivenPassword>,
}

/// GET /orgs/{org_id}/audit.
#[derive(Debug, Clone)]
pub struct ListAudit {
    pub org: Option<OrgId>,
    pub page: PageQuery,
}

/// POST /auth/login. A malformed email is kept as `None`: it gets the same answer as a
/// wrong password (and costs the same), so the form of an address reveals nothing.
#[derive(Debug, Clone)]
pub struct Login {
    pub email: Option<Email>,
    pub password: GivenPassword,
}

/// POST /auth/refresh and /auth/logout: the refresh token as presented (opaque).
#[derive(Debug, Clone)]
pub struct RefreshToken(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_ids_name_every_malformed_entry_and_drop_repeats() {
        let id = UserId::new().to_string();
        let ids = UserIds::parse(&[id.clone(), id.clone()]).unwrap();
        assert_eq!(ids.as_slice().len(), 1);
        let Err(ServiceError::Validation(errs)) = UserIds::parse(&["x".into(), id, "y".into()])
        else {
            panic!("malformed ids accepted")
        };
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["user_ids[0]", "user_ids[2]"]);
        assert!(UserIds::parse(&[]).is_err());
    }

    #[test]
    fn page_limits_and_member_cursors() {
        assert_eq!(PageLimit::parse(None).unwrap().get(), 50);
        assert!(PageLimit::parse(Some("0")).is_err() && PageLimit::parse(Some("101")).is_err());
        let inner = Cursor::encode([("pk", "ORG#1"), ("sk", "INV#2")]).unwrap();
        let pending = format!("i.{inner}");
        let q = ListMembers::parse(None, None, None, true, Some(&pending), None).unwrap();
        assert!(q.pending_phase && q.cursor.is_some_and(|c| c.get("sk") == Some("INV#2")));
        assert!(ListMembers::parse(None, None, None, false, Some(&pending), None).is_err());
        // The list's phase, then a cursor that decodes: anything else is refused at the edge.
        for bad in ["abc", "x.abc", "i.abc", "m.not base64!"] {
            assert!(ListMembers::parse(None, None, None, true, Some(bad), None).is_err());
        }
        assert!(ListMembers::parse(None, None, Some("boss"), false, None, None).is_err());
        // A search finds members only, and is bounded.
        assert!(ListMembers::parse(None, None, None, true, None, Some("ada")).is_err());
        let q = ListMembers::parse(None, None, None, false, None, Some("  Ada ")).unwrap();
        let search = q.search.expect("a search");
        assert_eq!(
            (
                search.typed.as_str(),
                search.lower.as_str(),
                search.title.as_str()
            ),
            ("Ada", "ada", "Ada")
        );
        assert!(
            ListMembers::parse(None, None, None, false, None, Some("   "))
                .unwrap()
                .search
                .is_none()
        );
        assert!(ListMembers::parse(None, None, None, false, None, Some(&"x".repeat(101))).is_err());
    }

    #[test]
    fn an_invitation_request_reports_every_field_and_keeps_bad_addresses() {
        let Err(ServiceError::Validation(errs)) = Invite::parse(None, &[], "owner", Some(1)) else {
            panic!("accepted")
        };
        assert_eq!(errs.len(), 3);
        let ok = Invite::parse(None, &["a@b.co".into(), "nope".into()], "member", None).unwrap();
        assert!(matches!(ok.addresses[1], Address::Invalid { .. }));
        assert_eq!(ok.role, AssignableRole::Member);
    }
}
