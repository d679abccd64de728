//! The private signing key, kept in AWS Secrets Manager (the local emulator stands in):
//! the secret's string is `{"kid": "roster-1", "seed": "<base64 of the 32-byte Ed25519
//! seed>"}`. The signing functions read it once per cold start (`read`); `roster-admin`
//! creates and replaces it (`put`). No environment variable or template parameter ever holds
//! the seed, and nothing here prints it.

use super::jwt::{KeyError, Signer, valid_kid};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kid of a first key.
pub const DEFAULT_KID: &str = "roster-1";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the signing key secret is not JSON of the form {{\"kid\": \"...\", \"seed\": \"...\"}} \
         (line {line}, column {column})"
    )]
    NotJson { line: usize, column: usize },
    #[error("the signing key secret: {0}")]
    Key(#[from] KeyError),
    #[error("reading the signing key secret {secret_id:?} from Secrets Manager: {reason}")]
    Read { secret_id: String, reason: String },
    #[error("the signing key secret {0:?} has no SecretString")]
    NotAString(String),
    #[error("writing the signing key secret {secret_id:?} to Secrets Manager: {reason}")]
    Write { secret_id: String, reason: String },
}

/// The secret's value. Parsing checks the kid and the seed, so a value that parses signs.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningSecret {
    kid: String,
    seed: String,
}

impl SigningSecret {
    /// A new random key under `kid`.
    pub fn generate(kid: &str) -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
        let secret = SigningSecret {
            kid: kid.to_string(),
            seed: STANDARD.encode(seed),
        };
        secret.signer()?;
        Ok(secret)
    }

    pub fn parse(json: &str) -> Result<Self, SecretError> {
        // serde_json's message could quote the value: report only where it went wrong.
        let secret: SigningSecret =
            serde_json::from_str(json).map_err(|e| SecretError::NotJson {
                line: e.line(),
                column: e.column(),
            })?;
        secret.signer()?;
        Ok(secret)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The secret's string, as Secrets Manager stores it.
    pub fn to_json(&self) -> String {
        serde_json::json!({"kid": self.kid, "seed": self.seed}).to_string()
    }

    pub fn signer(&self) -> Result<Signer, KeyError> {
        if !valid_kid(&self.kid) {
            return Err(KeyError::BadKid(self.kid.clone()));
        }
        let seed = STANDARD
            .decode(self.seed.trim())
            .map_err(|_| KeyError::BadSeed)?;
        Signer::from_seed(&self.kid, &seed)
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningSecret")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The current value of `secret_id` (a name or an ARN): one GetSecretValue.
pub async fn read(client: &Client, secret_id: &str) -> Result<SigningSecret, SecretError> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| SecretError::Read {
            secret_id: secret_id.to_string(),
            reason: reason(&e),
        })?;
    let json = out
        .secret_string()
        .ok_or_else(|| SecretError::NotAString(secret_id.to_string()))?;
    SigningSecret::parse(json)
}

/// Whether `put` created the secret or gave it a new current value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Created,
    Updated,
}

/// Makes `secret` the current value of `secret_id`: CreateSecret, or PutSecretValue when the
/// secret exists (the previous value stays as the AWSPREVIOUS version).
pub async fn put(
    client: &Client,
    secret_id: &str,
    secret: &SigningSecret,
) -> Result<Put, SecretError> {
    let write_error = |reason: String| SecretError::Write {
        secret_id: secret_id.to_string(),
        reason,
    };
    let created = client
        .create_secret()
        .name(secret_id)
        .description(
            "Roster: the Ed25519 key that signs access tokens (roster-admin put-signing-key)",
        )
        .secret_string(secret.to_json())
        .send()
        .await;
    match created {
        Ok(_) => Ok(Put::Created),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_exists_exception()) =>
        {
            client
                .put_secret_value()
                .secret_id(secret_id)
                .secret_string(secret.to_json())
                .send()
                .await
                .map_err(|e| write_error(reason(&e)))?;
            Ok(Put::Updated)
        }
        Err(e) => Err(write_error(reason(&e))),
    }
}

/// Why a request failed, never with a response body in it (a body of GetSecretValue could
/// hold the key).
fn reason<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    match e {
        SdkError::ServiceError(ctx) => format!(
            "{}: {}",
            ctx.err().code().unwrap_or("unknown error"),
            ctx.err().message().unwrap_or("no message")
        ),
        SdkError::ResponseError(_) => "the response could not be read".into(),
        // Timeouts and connection or request-building failures: no response involved.
        other => DisplayErrorContext(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_round_trips_and_signs() {
        let secret = SigningSecret::generate("roster-2").unwrap();
        let json = secret.to_json();
        let back = SigningSecret::parse(&json).unwrap();
        assert_eq!(back.kid(), "roster-2");
        assert_eq!(
            back.signer().unwrap().public(),
            secret.signer().unwrap().public()
        );
        assert_ne!(
            SigningSecret::generate("roster-2")
                .unwrap()
                .signer()
                .unwrap()
                .public(),
            secret.signer().unwrap().public()
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["kid"], "roster-2");
        assert_eq!(
            STANDARD
                .decode(value["seed"].as_str().unwrap())
                .unwrap()
                .len(),
            32
        );
    }

    #[test]
    fn a_known_seed_gives_its_known_public_key() {
        // RFC 8032, section 7.1, test 1.
        let seed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
        let secret =
            SigningSecret::parse(&format!(r#"{{"kid":"roster-1","seed":"{seed}"}}"#)).unwrap();
        assert_eq!(
            secret.signer().unwrap().public().to_string(),
            "roster-1=11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
    }

    #[test]
    fn bad_secrets_are_refused_without_echoing_them() {
        let seed = STANDARD.encode([9u8; 32]);
        let cases = [
            ("not json".to_string(), "not JSON"),
            (format!(r#"{{"seed":"{seed}"}}"#), "not JSON"),
            (r#"{"kid":"roster-1"}"#.into(), "not JSON"),
            (
                format!(r#"{{"kid":"roster-1","seed":"{seed}","x":1}}"#),
                "not JSON",
            ),
            (format!(r#"{{"kid":1,"seed":"{seed}"}}"#), "not JSON"),
            (r#"{"kid":"roster-1","seed":"c2hvcnQ="}"#.into(), "32 bytes"),
            (r#"{"kid":"roster-1","seed":"%%%"}"#.into(), "32 bytes"),
            (format!(r#"{{"kid":"a/b","seed":"{seed}"}}"#), "kid \"a/b\""),
            (format!(r#"{{"kid":"","seed":"{seed}"}}"#), "kid \"\""),
        ];
        for (json, expected) in cases {
            let err = SigningSecret::parse(&json).unwrap_err().to_string();
            assert!(err.contains(expected), "{json}: {err}");
            assert!(!err.contains(&seed), "{json}: {err}");
        }
    }

    #[test]
    fn debug_output_hides_the_seed() {
        let secret = SigningSecret::generate("roster-1").unwrap();
        let shown = format!("{secret:?}");
        assert!(shown.contains("roster-1"), "{shown}");
        assert!(!shown.contains(&secret.seed), "{shown}");
    }
}
