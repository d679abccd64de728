//! Who is calling: the bearer token is verified, then the user is read again from the
//! table on every request, so a removed, demoted or deleted user, or a revoked session,
//! takes effect on the next request rather than at token expiry.

use crate::app::App;
use crate::domain::{User, UserId};
use crate::error::{ServiceError, ServiceResult};

pub async fn authenticate(app: &App, bearer: Option<&str>) -> ServiceResult<User> {
    let token = bearer.ok_or(ServiceError::Unauthorized)?;
    let claims = app.keys.verify(token).map_err(|e| {
        tracing::info!(reason = %e.0, "access token refused");
        ServiceError::Unauthorized
    })?;
    let id = UserId::parse(&claims.sub).map_err(|_| ServiceError::Unauthorized)?;
    let user = app
        .store
        .get_user(&id)
        .await?
        .ok_or(ServiceError::Unauthorized)?;
    if user.token_version != claims.ver {
        return Err(ServiceError::Unauthorized);
    }
    Ok(user)
}
