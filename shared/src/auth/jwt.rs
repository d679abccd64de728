//! Access tokens: JWTs signed with Ed25519 (alg EdDSA) under a `kid`; the public key is
//! served as a JWKS. Verification accepts only EdDSA, our issuer, our audience and `typ`
//! "access", so no other token (refresh, invitation) can pass as an access token.

use crate::config::Config;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ACCESS_TYP: &str = "access";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's token version when issued; bumping it on the user ends every session.
    pub ver: u64,
    pub typ: String,
    /// The session the token was issued for (a password change keeps that one alive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub kid: String,
    pub x: String,
}

#[derive(Debug, Serialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("JWT_SIGNING_KEY must be base64 of a 32-byte Ed25519 seed")]
    BadSeed,
}

#[derive(Debug, thiserror::Error)]
#[error("token refused: {0}")]
pub struct TokenRefused(pub String);

pub struct TokenKeys {
    kid: String,
    issuer: String,
    audience: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public_x: String,
}

/// PKCS#8 v1 wrapper for a raw Ed25519 seed (RFC 8410): a fixed 16-byte prefix.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

impl TokenKeys {
    pub fn from_config(config: &Config) -> Result<Self, KeyError> {
        let seed = STANDARD
            .decode(config.jwt_signing_key.trim())
            .map_err(|_| KeyError::BadSeed)?;
        if seed.len() != 32 {
            return Err(KeyError::BadSeed);
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| KeyError::BadSeed)?;
        let public = pair.public_key().as_ref().to_vec();
        let mut pkcs8 = PKCS8_ED25519_PREFIX.to_vec();
        pkcs8.extend_from_slice(&seed);
        let public_x = URL_SAFE_NO_PAD.encode(&public);
        let decoding = DecodingKey::from_ed_components(&public_x).map_err(|_| KeyError::BadSeed)?;
        Ok(TokenKeys {
            kid: config.jwt_key_id.clone(),
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            encoding: EncodingKey::from_ed_der(&pkcs8),
            decoding,
            public_x,
        })
    }

    /// A fresh random seed, base64: what `JWT_SIGNING_KEY` holds.
    pub fn generate_seed() -> String {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
        STANDARD.encode(seed)
    }

    pub fn issue(
        &self,
        user_id: &str,
        version: u64,
        now: i64,
        ttl_secs: i64,
    ) -> Result<String, TokenRefused> {
        self.issue_for_session(user_id, version, None, now, ttl_secs)
    }

    /// An access token that names the session it belongs to.
    pub fn issue_for_session(
        &self,
        user_id: &str,
        version: u64,
        session_id: Option<&str>,
        now: i64,
        ttl_secs: i64,
    ) -> Result<String, TokenRefused> {
        let claims = AccessClaims {
            sid: session_id.map(str::to_string),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            iat: now,
            exp: now + ttl_secs,
            ver: version,
            typ: ACCESS_TYP.to_string(),
        };
        self.sign(&claims)
    }

    /// Signs any claims under this key (tests use it to forge near-valid tokens).
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, TokenRefused> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| TokenRefused(e.to_string()))
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenRefused> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| TokenRefused(e.to_string()))?;
        if header.alg != Algorithm::EdDSA || header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(TokenRefused("unexpected alg or kid".into()));
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|e| TokenRefused(e.to_string()))?;
        if data.claims.typ != ACCESS_TYP {
            return Err(TokenRefused("not an access token".into()));
        }
        Ok(data.claims)
    }

    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![Jwk {
                kty: "OKP",
                crv: "Ed25519",
                alg: "EdDSA",
                use_: "sig",
                kid: self.kid.clone(),
                x: self.public_x.clone(),
            }],
        }
    }
}
