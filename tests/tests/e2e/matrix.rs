//! The permission matrix: every route of every function, for each kind of caller, against
//! a fresh organization per cell (so destructive calls cannot affect the next). Prints the
//! matrix and asserts every cell.

use crate::common;

use common::{PASSWORD, TestApp, unique_code, unique_email};
use roster::auth::password;
use roster::clock::Now;
use roster::domain::{
    Description, Email, OrgCode, OrgId, OrgName, OrgRole, Password, Tier, User, UserId,
};
use roster::storage::NewOrg;
use serde_json::{Value, json};

const CALLERS: [&str; 7] = [
    "anonymous",
    "bad token",
    "member",
    "admin",
    "owner",
    "other org admin",
    "platform admin",
];

struct World {
    org: OrgId,
    code: String,
    /// Tokens in CALLERS order (None for anonymous).
    tokens: Vec<Option<String>>,
    /// A second member, the target of member operations.
    target: UserId,
    invitation: String,
}

async fn user(
    t: &TestApp,
    hash: &str,
    org: Option<(OrgId, OrgRole)>,
    platform_admin: bool,
) -> User {
    let now = Now::get().rfc3339();
    let u = User {
        id: UserId::new(),
        email: Email::parse(&unique_email("mx")).unwrap(),
        name: "Matrix".into(),
        org_id: org.map(|o| o.0),
        role: org.map(|o| o.1),
        platform_admin,
        created_at: now.clone().into(),
        updated_at: now.clone().into(),
        joined_at: org.map(|_| now.into()),
        password_hash: hash.to_string(),
        token_version: 0,
    };
    t.app.store.create_user(&u, None).await.unwrap();
    u
}

async fn org_owned_by(t: &TestApp, hash: &str) -> (OrgId, String, User) {
    let owner = user(t, hash, None, false).await;
    let code = unique_code();
    let new = NewOrg {
        id: OrgId::new(),
        name: OrgName::parse("Matrix Org").unwrap(),
        code: OrgCode::parse(&code).unwrap(),
        description: Description::parse("").unwrap(),
        tier: Tier::stored("free".into()),
        now: Now::get().rfc3339(),
    };
    let org = t.app.store.create_org(&new, &owner, true).await.unwrap();
    (org.id, code, owner)
}

