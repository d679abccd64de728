//! Who is calling: the bearer token is verified, then the user is read again from the
//! table on every request, so a removed, demoted or deleted user, or a revoked session,
//! takes effect on the next request rather than at token expiry.

use super::auth::SessionTag;
use crate::app::App;
use crate::domain::{OrgId, User, UserId};
use crate::error::{ServiceError, ServiceResult};

/// A bearer token whose signature, audience and expiry checked out; nothing read yet.
#[derive(Debug, Clone, Copy)]
pub struct Verified {
    pub user_id: UserId,
    token_version: u64,
    /// The session the token was issued for, when it names one.
    pub session: Option<SessionTag>,
    /// The token's hints (`jwt::Hints`): what to read ahead, never authority.
    pub org_hint: Option<OrgId>,
    pub admin_hint: bool,
}

/// Checks the token without I/O, so a request without a valid one reads nothing.
pub fn verify(app: &App, bearer: Option<&str>) -> ServiceResult<Verified> {
    let token = bearer.ok_or(ServiceError::Unauthorized)?;
    let claims = app.keys.verify(token).map_err(|e| {
        tracing::info!(reason = %e.0, "access token refused");
        ServiceError::Unauthorized
    })?;
    let user_id = UserId::parse(&claims.sub).map_err(|_| ServiceError::Unauthorized)?;
    Ok(Verified {
        user_id,
        token_version: claims.ver,
        session: claims
            .sid
            .as_deref()
            .and_then(|sid| SessionTag::of(sid, &user_id)),
        org_hint: claims.org.as_deref().and_then(|o| OrgId::parse(o).ok()),
        admin_hint: claims.adm,
    })
}

/// The verified caller's current record (one GetItem).
pub async fn load(app: &App, verified: Verified) -> ServiceResult<User> {
    let user = app
        .store
        .get_user(&verified.user_id)
        .await?
        .ok_or(ServiceError::Unauthorized)?;
    if user.token_version != verified.token_version {
        return Err(ServiceError::Unauthorized);
    }
    Ok(user)
}
