//! The invitee's side: preview a link, accept it (creating or proving an account), decline.

use super::auth::{NewSession, TokenPair};
use super::caller;
use super::invitations::dead;
use crate::app::App;
use crate::auth::{password, secret};
use crate::clock::Now;
use crate::domain::{
    Invitation, InvitationStatus, InvitationToken, Organization, Password, PersonName, User, UserId,
};
use crate::error::{FieldError, ServiceError, ServiceResult};
use crate::storage::{Throttle, ThrottleKey};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize)]
pub struct Preview {
    pub org_id: String,
    pub org_name: String,
    pub role: String,
    pub inviter: String,
    pub email: String,
    pub expires_at: String,
    pub status: InvitationStatus,
    pub account_exists: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    pub token: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

/// The invitation and organization a link names, provided the link is the current one.
/// A malformed or unknown token is a 404; an older link of a resent invitation is 410.
/// Such failures are counted per client address (`source`): past the limit the address gets
/// 429 for the rest of the window, so links cannot be guessed at speed.
async fn open(
    app: &App,
    raw_token: &str,
    source: Option<&str>,
) -> ServiceResult<(InvitationToken, Invitation, Organization)> {
    let now = Now::get().epoch();
    let (opened, limit) = tokio::join!(Box::pin(open_link(app, raw_token)), async {
        match source {
            Some(ip) => app.store.get_throttle(ThrottleKey::AcceptSource(ip)).await,
            None => Ok(Throttle::default()),
        }
    });
    let max = app.config.accept_max_failures_per_source;
    if let Some(retry_after_secs) = limit?.retry_after(max, now) {
        return Err(ServiceError::RateLimited { retry_after_secs });
    }
    if let (Some(ip), Err(ServiceError::NotFound | ServiceError::InvitationSuperseded)) =
        (source, &opened)
    {
        let window = app.config.source_lockout.as_secs() as i64;
        app.store
            .record_failure(ThrottleKey::AcceptSource(ip), now, window)
            .await?;
    }
    opened
}

async fn open_link(
    app: &App,
    raw_token: &str,
) -> ServiceResult<(InvitationToken, Invitation, Organization)> {
    let token = InvitationToken::parse(raw_token).map_err(|_| ServiceError::NotFound)?;
    let now = Now::get().epoch();
    let (inv, org) = tokio::try_join!(
        app.store
            .get_invitation(&token.org_id, &token.invitation_id, now),
        app.store.get_org(&token.org_id)
    )?;
    let (Some(inv), Some(org)) = (inv, org) else {
        return Err(ServiceError::NotFound);
    };
    if !secret::digests_match(&secret::digest(&token.nonce), &inv.nonce_hash) {
        return Err(ServiceError::InvitationSuperseded);
    }
    Ok((token, inv, org))
}

pub async fn preview(app: &App, raw_token: &str, source: Option<&str>) -> ServiceResult<Preview> {
    let (_, inv, org) = open(app, raw_token, source).await?;
    let account = app.store.find_user_by_email(&inv.email).await?;
    Ok(Preview {
        org_id: org.id.to_string(),
        org_name: org.name,
        role: inv.role.as_str().to_string(),
        inviter: inv.inviter_name,
        email: inv.email.to_string(),
        expires_at: inv.expires_at,
        status: inv.status,
        account_exists: account.is_some(),
    })
}

/// Who accepts: an existing account that proved itself, or a new one to create.
enum Acceptor {
    Existing(User),
    New(User),
}

/// An existing account named by the invitation, proved by its password (no bearer).
async fn existing_by_password(
    app: &App,
    inv: &Invitation,
    req: &AcceptRequest,
) -> ServiceResult<Option<User>> {
    let Some(user) = app.store.find_user_by_email(&inv.email).await? else {
        return Ok(None);
    };
    let candidate = req.password.clone().unwrap_or_default();
    let hash = user.password_hash.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&candidate, Some(&hash)))
        .await
        .map_err(|e| ServiceError::Internal(format!("password check: {e}")))?;
    if ok {
        Ok(Some(user))
    } else {
        Err(ServiceError::BadCredentials)
    }
}

/// A new account from the request's name and password.
async fn new_account(inv: &Invitation, req: &AcceptRequest) -> ServiceResult<User> {
    let mut errors = Vec::new();
    let name = match req.name.as_deref().map(PersonName::parse) {
        Some(Ok(n)) => Some(n),
        Some(Err(e)) => {
            errors.push(FieldError::new("name", e.message));
            None
        }
        None => {
            errors.push(FieldError::new("name", "is required for a new account"));
            None
        }
    };
    let password = match req.password.as_deref().map(Password::parse) {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            errors.push(FieldError::new("password", e.message));
            None
        }
        None => {
            errors.push(FieldError::new("password", "is required for a new account"));
            None
        }
    };
    let (Some(name), Some(password)) = (name, password) else {
        return Err(ServiceError::Validation(errors));
    };
    let hash = tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| ServiceError::Internal(format!("password hash: {e}")))?
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let now = Now::get().rfc3339();
    Ok(User {
        id: UserId::new(),
        email: inv.email.clone(),
        name: name.to_string(),
        org_id: None,
        role: None,
        platform_admin: false,
        created_at: now.clone(),
        updated_at: now,
        joined_at: None,
        password_hash: hash,
        token_version: 0,
    })
}

