//! The signing key in Secrets Manager, end to end against the emulator: a signing function
//! reads it at init (an App built from environment lookups, as `runtime::serve` builds one),
//! a function without it verifies but cannot sign, a mismatched deploy fails at init, and a
//! rotation keeps the old kid's tokens valid until the old kid is withdrawn.

use crate::common;

use common::{TestApp, unique_email};
use roster::App;
use roster::app::InitError;
use roster::auth::SigningSecret;
use roster::auth::jwt::KeyError;
use roster::auth::signing_key::{self, Put, SecretError};
use serde_json::Value;
use std::sync::Arc;

async fn secrets() -> aws_sdk_secretsmanager::Client {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_secretsmanager::Client::new(&aws)
}

fn new_secret(kid: &str) -> SigningSecret {
    SigningSecret::generate(kid).expect("key")
}

fn public(secret: &SigningSecret) -> String {
    secret.signer().expect("signer").public().to_string()
}

fn unique_secret_id() -> String {
    format!("roster-test/signing-key-{}", uuid::Uuid::new_v4().simple())
}

/// A function's init as in Lambda: its variables (the rest, such as AWS_REGION and
/// AWS_ENDPOINT_URL, from this process), the lean SDK config, the secret if it has one.
async fn function(
    table: &str,
    public_keys: &str,
    secret_id: Option<&str>,
) -> Result<Arc<App>, InitError> {
    let (table, public_keys) = (table.to_string(), public_keys.to_string());
    let secret_id = secret_id.map(str::to_string);
    App::from_lookup(move |name| match name {
        "TABLE_NAME" => Some(table.clone()),
        "JWT_PUBLIC_KEYS" => Some(public_keys.clone()),
        "JWT_SIGNING_KEY_SECRET" => secret_id.clone(),
        // The emulator is single-threaded and shares two cores with the other tests.
        "AWS_ATTEMPT_TIMEOUT_SECONDS" => Some("20".into()),
        other => std::env::var(other).ok(),
    })
    .await
}

async fn deployed(t: &TestApp, public_keys: &str, secret_id: Option<&str>) -> TestApp {
    let app = function(&t.app.config.table_name, public_keys, secret_id)
        .await
        .unwrap_or_else(|e| panic!("init: {e}"));
    t.beside(app)
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("header")
        .kid
        .expect("kid")
}

