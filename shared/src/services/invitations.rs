//! Inviting people: bulk invite (with resend of pending ones), list, get, resend, revoke.

use super::access;
use crate::app::App;
use crate::auth::secret;
use crate::clock::Now;
use crate::domain::{
    Email, Invitation, InvitationId, InvitationStatus, InvitationToken, OrgId, OrgRole,
    Organization, Page, User, parse_expires_in, parse_invite_role,
};
use crate::error::{FieldError, ServiceError, ServiceResult};
use crate::mail::InvitationEmail;
use crate::storage::{Authority, InviteWrite, Link, Retention};
use futures_util::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

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

pub async fn invite(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    req: InviteRequest,
) -> ServiceResult<InviteResponse> {
    let org = org.ok_or(ServiceError::NotFound)?;
    let authority = access::manager(caller, &org.id)?;
    let role = parse_invite_role(&req.role);
    send_invitations(app, caller, &org, authority, req, role).await
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
    let response = send_invitations(
        app,
        caller,
        org,
        Authority::PlatformAdmin,
        req,
        Ok(OrgRole::Owner),
    )
    .await?;
    response
        .results
        .into_iter()
        .next()
        .ok_or_else(|| ServiceError::Internal("no invitation result".into()))
}

async fn send_invitations(
    app: &App,
    caller: &User,
    org: &Organization,
    authority: Authority,
    req: InviteRequest,
    role: Result<OrgRole, crate::domain::Invalid>,
) -> ServiceResult<InviteResponse> {
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
    let emails: Vec<Email> = valid.iter().map(|(_, e)| e.clone()).collect();
    let (accounts, pending) = tokio::try_join!(
        app.store.users_by_email(&emails),
        app.store.pending_invitations(&org.id, &emails)
    )?;

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
                expires_at: link.expires_at.clone(),
                created_at: now_s.clone(),
                invited_by: Some(caller.id),
                inviter_name: caller.name.clone(),
                send_count: 1,
                last_sent_at: now_s.clone(),
                email_delivery: "sent".into(),
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

    let stored = app
        .store
        .write_invitations(&org.id, caller, &authority, &writes, now, &retention(app))
        .await?;
    let mut to_send = Vec::new();
    for (out, outcome) in outgoing.into_iter().zip(stored) {
        match outcome {
            Ok(()) => to_send.push(out),
            Err(e) => {
                let r = &mut results[out.index];
                r.status = "invalid";
                r.invitation_id = None;
                r.reason = Some(format!("not stored: {e}"));
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

pub async fn list(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    status: Option<&str>,
    limit: i32,
    cursor: Option<&str>,
) -> ServiceResult<Page<Invitation>> {
    let org = org.ok_or(ServiceError::NotFound)?;
    access::manager(caller, &org.id)?;
    let status = status
        .map(|s| InvitationStatus::parse(s).map_err(|e| ServiceError::field("status", e.message)))
        .transpose()?;
    app.store
        .list_invitations(&org.id, status, limit, cursor, Now::get().epoch())
        .await
}

async fn load(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    id: Option<&str>,
) -> ServiceResult<(Organization, Authority, Invitation)> {
    let org = org.ok_or(ServiceError::NotFound)?;
    let authority = access::manager(caller, &org.id)?;
    let id = id
        .and_then(|i| InvitationId::parse(i).ok())
        .ok_or(ServiceError::NotFound)?;
    let inv = app
        .store
        .get_invitation(&org.id, &id, Now::get().epoch())
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok((org, authority, inv))
}

pub async fn get(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    id: Option<&str>,
) -> ServiceResult<Invitation> {
    load(app, caller, org, id).await.map(|(_, _, inv)| inv)
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
pub async fn resend(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    id: Option<&str>,
) -> ServiceResult<Invitation> {
    let (org, authority, inv) = load(app, caller, org, id).await?;
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
        .relink_invitation(&inv, &link, caller, &authority, now, &retention(app))
        .await?;
    let out = Outgoing {
        index: 0,
        id: inv.id,
        email: inv.email.clone(),
        role: inv.role,
        token,
        link,
    };
    deliver(app, &org, caller, out).await;
    app.store
        .get_invitation(&org.id, &inv.id, Now::get().epoch())
        .await?
        .ok_or(ServiceError::NotFound)
}

pub async fn revoke(
    app: &App,
    caller: &User,
    org: Option<Organization>,
    id: Option<&str>,
) -> ServiceResult<()> {
    let (_, authority, inv) = load(app, caller, org, id).await?;
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
