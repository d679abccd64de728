//! Sign-in end to end: login, throttling, refresh rotation and reuse detection, logout,
//! every-request re-read of the caller, and the refusals of forged or misused tokens.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{PASSWORD, TestApp, confirmation_token, unique_email};
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
        sid: None,
        org: None,
        adm: false,
    }
}

#[tokio::test]
async fn login_returns_tokens_and_me_reads_the_caller() {
    let t = TestApp::spawn().await;
    let email = unique_email("ada");
    t.create_user(&email, None, false).await;
    let r = t.sign_in(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert_eq!(r.body["user"]["email"], email);
    assert!(r.body["user"].get("password_hash").is_none());
    let token = r.body["access_token"].as_str().unwrap();
    let me = t.me(&token).await;
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
    let jwks = t.jwks().await;
    assert_eq!(jwks.body["keys"][0]["kid"], header["kid"]);
    assert_eq!(jwks.body["keys"][0]["kty"], "OKP");
    assert_eq!(jwks.body["keys"][0]["crv"], "Ed25519");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let t = TestApp::spawn().await;
    let email = unique_email("bob");
    t.create_user(&email, None, false).await;
    let wrong = t.sign_in(&email, "not the password").await;
    let unknown = t.sign_in(&unique_email("nobody"), PASSWORD).await;
    let malformed = t.sign_in("not-an-email", PASSWORD).await;
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
        let r = t.sign_in(&email, "wrong password!").await;
        assert_eq!(r.status, 401);
    }
    // Now even the right password waits.
    let r = t.sign_in(&email, PASSWORD).await;
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
    let first = t.signed_in("erin").await;
    let email = first.user.email.to_string();
    let second_device = t.login(&email).await;

    let r = t.refresh(&first.refresh).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rotated = r.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rotated, first.refresh);
    let fresh_access = r.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(t.me(&fresh_access).await.status, 200);

    // The rotated-out token comes back: reuse. Every session and access token of the user ends.
    let r = t.refresh(&first.refresh).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let r = t.refresh(&rotated).await;
    assert_eq!(
        r.status, 401,
        "the legitimate holder's newest token is revoked too"
    );
    let r = t.refresh(&second_device.refresh).await;
    assert_eq!(r.status, 401, "other devices are signed out");
    assert_eq!(t.me(&fresh_access).await.status, 401);
    assert_eq!(t.me(&second_device).await.status, 401);

    // Signing in again works.
    let again = t.login(&email).await;
    assert_eq!(t.me(&again).await.status, 200);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_never_both_succeed() {
    let t = TestApp::spawn().await;
    let a = t.signed_in("race").await;
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
    let a = t.signed_in("fay").await;
    let r = t.logout(&a.refresh).await;
    assert_eq!(r.status, 204);
    let r = t.refresh(&a.refresh).await;
    assert_eq!(r.status, 401);
    // Idempotent.
    let r = t.logout(&a.refresh).await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn access_tokens_are_refused_when_forged_expired_or_misused() {
    let t = TestApp::spawn().await;
    let a = t.signed_in("gus").await;
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
        let r = t.me(&token).await;
        assert_eq!(
            (r.status, r.code()),
            (401, "unauthorized"),
            "{what}: {}",
            r.body
        );
        assert_eq!(r.headers["www-authenticate"], "Bearer");
    }
    // An access token is not a refresh token either.
    let r = t.refresh(&a.token).await;
    assert_eq!(r.status, 401);
    // And the genuine one still works.
    assert_eq!(t.me(&a).await.status, 200);
}

#[tokio::test]
async fn a_deleted_or_revoked_user_loses_access_on_the_next_request() {
    let t = TestApp::spawn().await;
    let a = t.signed_in("hal").await;
    assert_eq!(t.me(&a).await.status, 200);
    t.app.store.revoke_all_sessions(&a.user.id).await.unwrap();
    assert_eq!(t.me(&a).await.status, 401);
}

