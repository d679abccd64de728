//! The invitee's side: preview a link, accept it (creating or proving an account), decline.

use super::attempts::{self, Attempt};
use super::auth::{self, NewSession, TokenPair};
use super::ctx::{Credentials, Ctx};
use super::invitations::dead;
use crate::app::App;
use crate::auth::secret;
use crate::clock::Now;
use crate::domain::{
    GivenPassword, Invitation, InvitationStatus, InvitationToken, Organization, Password,
    PersonName, PresentedLink, User,
};
use crate::error::{FieldError, ServiceError, ServiceResult};
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
    pub token: PresentedLink,
    #[serde(default)]
    pub name: Option<String>,
    /// An existing account's password, or a new account's (parsed by the policy once it is
    /// known that the account is new).
    #[serde(default)]
    pub password: Option<GivenPassword>,
}

/// The invitation and organization a link names, provided the link is the current one,
/// and the attempt taken from the address's limit on bad links, to be given back.
struct Opened {
    token: InvitationToken,
    inv: Invitation,
    org: Organization,
    link: Attempt,
}

/// Opens a link. A malformed or unknown token is a 404; an older link of a resent
/// invitation is 410. Each attempt is taken from the client address's limit before the
/// link is looked up (in the same round trip), and stays counted only if the link was bad:
/// past the limit the address gets 429 for the rest of the window, so links cannot be
/// guessed at speed, even by parallel requests.
async fn open(app: &App, link: &PresentedLink, source: Option<&str>) -> ServiceResult<Opened> {
    let (link, opened) = tokio::join!(attempts::link(app, source), Box::pin(open_link(app, link)));
    let link = link?;
    match opened {
        Ok((token, inv, org)) => Ok(Opened {
            token,
            inv,
            org,
            link,
        }),
        Err(e @ (ServiceError::NotFound | ServiceError::InvitationSuperseded)) => {
            link.failed();
            Err(e)
        }
        Err(e) => {
            link.give_back(app).await?;
            Err(e)
        }
    }
}