async fn world(t: &TestApp, hash: &str) -> World {
    let (org, code, owner) = org_owned_by(t, hash).await;
    let member = user(t, hash, Some((org, OrgRole::Member)), false).await;
    let admin = user(t, hash, Some((org, OrgRole::Admin)), false).await;
    let target = user(t, hash, Some((org, OrgRole::Member)), false).await;
    let (other, _, _) = org_owned_by(t, hash).await;
    let other_admin = user(t, hash, Some((other, OrgRole::Admin)), false).await;
    let root = user(t, hash, None, true).await;
    let now = Now::get().epoch();
    let token = |u: &User| Some(t.app.keys.issue(&u.id.to_string(), 0, now, 900).unwrap());
    let tokens = vec![
        None,
        Some("eyJhbGciOiJFZERTQSIsImtpZCI6InJvc3Rlci0xIn0.eyJzdWIiOiJ4In0.c2ln".to_string()),
        token(&member),
        token(&admin),
        token(&owner),
        token(&other_admin),
        token(&root),
    ];
    let r = t
        .call(
            "POST",
            &format!("/orgs/{org}/invitations"),
            tokens[4].as_deref(),
            Some(json!({"emails": [unique_email("mxi")], "role": "member"})),
        )
        .await;
    let invitation = r.body["results"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_string();
    World {
        org,
        code,
        tokens,
        target: target.id,
        invitation,
    }
}

type Build = fn(&World) -> (&'static str, String, Option<String>);

fn body(v: Value) -> Option<String> {
    Some(v.to_string())
}

#[tokio::test]
async fn every_route_answers_every_caller_as_designed() {
    // Every cell's request comes from one (unknown) client address: the per-address limits
    // (limits.rs proves them) would answer 429 to the later bad links and wrong passwords.
    let t = TestApp::spawn_with(|c| {
        c.accept_max_failures_per_source = 1_000_000;
        c.login_max_failures_per_source = 1_000_000;
    })
    .await;
    let hash = password::hash(&Password::parse(PASSWORD).unwrap()).unwrap();
    let rows: Vec<(&str, [u16; 7], Build)> = vec![
        ("POST /auth/login", [401; 7], |_| {
            (
                "POST",
                "/auth/login".into(),
                body(json!({"email": unique_email("no"), "password": PASSWORD})),
            )
        }),
        ("POST /auth/refresh", [401; 7], |_| {
            (
                "POST",
                "/auth/refresh".into(),
                body(json!({"refresh_token": "a".repeat(43) + "." + &"b".repeat(43)})),
            )
        }),
        ("POST /auth/logout", [204; 7], |_| {
            (
                "POST",
                "/auth/logout".into(),
                body(json!({"refresh_token": "x.y"})),
            )
        }),
        ("GET /me", [401, 401, 200, 200, 200, 200, 200], |_| {
            ("GET", "/me".into(), None)
        }),
        ("GET /.well-known/jwks.json", [200; 7], |_| {
            ("GET", "/.well-known/jwks.json".into(), None)
        }),
        ("POST /orgs", [401, 401, 409, 409, 409, 409, 201], |_| {
            (
                "POST",
                "/orgs".into(),
                body(json!({"name": "New", "code": unique_code()})),
            )
        }),
        ("GET /orgs", [401, 401, 200, 200, 200, 200, 200], |_| {
            ("GET", "/orgs".into(), None)
        }),
        ("GET /orgs/{id}", [401, 401, 200, 200, 200, 404, 200], |w| {
            ("GET", format!("/orgs/{}", w.org), None)
        }),
        (
            "PATCH /orgs/{id}",
            [401, 401, 403, 200, 200, 404, 200],
            |w| {
                (
                    "PATCH",
                    format!("/orgs/{}", w.org),
                    body(json!({"name": "Renamed"})),
                )
            },
        ),
        (
            "DELETE /orgs/{id}",
            [401, 401, 403, 403, 204, 404, 204],
            |w| {
                (
                    "DELETE",
                    format!("/orgs/{}?confirm={}", w.org, w.code),
                    None,
                )
            },
        ),
        (
            "POST /orgs/{id}/invitations",
            [401, 401, 403, 200, 200, 404, 200],
            |w| {
                (
                    "POST",
                    format!("/orgs/{}/invitations", w.org),
                    body(json!({"emails": [unique_email("mxn")], "role": "member"})),
                )
            },
        ),
        (
            "GET /orgs/{id}/invitations",
            [401, 401, 403, 200, 200, 404, 200],
            |w| ("GET", format!("/orgs/{}/invitations", w.org), None),
        ),
        (
            "GET /orgs/{id}/invitations/{inv}",
            [401, 401, 403, 200, 200, 404, 200],
            |w| {
                (
                    "GET",
                    format!("/orgs/{}/invitations/{}", w.org, w.invitation),
                    None,
                )
            },
        ),
        (
            "POST /orgs/{id}/invitations/{inv}/resend",
            [401, 401, 403, 200, 200, 404, 200],
            |w| {
                (
                    "POST",
                    format!("/orgs/{}/invitations/{}/resend", w.org, w.invitation),
                    None,
                )
            },
        ),
        (
            "DELETE /orgs/{id}/invitations/{inv}",
            [401, 401, 403, 204, 204, 404, 204],
            |w| {
                (
                    "DELETE",
                    format!("/orgs/{}/invitations/{}", w.org, w.invitation),
                    None,
                )
            },
        ),
        ("GET /invitations/preview", [404; 7], |_| {
            (
                "GET",
                "/invitations/preview?token=forged.token".into(),
                None,
            )
        }),
        ("POST /invitations/accept", [404; 7], |_| {
            (
                "POST",
                "/invitations/accept".into(),
                body(json!({"token": "forged.token"})),
            )
        }),
        ("POST /invitations/decline", [404; 7], |_| {
            (
                "POST",
                "/invitations/decline".into(),
                body(json!({"token": "forged.token"})),
            )
        }),
        ("GET /invite", [404; 7], |_| {
            ("GET", "/invite?token=forged.token".into(), None)
        }),
        ("POST /invite", [404; 7], |_| {
            (
                "POST",
                "/invite".into(),
                Some("token=forged.token&action=accept".into()),
            )
        }),
        (
            "GET /orgs/{id}/members",
            [401, 401, 403, 200, 200, 404, 200],
            |w| ("GET", format!("/orgs/{}/members", w.org), None),
        ),
        (
            "GET /orgs/{id}/members/{user}",
            [401, 401, 403, 200, 200, 404, 200],
            |w| ("GET", format!("/orgs/{}/members/{}", w.org, w.target), None),
        ),
        (
            "PATCH /orgs/{id}/members/{user}",
            [401, 401, 403, 200, 200, 404, 200],
            |w| {
                (
                    "PATCH",
                    format!("/orgs/{}/members/{}", w.org, w.target),
                    body(json!({"role": "admin"})),
                )
            },
        ),
        (
            "POST /orgs/{id}/members/bulk-role",
            [401, 401, 403, 200, 200, 404, 200],
            |w| {
                (
                    "POST",
                    format!("/orgs/{}/members/bulk-role", w.org),
                    body(json!({"user_ids": [w.target], "role": "admin"})),
                )
            },
        ),
        (
            "POST /orgs/{id}/transfer-ownership",
            [401, 401, 403, 403, 200, 404, 200],
            |w| {
                (
                    "POST",
                    format!("/orgs/{}/transfer-ownership", w.org),
                    body(json!({"user_id": w.target})),
                )
            },
        ),
        (
            "DELETE /orgs/{id}/members/{user}",
            [401, 401, 403, 204, 204, 404, 204],
            |w| {
                (
                    "DELETE",
                    format!("/orgs/{}/members/{}", w.org, w.target),
                    None,
                )
            },
        ),
        (
            "POST /orgs/{id}/members/bulk-remove",
            [401, 401, 403, 200, 200, 404, 200],
            |w| {
                (
                    "POST",
                    format!("/orgs/{}/members/bulk-remove", w.org),
                    body(json!({"user_ids": [w.target]})),
                )
            },
        ),
        ("POST /users", [401, 401, 403, 201, 201, 404, 201], |w| {
            (
                "POST",
                "/users".into(),
                body(
                    json!({"email": unique_email("mxu"), "name": "U", "password": PASSWORD, "role": "member", "org_id": w.org}),
                ),
            )
        }),
        (
            "GET /users?org_id={id}",
            [401, 401, 403, 200, 200, 404, 200],
            |w| ("GET", format!("/users?org_id={}", w.org), None),
        ),
        (
            "GET /users/{user}",
            [401, 401, 403, 200, 200, 404, 200],
            |w| ("GET", format!("/users/{}", w.target), None),
        ),
        (
            "PATCH /users/{user}",
            [401, 401, 403, 200, 200, 404, 200],
            |w| {
                (
                    "PATCH",
                    format!("/users/{}", w.target),
                    body(json!({"name": "Edited"})),
                )
            },
        ),
        (
            "DELETE /users/{user}",
            [401, 401, 403, 204, 204, 404, 204],
            |w| ("DELETE", format!("/users/{}", w.target), None),
        ),
        (
            "GET /orgs/{id}/audit",
            [401, 401, 403, 200, 200, 404, 200],
            |w| ("GET", format!("/orgs/{}/audit", w.org), None),
        ),
        // Email confirmation: the link is the proof, whoever calls (none here is valid).
        ("POST /users/confirm-email", [404; 7], |w| {
            let token = format!("{}.{}", w.target, "A".repeat(43));
            (
                "POST",
                "/users/confirm-email".into(),
                body(json!({ "token": token })),
            )
        }),
        ("GET /confirm-email", [200; 7], |_| {
            ("GET", "/confirm-email?token=anything".into(), None)
        }),
        ("POST /confirm-email", [404; 7], |w| {
            (
                "POST",
                "/confirm-email".into(),
                Some(format!("token={}.{}", w.target, "A".repeat(43))),
            )
        }),
    ];
    let mut table = format!(
        "| route | {} |\n|---|{}\n",
        CALLERS.join(" | "),
        "---|".repeat(CALLERS.len())
    );
    let mut failures = Vec::new();
    for (name, want, build) in &rows {
        let mut line = format!("| {name} |");
        for (i, who) in CALLERS.iter().enumerate() {
            let w = world(&t, &hash).await;
            let (method, uri, payload) = build(&w);
            let r = t
                .call_raw(method, &uri, w.tokens[i].as_deref(), payload.as_deref())
                .await;
            line.push_str(&format!(" {} |", r.status));
            if r.status != want[i] {
                failures.push(format!(
                    "{name} as {who}: got {} want {}: {}",
                    r.status, want[i], r.body
                ));
            }
            if r.status >= 400
                && !uri.starts_with("/invite?")
                && !(method == "POST" && (uri == "/invite" || uri == "/confirm-email"))
            {
                assert_eq!(
                    r.headers["content-type"], "application/problem+json",
                    "{name} as {who}"
                );
            }
        }
        table.push_str(&line);
        table.push('\n');
    }
    println!("{table}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-artifacts");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("permission-matrix.md"), &table).unwrap();
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(rows.len() * CALLERS.len(), 36 * 7);
}
