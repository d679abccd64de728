//! Members of an organization: list (with pending invitations), read, change roles, remove,
//! leave, transfer ownership. Bulk changes are all or nothing and name every blocker.

use super::access::{self, OWNER};
use crate::app::App;
use crate::clock::Now;
use crate::domain::{InvitationStatus, OrgRole, Organization, Page, User, UserId};
use crate::error::{FieldError, ServiceError, ServiceResult};
use crate::storage::Authority;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

pub const MAX_BULK: usize = 100;

/// One row of the member list: an active member, or (with `include_pending`) an invitation.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum MemberEntry {
    Member {
        user_id: UserId,
        email: String,
        name: String,
        role: Option<OrgRole>,
        joined_at: Option<String>,
        status: &'static str,
    },
    Pending {
        invitation_id: String,
        email: String,
        role: OrgRole,
        expires_at: String,
        status: &'static str,
    },
}

pub fn entry(user: User) -> MemberEntry {
    MemberEntry::Member {
        user_id: user.id,
        email: user.email.to_string(),
        name: user.name,
        role: user.role,
        joined_at: user.joined_at,
        status: "active",
    }
}

fn org_or_404(org: Option<Organization>) -> ServiceResult<Organization> {
    org.ok_or(ServiceError::NotFound)
}

/// Members first, then (when asked) pending invitations; the cursor says which list it
/// continues (`m.` or `i.` + that list's cursor).
pub async fn list(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    role: Option<&str>,
    include_pending: bool,
    limit: i32,
    cursor: Option<&str>,
) -> ServiceResult<Page<MemberEntry>> {
    let org = org_or_404(org)?;
    access::manager(caller, &org.id)?;
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
            (p, (!rest.is_empty()).then_some(rest))
        }
    };
    if phase == "m" {
        let page = app.store.list_members(&org.id, role, limit, inner).await?;
        let next = match page.next_cursor {
            Some(c) => Some(format!("m.{c}")),
            None if include_pending => Some("i.".to_string()),
            None => None,
        };
        return Ok(Page {
            items: page.items.into_iter().map(entry).collect(),
            next_cursor: next,
        });
    }
    if !include_pending {
        return Err(bad_cursor());
    }
    let page = app
        .store
        .list_invitations(
            &org.id,
            Some(InvitationStatus::Pending),
            limit,
            inner,
            Now::get().epoch(),
        )
        .await?;
    let items = page
        .items
        .into_iter()
        .filter(|i| role.is_none_or(|r| r == i.role))
        .map(|i| MemberEntry::Pending {
            invitation_id: i.id.to_string(),
            email: i.email.to_string(),
            role: i.role,
            expires_at: i.expires_at,
            status: "pending",
        })
        .collect();
    Ok(Page {
        items,
        next_cursor: page.next_cursor.map(|c| format!("i.{c}")),
    })
}

fn parse_user_id(raw: Option<&str>) -> ServiceResult<UserId> {
    raw.and_then(|r| UserId::parse(r).ok())
        .ok_or(ServiceError::NotFound)
}

/// The member `raw_id` names, or the 404 an outsider gets.
async fn member_of(app: &App, org: &Organization, raw_id: Option<&str>) -> ServiceResult<User> {
    let id = parse_user_id(raw_id)?;
    app.store
        .get_user(&id)
        .await?
        .filter(|u| u.org_id == Some(org.id))
        .ok_or(ServiceError::NotFound)
}

pub async fn get(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    user_id: Option<&str>,
) -> ServiceResult<MemberEntry> {
    let org = org_or_404(org)?;
    let own = user_id == Some(caller.id.to_string().as_str());
    if !own {
        access::manager(caller, &org.id)?;
    } else if caller.org_id != Some(org.id) && !caller.platform_admin {
        return Err(ServiceError::NotFound);
    }
    member_of(app, &org, user_id).await.map(entry)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    pub role: String,
}

fn member_role(raw: &str) -> ServiceResult<OrgRole> {
    match OrgRole::parse(raw) {
        Ok(OrgRole::Owner) => Err(ServiceError::field(
            "role",
            "owner moves only by transfer-ownership",
        )),
        Ok(role) => Ok(role),
        Err(e) => Err(ServiceError::field("role", e.message)),
    }
}

