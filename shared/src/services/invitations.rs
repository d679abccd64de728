//! Inviting people: bulk invite (with resend of pending ones), list, get, resend, revoke.

use super::{Ctx, access};
use crate::app::App;
use crate::auth::secret;
use crate::clock::Now;
use crate::domain::requests::{Address, InvitationRef, Invite, ListInvitations};
use crate::domain::{
    DailyLimits, DeliveryStatus, Email, Invitation, InvitationId, InvitationStatus,
    InvitationToken, OrgId, OrgRole, Organization, Page, User,
};
use crate::error::{ServiceError, ServiceResult};
use crate::mail::InvitationEmail;
use crate::storage::{Authority, InviteQuota, InviteWrite, Link, Retention};
use futures_util::{StreamExt, stream};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// What became of one address of an invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteOutcome {
    Invited,
    Resent,
    AlreadyMember,
    Invalid,
}

#[derive(Debug, Serialize)]
pub struct InviteResult {
    pub email: String,
    pub status: InviteOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<InvitationId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_delivery: Option<DeliveryStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InviteResponse {
    pub results: Vec<InviteResult>,
}

/// A fresh link: the token for the email, and what storage keeps of it.
fn new_link(org: &OrgId, id: &InvitationId, now: Now, ttl_secs: i64) -> (String, Link) {
    let nonce = secret::random_token();
    let token = InvitationToken {
        org_id: *org,
        invitation_id: *id,
        nonce: nonce.clone(),
    }
    .encode();
    let expires = now.after_secs(ttl_secs);
    let link = Link {
        nonce_hash: secret::digest(&nonce),
        expires_at: expires.rfc3339(),
        expires_epoch: expires.epoch(),
    };
    (token, link)
}

pub fn accept_url(app: &App, token: &str) -> String {
    format!("{}/invite?token={token}", app.config.app_base_url)
}

fn retention(app: &App) -> Retention {
    Retention(app.config.invitation_retention.as_secs() as i64)
}

/// One email to send after the writes landed.
struct Outgoing {
    index: usize,
    id: InvitationId,
    email: Email,
    role: OrgRole,
    token: String,
    link: Link,
}

/// An invitation request worked out: the role, the link lifetime, and each address
/// de-duplicated (invalid ones already have their result).
struct Plan {
    role: OrgRole,
    ttl: i64,
    results: Vec<InviteResult>,
    valid: Vec<(usize, Email)>,
}

impl Plan {
    fn emails(&self) -> Vec<Email> {
        self.valid.iter().map(|(_, e)| e.clone()).collect()
    }
}

/// What the table already holds for a plan's addresses: accounts, and pending invitations
/// to this organization.
struct Recipients {
    accounts: HashMap<Email, User>,
    pending: HashMap<Email, InvitationId>,
    quota: Option<InviteQuota>,
}

/// Reads what the table holds for the plan's addresses, and today's invitation counts.
async fn read_recipients(app: &App, org: OrgId, plan: &Plan) -> ServiceResult<Recipients> {
    let emails = plan.emails();
    let (accounts, pending, quota) = tokio::try_join!(
        app.store.users_by_email(&emails),
        app.store.pending_invitations(&org, &emails),
        app.store.get_invite_quota(&org, Now::get().epoch())
    )?;
    Ok(Recipients {
        accounts,
        pending,
        quota: Some(quota),
    })
}

/// Refuses `count` more invitation emails from `org`: 409 `seat_limit_reached` when its
/// tier's seats are all taken (nobody invited could join), 429 when they would pass its
/// tier's daily invitations or the deployment's (INVITATIONS_PER_DAY), with the wait until
/// the UTC day ends. Pending invitations hold no seat: acceptance takes one, checked in its
/// transaction. (Concurrent requests may each pass the daily check before either is counted:
/// a limit can be overshot by what they send together.)
fn within_limits(
    app: &App,
    org: &Organization,
    quota: Option<&InviteQuota>,
    count: u64,
) -> ServiceResult<()> {
    if count == 0 {
        return Ok(());
    }
    let tier = app.config.tiers.limits_of(org.tier.as_ref());
    if tier.is_full(org.member_count) {
        return Err(ServiceError::SeatLimitReached);
    }
    let Some(q) = quota else { return Ok(()) };
    let limits = DailyLimits {
        org: tier.invites_or(app.config.invitations_per_org_per_day),
        deployment: app.config.invitations_per_day,
    };
    q.counts
        .admit(limits, count, Now::get().epoch())
        .map_err(|retry_after_secs| ServiceError::RateLimited { retry_after_secs })
}

/// Invites (or re-invites) every address; the recipients are read in the caller's wave.
pub async fn invite(ctx: &Ctx<'_>, req: Invite) -> ServiceResult<InviteResponse> {
    let app = ctx.app;
    let plan = plan(app, req.role.into(), req.expires_in, req.addresses);
    let read = async {
        match req.org {
            Some(id) => read_recipients(app, id, &plan).await.map(Some),
            None => Ok(None),
        }
    };
    let (caller, org, found) = ctx.caller_org_and(req.org, read).await?;
    let org = org.ok_or(ServiceError::NotFound)?;
    let authority = access::manager(&caller, &org.id)?;
    let found = found.ok_or(ServiceError::NotFound)?;
    send_invitations(app, &caller, &org, authority, plan, found).await
}

/// A platform admin's invitation for a new organization's first owner.
pub async fn invite_owner(
    app: &App,
    caller: &User,
    org: &Organization,
    email: Email,
) -> ServiceResult<InviteResult> {
    let plan = plan(app, OrgRole::Owner, None, vec![Address::Valid(email)]);
    let found = read_recipients(app, org.id, &plan).await?;
    let response =
        send_invitations(app, caller, org, Authority::PlatformAdmin, plan, found).await?;
    response
        .results
        .into_iter()
        .next()
        .ok_or_else(|| ServiceError::Internal("no invitation result".into()))
}

/// Each address once (invalid ones get their result now), and the link lifetime.
fn plan(app: &App, role: OrgRole, expires_in: Option<i64>, addresses: Vec<Address>) -> Plan {
    let ttl = expires_in.unwrap_or(app.config.invitation_ttl.as_secs() as i64);
    let mut results: Vec<InviteResult> = Vec::new();
    let mut valid: Vec<(usize, Email)> = Vec::new();
    let mut seen = HashSet::new();
    for address in addresses {
        match address {
            Address::Valid(email) => {
                if seen.insert(email.clone()) {
                    valid.push((results.len(), email.clone()));
                    results.push(InviteResult {
                        email: email.to_string(),
                        status: InviteOutcome::Invited,
                        invitation_id: None,
                        email_delivery: None,
                        reason: None,
                    });
                }
            }
            Address::Invalid { given, reason } => results.push(InviteResult {
                email: given,
                status: InviteOutcome::Invalid,
                invitation_id: None,
                email_delivery: None,
                reason: Some(reason),
            }),
        }
    }
    Plan {
        role,
        ttl,
        results,
        valid,
    }
}

async fn send_invitations(
    app: &App,
    caller: &User,
    org: &Organization,
    authority: Authority,
    plan: Plan,
    found: Recipients,
) -> ServiceResult<InviteResponse> {
    let Plan {
        role,
        ttl,
        mut results,
        valid,
    } = plan;
    let Recipients {
        accounts,
        pending,
        quota,
    } = found;
    let now = Now::get();
    let now_s = now.rfc3339();
    let mut writes = Vec::new();
    let mut outgoing = Vec::new();
    for (index, email) in valid {
        if accounts
            .get(&email)
            .is_some_and(|u| u.org_id == Some(org.id))
        {
            results[index].status = InviteOutcome::AlreadyMember;
            continue;
        }
        let (id, resend) = match pending.get(&email) {
            Some(id) => (*id, true),
            None => (InvitationId::new(), false),
        };
        let (token, link) = new_link(&org.id, &id, now, ttl);
        writes.push(if resend {
            results[index].status = InviteOutcome::Resent;
            InviteWrite::Resend {
                id,
                email: email.clone(),
                role,
                link: link.clone(),
            }
        } else {
            InviteWrite::Create(Invitation {
                id,
                org_id: org.id,
                email: email.clone(),
                role,
                status: InvitationStatus::Pending,
                expires_at: link.expires_at.clone().into(),
                created_at: now_s.clone().into(),
                invited_by: Some(caller.id),
                inviter_name: caller.name.clone(),
                send_count: 1,
                last_sent_at: now_s.clone().into(),
                email_delivery: DeliveryStatus::Sent,
                accepted_at: None,
                expires_epoch: link.expires_epoch,
                nonce_hash: link.nonce_hash.clone(),
                stored_status: InvitationStatus::Pending,
            })
        });
        results[index].invitation_id = Some(id);
        outgoing.push(Outgoing {
            index,
            id,
            email,
            role,
            token,
            link,
        });
    }

    within_limits(app, org, quota.as_ref(), writes.len() as u64)?;
    let stored = app
        .store
        .write_invitations(
            &org.id,
            caller,
            &authority,
            &writes,
            now,
            &retention(app),
            quota.as_ref(),
        )
        .await?;
    // DynamoDB unavailable or throttling: the request failed (503), not the addresses. What
    // was stored stays pending; the caller's retry resends it.
    if stored
        .iter()
        .any(|o| matches!(o, Err(ServiceError::Unavailable(_))))
    {
        return Err(ServiceError::Unavailable(
            "invitation writes were throttled or unreachable".into(),
        ));
    }
    let mut to_send = Vec::new();
    for (out, outcome) in outgoing.into_iter().zip(stored) {
        match outcome {
            Ok(()) => to_send.push(out),
            Err(e) => {
                let r = &mut results[out.index];
                r.status = InviteOutcome::Invalid;
                r.invitation_id = None;
                // Say what happened, never the storage layer's own words.
                tracing::info!(invitation_id = %out.id, error = %e, "invitation not stored");
                r.reason = Some(
                    match e {
                        ServiceError::Conflict => "not stored: changed concurrently; try again",
                        _ => "not stored",
                    }
                    .into(),
                );
            }
        }
    }

    // Emails go out concurrently, with a bound; a failed send is recorded, not lost.
    let sent: Vec<(usize, bool)> = stream::iter(to_send)
        .map(|o| deliver(app, org, caller, o))
        .buffer_unordered(app.config.mail_concurrency)
        .collect()
        .await;
    for (index, ok) in sent {
        results[index].email_delivery = Some(if ok {
            DeliveryStatus::Sent
        } else {
            DeliveryStatus::Failed
        });
    }
    Ok(InviteResponse { results })
}

async fn deliver(app: &App, org: &Organization, inviter: &User, o: Outgoing) -> (usize, bool) {
    let url = accept_url(app, &o.token);
    let mail = InvitationEmail {
        to: o.email.as_ref(),
        org_name: &org.name,
        inviter: &inviter.name,
        role: o.role.as_str(),
        expires_at: &o.link.expires_at,
        link: &url,
    };
    match app.mailer.send_invitation(&mail).await {
        Ok(()) => (o.index, true),
        Err(cause) => {
            tracing::warn!(invitation_id = %o.id, %cause, "invitation email failed; recorded for resend");
            if let Err(e) = app
                .store
                .mark_delivery_failed(&org.id, &o.id, &o.email, &o.link.nonce_hash, Now::get())
                .await
            {
                tracing::error!(invitation_id = %o.id, error = %e, "could not record the failed delivery");
            }
            (o.index, false)
        }
    }
}

/// One page of an organization's invitations, read in the caller's wave (a failed read,
/// such as a stale cursor, is reported only once the caller may see the list).
pub async fn list(ctx: &Ctx<'_>, req: ListInvitations) -> ServiceResult<Page<Invitation>> {
    let app = ctx.app;
    let read = async {
        Ok(match &req.org {
            Some(id) => Some(
                app.store
                    .list_invitations(
                        id,
                        req.status,
                        req.page.limit.get(),
                        req.page.cursor.as_ref(),
                        Now::get().epoch(),
                    )
                    .await,
            ),
            None => None,
        })
    };
    let (caller, org, page) = ctx.caller_org_and(req.org, read).await?;
    let org = org.ok_or(ServiceError::NotFound)?;
    access::manager(&caller, &org.id)?;
    page.ok_or(ServiceError::NotFound)?
}

/// The invitation the path names (none when either id is malformed: the same 404).
async fn read_invitation(app: &App, r: InvitationRef) -> ServiceResult<Option<Invitation>> {
    match (r.org, r.invitation) {
        (Some(org), Some(id)) => {
            app.store
                .get_invitation(&org, &id, Now::get().epoch())
                .await
        }
        _ => Ok(None),
    }
}

/// Today's invitation counts, the org's and the deployment's (none if the id is malformed).
async fn read_quota(app: &App, org: Option<OrgId>) -> ServiceResult<Option<InviteQuota>> {
    match org {
        Some(id) => Ok(Some(
            app.store.get_invite_quota(&id, Now::get().epoch()).await?,
        )),
        None => Ok(None),
    }
}

fn authorized(
    caller: &User,
    org: Option<Organization>,
    inv: Option<Invitation>,
) -> ServiceResult<(Organization, Authority, Invitation)> {
    let org = org.ok_or(ServiceError::NotFound)?;
    let authority = access::manager(caller, &org.id)?;
    let inv = inv
        .filter(|i| i.org_id == org.id)
        .ok_or(ServiceError::NotFound)?;
    Ok((org, authority, inv))
}

pub async fn get(ctx: &Ctx<'_>, req: InvitationRef) -> ServiceResult<Invitation> {
    let (caller, org, inv) = ctx
        .caller_org_and(req.org, read_invitation(ctx.app, req))
        .await?;
    authorized(&caller, org, inv).map(|(_, _, inv)| inv)
}

/// Why an invitation in this status cannot be used.
pub fn dead(status: InvitationStatus) -> ServiceError {
    match status {
        InvitationStatus::Accepted => ServiceError::InvitationAlreadyAccepted,
        InvitationStatus::Declined => ServiceError::InvitationDeclined,
        InvitationStatus::Revoked => ServiceError::InvitationRevoked,
        InvitationStatus::Expired => ServiceError::InvitationExpired,
        InvitationStatus::Pending => ServiceError::Conflict,
    }
}

/// New link, new expiry (the configured lifetime), email sent again; works for pending and
/// expired invitations.
/// The invitation and today's counts are read in the caller's wave.
pub async fn resend(ctx: &Ctx<'_>, req: InvitationRef) -> ServiceResult<Invitation> {
    let app = ctx.app;
    let read = async { tokio::try_join!(read_invitation(app, req), read_quota(app, req.org)) };
    let (caller, org, (inv, quota)) = ctx.caller_org_and(req.org, read).await?;
    let caller = &caller;
    let (org, authority, inv) = authorized(caller, org, inv)?;
    within_limits(app, &org, quota.as_ref(), 1)?;
    if !matches!(
        inv.status,
        InvitationStatus::Pending | InvitationStatus::Expired
    ) {
        return Err(dead(inv.status));
    }
    let now = Now::get();
    let (token, link) = new_link(
        &org.id,
        &inv.id,
        now,
        app.config.invitation_ttl.as_secs() as i64,
    );
    app.store
        .relink_invitation(
            &inv,
            &link,
            caller,
            &authority,
            now,
            &retention(app),
            quota.as_ref(),
        )
        .await?;
    let resent = Invitation {
        status: InvitationStatus::Pending,
        stored_status: InvitationStatus::Pending,
        expires_at: link.expires_at.clone().into(),
        expires_epoch: link.expires_epoch,
        nonce_hash: link.nonce_hash.clone(),
        send_count: inv.send_count + 1,
        last_sent_at: now.rfc3339().into(),
        ..inv
    };
    let out = Outgoing {
        index: 0,
        id: resent.id,
        email: resent.email.clone(),
        role: resent.role,
        token,
        link,
    };
    // What was written is known: no read-back (DESIGN §8's round-trip budget).
    let (_, sent) = deliver(app, &org, caller, out).await;
    Ok(Invitation {
        email_delivery: if sent {
            DeliveryStatus::Sent
        } else {
            DeliveryStatus::Failed
        },
        ..resent
    })
}

pub async fn revoke(ctx: &Ctx<'_>, req: InvitationRef) -> ServiceResult<()> {
    let app = ctx.app;
    let (caller, org, inv) = ctx
        .caller_org_and(req.org, read_invitation(app, req))
        .await?;
    let caller = &caller;
    let (_, authority, inv) = authorized(caller, org, inv)?;
    if inv.stored_status != InvitationStatus::Pending {
        return Err(dead(inv.status));
    }
    let now = Now::get();
    app.store
        .close_invitation(
            &inv,
            InvitationStatus::Revoked,
            None,
            Some((caller, &authority)),
            &now.rfc3339(),
            now.epoch(),
        )
        .await
}
