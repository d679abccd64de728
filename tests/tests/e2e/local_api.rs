//! The served API over real HTTP: `cargo lambda watch` with its router, started by
//! scripts/test (ROSTER_API_URL), on the same emulator and table.

use crate::common;

use common::{PASSWORD, env_or_fail, unique_code, unique_email};
use roster::App;
use roster::auth::password;
use roster::clock::Now;
use roster::config::Config;
use roster::domain::{Email, Password, User, UserId};
use serde_json::{Value, json};

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("the local API answers");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn the_served_api_signs_in_and_manages_organizations() {
    let Some(base) = common::local_api_url() else {
        return;
    };
    // A platform admin in the table the served functions use.
    let config = Config::from_env().expect("TABLE_NAME and JWT_PUBLIC_KEYS from scripts/test");
    env_or_fail("AWS_ENDPOINT_URL");
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let app = App::load(config, &aws).await.unwrap();
    let email = unique_email("http-admin");
    let now = Now::get().rfc3339();
    let admin = User {
        id: UserId::new(),
        email: Email::parse(&email).unwrap(),
        name: "HTTP Admin".into(),
        org_id: None,
        role: None,
        platform_admin: true,
        created_at: now.clone().into(),
        updated_at: now.into(),
        joined_at: None,
        password_hash: password::hash(&Password::parse(PASSWORD).unwrap()).unwrap(),
        token_version: 0,
    };
    app.store.create_user(&admin, None).await.unwrap();

    let http = reqwest::Client::new();
    use reqwest::Method;
    let (s, login) = send(
        &http,
        Method::POST,
        format!("{base}/auth/login"),
        None,
        Some(json!({"email": email, "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 200, "{login}");
    let token = login["access_token"].as_str().unwrap().to_string();

    let code = unique_code();
    let (s, org) = send(
        &http,
        Method::POST,
        format!("{base}/orgs"),
        Some(&token),
        Some(json!({"name": "Served", "code": code, "tier": "pro"})),
    )
    .await;
    assert_eq!(s, 201, "{org}");
    let id = org["id"].as_str().unwrap().to_string();
    let (s, list) = send(
        &http,
        Method::GET,
        format!("{base}/orgs?limit=100"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == id.as_str())
    );
    let (s, got) = send(
        &http,
        Method::PATCH,
        format!("{base}/orgs/{id}"),
        Some(&token),
        Some(json!({"description": "over HTTP"})),
    )
    .await;
    assert_eq!(
        (s, got["description"].as_str()),
        (200, Some("over HTTP")),
        "{got}"
    );
    let (s, _) = send(
        &http,
        Method::DELETE,
        format!("{base}/orgs/{id}?confirm={code}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, gone) = send(
        &http,
        Method::GET,
        format!("{base}/orgs/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!((s, gone["code"].as_str()), (404, Some("not_found")));

    let (s, me) = send(&http, Method::GET, format!("{base}/me"), Some(&token), None).await;
    assert_eq!((s, me["email"].as_str()), (200, Some(email.as_str())));
    let (s, jwks) = send(
        &http,
        Method::GET,
        format!("{base}/.well-known/jwks.json"),
        None,
        None,
    )
    .await;
    assert_eq!((s, jwks["keys"][0]["alg"].as_str()), (200, Some("EdDSA")));
    let (s, anon) = send(&http, Method::GET, format!("{base}/orgs"), None, None).await;
    assert_eq!((s, anon["code"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn cleanup_runs_from_cargo_lambda_invoke_with_the_scheduled_event_fixture() {
    let Some(base) = common::local_api_url() else {
        return;
    };
    let t = common::TestApp::served().await;
    let (org, owner) = t.org_with_owner().await;
    let to = unique_email("sched");
    let r = t.invite(&owner, org, &[&to], "member").await;
    let id = r.body["results"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_string();
    common::expire_now(&t, org, &id).await;

    let port = base.rsplit(':').next().unwrap().to_string();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../functions/cleanup/fixtures/scheduled-event.json");
    let out = tokio::process::Command::new("cargo")
        .args([
            "lambda",
            "invoke",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port,
            "--data-file",
        ])
        .arg(&fixture)
        .arg("cleanup")
        .output()
        .await
        .expect("cargo lambda invoke");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim()).expect("the cleanup report");
    assert!(
        report["invitations_expired"].as_u64().unwrap() >= 1,
        "{report}"
    );
    let inv = t
        .app
        .store
        .get_invitation(&org, &roster::domain::InvitationId::parse(&id).unwrap(), 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        inv.status,
        roster::domain::InvitationStatus::Expired,
        "stored as expired, not only shown"
    );
}
