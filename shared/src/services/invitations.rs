//! Inviting people: bulk invite (with resend of pending ones), list, get, resend, revoke.

use super::access;
use crate::app::App;
use crate::auth::secret;
use crate::clock::Now;
use crate::domain::{
    DailyLimits, DeliveryStatus, Email, Invitation, InvitationId, InvitationStatus,
    InvitationToken, OrgId, OrgRole, Organization, Page, User, parse_expires_in, parse_invite_role,
};
use crate::error::{FieldError, ServiceError, ServiceResult};
use crate::mail::InvitationEmail;
use crate::storage::{Authority, InviteQuota, InviteWrite, Link, Retention};
use futures_util::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

pub const MAX_EMAILS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub emails: Vec<String>,
    pub role: String,
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct InviteResult {
    pub email: String,
    /// `invited`, `resent`, `already_member` or `invalid`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<InvitationId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_delivery: Option<&'static str>,
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

/// A validated invitation request: the role, the link lifetime, and each address
/// normalised and de-duplicated (invalid ones already have their result).
pub struct Plan {
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
#[derive(Default)]
pub struct Recipients {
    accounts: HashMap<Email, User>,
    pending: HashMap<Email, InvitationId>,
    quota: Option<InviteQuota>,
}

/// Checks an invite request (pure: the route reads the recipients in the caller's round
/// trip, and reports these errors only after authentication).
pub fn plan(app: &App, body: ServiceResult<InviteRequest>) -> ServiceResult<Plan> {
    let req = body?;
    let role = parse_invite_role(&req.role);
    plan_with_role(app, req, role)
}

/// Reads the plan's recipients (nothing when the plan or org id is unusable).
pub async fn read_recipients(
    app: &App,
    org: Option<OrgId>,
    plan: &ServiceResult<Plan>,
) -> ServiceResult<Recipients> {
    let (Some(org), Ok(plan)) = (org, plan) else {
        return Ok(Recipients::default());
    };
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

pub async fn invite(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    plan: ServiceResult<Plan>,
    found: Recipients,
) -> ServiceResult<InviteResponse> {
    let org = org.ok_or(ServiceError::NotFound)?;
    let authority = access::manager(caller, &org.id)?;
    send_invitations(app, caller, &org, authority, plan?, found).await
}

/// A platform admin's invitation for a new organization's first owner.
pub async fn invite_owner(
    app: &App,
    caller: &User,
    org: &Organization,
    email: Email,
) -> ServiceResult<InviteResult> {
    let req = InviteRequest {
        emails: vec![email.to_string()],
        role: "owner".into(),
        expires_in_seconds: None,
    };
    let plan = plan_with_role(app, req, Ok(OrgRole::Owner));
    let found = read_recipients(app, Some(org.id), &plan).await?;
    let response =
        send_invitations(app, caller, org, Authority::PlatformAdmin, plan?, found).await?;
    response
        .results
        .into_iter()
        .next()
        .ok_or_else(|| ServiceError::Internal("no invitation result".into()))
}

fn plan_with_role(
    app: &App,
    req: InviteRequest,
    role: Result<OrgRole, crate::domain::Invalid>,
) -> ServiceResult<Plan> {
    let mut errors = Vec::new();
    if req.emails.is_empty() || req.emails.len() > MAX_EMAILS {
        errors.push(FieldError::new(
            "emails",
            format!("must list 1 to {MAX_EMAILS} addresses"),
        ));
    }
    let role = role
        .map_err(|e| errors.push(FieldError::new("role", e.message)))
        .ok();
    let ttl = match req.expires_in_seconds {
        Some(secs) => parse_expires_in(secs)
            .map_err(|e| errors.push(FieldError::new("expires_in_seconds", e.message)))
            .ok(),
        None => Some(app.config.invitation_ttl.as_secs() as i64),
    };
    let (Some(role), Some(ttl), true) = (role, ttl, errors.is_empty()) else {
        return Err(ServiceError::Validation(errors));
    };

    // Normalise and de-duplicate; invalid addresses get their own result.
    let mut results: Vec<InviteResult> = Vec::new();
    let mut valid: Vec<(usize, Email)> = Vec::new();
    let mut seen = HashSet::new();
    for raw in &req.emails {
        match Email::parse(raw) {
            Ok(email) => {
                if seen.insert(email.clone()) {
                    valid.push((results.len(), email.clone()));
                    results.push(InviteResult {
                        email: email.to_string(),
                        status: "invited",
                        invitation_id: None,
                        email_delivery: None,
                        reason: None,
                    });
                }
            }
            Err(e) => results.push(InviteResult {
                email: raw.trim().chars().take(254).collect(),
                status: "invalid",
                invitation_id: None,
                email_delivery: None,
                reason: Some(format!("email {}", e.message)),
            }),
        }
    }
    Ok(Plan {
        role,
        ttl,
        results,
        valid,
    })
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
            results[index].status = "already_member";
            continue;
        }
        let (id, resend) = match pending.get(&email) {
            Some(id) => (*id, true),
            None => (InvitationId::new(), false),
        };
        let (token, link) = new_link(&org.id, &id, now, ttl);
        writes.push(if resend {
            results[index].status = "resent";
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
                r.status = "invalid";
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
        results[index].email_delivery = Some(if ok { "sent" } else { "failed" });
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
                .mark_delivery_failed(&org.id, &o.id, &o.link.nonce_hash)
                .await
            {
                tracing::error!(invitation_id = %o.id, error = %e, "could not record the failed delivery");
            }
            (o.index, false)
        }
    }
}

/// The `status` filter of the list, if given.
pub fn status_filter(raw: Option<&str>) -> ServiceResult<Option<InvitationStatus>> {
    raw.map(|s| InvitationStatus::parse(s).map_err(|e| ServiceError::field("status", e.message)))
        .transpose()
}

/// One page of an organization's invitations (read in the caller's round trip).
pub async fn read_page(
    app: &App,
    org: &OrgId,
    status: Option<InvitationStatus>,
    limit: i32,
    cursor: Option<&str>,
) -> ServiceResult<Page<Invitation>> {
    app.store
        .list_invitations(org, status, limit, cursor, Now::get().epoch())
        .await
}

/// The page that was read, once the caller may see it; the query's own errors (a bad
/// limit, status or cursor) come after the caller's.
pub fn list(
    caller: &User,
    org: Option<Organization>,
    limit: ServiceResult<i32>,
    status: ServiceResult<Option<InvitationStatus>>,
    page: Option<ServiceResult<Page<Invitation>>>,
) -> ServiceResult<Page<Invitation>> {
    let org = org.ok_or(ServiceError::NotFound)?;
    access::manager(caller, &org.id)?;
    limit?;
    status?;
    page.ok_or(ServiceError::NotFound)?
}

/// The invitation the path names, read in the caller's round trip (see
/// `http::caller_org_and`); malformed ids read as no invitation (the same 404).
pub async fn read_invitation(
    app: &App,
    org: Option<OrgId>,
    id: Option<&str>,
) -> ServiceResult<Option<Invitation>> {
    match (org, id.and_then(|i| InvitationId::parse(i).ok())) {
        (Some(org), Some(id)) => {
            app.store
                .get_invitation(&org, &id, Now::get().epoch())
                .await
        }
        _ => Ok(None),
    }
}

/// Today's invitation counts, the org's the path names and the deployment's (none if the id
/// is malformed).
pub async fn read_quota(app: &App, org: Option<OrgId>) -> ServiceResult<Option<InviteQuota>> {
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

pub fn get(
    caller: &User,
    org: Option<Organization>,
    inv: Option<Invitation>,
) -> ServiceResult<Invitation> {
    authorized(caller, org, inv).map(|(_, _, inv)| inv)
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
/// `quota` is the org's count for today, read in the caller's round trip (`read_quota`).
pub async fn resend(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    (inv, quota): (Option<Invitation>, Option<InviteQuota>),
) -> ServiceResult<Invitation> {
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

pub async fn revoke(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    inv: Option<Invitation>,
) -> ServiceResult<()> {
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
