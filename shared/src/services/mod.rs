//! One module per operation family: a caller and a parsed request in, a result or a typed
//! `ServiceError` out. No HTTP types here.

pub mod accept;
pub mod access;
pub mod attempts;
pub mod auth;
pub mod caller;
pub mod cleanup;
pub mod email_change;
pub mod invitations;
pub mod members;
pub mod orgs;
pub mod users;

/// Page size from `?limit=`: 1 to 100, default 50.
pub fn page_limit(raw: Option<&str>) -> crate::error::ServiceResult<i32> {
    match raw {
        None => Ok(50),
        Some(v) => v
            .parse::<i32>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| {
                crate::error::ServiceError::field("limit", "must be an integer from 1 to 100")
            }),
    }
}
