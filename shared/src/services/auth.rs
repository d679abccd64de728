//! Sign-in, refresh with rotation and reuse detection, sign-out, and the caller's profile.

use super::{Ctx, attempts};
use crate::app::App;
use crate::auth::jwt::Hints;
use crate::auth::{password, secret};
use crate::clock::Now;
use crate::domain::requests::{Login, RefreshToken};
use crate::domain::{User, UserId};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::Session;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub user: User,
}

/// A refresh token is `<session id>.<secret>`; only the secret's digest is stored.
fn split_refresh_token(token: &str) -> Option<(&str, &str)> {
    let (sid, secret) = token.split_once('.')?;
    let ok = |p: &str| {
        (20..=64).contains(&p.len())
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (ok(sid) && ok(secret)).then_some((sid, secret))
}

/// A session about to start: the item to store and the refresh secret to hand out once.
pub struct NewSession {
    pub session: Session,
    refresh_secret: String,
    now: Now,
}

impl NewSession {
    pub fn for_user(app: &App, user: &User, now: Now) -> NewSession {
        let refresh_secret = secret::random_token();
        NewSession {
            session: Session {
                id: session_id(user),
                user_id: user.id,
                token_hash: secret::digest(&refresh_secret),
                token_version: user.token_version,
                expires_at: now.epoch() + app.config.refresh_token_ttl.as_secs() as i64,
            },
            refresh_secret,
            now,
        }
    }

    /// The token pair, once the session item is stored.
    pub fn issue(self, app: &App, user: User) -> ServiceResult<TokenPair> {
        issue_pair(app, user, &self.session.id, &self.refresh_secret, self.now)
    }
}

/// A session id starts with its user's id, so a refresh reads the session and the user in
/// one round trip; the rest is random. (The id is not the secret: that is the part after
/// the dot, stored only as a digest.)
fn session_id(user: &User) -> String {
    let random = secret::random_token();
    format!("{}_{}", user.id, &random[..24])
}

/// The random part of a session id, after its user's id: small and `Copy`, so a verified
/// caller can carry the session its token was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTag([u8; 24]);

impl SessionTag {
    /// The tag of `session_id`, if that id belongs to `user`.
    pub fn of(session_id: &str, user: &UserId) -> Option<SessionTag> {
        let rest = session_id
            .strip_prefix(&user.to_string())?
            .strip_prefix('_')?;
        let bytes: [u8; 24] = rest.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            .then_some(SessionTag(bytes))
    }

    pub fn session_id(&self, user: &UserId) -> String {
        // Only ASCII was accepted in `of`.
        format!("{user}_{}", String::from_utf8_lossy(&self.0))
    }
}

/// The user id a session id starts with, if it has that form.
fn session_user(session_id: &str) -> Option<UserId> {
    let (id, rest) = session_id.split_at_checked(36)?;
    rest.starts_with('_')
        .then(|| UserId::parse(id).ok())
        .flatten()
}

/// Opens a new session for `user` and issues its first token pair.
pub async fn start_session(app: &App, user: User) -> ServiceResult<TokenPair> {
    let now = Now::get();
    let new = NewSession::for_user(app, &user, now);
    app.store.put_session(&new.session, &now.rfc3339()).await?;
    new.issue(app, user)
}

fn issue_pair(
    app: &App,
    user: User,
    session_id: &str,
    refresh_secret: &str,
    now: Now,
) -> ServiceResult<TokenPair> {
    let ttl = app.config.access_token_ttl.as_secs();
    let org = user.org_id.map(|o| o.to_string());
    let hints = Hints {
        org: org.as_deref(),
        platform_admin: user.platform_admin,
    };
    let access_token = app
        .keys
        .issue_for_session(
            &user.id.to_string(),
            user.token_version,
            Some(session_id),
            hints,
            now.epoch(),
            ttl as i64,
        )
        .map_err(|e| ServiceError::Internal(e.0))?;
    Ok(TokenPair {
        access_token,
        refresh_token: format!("{session_id}.{refresh_secret}"),
        token_type: "Bearer",
        expires_in: ttl,
        user,
    })
}

/// Password check on a blocking thread: argon2 takes tens of milliseconds of CPU.
pub(crate) async fn check_password(
    candidate: String,
    stored: Option<String>,
) -> ServiceResult<bool> {
    tokio::task::spawn_blocking(move || password::verify(&candidate, stored.as_deref()))
        .await
        .map_err(|e| ServiceError::Internal(format!("password check: {e}")))
}

/// Signs in. The attempt is taken from every sign-in limit (per account from this address,
/// per address, per account from anywhere) before the password is checked, in the same
/// round trip as the account's lookup; a limit reached answers 429 with the seconds to wait.
pub async fn login(ctx: &Ctx<'_>, req: Login) -> ServiceResult<TokenPair> {
    let (app, source) = (ctx.app, ctx.client());
    let Login { email, password } = req;
    let password = password.expose();
    let (attempt, user) =
        tokio::try_join!(attempts::password(app, email.as_ref(), source), async {
            match &email {
                Some(e) => app.store.find_user_by_email(e).await,
                None => Ok(None),
            }
        })?;
    let valid = check_password(
        password.to_string(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    match user {
        Some(user) if valid => {
            let ((), pair) = tokio::try_join!(attempt.succeeded(app), start_session(app, user))?;
            Ok(pair)
        }
        _ => {
            attempt.failed();
            Err(ServiceError::BadCredentials)
        }
    }
}

/// Checks `candidate` against `user`'s password as a sign-in attempt: it counts against the
/// same limits as a sign-in (accepting an invitation with an existing account, and
/// re-authenticating before a sensitive change, are sign-ins too).
pub async fn verify_password(
    app: &App,
    user: &User,
    candidate: &str,
    source: Option<&str>,
) -> ServiceResult<bool> {
    let attempt = attempts::password(app, Some(&user.email), source).await?;
    let valid = check_password(candidate.to_string(), Some(user.password_hash.clone())).await?;
    if valid {
        attempt.succeeded(app).await?;
    } else {
        attempt.failed();
    }
    Ok(valid)
}

pub async fn refresh(ctx: &Ctx<'_>, req: RefreshToken) -> ServiceResult<TokenPair> {
    let app = ctx.app;
    let refresh_token = req.0.as_str();
    let (session_id, presented) =
        split_refresh_token(refresh_token).ok_or(ServiceError::Unauthorized)?;
    let (session, user) = tokio::try_join!(app.store.get_session(session_id), async {
        match session_user(session_id) {
            Some(id) => app.store.get_user(&id).await,
            None => Ok(None),
        }
    })?;
    let session = session.ok_or(ServiceError::Unauthorized)?;
    let now = Now::get();
    if session.expires_at <= now.epoch() {
        return Err(ServiceError::Unauthorized);
    }
    if !secret::digests_match(&secret::digest(presented), &session.token_hash) {
        // A real session id with a stale secret: a rotated token came back. Someone holds a
        // copy, so every session of the user ends (RFC 6819 5.2.2.3, OAuth 2.1 4.3.1).
        tracing::warn!(user_id = %session.user_id, "refresh token reuse detected; revoking all sessions");
        app.store.revoke_all_sessions(&session.user_id).await?;
        return Err(ServiceError::Unauthorized);
    }
    let user = match user {
        Some(u) if u.id == session.user_id => u,
        // A session id without its user's id in front (none are issued now).
        _ => app
            .store
            .get_user(&session.user_id)
            .await?
            .ok_or(ServiceError::Unauthorized)?,
    };
    if user.token_version != session.token_version {
        return Err(ServiceError::Unauthorized);
    }
    let next_secret = secret::random_token();
    match app
        .store
        .rotate_session(&session, &user, &secret::digest(&next_secret))
        .await
    {
        Ok(()) => issue_pair(app, user, session_id, &next_secret, now),
        Err(ServiceError::Unauthorized) => {
            // Lost a race with another refresh of the same token: that is reuse too.
            app.store.revoke_all_sessions(&session.user_id).await?;
            Err(ServiceError::Unauthorized)
        }
        Err(e) => Err(e),
    }
}

/// Ends the session the refresh token belongs to. Idempotent: an unknown or already used
/// token is not an error, since the caller's goal (no live session) holds either way.
pub async fn logout(ctx: &Ctx<'_>, req: RefreshToken) -> ServiceResult<()> {
    if let Some((session_id, presented)) = split_refresh_token(&req.0) {
        ctx.app
            .store
            .delete_session(session_id, &secret::digest(presented))
            .await?;
    }
    Ok(())
}

/// Signs out the session the caller's access token was issued for (the console, whose
/// refresh token is in a cookie only /auth/refresh receives). A token that names no session
/// ends nothing; an invalid one is a 401.
pub async fn logout_current(ctx: &Ctx<'_>) -> ServiceResult<()> {
    ctx.verified()?;
    match ctx.session() {
        Some(id) => ctx.app.store.end_session(&id).await,
        None => Ok(()),
    }
}

/// The caller's own record, read again from the table.
/// The caller. A membership is shown only while its organization lives: an account whose
/// item still names a deleted one (its detach has not reached it, or missed it: the members
/// index lags) has none, and its next join or new organization releases it.
/// The caller, with the membership shown only while its organization lives (issue 18.4).
/// The organization the token names is read beside the caller: one round trip, unless the
/// caller has since moved to another.
pub async fn me(ctx: &Ctx<'_>) -> ServiceResult<User> {
    let app = ctx.app;
    let hint = ctx.verified()?.org_hint;
    let (user, hinted) = ctx
        .caller_and(async {
            match hint {
                Some(id) => app.store.get_org(&id).await,
                None => Ok(None),
            }
        })
        .await?;
    let Some(org) = user.org_id else {
        return Ok(user);
    };
    let live = if hint == Some(org) {
        hinted.is_some()
    } else {
        app.store.get_org(&org).await?.is_some()
    };
    Ok(if live {
        user
    } else {
        super::ctx::without_membership(user)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_split_only_when_well_formed() {
        let sid = secret::random_token();
        let sec = secret::random_token();
        assert_eq!(
            split_refresh_token(&format!("{sid}.{sec}")),
            Some((sid.as_str(), sec.as_str()))
        );
        assert!(split_refresh_token("nodot").is_none());
        assert!(split_refresh_token("a.b").is_none());
        assert!(split_refresh_token(&format!("{sid}.{sec}.x")).is_none());
        assert!(split_refresh_token(&format!("{sid}.{}", "é".repeat(30))).is_none());
    }

    #[test]
    fn session_ids_lead_with_their_user() {
        let user = UserId::new();
        let sid = format!("{user}_{}", &secret::random_token()[..24]);
        assert_eq!(session_user(&sid), Some(user));
        assert!(split_refresh_token(&format!("{sid}.{}", secret::random_token())).is_some());
        assert_eq!(session_user(&secret::random_token()), None);
        assert_eq!(session_user(&format!("{user}x{}", "a".repeat(24))), None);
        assert_eq!(session_user("short"), None);
        let tag = SessionTag::of(&sid, &user).expect("a session id of its user");
        assert_eq!(tag.session_id(&user), sid);
        assert_eq!(SessionTag::of(&sid, &UserId::new()), None);
        assert_eq!(SessionTag::of(&format!("{user}_short"), &user), None);
        assert_eq!(
            SessionTag::of(&format!("{user}_{}", "é".repeat(12)), &user),
            None
        );
    }
}
