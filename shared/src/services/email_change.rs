//! A self-service change of email address: the new address gets a single-use, expiring link
//! (`<user id>.<secret>`, only the secret's digest stored, as invitation and refresh tokens
//! are); until it is used the old email stays and the new one is not claimed.

use super::Ctx;
use crate::app::App;
use crate::auth::secret;
use crate::clock::Now;
use crate::domain::{Email, EmailChangeLink, User};
use crate::error::{ServiceError, ServiceResult};
use crate::mail::EmailChangeEmail;
use crate::storage::EmailChange;

/// How long a confirmation link works.
pub const LINK_TTL_SECS: i64 = 24 * 3600;

/// Sends the confirmation link to `new_email`. An address some account holds is refused at
/// once (and again, atomically, at confirmation).
pub async fn request(app: &App, user: &User, new_email: &Email) -> ServiceResult<()> {
    if app.store.email_claimed(new_email).await? {
        return Err(ServiceError::EmailTaken);
    }
    let now = Now::get();
    let nonce = secret::random_token();
    let change = EmailChange {
        user_id: user.id,
        new_email: new_email.clone(),
        nonce_hash: secret::digest(&nonce),
        expires_at: now.epoch() + LINK_TTL_SECS,
    };
    app.store.put_email_change(&change).await?;
    let link = format!(
        "{}/confirm-email?token={}.{nonce}",
        app.config.app_base_url, user.id
    );
    app.mailer
        .send_email_change(&EmailChangeEmail {
            to: new_email.as_ref(),
            name: &user.name,
            expires_at: &now.after_secs(LINK_TTL_SECS).rfc3339(),
            link: &link,
        })
        .await
        // Unlike an invitation, nothing to resend from: the caller asks again.
        .map_err(ServiceError::Unavailable)
}

/// Uses a link: the new email becomes the account's. Unknown, used, replaced or expired
/// links are all 404 (a link reveals nothing about the account).
pub async fn confirm(ctx: &Ctx<'_>, link: Option<&EmailChangeLink>) -> ServiceResult<User> {
    let app = ctx.app;
    let (user_id, nonce) = link
        .map(|l| (l.user, l.nonce.as_str()))
        .ok_or(ServiceError::NotFound)?;
    let (change, user) = tokio::try_join!(
        app.store.get_email_change(&user_id),
        app.store.get_user(&user_id)
    )?;
    let (Some(change), Some(user)) = (change, user) else {
        return Err(ServiceError::NotFound);
    };
    let now = Now::get();
    if !secret::digests_match(&secret::digest(nonce), &change.nonce_hash)
        || change.expires_at <= now.epoch()
    {
        return Err(ServiceError::NotFound);
    }
    app.store
        .confirm_email_change(&user, &change, &now.rfc3339(), now.epoch())
        .await?;
    let mut changed = user;
    changed.email = change.new_email;
    changed.updated_at = now.rfc3339().into();
    Ok(changed)
}
