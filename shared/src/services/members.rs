//! Members of an organization: list (with pending invitations), read, change roles, remove,
//! leave, transfer ownership. Bulk changes are all or nothing and name every blocker.

use super::access;
use crate::app::App;
use crate::clock::Now;
use crate::domain::{Invitation, OrgId, OrgRole, Organization, Page, User, UserId};
use crate::error::{FieldError, ServiceError, ServiceResult};
use crate::storage::{Authority, Store};
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

/// What a member-list request asks for: members first, then (when asked) pending
/// invitations; the cursor says which list it continues (`m.` or `i.` + that list's cursor).
pub struct ListQuery {
    role: Option<OrgRole>,
    include_pending: bool,
    pending_phase: bool,
    inner: Option<String>,
    search: Option<crate::storage::MemberSearch>,
}

pub fn list_query(
    role: Option<&str>,
    include_pending: bool,
    cursor: Option<&str>,
    search: Option<&str>,
) -> ServiceResult<ListQuery> {
    let role = role
        .map(|r| OrgRole::parse(r).map_err(|e| ServiceError::field("role", e.message)))
        .transpose()?;
    let search = crate::storage::MemberSearch::parse(search)?;
    // A search finds members; pending invitations are the invitation list's (by status).
    if search.is_some() && include_pending {
        return Err(ServiceError::field(
            "q",
            "cannot be combined with include_pending",
        ));
    }
    let bad_cursor = || ServiceError::field("cursor", "is not a valid cursor");
    let (phase, inner) = match cursor {
        None => ("m", None),
        Some(c) => {
            let (p, rest) = c.split_once('.').ok_or_else(bad_cursor)?;
            if p != "m" && p != "i" {
                return Err(bad_cursor());
            }
            (p, (!rest.is_empty()).then(|| rest.to_string()))
        }
    };
    if phase == "i" && !include_pending {
        return Err(bad_cursor());
    }
    Ok(ListQuery {
        role,
        include_pending,
        pending_phase: phase == "i",
        inner,
        search,
    })
}

/// What one page of the member list read: members (unless the cursor is past them), and
/// pending invitations from where the cursor points (when asked).
pub struct ListPage {
    members: Option<Page<User>>,
    pending: Option<Page<Invitation>>,
}

/// Reads the page a query asks for (in the caller's round trip). While members remain, the
/// first page of pending invitations is read beside them, so the page where the members
/// run out is filled with invitations without a second round trip.
pub async fn read_list(
    app: &App,
    org: &OrgId,
    q: &ListQuery,
    limit: i32,
) -> ServiceResult<ListPage> {
    let inner = q.inner.as_deref();
    let now = Now::get().epoch();
    let pending = |cursor| {
        app.store
            .list_pending_invitations(org, q.role, limit, cursor, now)
    };
    if q.pending_phase {
        return Ok(ListPage {
            members: None,
            pending: Some(pending(inner).await?),
        });
    }
    if let Some(search) = &q.search {
        let found = app
            .store
            .list_members_matching(org, q.role, search, limit, inner)
            .await?;
        return Ok(ListPage {
            members: Some(found),
            pending: None,
        });
    }
    let members = app.store.list_members(org, q.role, limit, inner);
    if !q.include_pending {
        return Ok(ListPage {
            members: Some(members.await?),
            pending: None,
        });
    }
    let (members, pending) = tokio::try_join!(members, pending(None))?;
    Ok(ListPage {
        members: Some(members),
        pending: Some(pending),
    })
}

fn pending_entry(i: Invitation) -> MemberEntry {
    MemberEntry::Pending {
        invitation_id: i.id.to_string(),
        email: i.email.to_string(),
        role: i.role,
        expires_at: i.expires_at,
        status: "pending",
    }
}

/// The page that was read, once the caller may see it (query errors come after theirs):
/// min(limit, what remains) entries, members first, and a cursor only when more remain.
pub fn list(
    caller: &User,
    org: Option<Organization>,
    limit: ServiceResult<i32>,
    q: ServiceResult<ListQuery>,
    page: Option<ServiceResult<ListPage>>,
) -> ServiceResult<Page<MemberEntry>> {
    let org = org_or_404(org)?;
    access::manager(caller, &org.id)?;
    let limit = limit?;
    q?;
    let ListPage { members, pending } = page.ok_or(ServiceError::NotFound)??;
    let mut items = Vec::new();
    if let Some(members) = members {
        items.extend(members.items.into_iter().map(entry));
        if let Some(c) = members.next_cursor {
            return Ok(Page {
                items,
                next_cursor: Some(format!("m.{c}")),
            });
        }
    }
    let Some(pending) = pending else {
        return Ok(Page {
            items,
            next_cursor: None,
        });
    };
    let room = usize::try_from(limit)
        .unwrap_or(0)
        .saturating_sub(items.len());
    let read = pending.items.len();
    let taken: Vec<Invitation> = pending.items.into_iter().take(room).collect();
    let next_cursor = if taken.len() < read {
        // More were read than fit: continue after the last one shown (or at the start).
        let after = taken.last().map(Store::invitation_cursor);
        Some(format!("i.{}", after.flatten().unwrap_or_default()))
    } else {
        pending.next_cursor.map(|c| format!("i.{c}"))
    };
    items.extend(taken.into_iter().map(pending_entry));
    Ok(Page { items, next_cursor })
}