/// Accepts as a signed-in account (bearer), an existing account proved by its password, or
/// a new account (name and password). A new account is attempted without looking the email
/// up first: the transaction's claim on the email refuses it if an account exists, and only
/// then is that account looked up and its password checked. So the signed-in and new-account
/// paths take two round trips: the link's reads (with the caller's), then one transaction
/// that also starts the session.
pub async fn accept(
    app: &App,
    req: AcceptRequest,
    bearer: Option<&str>,
    source: Option<&str>,
) -> ServiceResult<TokenPair> {
    // The link's errors come first, then the bearer's (a bad bearer reads nothing).
    let verified = bearer.map(|b| caller::verify(app, Some(b))).transpose();
    let (opened, signed_in) = tokio::join!(Box::pin(open(app, &req.token, source)), async {
        match verified {
            Ok(Some(v)) => caller::load(app, v).await.map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        }
    });
    let (token, inv, _org) = opened?;
    if inv.status != InvitationStatus::Pending {
        return Err(dead(inv.status));
    }
    let who = match signed_in? {
        Some(user) if user.email != inv.email => return Err(ServiceError::EmailMismatch),
        Some(user) => Acceptor::Existing(user),
        None if req.name.is_some() => Acceptor::New(new_account(&inv, &req).await?),
        None => match existing_by_password(app, &inv, &req).await? {
            Some(user) => Acceptor::Existing(user),
            None => Acceptor::New(new_account(&inv, &req).await?),
        },
    };
    match join(app, &token, &inv, who).await {
        // The email has an account after all: accept as that account, if it proves itself.
        Err(ServiceError::EmailTaken) if bearer.is_none() => {
            let user = existing_by_password(app, &inv, &req)
                .await?
                .ok_or(ServiceError::Conflict)?;
            join(app, &token, &inv, Acceptor::Existing(user)).await
        }
        Err(ServiceError::EmailTaken) => Err(ServiceError::Conflict),
        other => other,
    }
}

/// The acceptance transaction (membership, invitation, audit, session) and its token pair.
async fn join(
    app: &App,
    token: &InvitationToken,
    inv: &Invitation,
    who: Acceptor,
) -> ServiceResult<TokenPair> {
    let (user, new_account) = match who {
        Acceptor::Existing(u) => (u, false),
        Acceptor::New(u) => (u, true),
    };
    if user.org_id == Some(inv.org_id) {
        return Err(ServiceError::AlreadyMember);
    }
    if user.org_id.is_some() {
        return Err(ServiceError::MemberOfAnotherOrganization);
    }
    let now = Now::get();
    let session = NewSession::for_user(app, &user, now);
    match app
        .store
        .accept_invitation(
            inv,
            &user,
            new_account,
            &session.session,
            &now.rfc3339(),
            now.epoch(),
        )
        .await
    {
        Ok(()) => {}
        // Lost a race on the invitation itself: say what happened to it.
        Err(ServiceError::Conflict) => {
            let current = app
                .store
                .get_invitation(&token.org_id, &token.invitation_id, Now::get().epoch())
                .await?;
            return Err(match current {
                Some(c) if c.nonce_hash != inv.nonce_hash => ServiceError::InvitationSuperseded,
                Some(c) if c.status != InvitationStatus::Pending => dead(c.status),
                _ => ServiceError::Conflict,
            });
        }
        Err(e) => return Err(e),
    }
    // What the transaction wrote, without reading it back.
    let mut joined = user;
    joined.org_id = Some(inv.org_id);
    joined.role = Some(inv.role);
    joined.joined_at = Some(now.rfc3339());
    session.issue(app, joined)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    pub token: String,
}

pub async fn decline(app: &App, raw_token: &str, source: Option<&str>) -> ServiceResult<()> {
    let (_, inv, _) = open(app, raw_token, source).await?;
    if inv.status != InvitationStatus::Pending {
        return Err(dead(inv.status));
    }
    let now = Now::get();
    app.store
        .close_invitation(
            &inv,
            InvitationStatus::Declined,
            Some(&inv.nonce_hash),
            None,
            &now.rfc3339(),
            now.epoch(),
        )
        .await
        .map_err(|e| match e {
            ServiceError::Conflict => ServiceError::InvitationSuperseded,
            e => e,
        })
}
