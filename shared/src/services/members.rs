//! Members of an organization: list (with pending invitations), read, change roles, remove,
//! leave, transfer ownership. Bulk changes are all or nothing and name every blocker.

use super::{Ctx, access};
use crate::app::App;
use crate::clock::Now;
use crate::domain::requests::{
    BulkRemove, BulkRole, ChangeRole, ListMembers, MemberRef, TransferOwnership, UserIds,
};
use crate::domain::{
    Invitation, InvitationStatus, OrgId, OrgRole, Organization, Page, User, UserId,
};
use crate::error::{FieldError, ServiceError, ServiceResult};
use crate::storage::{Authority, Store};
use serde::Serialize;

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
        status: InvitationStatus,
    },
}

pub fn entry(user: User) -> MemberEntry {
    MemberEntry::Member {
        user_id: user.id,
        email: user.email.to_string(),
        name: user.name,
        role: user.role,
        joined_at: user.joined_at.map(Into::into),
        status: "active",
    }
}

fn org_or_404(org: Option<Organization>) -> ServiceResult<Organization> {
    org.ok_or(ServiceError::NotFound)
}

/// What one page of the member list read: members (unless the cursor is past them), and
/// pending invitations from where the cursor points (when asked).
struct ListPage {
    members: Option<Page<User>>,
    pending: Option<Page<Invitation>>,
}

/// Reads the page a query asks for (in the caller's wave). While members remain, the
/// first page of pending invitations is read beside them, so the page where the members
/// run out is filled with invitations without a second round trip.
async fn read_list(app: &App, org: &OrgId, q: &ListMembers) -> ServiceResult<ListPage> {
    let inner = q.cursor.as_ref();
    let limit = q.limit.get();
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
        expires_at: i.expires_at.into(),
        status: InvitationStatus::Pending,
    }
}

