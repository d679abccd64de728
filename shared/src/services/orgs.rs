//! Organizations: create (platform admin, or self-service to become owner), list, get,
//! update, delete. Another organization's resources answer 404, never 403.

use super::{Ctx, access};
use crate::clock::Now;
use crate::domain::requests::{CreateOrg, DeleteOrg, PageQuery, UpdateOrg};
use crate::domain::{Description, OrgId, Organization, Page, Tier, User};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::{NewOrg, OrgChanges};

/// A created organization, and the owner invitation when one was asked for.
#[derive(Debug, serde::Serialize)]
pub struct Created {
    #[serde(flatten)]
    pub org: Organization,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_invitation: Option<super::invitations::InviteResult>,
}

/// Creates an organization. A platform admin may put it on any tier; a self-service
/// organization always starts on the first tier (the default), so quotas cannot be raised
/// by creating organizations: naming another tier is refused (403), not quietly ignored.
pub async fn create(ctx: &Ctx<'_>, req: CreateOrg) -> ServiceResult<Created> {
    let app = ctx.app;
    let caller = &ctx.caller().await?;
    let self_service = !caller.platform_admin;
    let first = Tier::first(&app.config.tiers);
    if self_service {
        if req.owner_email.is_some() {
            return Err(ServiceError::Forbidden);
        }
        if !app.config.allow_self_service_orgs {
            return Err(ServiceError::Forbidden);
        }
        if req.tier.as_ref().is_some_and(|t| *t != first) {
            return Err(ServiceError::Forbidden);
        }
        // A membership of a deleted organization counts as none (released here).
        if caller.org_id.is_some()
            && app
                .store
                .without_dead_membership(caller.clone())
                .await?
                .org_id
                .is_some()
        {
            return Err(ServiceError::MemberOfAnotherOrganization);
        }
    }
    // A self-service caller got here naming the first tier or none.
    let tier = req.tier.unwrap_or(first);
    let now = Now::get().rfc3339();
    let new = NewOrg {
        id: OrgId::new(),
        name: req.name,
        code: req.code,
        description: req
            .description
            .unwrap_or(Description::parse("").map_err(|e| ServiceError::Internal(e.message))?),
        tier,
        now,
    };
    let org = app.store.create_org(&new, caller, self_service).await?;
    let owner_invitation = match req.owner_email {
        Some(email) => Some(super::invitations::invite_owner(app, caller, &org, email).await?),
        None => None,
    };
    Ok(Created {
        org,
        owner_invitation,
    })
}

/// A platform admin pages through every organization; anyone else sees their own.
pub async fn list(ctx: &Ctx<'_>, page: PageQuery) -> ServiceResult<Page<Organization>> {
    let app = ctx.app;
    let (limit, cursor) = (page.limit.get(), page.cursor.as_ref());
    let caller = if ctx.verified()?.admin_hint {
        // The token says platform admin: the page is read beside the caller and used only
        // if the caller still is one; then its count shards (issue 18.3).
        let (caller, page) = ctx
            .caller_and(async { Ok(app.store.org_page(limit, cursor).await) })
            .await?;
        if caller.platform_admin {
            return app.store.counted(page?).await;
        }
        caller
    } else {
        ctx.caller().await?
    };
    if caller.platform_admin {
        return app.store.list_orgs(limit, cursor).await;
    }
    if cursor.is_some() {
        // A member sees one organization at most: there is never a second page.
        return Err(ServiceError::field("cursor", "is not a valid cursor"));
    }
    let items = match caller.org_id {
        Some(id) => app.store.get_org(&id).await?.into_iter().collect(),
        None => Vec::new(),
    };
    Ok(Page {
        items,
        next_cursor: None,
    })
}

/// The caller and the organization `id` names: one wave.
async fn caller_and_org(
    ctx: &Ctx<'_>,
    id: Option<OrgId>,
) -> ServiceResult<(User, Option<Organization>)> {
    let (caller, org, ()) = ctx.caller_org_and(id, async { Ok(()) }).await?;
    Ok((caller, org))
}

pub async fn get(ctx: &Ctx<'_>, id: Option<OrgId>) -> ServiceResult<Organization> {
    let (caller, org) = caller_and_org(ctx, id).await?;
    access::reader(&caller, org)
}

pub async fn update(ctx: &Ctx<'_>, req: UpdateOrg) -> ServiceResult<Organization> {
    let app = ctx.app;
    let (caller, org) = caller_and_org(ctx, req.org).await?;
    let caller = &caller;
    let req = req.patch;
    let org = access::reader(caller, org)?;
    let authority = access::manager(caller, &org.id)?;
    // Tier and code are the platform's to set.
    if (req.tier.is_some() || req.code.is_some()) && !caller.platform_admin {
        return Err(ServiceError::Forbidden);
    }
    let changes = OrgChanges {
        name: req.name,
        description: req.description,
        tier: req.tier,
        code: req.code,
    };
    let now = Now::get().rfc3339();
    app.store
        .update_org(&org, &changes, caller, &authority, &now)
        .await
}

/// How long DELETE /orgs/{id} spends detaching members after the deletion itself, before it
/// answers and leaves the rest to cleanup. Well inside the orgs function's timeout (25 s)
/// and API Gateway's 30 s: the deletion's own reads and transaction come before it, and the
/// budget bounds the detaching outright (a page in flight is cut off, not waited for), so a
/// 10,000-member organization answers in about this long whatever DynamoDB's latency.
pub const DELETE_INLINE_BUDGET: std::time::Duration = std::time::Duration::from_secs(8);

/// Deletes the organization once `confirm` repeats its code, detaching members within
/// `DELETE_INLINE_BUDGET`.
pub async fn delete(ctx: &Ctx<'_>, req: DeleteOrg) -> ServiceResult<()> {
    delete_within(ctx, req, DELETE_INLINE_BUDGET).await
}

/// `delete`, with the time to spend detaching members given. It answers 404 at once and
/// its code is free; cleanup finishes a larger org.
pub async fn delete_within(
    ctx: &Ctx<'_>,
    req: DeleteOrg,
    budget: std::time::Duration,
) -> ServiceResult<()> {
    let app = ctx.app;
    let (caller, org) = caller_and_org(ctx, req.org).await?;
    let caller = &caller;
    let org = access::reader(caller, org)?;
    let authority = access::owner(caller, &org.id)?;
    if req.confirm.as_ref() != Some(&org.code) {
        return Err(ServiceError::ConfirmationMismatch);
    }
    let now = Now::get().rfc3339();
    app.store
        .tombstone_org(&org, caller, &authority, &now)
        .await?;
    // The deletion has happened; detaching is follow-up work that cleanup also does, so a
    // failure here is logged rather than reported as a failed delete. The deadline stops
    // it between pages; the timeout cuts off a page still in flight (each detach is one
    // idempotent conditional update, so stopping anywhere is safe).
    let detach = app
        .store
        .detach_members(&org.id, tokio::time::Instant::now() + budget);
    match tokio::time::timeout(budget, detach).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) | Err(_) => {
            tracing::info!(org_id = %org.id, "organization deletion continues in cleanup")
        }
        Ok(Err(e)) => {
            tracing::warn!(org_id = %org.id, error = %e, "detaching members failed; cleanup retries")
        }
    }
    Ok(())
}
