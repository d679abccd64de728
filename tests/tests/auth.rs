//! Sign-in end to end: login, throttling, refresh rotation and reuse detection, logout,
//! every-request re-read of the caller, and the refusals of forged or misused tokens.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{PASSWORD, TestApp, unique_email};
use roster::auth::AccessClaims;
use roster::clock::Now;
use serde_json::json;

fn claims(t: &TestApp, sub: &str) -> AccessClaims {
    let now = Now::get().epoch();
    AccessClaims {
        iss: t.app.config.jwt_issuer.clone(),
        aud: t.app.config.jwt_audience.clone(),
        sub: sub.to_string(),
        iat: now,
        exp: now + 600,
        ver: 0,
        typ: "access".into(),
    }
}

#[tokio::test]
async fn login_returns_tokens_and_me_reads_the_caller() {
    let t = TestApp::spawn().await;
    let email = unique_email("ada");
    t.create_user(&email, None, false).await;
    let r = t
        .call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": email.to_uppercase(), "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert_eq!(r.body["user"]["email"], email);
    assert!(r.body["user"].get("password_hash").is_none());
    let token = r.body["access_token"].as_str().unwrap();
    let me = t.call("GET", "/me", Some(token), None).await;
    assert_eq!(
        (me.status, me.body["email"].as_str()),
        (200, Some(email.as_str()))
    );

    // The JWT names its key, and the JWKS publishes it.
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let jwks = t.call("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(jwks.body["keys"][0]["kid"], header["kid"]);
    assert_eq!(jwks.body["keys"][0]["kty"], "OKP");
    assert_eq!(jwks.body["keys"][0]["crv"], "Ed25519");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let t = TestApp::spawn().await;
    let email = unique_email("bob");
    t.create_user(&email, None, false).await;
    let wrong = t
        .call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": email, "password": "not the password"})),
        )
        .await;
    let unknown = t
        .call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": unique_email("nobody"), "password": PASSWORD})),
        )
        .await;
    let malformed = t
        .call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": "not-an-email", "password": PASSWORD})),
        )
        .await;
    for r in [&wrong, &unknown, &malformed] {
        assert_eq!(
            (r.status, r.code()),
            (401, "invalid_credentials"),
            "{}",
            r.body
        );
    }
    assert_eq!(wrong.body, unknown.body);
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_email() {
    let t = TestApp::spawn().await;
    let email = unique_email("carol");
    t.create_user(&email, None, false).await;
    for _ in 0..5 {
        let r = t
            .call(
                "POST",
                "/auth/login",
                None,
                Some(json!({"email": email, "password": "wrong password!"})),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    // Now even the right password waits.
    let r = t
        .call(
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
        )
        .await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"), "{}", r.body);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // Another email is unaffected.
    let other = unique_email("dave");
    t.create_user(&other, None, false).await;
    t.login(&other).await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_every_session() {
    let t = TestApp::spawn().await;
    let email = unique_email("erin");
    t.create_user(&email, None, false).await;
    let first = t.login(&email).await;
    let second_device = t.login(&email).await;

    let r = t
        .call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": first.refresh})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rotated = r.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rotated, first.refresh);
    let fresh_access = r.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        t.call("GET", "/me", Some(&fresh_access), None).await.status,
        200
    );

    // The rotated-out token comes back: reuse. Every session and access token of the user ends.
    let r = t
        .call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": first.refresh})),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let r = t
        .call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": rotated})),
        )
        .await;
    assert_eq!(
        r.status, 401,
        "the legitimate holder's newest token is revoked too"
    );
    let r = t
        .call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": second_device.refresh})),
        )
        .await;
    assert_eq!(r.status, 401, "other devices are signed out");
    assert_eq!(
        t.call("GET", "/me", Some(&fresh_access), None).await.status,
        401
    );
    assert_eq!(
        t.call("GET", "/me", Some(&second_device.token), None)
            .await
            .status,
        401
    );

    // Signing in again works.
    let again = t.login(&email).await;
    assert_eq!(
        t.call("GET", "/me", Some(&again.token), None).await.status,
        200
    );
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_never_both_succeed() {
    let t = TestApp::spawn().await;
    let email = unique_email("race");
    t.create_user(&email, None, false).await;
    let a = t.login(&email).await;
    let body = json!({"refresh_token": a.refresh});
    let (r1, r2) = tokio::join!(
        t.call("POST", "/auth/refresh", None, Some(body.clone())),
        t.call("POST", "/auth/refresh", None, Some(body.clone()))
    );
    let ok = [r1.status, r2.status].iter().filter(|s| **s == 200).count();
    assert!(ok <= 1, "{} {}", r1.body, r2.body);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let t = TestApp::spawn().await;
    let email = unique_email("fay");
    t.create_user(&email, None, false).await;
    let a = t.login(&email).await;
    let r = t
        .call(
            "POST",
            "/auth/logout",
            None,
            Some(json!({"refresh_token": a.refresh})),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = t
        .call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": a.refresh})),
        )
        .await;
    assert_eq!(r.status, 401);
    // Idempotent.
    let r = t
        .call(
            "POST",
            "/auth/logout",
            None,
            Some(json!({"refresh_token": a.refresh})),
        )
        .await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn access_tokens_are_refused_when_forged_expired_or_misused() {
    let t = TestApp::spawn().await;
    let email = unique_email("gus");
    t.create_user(&email, None, false).await;
    let a = t.login(&email).await;
    let sub = a.user.id.to_string();

    let mut expired = claims(&t, &sub);
    expired.iat -= 3600;
    expired.exp = Now::get().epoch() - 10;
    let mut wrong_aud = claims(&t, &sub);
    wrong_aud.aud = "someone-else".into();
    let mut wrong_iss = claims(&t, &sub);
    wrong_iss.iss = "evil".into();
    let mut not_access = claims(&t, &sub);
    not_access.typ = "invitation".into();
    let mut old_version = claims(&t, &sub);
    old_version.ver = 7;

    // Another key under the published kid.
    let stranger = roster::auth::SigningSecret::generate("roster-1")
        .and_then(|s| s.signer())
        .unwrap();
    let mut config = t.app.config.clone();
    config.jwt_public_keys =
        roster::auth::jwt::PublicKeys::parse(&stranger.public().to_string()).unwrap();
    let other_keys = roster::auth::TokenKeys::signing(&config, stranger).unwrap();

    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(&t, &sub)).unwrap());
    let alg_none = format!("{header_none}.{payload}.");
    let header_hs = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT","kid":"roster-1"}"#);
    let alg_hs = format!("{header_hs}.{payload}.c2lnbmF0dXJl");
    let truncated = a.token[..a.token.len() - 5].to_string();

    let cases: Vec<(&str, String)> = vec![
        ("expired", t.app.keys.sign(&expired).unwrap()),
        ("wrong audience", t.app.keys.sign(&wrong_aud).unwrap()),
        ("wrong issuer", t.app.keys.sign(&wrong_iss).unwrap()),
        ("not an access token", t.app.keys.sign(&not_access).unwrap()),
        ("stale version", t.app.keys.sign(&old_version).unwrap()),
        ("wrong key", other_keys.sign(&claims(&t, &sub)).unwrap()),
        ("alg none", alg_none),
        ("alg HS256", alg_hs),
        ("truncated", truncated),
        ("refresh token as access token", a.refresh.clone()),
        ("garbage", "x".into()),
        (
            "unknown user",
            t.app
                .keys
                .sign(&claims(&t, &uuid::Uuid::new_v4().to_string()))
                .unwrap(),
        ),
    ];
    for (what, token) in cases {
        let r = t.call("GET", "/me", Some(&token), None).await;
        assert_eq!(
            (r.status, r.code()),
            (401, "unauthorized"),
            "{what}: {}",
            r.body
        );
        assert_eq!(r.headers["www-authenticate"], "Bearer");
    }
    // An access token is not a refresh token either.
    let r = t
        .call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": a.token})),
        )
        .await;
    assert_eq!(r.status, 401);
    // And the genuine one still works.
    assert_eq!(t.call("GET", "/me", Some(&a.token), None).await.status, 200);
}

#[tokio::test]
async fn a_deleted_or_revoked_user_loses_access_on_the_next_request() {
    let t = TestApp::spawn().await;
    let email = unique_email("hal");
    t.create_user(&email, None, false).await;
    let a = t.login(&email).await;
    assert_eq!(t.call("GET", "/me", Some(&a.token), None).await.status, 200);
    t.app.store.revoke_all_sessions(&a.user.id).await.unwrap();
    assert_eq!(t.call("GET", "/me", Some(&a.token), None).await.status, 401);
}
