//! One module per operation family, one function per operation: a context (`Ctx`) and a
//! typed request in; the service reads what it needs (the caller included) in one wave,
//! decides, writes, and returns a result or a typed `ServiceError`. No HTTP types here.

pub mod accept;
pub mod access;
pub mod attempts;
pub mod audit;
pub mod auth;
pub mod caller;
pub mod cleanup;
mod ctx;
pub mod email_change;
pub mod invitations;
pub mod members;
pub mod orgs;
pub mod users;

pub use ctx::{Credentials, Ctx};
