//! Access tokens: JWTs signed with Ed25519 (alg EdDSA) under a `kid`.
//!
//! Every function verifies with the public keys of `JWT_PUBLIC_KEYS` (all of them are
//! published as the JWKS, so a second key can be announced before it signs anything). Only
//! the signing functions (auth, accept) also hold a private key, read once per cold start
//! from Secrets Manager (`signing_key`); elsewhere `TokenKeys` has no `Signer` and cannot
//! issue a token. Verification accepts only EdDSA, a published kid, our issuer, our audience
//! and `typ` "access", so no other token (refresh, invitation) can pass as an access token.

use crate::config::Config;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// The user's organization when issued: a hint of what to read ahead, never authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Whether the user was a platform admin when issued: a hint, as `org`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub adm: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What the user was when a token was issued, so a request can read what it will likely
/// need in the same round trip as the caller. Never authority: every request re-reads the
/// caller and decides on that; a stale hint costs a round trip, nothing else.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hints<'a> {
    pub org: Option<&'a str>,
    pub platform_admin: bool,
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

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the signing key's seed must be base64 of 32 bytes")]
    BadSeed,
    #[error("kid {0:?} must be 1 to 64 letters, digits, '.', '_' or '-'")]
    BadKid(String),
    #[error(
        "the signing key's kid {kid:?} is not in JWT_PUBLIC_KEYS ({published}): publish its \
         public key everywhere before a function signs with it"
    )]
    KidNotPublished { kid: String, published: String },
    #[error(
        "the signing key {kid:?} does not match the public key JWT_PUBLIC_KEYS publishes for \
         that kid"
    )]
    PublicKeyMismatch { kid: String },
    #[error("JWT_PUBLIC_KEYS: the key of {kid:?} is not an Ed25519 public key")]
    BadPublicKey { kid: String },
}

/// Issuing a token failed: this function holds no signing key, or encoding failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot sign an access token: {0}")]
pub struct SignError(pub String);

#[derive(Debug, thiserror::Error)]
#[error("token refused: {0}")]
pub struct TokenRefused(pub String);

/// A `kid` as Roster publishes it: short and plain, so it is safe in a header, a log line
/// and an environment variable.
pub fn valid_kid(kid: &str) -> bool {
    (1..=64).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// One published key: its kid and `x`, the base64url (unpadded) 32-byte Ed25519 public
/// key, as in a JWK. Displays as a `JWT_PUBLIC_KEYS` entry, `kid=x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    kid: String,
    x: String,
}

impl PublicKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn x(&self) -> &str {
        &self.x
    }

    /// One `kid=x` entry.
    pub fn parse(entry: &str) -> Result<Self, String> {
        let (kid, x) = entry
            .split_once('=')
            .ok_or_else(|| format!("entry {entry:?} is not kid=x"))?;
        let (kid, x) = (kid.trim(), x.trim());
        if !valid_kid(kid) {
            return Err(KeyError::BadKid(kid.to_string()).to_string());
        }
        match URL_SAFE_NO_PAD.decode(x) {
            Ok(bytes) if bytes.len() == 32 => Ok(PublicKey {
                kid: kid.to_string(),
                x: x.to_string(),
            }),
            _ => Err(format!(
                "the key of {kid:?} must be base64url (no padding) of a 32-byte Ed25519 public key"
            )),
        }
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.kid, self.x)
    }
}

/// The keys every function verifies with (`JWT_PUBLIC_KEYS`): at least one, kids unique.
/// Displays as the variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeys(Vec<PublicKey>);

impl PublicKeys {
    /// Comma-separated `kid=x` entries.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut keys: Vec<PublicKey> = Vec::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let key = PublicKey::parse(entry)?;
            if keys.iter().any(|k| k.kid == key.kid) {
                return Err(format!("kid {:?} appears twice", key.kid));
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err("needs at least one kid=x entry".into());
        }
        Ok(PublicKeys(keys))
    }

    pub fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.0.iter().find(|k| k.kid == kid)
    }

    pub fn iter(&self) -> impl Iterator<Item = &PublicKey> {
        self.0.iter()
    }
}

impl fmt::Display for PublicKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{key}")?;
        }
        Ok(())
    }
}

/// A private signing key and the kid it signs under. Built from a seed (`signing_key`
/// reads one from Secrets Manager; tests make one in memory); never printed.
#[derive(Clone)]
pub struct Signer {
    public: PublicKey,
    encoding: EncodingKey,
}

/// PKCS#8 v1 wrapper for a raw Ed25519 seed (RFC 8410): a fixed 16-byte prefix.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

