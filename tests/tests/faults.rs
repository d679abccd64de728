//! Faults: with DynamoDB unreachable, every route answers 503 problem+json (or its page),
//! never a 500 and never a panic.

mod common;

use common::TestApp;
use roster::App;
use roster::clock::Now;
use roster::domain::{InvitationId, InvitationToken, OrgId};
use serde_json::json;

#[tokio::test]
async fn every_route_answers_503_when_dynamodb_is_unreachable() {
    let t = TestApp::spawn().await;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // An explicit endpoint wins over AWS_ENDPOINT_URL; nothing listens on port 9.
    let dead = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .load()
        .await;
    let broken = TestApp {
        dynamo: t.dynamo.clone(),
        app: App::with_mail_config(t.app.config.clone(), &dead, &aws).unwrap(),
    };
    let token = broken
        .app
        .keys
        .issue(
            &uuid::Uuid::new_v4().to_string(),
            0,
            Now::get().epoch(),
            900,
        )
        .unwrap();
    let invitation = InvitationToken {
        org_id: OrgId::new(),
        invitation_id: InvitationId::new(),
        nonce: roster::auth::secret::random_token(),
    }
    .encode();
    let refresh = format!(
        "{}.{}",
        roster::auth::secret::random_token(),
        roster::auth::secret::random_token()
    );

    use roster::http::*;
    let mut routes: Vec<(&str, &str)> = Vec::new();
    macro_rules! add {
        ($table:expr) => {
            routes.extend($table.iter().map(|r| (r.method, r.path)))
        };
    }
    add!(auth_routes::ROUTES);
    add!(orgs_routes::ROUTES);
    add!(invite_routes::ROUTES);
    add!(accept_routes::ROUTES);
    add!(members_routes::ROUTES);
    add!(change_role_routes::ROUTES);
    add!(remove_routes::ROUTES);
    add!(users_routes::ROUTES);
    add!(audit_routes::ROUTES);
    assert_eq!(routes.len(), 33);

    let mut seen = Vec::new();
    for (method, pattern) in routes {
        let mut path = pattern.to_string();
        for param in ["{org_id}", "{user_id}", "{invitation_id}"] {
            path = path.replace(param, &uuid::Uuid::new_v4().to_string());
        }
        // Bodies that pass parsing, so the request reaches storage.
        let (uri, body) = match (method, pattern) {
            ("POST", "/auth/login") => (
                path,
                Some(
                    json!({"email": "a@example.com", "password": "whatever password"}).to_string(),
                ),
            ),
            ("POST", "/auth/refresh" | "/auth/logout") => {
                (path, Some(json!({"refresh_token": refresh}).to_string()))
            }
            ("POST", "/invitations/accept" | "/invitations/decline") => {
                (path, Some(json!({"token": invitation}).to_string()))
            }
            ("GET", "/invitations/preview" | "/invite") => {
                (format!("{path}?token={invitation}"), None)
            }
            ("POST", "/invite") => (
                path,
                Some(format!("token={invitation}&action=accept&password=x")),
            ),
            _ => (path, None),
        };
        let r = broken
            .call_raw(method, &uri, Some(&token), body.as_deref())
            .await;
        seen.push(format!("{method} {pattern}: {}", r.status));
        if pattern == "/.well-known/jwks.json" {
            assert_eq!(r.status, 200, "the JWKS needs no storage");
            continue;
        }
        assert_eq!(r.status, 503, "{method} {pattern}: {}", r.body);
        if !pattern.starts_with("/invite") || pattern.starts_with("/invitations") {
            assert_eq!(r.code(), "service_unavailable", "{method} {pattern}");
            assert!(
                !r.body.to_string().contains("127.0.0.1"),
                "no internals in the body: {}",
                r.body
            );
        }
    }
    println!("{}", seen.join("\n"));
}