#[tokio::test]
async fn changing_ones_own_password_needs_the_current_one_and_ends_other_sessions() {
    let t = TestApp::spawn().await;
    let this = t.signed_in("self").await;
    let email = this.user.email.to_string();
    let other = t.login(&email).await;
    let me = format!("/users/{}", this.user.id);
    let new_password = "a brand new passphrase";

    // A bearer token alone is not enough (ASVS 2.1.6), nor a wrong current password.
    let r = t
        .call(
            "PATCH",
            &me,
            Some(&this.token),
            Some(json!({"password": new_password})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "validation_failed"),
        "{}",
        r.body
    );
    assert_eq!(r.body["errors"][0]["field"], "current_password");
    let r = t
        .call(
            "PATCH",
            &me,
            Some(&this.token),
            Some(json!({"password": new_password, "current_password": "not my password"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "validation_failed"),
        "{}",
        r.body
    );
    assert!(t.login_fails(&email, new_password).await, "nothing changed");

    let r = t
        .call(
            "PATCH",
            &me,
            Some(&this.token),
            Some(json!({"password": new_password, "current_password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The other session is over; this one continues after a refresh.
    let refresh = |token: &str| json!({"refresh_token": token});
    let r = t
        .call("POST", "/auth/refresh", None, Some(refresh(&other.refresh)))
        .await;
    assert_eq!(r.status, 401, "the other session: {}", r.body);
    let r = t.me(&other).await;
    assert_eq!(r.status, 401, "the other session's access token");
    let r = t
        .call("POST", "/auth/refresh", None, Some(refresh(&this.refresh)))
        .await;
    assert_eq!(r.status, 200, "this session: {}", r.body);
    let fresh = r.body["access_token"]
        .as_str()
        .expect("access token")
        .to_string();
    let r = t.me(&fresh).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = t.sign_in(&email, new_password).await;
    assert_eq!(r.status, 200, "the new password signs in: {}", r.body);

    // An admin sets another user's password without one (seed 003) and ends its sessions.
    let (org, owner) = t.org_with_owner().await;
    let member = t.member_of(org, roster::domain::OrgRole::Member).await;
    let r = t
        .update_user(
            &owner,
            member.user.id,
            json!({"password": "set by the admin 1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = t
        .call(
            "POST",
            "/auth/refresh",
            None,
            Some(refresh(&member.refresh)),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
}

#[tokio::test]
async fn deleting_ones_own_account_needs_the_current_password() {
    let t = TestApp::spawn().await;
    let me = t.signed_in("leaver").await;
    let uri = format!("/users/{}", me.user.id);
    let r = t.call("DELETE", &uri, Some(&me.token), None).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "validation_failed"),
        "{}",
        r.body
    );
    let r = t
        .call(
            "DELETE",
            &uri,
            Some(&me.token),
            Some(json!({"current_password": "wrong one"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "validation_failed"),
        "{}",
        r.body
    );
    let r = t.me(&me).await;
    assert_eq!(r.status, 200, "still there");
    let r = t
        .call(
            "DELETE",
            &uri,
            Some(&me.token),
            Some(json!({"current_password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = t.me(&me).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn a_new_email_takes_effect_only_when_the_new_address_confirms_it() {
    let t = TestApp::spawn().await;
    let old = unique_email("old");
    let new = unique_email("new");
    t.create_user(&old, None, false).await;
    let me = t.login(&old).await;
    let uri = format!("/users/{}", me.user.id);

    let r = t
        .call("PATCH", &uri, Some(&me.token), Some(json!({"email": new})))
        .await;
    assert_eq!(r.status, 400, "needs the current password: {}", r.body);
    let r = t
        .call(
            "PATCH",
            &uri,
            Some(&me.token),
            Some(json!({"email": new, "name": "Renamed", "current_password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["email"], old, "the old email stays");
    assert_eq!(r.body["pending_email"], new);
    assert_eq!(r.body["name"], "Renamed", "other changes apply at once");
    // Until confirmed: the old email signs in, the new one is not claimed by anyone.
    assert!(t.login_fails(&new, PASSWORD).await);
    t.login(&old).await;

    let token = confirmation_token(&t, &new).await;
    // A tampered link, and the GET page (which changes nothing).
    let (id, nonce) = token.split_once('.').expect("token");
    let r = t
        .confirm_email(&format!("{id}.{}", "A".repeat(nonce.len())))
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    let page = t
        .call("GET", &format!("/confirm-email?token={token}"), None, None)
        .await;
    assert_eq!(page.status, 200);
    assert!(page.headers.contains_key("strict-transport-security"));
    assert!(
        t.login_fails(&new, PASSWORD).await,
        "the page alone confirms nothing"
    );

    let r = t.confirm_email(&token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["email"], new);
    t.login(&new).await;
    assert!(
        t.login_fails(&old, PASSWORD).await,
        "the old email is no longer the account's"
    );
    // Single use.
    let r = t.confirm_email(&token).await;
    assert_eq!(r.status, 404, "{}", r.body);
    // The old email is free again.
    t.create_user(&old, None, false).await;

    // A newer request replaces the older link; an address another account holds is refused.
    let me = t.login(&new).await;
    let uri = format!("/users/{}", me.user.id);
    let r = t
        .call(
            "PATCH",
            &uri,
            Some(&me.token),
            Some(json!({"email": old, "current_password": PASSWORD})),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "email_taken"), "{}", r.body);
    let third = unique_email("third");
    let fourth = unique_email("fourth");
    for e in [&third, &fourth] {
        let r = t
            .call(
                "PATCH",
                &uri,
                Some(&me.token),
                Some(json!({"email": e, "current_password": PASSWORD})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let stale = confirmation_token(&t, &third).await;
    let r = t.confirm_email(&stale).await;
    assert_eq!(r.status, 404, "the replaced link: {}", r.body);
    // The HTML form confirms too.
    let current = confirmation_token(&t, &fourth).await;
    let mut form = common::request(
        "POST",
        "/confirm-email",
        None,
        Some(&format!("token={current}")),
    );
    form.headers_mut().insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    let r = t.dispatch(form).await;
    assert_eq!(r.status, 200);
    t.login(&fourth).await;
}
