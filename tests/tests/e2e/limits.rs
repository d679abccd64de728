//! Abuse limits (issue 8): failed sign-ins per client address, invitations per organization
//! per UTC day, and acceptance attempts with unknown links per client address. Each answers
//! 429 problem+json with a Retry-After, and each leaves other addresses and orgs alone.

use crate::common;

use common::{PASSWORD, Reply, TestApp, unique_email};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::http::header;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::{Value, json};

/// A request as API Gateway delivers it from `ip`.
fn from_ip(ip: &str, method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> Request {
    let mut ctx = ApiGatewayV2httpRequestContext::default();
    ctx.http.source_ip = Some(ip.to_string());
    let body = body.map(|b| b.to_string());
    common::request(method, uri, token, body.as_deref())
        .with_request_context(RequestContext::ApiGatewayV2(ctx))
}

/// A 429 problem with a Retry-After of 1..=`max` seconds.
fn assert_limited(r: &Reply, max: u64, what: &str) {
    assert_eq!(r.status, 429, "{what}: {}", r.body);
    assert_eq!(r.code(), "rate_limited", "{what}: {}", r.body);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/problem+json",
        "{what}"
    );
    let wait: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{what}: Retry-After is a number of seconds"));
    assert!((1..=max).contains(&wait), "{what}: Retry-After {wait}");
}

fn login(email: &str, password: &str) -> Option<Value> {
    Some(json!({"email": email, "password": password}))
}