impl Signer {
    pub fn from_seed(kid: &str, seed: &[u8]) -> Result<Self, KeyError> {
        if seed.len() != 32 {
            return Err(KeyError::BadSeed);
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| KeyError::BadSeed)?;
        let mut pkcs8 = PKCS8_ED25519_PREFIX.to_vec();
        pkcs8.extend_from_slice(seed);
        Ok(Signer {
            public: PublicKey {
                kid: kid.to_string(),
                x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            },
            encoding: EncodingKey::from_ed_der(&pkcs8),
        })
    }

    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// What `JWT_PUBLIC_KEYS` must publish for this key.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The same private key under another kid (unchecked): what a careless rotation would
    /// deploy. Tests forge tokens with it.
    pub fn with_kid(&self, kid: &str) -> Signer {
        Signer {
            public: PublicKey {
                kid: kid.to_string(),
                x: self.public.x.clone(),
            },
            encoding: self.encoding.clone(),
        }
    }

    /// Signs any claims under this key and kid.
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, SignError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.public.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| SignError(e.to_string()))
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// What a function holds: the published public keys, and the private key only in the
/// functions that sign.
#[derive(Clone)]
pub struct TokenKeys {
    issuer: String,
    audience: String,
    verifying: Vec<(PublicKey, DecodingKey)>,
    signer: Option<Signer>,
}

