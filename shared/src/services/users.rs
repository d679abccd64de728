//! Direct user management (the seeds' "direct creation"): platform admins anywhere, org
//! owners and admins in their own org with roles admin or member, never on an owner or a
//! platform admin.

use super::{access, auth, email_change};
use crate::app::App;
use crate::auth::password;
use crate::clock::Now;
use crate::domain::{
    Email, OrgId, OrgRole, Organization, Page, Password, PersonName, User, UserId,
};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::{Authority, UserChanges};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: Email,
    pub name: PersonName,
    pub password: Password,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub org_id: Option<OrgId>,
    #[serde(default)]
    pub platform_admin: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default)]
    pub name: Option<PersonName>,
    #[serde(default)]
    pub email: Option<Email>,
    #[serde(default)]
    pub password: Option<Password>,
    #[serde(default)]
    pub role: Option<String>,
    /// Required to change one's own password or email (ASVS 2.1.6).
    #[serde(default)]
    pub current_password: Option<String>,
}

/// The optional body of DELETE /users/{id}: deleting one's own account needs the password.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteUser {
    #[serde(default)]
    pub current_password: Option<String>,
}

/// Where a request came from, for re-authentication: the client address (sign-in limits)
/// and the session its token was issued for (kept alive by one's own password change).
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
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
    current_password: Option<&str>,
    origin: Origin<'_>,
) -> ServiceResult<()> {
    let current = current_password.ok_or_else(|| {
        ServiceError::field(
            "current_password",
            "is required to change your own password or email, or to delete your own account",
        )
    })?;
    if current.len() > 1024 {
        return Err(ServiceError::field("current_password", "is not correct"));
    }
    if auth::verify_password(app, caller, current, origin.source).await? {
        Ok(())
    } else {
        Err(ServiceError::field("current_password", "is not correct"))
    }
}

fn member_role(raw: Option<&str>) -> ServiceResult<OrgRole> {
    match raw.map(OrgRole::parse) {
        None => Ok(OrgRole::Member),
        Some(Ok(OrgRole::Owner)) => Err(ServiceError::field(
            "role",
            "must be admin or member (ownership moves by transfer)",
        )),
        Some(Ok(role)) => Ok(role),
        Some(Err(e)) => Err(ServiceError::field("role", e.message)),
    }
}

async fn hash(password: Password) -> ServiceResult<String> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| ServiceError::Internal(format!("password hash: {e}")))?
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// `org` is the organization `req.org_id` names, read in the caller's round trip.
pub async fn create(
    app: &App,
    caller: &User,
    req: CreateUser,
    org: Option<Organization>,
) -> ServiceResult<User> {
    let org_exists = org.filter(|o| Some(o.id) == req.org_id);
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
            org_exists.ok_or(ServiceError::NotFound)?;
            (
                Some(org),
                Some(member_role(req.role.as_deref())?),
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
        (
            Some(org),
            Some(member_role(req.role.as_deref())?),
            authority,
        )
    };
    let now = Now::get().rfc3339();
    let user = User {
        id: UserId::new(),
        email: req.email,
        name: req.name.to_string(),
        org_id,
        role,
        platform_admin: req.platform_admin,
        created_at: now.clone(),
        updated_at: now.clone(),
        joined_at: org_id.map(|_| now),
        password_hash: hash(req.password).await?,
        token_version: 0,
    };
    app.store
        .create_user(&user, Some((caller, &authority)))
        .await?;
    Ok(user)
}

pub async fn list(
    app: &App,
    caller: &User,
    org_id: Option<&str>,
    platform_admins: bool,
    limit: i32,
    cursor: Option<&str>,
    search: Option<&crate::storage::MemberSearch>,
) -> ServiceResult<Page<User>> {
    let org = org_id
        .map(|raw| OrgId::parse(raw).map_err(|_| ServiceError::NotFound))
        .transpose()?;
    let members = |org: OrgId| async move {
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
    members(org).await
}

/// The user if the caller may see them: themself, anyone for a platform admin, their org's
/// users for its owners and admins. Everyone else gets a 404.
fn visible(caller: &User, target: Option<User>) -> ServiceResult<(User, Authority)> {
    let user = target.ok_or(ServiceError::NotFound)?;
    let authority = access::self_or_manager(caller, &user)?;
    Ok((user, authority))
}

/// `target` is the user the path names, read in the caller's round trip
/// (`members::read_user`).
pub fn get(caller: &User, target: Option<User>) -> ServiceResult<User> {
    visible(caller, target).map(|(u, _)| u)
}

pub async fn update(
    app: &App,
    caller: &User,
    target: Option<User>,
    req: UpdateUser,
    origin: Origin<'_>,
) -> ServiceResult<Updated> {
    let (user, authority) = visible(caller, target)?;
    access::may_manage_account(caller, &user)?;
    let own = caller.id == user.id;
    let new_email = req.email.filter(|e| *e != user.email);
    if own && (req.password.is_some() || new_email.is_some()) {
        reauthenticate(app, caller, req.current_password.as_deref(), origin).await?;
    }
    let role = match req.role.as_deref() {
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
        Some(raw) => Some(member_role(Some(raw))?),
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

pub async fn delete(
    app: &App,
    caller: &User,
    target: Option<User>,
    req: DeleteUser,
    origin: Origin<'_>,
) -> ServiceResult<()> {
    let (user, authority) = visible(caller, target)?;
    if user.role == Some(OrgRole::Owner) {
        return Err(ServiceError::OwnerProtected);
    }
    access::may_manage_account(caller, &user)?;
    if caller.id == user.id {
        reauthenticate(app, caller, req.current_password.as_deref(), origin).await?;
    }
    app.store.delete_user(&user, caller, &authority).await
}