#[tokio::test]
async fn sign_in_failures_are_limited_per_client_address() {
    let t = TestApp::spawn_with(|c| {
        c.login_max_failures_per_source = 3;
        c.login_max_failures = 100;
    })
    .await;
    let email = unique_email("real");
    t.create_user(&email, None, false).await;

    // Three wrong guesses, each at a different account, from one address.
    for i in 0..3 {
        let guess = login(&unique_email(&format!("guess{i}")), "wrong password!");
        let r = t
            .dispatch(from_ip("203.0.113.7", "POST", "/auth/login", None, guess))
            .await;
        assert_eq!(r.status, 401, "guess {i}: {}", r.body);
    }
    // Now even the right password is refused from that address, before it is checked...
    let r = t
        .dispatch(from_ip(
            "203.0.113.7",
            "POST",
            "/auth/login",
            None,
            login(&email, PASSWORD),
        ))
        .await;
    assert_limited(&r, 900, "fourth attempt from the same address");
    // ...while another address signs in, and the account itself is not locked.
    let r = t
        .dispatch(from_ip(
            "198.51.100.2",
            "POST",
            "/auth/login",
            None,
            login(&email, PASSWORD),
        ))
        .await;
    assert_eq!(r.status, 200, "another address: {}", r.body);
    // Without a known address (a direct invocation) only the per-email limit applies.
    let r = t
        .call("POST", "/auth/login", None, login(&email, PASSWORD))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn invitations_are_limited_per_organization_per_day() {
    let t = TestApp::spawn_with(|c| c.invitations_per_org_per_day = 5).await;
    let (org, owner) = t.org_with_owner().await;
    let three =
        |p: &str| -> Vec<String> { (0..3).map(|i| unique_email(&format!("{p}{i}"))).collect() };
    let refs = |v: &Vec<String>| -> Vec<String> { v.clone() };

    let first = three("a");
    let r = t.invite(&owner, org, &refs(&first), "member").await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Three more would make six: refused whole, nothing stored, no mail sent.
    let second = three("b");
    let r = t.invite(&owner, org, &refs(&second), "member").await;
    assert_limited(&r, 86_400, "over the daily limit");
    for e in &second {
        assert!(t.mails_to(e).await.is_empty(), "no mail to {e}");
    }
    let listed = t.invitations(&owner, org, "?limit=50").await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(3));

    // Two more fit exactly; then a resend (one more email) is over.
    let r = t
        .invite(
            &owner,
            org,
            &[&unique_email("c0"), &unique_email("c1")],
            "member",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = listed.body["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = t.resend(&owner, org, &id).await;
    assert_limited(&r, 86_400, "resend over the daily limit");

    // Another organization has its own count.
    let (other, other_owner) = t.org_with_owner().await;
    let r = t
        .invite(&other_owner, other, &[&unique_email("d")], "member")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn unknown_invitation_links_are_limited_per_client_address() {
    let t = TestApp::spawn_with(|c| c.accept_max_failures_per_source = 3).await;
    let (org, owner) = t.org_with_owner().await;
    let invitee = unique_email("invitee");
    t.invite(&owner, org, &[&invitee], "member").await;
    let token = t.latest_token(&invitee).await;
    // A guess with the real invitation's ids and another nonce, and two malformed tokens.
    let (ids, _) = token.split_once('.').expect("token has a nonce");
    let guesses = [
        format!("{ids}.{}", "A".repeat(43)),
        "not-a-token".to_string(),
        format!("{}.{}", "x".repeat(40), "y".repeat(43)),
    ];
    for g in &guesses {
        let body = Some(json!({"token": g, "name": "Eve", "password": PASSWORD}));
        let r = t
            .dispatch(from_ip(
                "192.0.2.66",
                "POST",
                "/invitations/accept",
                None,
                body,
            ))
            .await;
        assert!(matches!(r.status, 404 | 410), "{g}: {}", r.body);
    }
    // The address is now refused, even with the real link, on every link route.
    let accept = Some(json!({"token": token, "name": "Eve", "password": PASSWORD}));
    let r = t
        .dispatch(from_ip(
            "192.0.2.66",
            "POST",
            "/invitations/accept",
            None,
            accept,
        ))
        .await;
    assert_limited(&r, 900, "accept after three bad links");
    let r = t
        .dispatch(from_ip(
            "192.0.2.66",
            "GET",
            &format!("/invitations/preview?token={token}"),
            None,
            None,
        ))
        .await;
    assert_limited(&r, 900, "preview after three bad links");
    let page = t
        .dispatch(from_ip(
            "192.0.2.66",
            "GET",
            &format!("/invite?token={token}"),
            None,
            None,
        ))
        .await;
    assert_eq!(page.status, 429, "acceptance page");
    assert!(page.headers.contains_key(header::RETRY_AFTER));

    // The invitee, from their own address, accepts.
    let accept = Some(json!({"token": token, "name": "Invitee", "password": PASSWORD}));
    let r = t
        .dispatch(from_ip(
            "198.51.100.9",
            "POST",
            "/invitations/accept",
            None,
            accept,
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A burst puts a few hundred requests at once on the one-at-a-time emulator, which shares
/// two cores with everything else: give each attempt a minute rather than the tests' usual
/// 20 s, so a slow emulator is not mistaken for an unavailable one (503).
fn patient(c: &mut roster::config::Config) {
    c.aws_attempt_timeout = std::time::Duration::from_secs(60);
}

/// `n` sign-ins at once (true races: straight to the handler, all in flight together).
async fn burst(t: &TestApp, n: usize, make: impl Fn(usize) -> Request) -> Vec<Reply> {
    futures_util::future::join_all((0..n).map(|i| t.dispatch(make(i)))).await
}

fn statuses(replies: &[Reply]) -> (usize, usize, Vec<u16>) {
    let verified = replies.iter().filter(|r| r.status == 401).count();
    let limited = replies.iter().filter(|r| r.status == 429).count();
    let other = replies
        .iter()
        .map(|r| r.status)
        .filter(|s| *s != 401 && *s != 429)
        .collect();
    (verified, limited, other)
}

#[tokio::test]
async fn a_concurrent_burst_at_one_account_gets_no_more_password_checks_than_the_limit() {
    // Defaults: 5 per account per address, 20 per account per minute from anywhere.
    let t = TestApp::spawn_with(patient).await;
    let email = unique_email("target");
    t.create_user(&email, None, false).await;

    // 50 wrong passwords at once from one address: at most 5 are checked (401), the rest
    // are refused before any check (429).
    let replies = burst(&t, 50, |_| {
        from_ip(
            "203.0.113.50",
            "POST",
            "/auth/login",
            None,
            login(&email, "wrong password!"),
        )
    })
    .await;
    let (verified, limited, other) = statuses(&replies);
    assert!(other.is_empty(), "only 401 and 429: {other:?}");
    assert!(
        verified <= 5,
        "{verified} passwords checked from one address"
    );
    assert_eq!(verified + limited, 50);
    assert!(verified >= 1, "the first attempts are checked");

    // 40 at once from 40 addresses (a distributed attack): at most the per-minute limit.
    let replies = burst(&t, 40, |i| {
        from_ip(
            &format!("198.18.0.{i}"),
            "POST",
            "/auth/login",
            None,
            login(&email, "wrong password!"),
        )
    })
    .await;
    let (verified, limited, other) = statuses(&replies);
    assert!(other.is_empty(), "only 401 and 429: {other:?}");
    assert!(
        verified <= 20,
        "{verified} passwords checked from 40 addresses"
    );
    assert_eq!(verified + limited, 40);
    for r in replies.iter().filter(|r| r.status == 429) {
        assert_limited(r, 3600, "distributed burst");
    }
}

#[tokio::test]
async fn a_concurrent_burst_from_one_address_gets_no_more_checks_than_its_limit() {
    let t = TestApp::spawn_with(|c| {
        patient(c);
        c.login_max_failures_per_source = 10;
    })
    .await;
    // Every attempt at another (unknown) account: only the address's limit binds.
    let replies = burst(&t, 40, |i| {
        from_ip(
            "203.0.113.60",
            "POST",
            "/auth/login",
            None,
            login(&unique_email(&format!("g{i}")), "wrong password!"),
        )
    })
    .await;
    let (verified, limited, other) = statuses(&replies);
    assert!(other.is_empty(), "{other:?}");
    assert!(verified <= 10, "{verified} checked");
    assert_eq!(verified + limited, 40);

    // Bad invitation links at once from one address: at most the link limit are looked up.
    let t = TestApp::spawn_with(|c| {
        patient(c);
        c.accept_max_failures_per_source = 7;
    })
    .await;
    let replies = burst(&t, 30, |i| {
        from_ip(
            "203.0.113.61",
            "GET",
            &format!("/invitations/preview?token=guess-{i}"),
            None,
            None,
        )
    })
    .await;
    let refused = replies.iter().filter(|r| r.status == 404).count();
    let limited = replies.iter().filter(|r| r.status == 429).count();
    assert!(refused <= 7, "{refused} links looked up");
    assert_eq!(refused + limited, 30);
}

#[tokio::test]
async fn a_stranger_cannot_lock_a_victim_out() {
    let t = TestApp::spawn().await;
    let victim = unique_email("victim");
    t.create_user(&victim, None, false).await;
    // One address guesses 30 times in a row: it locks itself out of the account...
    for i in 0..30 {
        let r = t
            .dispatch(from_ip(
                "203.0.113.70",
                "POST",
                "/auth/login",
                None,
                login(&victim, "wrong password!"),
            ))
            .await;
        assert!(matches!(r.status, 401 | 429), "guess {i}: {}", r.body);
    }
    let r = t
        .dispatch(from_ip(
            "203.0.113.70",
            "POST",
            "/auth/login",
            None,
            login(&victim, PASSWORD),
        ))
        .await;
    assert_limited(
        &r,
        900,
        "the guessing address, even with the right password",
    );
    // ...and only itself: the victim, from their own address, signs in.
    let r = t
        .dispatch(from_ip(
            "198.51.100.70",
            "POST",
            "/auth/login",
            None,
            login(&victim, PASSWORD),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Many addresses (distributed) reach the per-account limit: then a short wait.
    let t = TestApp::spawn_with(|c| c.login_max_failures_per_email = 4).await;
    t.create_user(&victim, None, false).await;
    for i in 0..4 {
        let r = t
            .dispatch(from_ip(
                &format!("198.18.1.{i}"),
                "POST",
                "/auth/login",
                None,
                login(&victim, "wrong password!"),
            ))
            .await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = t
        .dispatch(from_ip(
            "198.51.100.71",
            "POST",
            "/auth/login",
            None,
            login(&victim, PASSWORD),
        ))
        .await;
    assert_limited(&r, 60, "past the per-account limit: at most a minute");
}

#[tokio::test]
async fn accepting_with_an_existing_accounts_password_is_a_sign_in_attempt() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let existing = unique_email("existing");
    t.create_user(&existing, None, false).await;
    t.invite(&owner, org, &[&existing], "member").await;
    let token = t.latest_token(&existing).await;
    let accept = |password: &str| Some(json!({"token": token, "password": password}));
    // Five wrong passwords (the per-account-per-address limit) are checked...
    for i in 0..5 {
        let r = t
            .dispatch(from_ip(
                "203.0.113.80",
                "POST",
                "/invitations/accept",
                None,
                accept("wrong password!"),
            ))
            .await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
    }
    // ...then the address is refused, on the JSON API, the HTML form and the sign-in alike.
    let r = t
        .dispatch(from_ip(
            "203.0.113.80",
            "POST",
            "/invitations/accept",
            None,
            accept(PASSWORD),
        ))
        .await;
    assert_limited(
        &r,
        900,
        "accept with the right password after five wrong ones",
    );
    let mut form = common::request(
        "POST",
        "/invite",
        None,
        Some(&format!("token={token}&password=x&action=accept")),
    );
    form.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    let mut ctx = ApiGatewayV2httpRequestContext::default();
    ctx.http.source_ip = Some("203.0.113.80".into());
    let r = t
        .dispatch(form.with_request_context(RequestContext::ApiGatewayV2(ctx)))
        .await;
    assert_eq!(r.status, 429, "the HTML form");
    let r = t
        .dispatch(from_ip(
            "203.0.113.80",
            "POST",
            "/auth/login",
            None,
            login(&existing, PASSWORD),
        ))
        .await;
    assert_limited(&r, 900, "sign-in from the same address");
    // The account's owner, from another address, accepts.
    let r = t
        .dispatch(from_ip(
            "198.51.100.80",
            "POST",
            "/invitations/accept",
            None,
            accept(PASSWORD),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}