impl TokenKeys {
    /// Verifies with every key of `JWT_PUBLIC_KEYS`; cannot sign. What every function but
    /// auth and accept holds.
    pub fn verifying(config: &Config) -> Result<Self, KeyError> {
        let verifying = config
            .jwt_public_keys
            .iter()
            .map(|key| {
                // `PublicKeys::parse` checked `x`; a failure here is still reported, not a panic.
                DecodingKey::from_ed_components(&key.x)
                    .map(|decoding| (key.clone(), decoding))
                    .map_err(|_| KeyError::BadPublicKey {
                        kid: key.kid.clone(),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(TokenKeys {
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            verifying,
            signer: None,
        })
    }

    /// Verifies as `verifying`, and signs with `signer`, whose kid and public key must be
    /// published in `JWT_PUBLIC_KEYS`: a key no other function would accept is refused here,
    /// at init, not discovered as 401s after the deploy.
    pub fn signing(config: &Config, signer: Signer) -> Result<Self, KeyError> {
        match config.jwt_public_keys.get(signer.kid()) {
            None => Err(KeyError::KidNotPublished {
                kid: signer.kid().to_string(),
                published: config
                    .jwt_public_keys
                    .iter()
                    .map(PublicKey::kid)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            Some(published) if published != signer.public() => Err(KeyError::PublicKeyMismatch {
                kid: signer.kid().to_string(),
            }),
            Some(_) => Ok(TokenKeys {
                signer: Some(signer),
                ..Self::verifying(config)?
            }),
        }
    }

    pub fn can_sign(&self) -> bool {
        self.signer.is_some()
    }

    /// The private key, in the functions that sign.
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }

    pub fn issue(
        &self,
        user_id: &str,
        version: u64,
        now: i64,
        ttl_secs: i64,
    ) -> Result<String, SignError> {
        self.issue_for_session(user_id, version, None, Hints::default(), now, ttl_secs)
    }

    /// An access token that names the session it belongs to, with the user's hints.
    pub fn issue_for_session(
        &self,
        user_id: &str,
        version: u64,
        session_id: Option<&str>,
        hints: Hints<'_>,
        now: i64,
        ttl_secs: i64,
    ) -> Result<String, SignError> {
        let claims = AccessClaims {
            sid: session_id.map(str::to_string),
            org: hints.org.map(str::to_string),
            adm: hints.platform_admin,
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

    /// Signs any claims with this function's signing key (tests use it to forge near-valid
    /// tokens). Refused where there is none.
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, SignError> {
        self.signer
            .as_ref()
            .ok_or_else(|| {
                SignError("this function holds no signing key (JWT_SIGNING_KEY_SECRET)".into())
            })?
            .sign(claims)
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenRefused> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| TokenRefused(e.to_string()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenRefused("unexpected alg".into()));
        }
        let (_, decoding) = self
            .verifying
            .iter()
            .find(|(key, _)| header.kid.as_deref() == Some(key.kid.as_str()))
            .ok_or_else(|| TokenRefused("unknown kid".into()))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<AccessClaims>(token, decoding, &validation)
            .map_err(|e| TokenRefused(e.to_string()))?;
        if data.claims.typ != ACCESS_TYP {
            return Err(TokenRefused("not an access token".into()));
        }
        Ok(data.claims)
    }

    /// Every published key, in `JWT_PUBLIC_KEYS` order.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self
                .verifying
                .iter()
                .map(|(key, _)| Jwk {
                    kty: "OKP",
                    crv: "Ed25519",
                    alg: "EdDSA",
                    use_: "sig",
                    kid: key.kid.clone(),
                    x: key.x.clone(),
                })
                .collect(),
        }
    }
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field(
                "verifying",
                &self
                    .verifying
                    .iter()
                    .map(|(k, _)| k.kid())
                    .collect::<Vec<_>>(),
            )
            .field("signer", &self.signer.as_ref().map(Signer::kid))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(kid: &str, byte: u8) -> Signer {
        Signer::from_seed(kid, &[byte; 32]).unwrap()
    }

    fn config(public_keys: &str) -> Config {
        Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".into()),
            "JWT_PUBLIC_KEYS" => Some(public_keys.into()),
            _ => None,
        })
        .unwrap()
    }

    fn published(signers: &[&Signer]) -> String {
        signers
            .iter()
            .map(|s| s.public().to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn public_keys_parse_and_display_as_the_variable() {
        let (a, b) = (signer("roster-1", 1), signer("roster-2", 2));
        let value = format!(" {} , {},", a.public(), b.public());
        let keys = PublicKeys::parse(&value).unwrap();
        assert_eq!(keys.to_string(), published(&[&a, &b]));
        assert_eq!(keys.get("roster-2"), Some(b.public()));
        assert_eq!(keys.get("roster-3"), None);
    }

    #[test]
    fn bad_public_key_entries_are_refused() {
        let good = signer("roster-1", 1).public().x().to_string();
        let short = URL_SAFE_NO_PAD.encode([7u8; 31]);
        let padded = format!("{good}=");
        let cases = [
            ("", "at least one"),
            (" , ", "at least one"),
            ("roster-1", "not kid=x"),
            (&format!("={good}") as &str, "kid \"\""),
            (&format!("a b={good}"), "kid \"a b\""),
            (&format!("../x={good}"), "kid \"../x\""),
            (&format!("{}={good}", "k".repeat(65)), "must be 1 to 64"),
            ("roster-1=not base64!", "base64url"),
            (&format!("roster-1={short}"), "32-byte"),
            (&format!("roster-1={padded}"), "base64url"),
            (&format!("roster-1={good},roster-1={good}"), "appears twice"),
        ];
        for (value, expected) in cases {
            let err = PublicKeys::parse(value).unwrap_err();
            assert!(err.contains(expected), "{value:?}: {err}");
        }
    }

    #[test]
    fn a_signer_must_be_published_with_its_own_public_key() {
        let (a, b) = (signer("roster-1", 1), signer("roster-2", 2));
        let only_a = config(&published(&[&a]));
        assert_eq!(
            TokenKeys::signing(&only_a, b.clone()).unwrap_err(),
            KeyError::KidNotPublished {
                kid: "roster-2".into(),
                published: "roster-1".into()
            }
        );
        // roster-2's kid, roster-1's key: a mismatched deploy.
        let mismatched = config(&format!("roster-2={}", a.public().x()));
        let err = TokenKeys::signing(&mismatched, b.clone()).unwrap_err();
        assert_eq!(
            err,
            KeyError::PublicKeyMismatch {
                kid: "roster-2".into()
            }
        );
        assert!(err.to_string().contains("JWT_PUBLIC_KEYS"), "{err}");
        assert!(
            TokenKeys::signing(&config(&published(&[&a, &b])), b)
                .unwrap()
                .can_sign()
        );
    }

    #[test]
    fn a_verifying_function_verifies_every_published_key_and_cannot_sign() {
        let (a, b) = (signer("roster-1", 1), signer("roster-2", 2));
        let both = config(&published(&[&a, &b]));
        let old = TokenKeys::signing(&config(&published(&[&a])), a.clone()).unwrap();
        let new = TokenKeys::signing(&both, b.clone()).unwrap();
        let verifier = TokenKeys::verifying(&both).unwrap();
        assert!(!verifier.can_sign());
        let err = verifier.issue("u", 0, 1_000, 900).unwrap_err();
        assert!(err.to_string().contains("no signing key"), "{err}");

        let now = crate::clock::Now::get().epoch();
        let by_old = old.issue("u", 3, now, 900).unwrap();
        let by_new = new.issue("u", 3, now, 900).unwrap();
        assert_eq!(verifier.verify(&by_old).unwrap().ver, 3);
        assert_eq!(verifier.verify(&by_new).unwrap().ver, 3);
        let kids: Vec<String> = verifier.jwks().keys.into_iter().map(|k| k.kid).collect();
        assert_eq!(kids, ["roster-1", "roster-2"]);

        // Once roster-1 is withdrawn, its tokens are refused.
        let after = TokenKeys::verifying(&config(&published(&[&b]))).unwrap();
        assert!(after.verify(&by_old).is_err());
        assert!(after.verify(&by_new).is_ok());
        // A published kid on a token signed by another key.
        let forged = new.signer().unwrap().with_kid("roster-1");
        let forged = forged.sign(&old.verify(&by_old).unwrap()).unwrap();
        assert!(verifier.verify(&forged).is_err());
    }

    #[test]
    fn debug_output_names_kids_only() {
        let a = signer("roster-1", 1);
        let keys = TokenKeys::signing(&config(&published(&[&a])), a).unwrap();
        let shown = format!("{keys:?}");
        assert!(shown.contains("roster-1"), "{shown}");
        assert!(!shown.contains("encoding"), "{shown}");
    }
}
