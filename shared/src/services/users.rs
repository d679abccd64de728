//! Direct user management (the seeds' "direct creation"): platform admins anywhere, org
//! owners and admins in their own org with roles admin or member, never on an owner or a
//! platform admin.

use super::{Ctx, access, auth, email_change, members};
use crate::app::App;
use crate::auth::password;
use crate::clock::Now;
use crate::domain::requests::{CreateUser, DeleteUser, ListUsers, UpdateUser};
use crate::domain::{AssignableRole, Email, GivenPassword, OrgRole, Page, Password, User, UserId};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::{Authority, UserChanges};
use serde::Serialize;

/// Where a request came from, for re-authentication: the client address (sign-in limits)
/// and the session its token was issued for (kept alive by one's own password change).
#[derive(Debug, Clone, Copy, Default)]
struct Origin<'a> {
    pub source: Option<&'a str>,
    pub session: Option<&'a str>,
}

/// PATCH's answer: the user as written, and the new email that waits for confirmation.
#[derive(Debug, Serialize)]
pub struct Updated {
    #[serde(flatten)]
    pub user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_email: Option<Email>,
}

/// The caller proves their current password before changing their own credentials or
/// deleting their own account. It counts as a sign-in attempt, with the same limits.
async fn reauthenticate(
    app: &App,
    caller: &User,
    current_password: Option<&GivenPassword>,
    origin: Origin<'_>,
) -> ServiceResult<()> {
    let current = current_password.ok_or_else(|| {
        ServiceError::field(
            "current_password",
            "is required to change your own password or email, or to delete your own account",
        )
    })?;
    let current = current.expose();
    if current.len() > 1024 {
        return Err(ServiceError::field("current_password", "is not correct"));
    }
    if auth::verify_password(app, caller, current, origin.source).await? {
        Ok(())
    } else {
        Err(ServiceError::field("current_password", "is not correct"))
    }
}

/// The password's hash, computed off the async threads (argon2 takes tens of milliseconds).
pub(super) async fn hash(password: Password) -> ServiceResult<String> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| ServiceError::Internal(format!("password hash: {e}")))?
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// The organization `req.org_id` names is read in the caller's wave.
pub async fn create(ctx: &Ctx<'_>, req: CreateUser) -> ServiceResult<User> {
    let app = ctx.app;
    let (caller, org, ()) = ctx.caller_org_and(req.org_id, async { Ok(()) }).await?;
    let caller = &caller;
    let member_role = |r: Option<AssignableRole>| r.map_or(OrgRole::Member, OrgRole::from);
    let org_exists = org.filter(|o| Some(o.id) == req.org_id);
    // Where the member is counted: the tier read, when the org was (else the org item).
    let counter = app.store.counter(org_exists.as_ref().map(|o| &o.tier));
    let (org_id, role, authority) = if caller.platform_admin {
        if req.platform_admin {
            if req.org_id.is_some() || req.role.is_some() {
                return Err(ServiceError::field(
                    "platform_admin",
                    "platform admins belong to no organization",
                ));
            }
            (None, None, Authority::PlatformAdmin)
        } else {
            let org = req
                .org_id
                .ok_or_else(|| ServiceError::field("org_id", "is required"))?;
            if org_exists.is_none() {
                return Err(ServiceError::NotFound);
            }
            (
                Some(org),
                Some(member_role(req.role)),
                Authority::PlatformAdmin,
            )
        }
    } else {
        let own = caller.org_id.ok_or(ServiceError::Forbidden)?;
        let org = req.org_id.unwrap_or(own);
        let authority = access::manager(caller, &org)?;
        if req.platform_admin {
            return Err(ServiceError::Forbidden);
        }
        (Some(org), Some(member_role(req.role)), authority)
    };
    let now = Now::get().rfc3339();
    let user = User {
        org_id,
        role,
        platform_admin: req.platform_admin,
        joined_at: org_id.map(|_| now.clone().into()),
        ..User::new(
            req.email,
            req.name.to_string(),
            hash(req.password).await?,
            &now,
        )
    };
    // A seat-limited org whose shards still count is settled first (issue 18.3).
    if let Some(org) = &org_exists
        && user.org_id.is_some()
    {
        app.store.settle_count(org).await?;
    }
    app.store
        .create_user_counted(&user, Some((caller, &authority)), counter)
        .await?;
    Ok(user)
}

