//! Credentials: password hashing, access tokens (JWT, EdDSA), the signing key's secret and
//! opaque secrets.

pub mod jwt;
pub mod password;
pub mod secret;
pub mod signing_key;

pub use jwt::{AccessClaims, Jwks, Signer, TokenKeys};
pub use signing_key::SigningSecret;
