//! Abuse limits (issue 8): failed sign-ins per client address, invitations per organization
//! per UTC day, and acceptance attempts with unknown links per client address. Each answers
//! 429 problem+json with a Retry-After, and each leaves other addresses and orgs alone.

mod common;

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
    let r = t
        .call(
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(&owner.token),
            Some(json!({"emails": refs(&first), "role": "member"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Three more would make six: refused whole, nothing stored, no mail sent.
    let second = three("b");
    let r = t
        .call(
            "POST",
            &format!("/orgs/{org}/invitations"),
            Some(&owner.token),
            Some(json!({"emails": refs(&second), "role": "member"})),
        )
        .await;
    assert_limited(&r, 86_400, "over the daily limit");
    for e in &second {
        assert!(t.mails_to(e).await.is_empty(), "no mail to {e}");
    }
    let listed = t
        .call(
            "GET",
            &format!("/orgs/{org}/invitations?limit=50"),
            Some(&owner.token),
            None,
        )
        .await;
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
    let r = t
        .call(
            "POST",
            &format!("/orgs/{org}/invitations/{id}/resend"),
            Some(&owner.token),
            None,
        )
        .await;
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