pub async fn list(ctx: &Ctx<'_>, req: ListUsers) -> ServiceResult<Page<User>> {
    let app = ctx.app;
    let caller = &ctx.caller().await?;
    let (org, platform_admins) = (req.org, req.platform_admins);
    let (limit, cursor) = (req.page.limit.get(), req.page.cursor.as_ref());
    let search = req.search.as_ref();
    let members = |org: crate::domain::OrgId| async move {
        match search {
            Some(q) => {
                app.store
                    .list_members_matching(&org, None, q, limit, cursor)
                    .await
            }
            None => app.store.list_members(&org, None, limit, cursor).await,
        }
    };
    if caller.platform_admin {
        return match (org, platform_admins) {
            (None, true) if search.is_some() => Err(ServiceError::field(
                "q",
                "searches an organization's users (org_id)",
            )),
            (None, true) => app.store.list_platform_admins(limit, cursor).await,
            (Some(org), false) => members(org).await,
            _ => Err(ServiceError::field(
                "org_id",
                "give org_id, or platform_admins=true",
            )),
        };
    }
    if platform_admins {
        return Err(ServiceError::Forbidden);
    }
    let own = caller.org_id.ok_or(ServiceError::Forbidden)?;
    let org = org.unwrap_or(own);
    access::manager(caller, &org)?;
    // The caller's organization, read beside the page: a membership of one that is gone
    // (deleted, its members' detach yet to reach this account) lists nothing.
    let (live, page) = tokio::try_join!(app.store.get_org(&own), members(org))?;
    live.map(|_| page).ok_or(ServiceError::Forbidden)
}

/// The user if the caller may see them: themself, anyone for a platform admin, their org's
/// users for its owners and admins. Everyone else gets a 404.
fn visible(caller: &User, target: Option<User>) -> ServiceResult<(User, Authority)> {
    let user = target.ok_or(ServiceError::NotFound)?;
    let authority = access::self_or_manager(caller, &user)?;
    Ok((user, authority))
}

/// The caller and the user the path names: one wave.
async fn caller_and_user(ctx: &Ctx<'_>, id: Option<UserId>) -> ServiceResult<(User, Option<User>)> {
    ctx.caller_and(members::read_user(ctx.app, id)).await
}

pub async fn get(ctx: &Ctx<'_>, id: Option<UserId>) -> ServiceResult<User> {
    let (caller, target) = caller_and_user(ctx, id).await?;
    visible(&caller, target).map(|(u, _)| u)
}

pub async fn update(ctx: &Ctx<'_>, req: UpdateUser) -> ServiceResult<Updated> {
    let app = ctx.app;
    let (caller, target) = caller_and_user(ctx, req.user).await?;
    let caller = &caller;
    let session = ctx.session();
    let origin = Origin {
        source: ctx.client(),
        session: session.as_deref(),
    };
    let req = req.patch;
    let (user, authority) = visible(caller, target)?;
    access::may_manage_account(caller, &user)?;
    let own = caller.id == user.id;
    let new_email = req.email.filter(|e| *e != user.email);
    if own && (req.password.is_some() || new_email.is_some()) {
        reauthenticate(app, caller, req.current_password.as_ref(), origin).await?;
    }
    let role = match req.role {
        None => None,
        Some(_) if own && !caller.platform_admin => {
            return Err(ServiceError::Forbidden);
        }
        Some(_) if user.org_id.is_none() => {
            return Err(ServiceError::field(
                "role",
                "the user belongs to no organization",
            ));
        }
        Some(_) if user.role == Some(OrgRole::Owner) => return Err(ServiceError::OwnerProtected),
        Some(role) => Some(OrgRole::from(role)),
    };
    // One's own new email waits for the new address to confirm it; an admin's change to
    // another user's email applies at once (seed 003: admins edit users).
    let (email, pending_email) = match new_email {
        Some(e) if own => (None, Some(e)),
        other => (other, None),
    };
    let changes = UserChanges {
        name: req.name.map(|n| n.to_string()),
        email,
        password_hash: match req.password {
            Some(p) => Some(hash(p).await?),
            None => None,
        },
        role,
    };
    let keep = if own { origin.session } else { None };
    // What was written is known: no read-back (DESIGN §8's round-trip budget).
    let user = if changes.is_empty() && pending_email.is_some() {
        user
    } else {
        app.store
            .update_user(&user, &changes, caller, &authority, keep)
            .await?
    };
    if let Some(new_email) = &pending_email {
        email_change::request(app, &user, new_email).await?;
    }
    Ok(Updated {
        user,
        pending_email,
    })
}

pub async fn delete(ctx: &Ctx<'_>, req: DeleteUser) -> ServiceResult<()> {
    let app = ctx.app;
    let (caller, target) = caller_and_user(ctx, req.user).await?;
    let caller = &caller;
    let origin = Origin {
        source: ctx.client(),
        session: None,
    };
    let (user, authority) = visible(caller, target)?;
    if user.role == Some(OrgRole::Owner) {
        return Err(ServiceError::OwnerProtected);
    }
    access::may_manage_account(caller, &user)?;
    if caller.id == user.id {
        reauthenticate(app, caller, req.current_password.as_ref(), origin).await?;
    }
    match app.store.delete_user(&user, caller, &authority).await {
        // The org item refused the count: an organization deleted since (or before, for
        // an account its detach missed) counts as none; released, the account goes.
        Err(ServiceError::Conflict) if user.org_id.is_some() => {
            let user = app.store.without_dead_membership(user).await?;
            if user.org_id.is_some() {
                return Err(ServiceError::Conflict);
            }
            let caller = if caller.id == user.id { &user } else { caller };
            app.store.delete_user(&user, caller, &authority).await
        }
        other => other,
    }
}