async fn jwks_kids(t: &TestApp) -> Vec<String> {
    let r = t.jwks().await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn me(t: &TestApp, token: &str) -> u16 {
    t.me(&token).await.status
}

fn init_error(result: Result<Arc<App>, InitError>) -> InitError {
    match result {
        Ok(_) => panic!("init succeeded"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn a_signing_function_reads_its_key_from_secrets_manager_and_the_others_only_verify() {
    let t = TestApp::spawn().await;
    let email = unique_email("keys");
    t.create_user(&email, None, false).await;
    let secret = new_secret("roster-1");
    let secret_id = unique_secret_id();
    let put = signing_key::put(&secrets().await, &secret_id, &secret)
        .await
        .expect("put");
    assert_eq!(put, Put::Created);
    let published = public(&secret);

    let auth = deployed(&t, &published, Some(&secret_id)).await;
    assert!(auth.app.keys.can_sign());
    let signed_in = auth.login(&email).await;
    assert_eq!(kid_of(&signed_in.token), "roster-1");

    let members = deployed(&t, &published, None).await;
    assert!(!members.app.keys.can_sign());
    assert_eq!(me(&members, &signed_in.token).await, 200);
    let users = members.user(&signed_in, signed_in.user.id).await;
    assert_eq!(users.status, 200, "{}", users.body);
    let jwks = members.jwks().await;
    assert_eq!(jwks.body["keys"][0]["kid"], "roster-1");
    assert_eq!(
        format!(
            "roster-1={}",
            jwks.body["keys"][0]["x"].as_str().unwrap_or("")
        ),
        published
    );

    // No key, no token: issuing one is an internal error, never an unsigned token.
    assert!(members.app.keys.issue("u", 0, 0, 900).is_err());
    let refused = members.sign_in(&email, common::PASSWORD).await;
    assert_eq!(refused.status, 500, "{}", refused.body);
    assert!(refused.body.get("access_token").is_none());
}

#[tokio::test]
async fn a_signing_function_whose_key_is_not_published_fails_at_init() {
    let t = TestApp::spawn().await;
    let table = t.app.config.table_name.clone();
    let client = secrets().await;
    let secret = new_secret("roster-1");
    let secret_id = unique_secret_id();
    signing_key::put(&client, &secret_id, &secret)
        .await
        .expect("put");
    let other = new_secret("roster-1");

    // The kid is published with another key.
    let e = init_error(function(&table, &public(&other), Some(&secret_id)).await);
    assert!(
        matches!(&e, InitError::Key(KeyError::PublicKeyMismatch { kid }) if kid == "roster-1"),
        "{e}"
    );
    // The kid is not published at all.
    let e = init_error(function(&table, &public(&new_secret("roster-2")), Some(&secret_id)).await);
    assert!(
        matches!(&e, InitError::Key(KeyError::KidNotPublished { kid, .. }) if kid == "roster-1"),
        "{e}"
    );
    assert!(e.to_string().contains("roster-2"), "{e}");

    // No such secret: the error names it.
    let missing = unique_secret_id();
    let e = init_error(function(&table, &public(&secret), Some(&missing)).await);
    assert!(
        matches!(&e, InitError::SigningKey(SecretError::Read { .. })),
        "{e}"
    );
    assert!(e.to_string().contains(&missing), "{e}");

    // A secret that is not the key's JSON: refused without being echoed.
    let garbled = unique_secret_id();
    client
        .create_secret()
        .name(&garbled)
        .secret_string("hunter2-not-json")
        .send()
        .await
        .expect("create secret");
    let e = init_error(function(&table, &public(&secret), Some(&garbled)).await);
    assert!(
        matches!(&e, InitError::SigningKey(SecretError::NotJson { .. })),
        "{e}"
    );
    assert!(!e.to_string().contains("hunter2"), "{e}");

    // A secret with only binary content.
    let binary = unique_secret_id();
    client
        .create_secret()
        .name(&binary)
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(vec![1, 2, 3]))
        .send()
        .await
        .expect("create secret");
    let e = init_error(function(&table, &public(&secret), Some(&binary)).await);
    assert!(
        matches!(&e, InitError::SigningKey(SecretError::NotAString(_))),
        "{e}"
    );
}

#[tokio::test]
async fn a_rotated_key_keeps_old_tokens_valid_until_its_kid_is_withdrawn() {
    let t = TestApp::spawn().await;
    let email = unique_email("rotation");
    t.create_user(&email, None, false).await;
    let client = secrets().await;
    let secret_id = unique_secret_id();
    let (old, new) = (new_secret("roster-1"), new_secret("roster-2"));
    let both = format!("{},{}", public(&old), public(&new));

    // Before: roster-1 signs and is the only published key.
    assert_eq!(
        signing_key::put(&client, &secret_id, &old)
            .await
            .expect("put"),
        Put::Created
    );
    let before = deployed(&t, &public(&old), Some(&secret_id)).await;
    let old_token = before.login(&email).await.token;
    assert_eq!(kid_of(&old_token), "roster-1");

    // Step 1: roster-2 is published everywhere; roster-1 still signs.
    let published = deployed(&t, &both, Some(&secret_id)).await;
    assert_eq!(kid_of(&published.login(&email).await.token), "roster-1");

    // Switching the secret before roster-2 is published would fail the signer's init.
    assert_eq!(
        signing_key::put(&client, &secret_id, &new)
            .await
            .expect("put"),
        Put::Updated
    );
    let e = init_error(function(&t.app.config.table_name, &public(&old), Some(&secret_id)).await);
    assert!(
        matches!(e, InitError::Key(KeyError::KidNotPublished { .. })),
        "{e}"
    );

    // Step 2: the secret holds roster-2; new signers use it, both kids verify.
    let signer = deployed(&t, &both, Some(&secret_id)).await;
    let new_token = signer.login(&email).await.token;
    assert_eq!(kid_of(&new_token), "roster-2");
    let verifier = deployed(&t, &both, None).await;
    for app in [&signer, &verifier] {
        assert_eq!(me(app, &old_token).await, 200);
        assert_eq!(me(app, &new_token).await, 200);
        assert_eq!(jwks_kids(app).await, ["roster-1", "roster-2"]);
    }

    // Step 3: roster-1 is withdrawn; its tokens are refused, roster-2's still work.
    let signer = deployed(&t, &public(&new), Some(&secret_id)).await;
    let verifier = deployed(&t, &public(&new), None).await;
    for app in [&signer, &verifier] {
        let r = app.me(&old_token).await;
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(r.code(), "unauthorized");
        assert_eq!(me(app, &new_token).await, 200);
        assert_eq!(jwks_kids(app).await, ["roster-2"]);
    }
    let body: Value = signer.jwks().await.body;
    assert_eq!(
        format!("roster-2={}", body["keys"][0]["x"].as_str().unwrap_or("")),
        public(&new)
    );
}