async fn open_link(
    app: &App,
    link: &PresentedLink,
) -> ServiceResult<(InvitationToken, Invitation, Organization)> {
    let token = link.token.clone().ok_or(ServiceError::NotFound)?;
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

pub async fn preview(ctx: &Ctx<'_>, link: &PresentedLink) -> ServiceResult<Preview> {
    let app = ctx.app;
    let Opened { inv, org, link, .. } = open(app, link, ctx.client()).await?;
    let ((), account) = tokio::try_join!(
        link.give_back(app),
        app.store.find_user_by_email(&inv.email)
    )?;
    Ok(Preview {
        org_id: org.id.to_string(),
        org_name: org.name,
        role: inv.role.as_str().to_string(),
        inviter: inv.inviter_name,
        email: inv.email.to_string(),
        expires_at: inv.expires_at.into(),
        status: inv.status,
        account_exists: account.is_some(),
    })
}

/// Who accepts: an existing account that proved itself, or a new one to create.
enum Acceptor {
    Existing(User),
    New(User),
}

/// An existing account named by the invitation, proved by its password (no bearer), with
/// its sign-in attempt: checking the password counts against the sign-in limits, and the
/// attempt is taken in the same round trip as the account's lookup.
async fn existing_by_password(
    app: &App,
    inv: &Invitation,
    req: &AcceptRequest,
    source: Option<&str>,
) -> ServiceResult<Option<(User, Attempt)>> {
    let (attempt, user) = tokio::try_join!(
        attempts::password(app, Some(&inv.email), source),
        app.store.find_user_by_email(&inv.email)
    )?;
    let Some(user) = user else {
        attempt.give_back(app).await?;
        return Ok(None);
    };
    let candidate = req
        .password
        .clone()
        .unwrap_or_default()
        .expose()
        .to_string();
    if auth::check_password(candidate, Some(user.password_hash.clone())).await? {
        Ok(Some((user, attempt)))
    } else {
        attempt.failed();
        Err(ServiceError::BadCredentials)
    }
}

/// Joins as an account that proved its password; the attempt is given back meanwhile.
async fn join_proved(
    app: &App,
    opened: (&InvitationToken, &Invitation, &Organization),
    (user, attempt): (User, Attempt),
) -> ServiceResult<TokenPair> {
    let (joined, given) = tokio::join!(
        join(app, opened, Acceptor::Existing(user)),
        attempt.succeeded(app)
    );
    let pair = joined?;
    given?;
    Ok(pair)
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
    let password = match req.password.as_ref().map(|p| Password::parse(p.expose())) {
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
    let hash = super::users::hash(password).await?;
    let now = Now::get().rfc3339();
    Ok(User::new(inv.email.clone(), name.to_string(), hash, &now))
}

/// Accepts as a signed-in account (bearer), an existing account proved by its password, or
/// a new account (name and password). A new account is attempted without looking the email
/// up first: the transaction's claim on the email refuses it if an account exists, and only
/// then is that account looked up and its password checked. So the signed-in and new-account
/// paths take two round trips: the link's reads (with the caller's), then one transaction
/// that also starts the session.
pub async fn accept(ctx: &Ctx<'_>, req: AcceptRequest) -> ServiceResult<TokenPair> {
    let app = ctx.app;
    let source = ctx.client();
    // The link's errors come first, then the bearer's (a refused bearer reads nothing).
    let (opened, signed_in) = tokio::join!(Box::pin(open(app, &req.token, source)), async {
        match ctx.credentials {
            Credentials::Valid(_) => ctx.caller().await.map(Some),
            Credentials::None => Ok(None),
            Credentials::Refused => Err(ServiceError::Unauthorized),
        }
    });
    let has_bearer = !matches!(ctx.credentials, Credentials::None);
    let Opened {
        token,
        inv,
        org,
        link,
    } = opened?;
    // The link was good: its attempt is given back beside the acceptance's next request (so
    // it takes no round trip of its own), or at the end if none came.
    let mut link = Some(link);
    let accepted = Box::pin(accept_opened(
        app,
        &req,
        (&token, &inv, &org),
        signed_in,
        has_bearer,
        source,
        &mut link,
    ))
    .await;
    beside(app, &mut link, async {}).await;
    accepted
}

/// Runs `step` with the link's attempt (if still held) given back alongside it.
async fn beside<T>(
    app: &App,
    link: &mut Option<Attempt>,
    step: impl std::future::Future<Output = T>,
) -> T {
    let Some(held) = link.take() else {
        return step.await;
    };
    let (given, out) = tokio::join!(held.give_back(app), step);
    if let Err(e) = given {
        // The address's count stays one too high until its window ends: logged, not fatal.
        tracing::warn!(error = %e, "link attempt not given back");
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn accept_opened(
    app: &App,
    req: &AcceptRequest,
    (token, inv, org): (&InvitationToken, &Invitation, &Organization),
    signed_in: ServiceResult<Option<User>>,
    has_bearer: bool,
    source: Option<&str>,
    link: &mut Option<Attempt>,
) -> ServiceResult<TokenPair> {
    if inv.status != InvitationStatus::Pending {
        return Err(dead(inv.status));
    }
    let who = match signed_in? {
        Some(user) if user.email != inv.email => return Err(ServiceError::EmailMismatch),
        Some(user) => Acceptor::Existing(user),
        None if req.name.is_some() => Acceptor::New(new_account(inv, req).await?),
        None => match beside(app, link, existing_by_password(app, inv, req, source)).await? {
            Some(proved) => return join_proved(app, (token, inv, org), proved).await,
            None => Acceptor::New(new_account(inv, req).await?),
        },
    };
    match beside(app, link, join(app, (token, inv, org), who)).await {
        // The email has an account after all: accept as that account, if it proves itself.
        Err(ServiceError::EmailTaken) if !has_bearer => {
            let proved = existing_by_password(app, inv, req, source)
                .await?
                .ok_or(ServiceError::Conflict)?;
            join_proved(app, (token, inv, org), proved).await
        }
        Err(ServiceError::EmailTaken) => Err(ServiceError::Conflict),
        other => other,
    }
}

/// The acceptance transaction (membership, invitation, audit, session) and its token pair.
async fn join(
    app: &App,
    (token, inv, org): (&InvitationToken, &Invitation, &Organization),
    who: Acceptor,
) -> ServiceResult<TokenPair> {
    let (user, new_account) = match who {
        Acceptor::Existing(u) => (u, false),
        Acceptor::New(u) => (u, true),
    };
    let user = match user.org_id {
        Some(org) if org != inv.org_id => app.store.without_dead_membership(user).await?,
        _ => user,
    };
    if user.org_id == Some(inv.org_id) {
        return Err(ServiceError::AlreadyMember);
    }
    if user.org_id.is_some() {
        return Err(ServiceError::MemberOfAnotherOrganization);
    }
    // A seat-limited org whose shards still count is settled first (issue 18.3).
    app.store.settle_count(org).await?;
    let now = Now::get();
    let session = NewSession::for_user(app, &user, now);
    match app
        .store
        .accept_invitation(
            inv,
            &user,
            app.store.counter(Some(&org.tier)),
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
    joined.joined_at = Some(now.rfc3339().into());
    session.issue(app, joined)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    pub token: PresentedLink,
}

pub async fn decline(ctx: &Ctx<'_>, link: &PresentedLink) -> ServiceResult<()> {
    let app = ctx.app;
    let Opened { inv, link, .. } = open(app, link, ctx.client()).await?;
    let ((), declined) = tokio::join!(
        async {
            link.give_back(app)
                .await
                .unwrap_or_else(|e| tracing::warn!(error = %e, "link attempt not given back"))
        },
        close_declined(app, &inv)
    );
    declined
}

async fn close_declined(app: &App, inv: &Invitation) -> ServiceResult<()> {
    if inv.status != InvitationStatus::Pending {
        return Err(dead(inv.status));
    }
    let now = Now::get();
    app.store
        .close_invitation(
            inv,
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