pub async fn change_role(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    user_id: Option<&str>,
    req: RoleRequest,
) -> ServiceResult<MemberEntry> {
    let org = org_or_404(org)?;
    let authority = access::manager(caller, &org.id)?;
    let role = member_role(&req.role)?;
    let mut target = member_of(app, &org, user_id).await?;
    if target.role == Some(OrgRole::Owner) {
        return Err(ServiceError::OwnerProtected);
    }
    if target.role != Some(role) {
        app.store
            .change_roles(
                &org.id,
                caller,
                &authority,
                std::slice::from_ref(&target),
                role,
                Now::get(),
            )
            .await?;
        target.role = Some(role);
    }
    Ok(entry(target))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkRoleRequest {
    pub user_ids: Vec<String>,
    pub role: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkRemoveRequest {
    pub user_ids: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct BulkResult {
    pub updated: usize,
}

/// Parses and de-duplicates the ids, reads the users, and names every one that blocks the
/// change (not a member, the owner, or the caller themself).
async fn bulk_targets(
    app: &App,
    caller: &User,
    org: &Organization,
    raw_ids: &[String],
) -> ServiceResult<Vec<User>> {
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
    let users = app.store.get_users(&ids).await?;
    let mut blockers = Vec::new();
    for id in &ids {
        match users.iter().find(|u| u.id == *id) {
            Some(u) if u.org_id != Some(org.id) => blockers.push(FieldError::new(
                id.to_string(),
                "not a member of this organization",
            )),
            None => blockers.push(FieldError::new(
                id.to_string(),
                "not a member of this organization",
            )),
            Some(u) if u.role == Some(OrgRole::Owner) => blockers.push(FieldError::new(
                id.to_string(),
                "owner_protected: the owner cannot be changed or removed",
            )),
            Some(u) if u.id == caller.id => blockers.push(FieldError::new(
                id.to_string(),
                "a bulk change cannot include yourself",
            )),
            Some(_) => {}
        }
    }
    if !blockers.is_empty() {
        return Err(ServiceError::BulkRefused(blockers));
    }
    Ok(ids
        .iter()
        .filter_map(|id| users.iter().find(|u| u.id == *id).cloned())
        .collect())
}

pub async fn bulk_role(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    req: BulkRoleRequest,
) -> ServiceResult<BulkResult> {
    let org = org_or_404(org)?;
    let authority = access::manager(caller, &org.id)?;
    let role = member_role(&req.role)?;
    let targets: Vec<User> = bulk_targets(app, caller, &org, &req.user_ids)
        .await?
        .into_iter()
        .filter(|u| u.role != Some(role))
        .collect();
    if !targets.is_empty() {
        app.store
            .change_roles(&org.id, caller, &authority, &targets, role, Now::get())
            .await?;
    }
    Ok(BulkResult {
        updated: targets.len(),
    })
}

/// Removes a member, or (the caller's own id) leaves. The owner can do neither.
pub async fn remove(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    user_id: Option<&str>,
) -> ServiceResult<()> {
    let org = org_or_404(org)?;
    let leaving = user_id == Some(caller.id.to_string().as_str()) && caller.org_id == Some(org.id);
    let authority = if leaving {
        Authority::SignedIn
    } else {
        access::manager(caller, &org.id)?
    };
    let target = member_of(app, &org, user_id).await?;
    if target.role == Some(OrgRole::Owner) {
        return Err(ServiceError::OwnerProtected);
    }
    app.store
        .remove_members(
            &org.id,
            caller,
            &authority,
            std::slice::from_ref(&target),
            Now::get(),
        )
        .await
}

pub async fn bulk_remove(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    req: BulkRemoveRequest,
) -> ServiceResult<BulkResult> {
    let org = org_or_404(org)?;
    let authority = access::manager(caller, &org.id)?;
    let targets = bulk_targets(app, caller, &org, &req.user_ids).await?;
    app.store
        .remove_members(&org.id, caller, &authority, &targets, Now::get())
        .await?;
    Ok(BulkResult {
        updated: targets.len(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub user_id: String,
}

/// The owner (or a platform admin) hands ownership to another member; the old owner
/// becomes an admin.
pub async fn transfer(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    req: TransferRequest,
) -> ServiceResult<Organization> {
    let org = org_or_404(org)?;
    let authority = if caller.platform_admin {
        Authority::PlatformAdmin
    } else {
        match caller.role_in(&org.id) {
            None => return Err(ServiceError::NotFound),
            Some(OrgRole::Owner) => Authority::OrgRole {
                org: org.id,
                roles: OWNER,
            },
            Some(_) => return Err(ServiceError::Forbidden),
        }
    };
    let target_id =
        UserId::parse(&req.user_id).map_err(|e| ServiceError::field("user_id", e.message))?;
    let (target, owner) = tokio::try_join!(app.store.get_user(&target_id), async {
        match org.owner_id {
            Some(id) => app.store.get_user(&id).await,
            None => Ok(None),
        }
    })?;
    let target = target
        .filter(|u| u.org_id == Some(org.id))
        .ok_or_else(|| ServiceError::field("user_id", "must be a member of this organization"))?;
    let owner = owner.ok_or(ServiceError::Conflict)?;
    if target.id == owner.id {
        return Err(ServiceError::field("user_id", "is already the owner"));
    }
    app.store
        .transfer_ownership(&org.id, caller, &authority, &owner, &target, Now::get())
        .await?;
    app.store
        .get_org(&org.id)
        .await?
        .ok_or(ServiceError::NotFound)
}