/// The user a path's `user_id` names, read in the caller's round trip (see
/// `http::caller_org_and`); a malformed id reads as no user (the same 404).
pub async fn read_user(app: &App, raw_id: Option<&str>) -> ServiceResult<Option<User>> {
    match raw_id.and_then(|r| UserId::parse(r).ok()) {
        Some(id) => app.store.get_user(&id).await,
        None => Ok(None),
    }
}

/// The member that was read, or the 404 an outsider gets.
fn member_in(org: &Organization, user: Option<User>) -> ServiceResult<User> {
    user.filter(|u| u.org_id == Some(org.id))
        .ok_or(ServiceError::NotFound)
}

pub fn get(
    caller: &User,
    org: Option<Organization>,
    user_id: Option<&str>,
    target: Option<User>,
) -> ServiceResult<MemberEntry> {
    let org = org_or_404(org)?;
    let own = user_id == Some(caller.id.to_string().as_str());
    if !own {
        access::manager(caller, &org.id)?;
    } else if caller.org_id != Some(org.id) && !caller.platform_admin {
        return Err(ServiceError::NotFound);
    }
    member_in(&org, target).map(entry)
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
    target: Option<User>,
    req: RoleRequest,
) -> ServiceResult<MemberEntry> {
    let org = org_or_404(org)?;
    let authority = access::manager(caller, &org.id)?;
    let role = member_role(&req.role)?;
    let mut target = member_in(&org, target)?;
    access::may_act_on(caller, &target)?;
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

/// The ids a bulk request lists, parsed and de-duplicated (pure: the route reads them in
/// the caller's round trip).
pub fn bulk_ids(raw_ids: &[String]) -> ServiceResult<Vec<UserId>> {
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
    Ok(ids)
}

/// The users a bulk request lists, read in the caller's round trip (none if the list is
/// unusable: its errors are reported after authentication).
pub async fn read_bulk(app: &App, raw_ids: Option<&[String]>) -> ServiceResult<Vec<User>> {
    match raw_ids.map(bulk_ids) {
        Some(Ok(ids)) => app.store.get_users(&ids).await,
        _ => Ok(Vec::new()),
    }
}

/// Names every listed user that blocks the change (not a member, the owner, or the caller
/// themself), given the users that were read.
fn bulk_targets(
    caller: &User,
    org: &Organization,
    raw_ids: &[String],
    users: Vec<User>,
) -> ServiceResult<Vec<User>> {
    let ids = bulk_ids(raw_ids)?;
    // Acting on a platform admin is refused outright, as for one member; one outside this
    // organization is just not a member here.
    for u in users.iter().filter(|u| u.org_id == Some(org.id)) {
        access::may_act_on(caller, u)?;
    }
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
            // Members of this organization are named (the caller manages them); an id
            // outside it stays an id, so a refusal reveals nobody else's account.
            Some(u) if u.role == Some(OrgRole::Owner) => blockers.push(
                FieldError::new(
                    id.to_string(),
                    "owner_protected: the owner cannot be changed or removed",
                )
                .about(&u.name, u.email.as_ref()),
            ),
            Some(u) if u.id == caller.id => blockers.push(
                FieldError::new(id.to_string(), "a bulk change cannot include yourself")
                    .about(&u.name, u.email.as_ref()),
            ),
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
    users: Vec<User>,
) -> ServiceResult<BulkResult> {
    let org = org_or_404(org)?;
    let authority = access::manager(caller, &org.id)?;
    let role = member_role(&req.role)?;
    let targets: Vec<User> = bulk_targets(caller, &org, &req.user_ids, users)?
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
    target: Option<User>,
) -> ServiceResult<()> {
    let org = org_or_404(org)?;
    let leaving = user_id == Some(caller.id.to_string().as_str()) && caller.org_id == Some(org.id);
    let authority = if leaving {
        Authority::SignedIn
    } else {
        access::manager(caller, &org.id)?
    };
    let target = member_in(&org, target)?;
    access::may_act_on(caller, &target)?;
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
    users: Vec<User>,
) -> ServiceResult<BulkResult> {
    let org = org_or_404(org)?;
    let authority = access::manager(caller, &org.id)?;
    let targets = bulk_targets(caller, &org, &req.user_ids, users)?;
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

/// The owner (or a platform admin) hands ownership to another member; the old owner (if
/// any: an organization created without one gets its first owner this way) becomes an
/// admin.
pub async fn transfer(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    req: TransferRequest,
    target: Option<User>,
) -> ServiceResult<Organization> {
    let org = org_or_404(org)?;
    let authority = access::owner(caller, &org.id)?;
    UserId::parse(&req.user_id).map_err(|e| ServiceError::field("user_id", e.message))?;
    let target = target
        .filter(|u| u.org_id == Some(org.id))
        .ok_or_else(|| ServiceError::field("user_id", "must be a member of this organization"))?;
    access::may_act_on(caller, &target)?;
    // The owner's own item is only written, on the condition that it is still the owner.
    // An organization without one gets its first owner from a platform admin.
    let owner = org.owner_id;
    if owner == Some(target.id) {
        return Err(ServiceError::field("user_id", "is already the owner"));
    }
    if owner.is_none() && !caller.platform_admin {
        return Err(ServiceError::Forbidden);
    }
    let now = Now::get();
    app.store
        .transfer_ownership(&org.id, caller, &authority, owner.as_ref(), &target, now)
        .await?;
    Ok(Organization {
        owner_id: Some(target.id),
        updated_at: now.rfc3339(),
        ..org
    })
}