/// One page of the member list: min(limit, what remains) entries, members first, and a
/// cursor only when more remain. The page is read in the caller's wave and shown only once
/// they may see it.
pub async fn list(ctx: &Ctx<'_>, req: ListMembers) -> ServiceResult<Page<MemberEntry>> {
    let app = ctx.app;
    // A failed read (a stale cursor, say) is reported only once the caller may see the list.
    let read = async {
        Ok(match &req.org {
            Some(id) => Some(read_list(app, id, &req).await),
            None => None,
        })
    };
    let (caller, org, page) = ctx.caller_org_and(req.org, read).await?;
    let org = org_or_404(org)?;
    access::manager(&caller, &org.id)?;
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
    let room = usize::try_from(req.limit.get())
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

/// The user a path names (none for a malformed id: the same 404).
pub async fn read_user(app: &App, id: Option<UserId>) -> ServiceResult<Option<User>> {
    match id {
        Some(id) => app.store.get_user(&id).await,
        None => Ok(None),
    }
}

/// The caller, the organization and the member the path names: one wave.
async fn read_member(
    ctx: &Ctx<'_>,
    m: MemberRef,
) -> ServiceResult<(User, Option<Organization>, Option<User>)> {
    ctx.caller_org_and(m.org, read_user(ctx.app, m.user)).await
}

/// The member that was read, or the 404 an outsider gets.
fn member_in(org: &Organization, user: Option<User>) -> ServiceResult<User> {
    user.filter(|u| u.org_id == Some(org.id))
        .ok_or(ServiceError::NotFound)
}

pub async fn get(ctx: &Ctx<'_>, req: MemberRef) -> ServiceResult<MemberEntry> {
    let (caller, org, target) = read_member(ctx, req).await?;
    let org = org_or_404(org)?;
    let own = req.user == Some(caller.id);
    if !own {
        access::manager(&caller, &org.id)?;
    } else if caller.org_id != Some(org.id) && !caller.platform_admin {
        return Err(ServiceError::NotFound);
    }
    member_in(&org, target).map(entry)
}

pub async fn change_role(ctx: &Ctx<'_>, req: ChangeRole) -> ServiceResult<MemberEntry> {
    let app = ctx.app;
    let (caller, org, target) = read_member(ctx, req.member).await?;
    let caller = &caller;
    let org = org_or_404(org)?;
    let authority = access::manager(caller, &org.id)?;
    let role = OrgRole::from(req.role);
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

#[derive(Debug, Serialize)]
pub struct BulkResult {
    pub updated: usize,
}

/// The caller, the organization and the users a bulk request lists: one wave.
async fn read_bulk(
    ctx: &Ctx<'_>,
    org: Option<OrgId>,
    ids: &UserIds,
) -> ServiceResult<(User, Option<Organization>, Vec<User>)> {
    ctx.caller_org_and(org, ctx.app.store.get_users(ids.as_slice()))
        .await
}

/// Names every listed user that blocks the change (not a member, the owner, or the caller
/// themself), given the users that were read.
fn bulk_targets(
    caller: &User,
    org: &Organization,
    ids: &UserIds,
    users: Vec<User>,
) -> ServiceResult<Vec<User>> {
    let ids = ids.as_slice();
    // Acting on a platform admin is refused outright, as for one member; one outside this
    // organization is just not a member here.
    for u in users.iter().filter(|u| u.org_id == Some(org.id)) {
        access::may_act_on(caller, u)?;
    }
    let mut blockers = Vec::new();
    for id in ids {
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

pub async fn bulk_role(ctx: &Ctx<'_>, req: BulkRole) -> ServiceResult<BulkResult> {
    let app = ctx.app;
    let (caller, org, users) = read_bulk(ctx, req.org, &req.users).await?;
    let caller = &caller;
    let org = org_or_404(org)?;
    let authority = access::manager(caller, &org.id)?;
    let role = OrgRole::from(req.role);
    let targets: Vec<User> = bulk_targets(caller, &org, &req.users, users)?
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
pub async fn remove(ctx: &Ctx<'_>, req: MemberRef) -> ServiceResult<()> {
    let app = ctx.app;
    let (caller, org, target) = read_member(ctx, req).await?;
    let caller = &caller;
    let org = org_or_404(org)?;
    let leaving = req.user == Some(caller.id) && caller.org_id == Some(org.id);
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
            app.store.counter(Some(&org.tier)),
            caller,
            &authority,
            std::slice::from_ref(&target),
            Now::get(),
        )
        .await
}

pub async fn bulk_remove(ctx: &Ctx<'_>, req: BulkRemove) -> ServiceResult<BulkResult> {
    let app = ctx.app;
    let (caller, org, users) = read_bulk(ctx, req.org, &req.users).await?;
    let caller = &caller;
    let org = org_or_404(org)?;
    let authority = access::manager(caller, &org.id)?;
    let targets = bulk_targets(caller, &org, &req.users, users)?;
    app.store
        .remove_members(
            &org.id,
            app.store.counter(Some(&org.tier)),
            caller,
            &authority,
            &targets,
            Now::get(),
        )
        .await?;
    Ok(BulkResult {
        updated: targets.len(),
    })
}

/// The owner (or a platform admin) hands ownership to another member; the old owner (if
/// any: an organization created without one gets its first owner this way) becomes an
/// admin.
pub async fn transfer(ctx: &Ctx<'_>, req: TransferOwnership) -> ServiceResult<Organization> {
    let app = ctx.app;
    let (caller, org, target) = ctx
        .caller_org_and(req.org, read_user(app, Some(req.to)))
        .await?;
    let caller = &caller;
    let org = org_or_404(org)?;
    let authority = access::owner(caller, &org.id)?;
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
    if owner.is_none() {
        revoke_owner_invitations(app, &org.id, (caller, &authority), now).await;
    }
    Ok(Organization {
        owner_id: Some(target.id),
        updated_at: now.rfc3339().into(),
        ..org
    })
}

/// The invitations to own an organization that has just got its first owner by transfer:
/// accepting one would now be refused, so they are revoked (audited, and published as
/// events) rather than left listed as pending. Best effort after the transfer itself, which
/// has happened: a failure is logged, and the invitation is refused when used all the same.
/// A rare path (a platform admin, an ownerless organization): 2 round trips more.
async fn revoke_owner_invitations(
    app: &App,
    org: &OrgId,
    (caller, authority): (&User, &Authority),
    now: Now,
) {
    let pending = app
        .store
        .list_pending_invitations(org, Some(OrgRole::Owner), 100, None, now.epoch())
        .await;
    let invitations = match pending {
        Ok(page) => page.items,
        Err(e) => {
            tracing::warn!(error = %e, "owner invitations not read after the first transfer");
            return;
        }
    };
    let at = now.rfc3339();
    let closed = invitations.iter().map(|inv| {
        let actor = Some((caller, authority));
        app.store.close_invitation(
            inv,
            InvitationStatus::Revoked,
            None,
            actor,
            &at,
            now.epoch(),
        )
    });
    for result in futures_util::future::join_all(closed).await {
        if let Err(e) = result {
            tracing::warn!(error = %e, "owner invitation not revoked after the first transfer");
        }
    }
}
