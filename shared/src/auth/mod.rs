//! Credentials: password hashing, access tokens (JWT, EdDSA) and opaque secrets.

pub mod jwt;
pub mod password;
pub mod secret;

pub use jwt::{AccessClaims, Jwks, TokenKeys};
