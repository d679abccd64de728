//! The HTTP edge: real API Gateway v2 events through lambda_http, bad bodies, unknown routes.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{PASSWORD, TestApp, unique_code, unique_email};
use serde_json::json;

#[tokio::test]
async fn api_gateway_v2_events_reach_the_handlers() {
    let t = TestApp::spawn().await;
    let email = unique_email("apigw");
    t.create_user(&email, None, false).await;

    // A base64-encoded POST body, as API Gateway sends it.
    let body = STANDARD.encode(json!({"email": email, "password": PASSWORD}).to_string());
    let event = include_str!("../../fixtures/apigw_v2_login.json").replace(
        "eyJlbWFpbCI6IkVNQUlMIiwicGFzc3dvcmQiOiJQQVNTV09SRCJ9",
        &body,
    );
    let req = lambda_http::request::from_str(&event).expect("API Gateway v2 event");
    let r = t.dispatch(req).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["access_token"].as_str().unwrap().to_string();

    // A path parameter and a bearer token; the user has no org, so the org is a 404.
    let owner = t.user_without_org().await;
    let created = t
        .create_org(&owner, json!({"name": "Gw", "code": unique_code()}))
        .await;
    let org_id = created.body["id"].as_str().unwrap();
    let event = include_str!("../../fixtures/apigw_v2_org.json").replace("ORG_ID", org_id);
    let as_owner = lambda_http::request::from_str(&event.replace("TOKEN", &owner.token)).unwrap();
    let r = t.dispatch(as_owner).await;
    assert_eq!(
        (r.status, r.body["id"].as_str()),
        (200, Some(org_id)),
        "{}",
        r.body
    );
    let as_stranger = lambda_http::request::from_str(&event.replace("TOKEN", &token)).unwrap();
    assert_eq!(t.dispatch(as_stranger).await.status, 404);
}

#[tokio::test]
async fn bad_bodies_get_problem_json() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let big = format!(r#"{{"name":"{}","code":"BIG"}}"#, "x".repeat(70 * 1024));
    let cases: Vec<(&str, &str, u16, &str)> = vec![
        (
            "malformed",
            r#"{"name": "Acme", "code": "#,
            400,
            "malformed_request",
        ),
        ("not json", "name=Acme", 400, "malformed_request"),
        ("empty", "", 400, "malformed_request"),
        ("array", "[1,2,3]", 400, "validation_failed"),
        (
            "wrong type",
            r#"{"name": ["Acme"], "code": "ACME"}"#,
            400,
            "validation_failed",
        ),
        (
            "unknown field",
            r#"{"name": "Acme", "code": "ACME", "owner_id": "x"}"#,
            400,
            "validation_failed",
        ),
        ("oversized", &big, 413, "payload_too_large"),
    ];
    for (what, body, status, code) in cases {
        let r = t
            .call_raw("POST", "/orgs", Some(&root.token), Some(body))
            .await;
        assert_eq!((r.status, r.code()), (status, code), "{what}: {}", r.body);
        assert_eq!(
            r.headers["content-type"], "application/problem+json",
            "{what}"
        );
        assert_eq!(r.body["status"], status);
        assert!(
            r.body["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:roster:problem:")
        );
        assert!(r.body["title"].is_string() && r.body["detail"].is_string());
    }
    let r = t
        .call_raw(
            "POST",
            "/auth/login",
            None,
            Some(r#"{"email": "a@b.co", "password": "x", "remember": true}"#),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "remember", "{}", r.body);
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("remember")
    );
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let t = TestApp::spawn().await;
    let r = t.call("GET", "/orgs/x/y/z", None, None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = t.call("PUT", "/orgs", None, None).await;
    assert_eq!((r.status, r.code()), (405, "method_not_allowed"));
    assert_eq!(r.headers["allow"], "POST, GET");
    let r = t.call("GET", "/auth/login", None, None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["content-type"], "application/problem+json");
}
