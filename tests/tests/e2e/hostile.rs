//! Hostile input, table-driven, through the functions' lambda_http handlers (DESIGN §9).
//!
//! - bodies: every route with a body gets malformed, truncated, mistyped, oversized and
//!   unknown-field bodies, and hostile strings (control characters, 10k characters, display
//!   names, look-alikes, SQL and DynamoDB-expression fragments) in every string field;
//! - cursors: every list route gets tampered cursors (flipped, truncated, garbage, another
//!   org's, another list's, forged into the same partition, enormous);
//! - tokens: access tokens (forged, truncated, expired, wrong audience/issuer/kid/key,
//!   `alg: none`, HS256 keyed with the public key) on every route that takes a bearer token,
//!   refresh tokens on /auth/refresh and /auth/logout, invitation links on the preview,
//!   accept, decline and page routes;
//! - paths and queries: bad ids in every path parameter, bad `limit`, `status`, `role`,
//!   `confirm`, `org_id`.
//!
//! Every case must get its exact status with a problem+json body (the acceptance page: its
//! HTML), never a 5xx. A value that is legal (an injection string as a name) must be stored
//! as data and read back byte-identical. (One allowance: a cursor forged inside the caller's
//! own partition, within the list's key range, may be read from, as long as nothing of
//! another tenant comes back; see `cursors`.) Each section is a test of its own (tokens are
//! three: access tokens, refresh tokens, invitation links); within one, failures are
//! collected per case, named, and reported together, with the number of cases.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::{Actor, Joining, PASSWORD, Reply, TestApp, unique_code, unique_email};
use futures_util::future::LocalBoxFuture;
use lambda_http::http::{Method, Request as HttpRequest, header};
use lambda_http::{Body, Request};
use roster::clock::Now;
use roster::domain::{OrgId, OrgRole};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Expectations and the tally.

#[derive(Clone, Debug)]
enum Want {
    /// This status, a problem+json body, and this stable code.
    Problem(u16, &'static str),
    /// This status (problem+json when it is an error).
    Status(u16),
    /// The acceptance page with this status.
    Html(u16),
}

const BAD: Want = Want::Problem(400, "validation_failed");
const MALFORMED: Want = Want::Problem(400, "malformed_request");
const TOO_LARGE: Want = Want::Problem(413, "payload_too_large");
const UNAUTHORIZED: Want = Want::Problem(401, "unauthorized");
const NOT_FOUND: Want = Want::Problem(404, "not_found");

struct Tally {
    section: &'static str,
    cases: usize,
    failures: Vec<String>,
    started: std::time::Instant,
    took: std::time::Duration,
}

impl Tally {
    fn new(section: &'static str) -> Self {
        Tally {
            section,
            cases: 0,
            failures: Vec::new(),
            started: std::time::Instant::now(),
            took: std::time::Duration::ZERO,
        }
    }

    /// One case: `r` must be what `want` says. Returns whether it was.
    fn check(&mut self, case: &str, r: &Reply, want: &Want) -> bool {
        self.cases += 1;
        match verdict(r, want) {
            Ok(()) => true,
            Err(why) => {
                self.fail(case, format!("{why}; got {} {}", r.status, short(&r.body)));
                false
            }
        }
    }

    fn done(mut self) -> Self {
        self.took = self.started.elapsed();
        self
    }

    /// A failed follow-up check of a case already counted (e.g. the read-back).
    fn fail(&mut self, case: &str, why: String) {
        self.failures
            .push(format!("[{}] {case}: {why}", self.section));
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 300 {
        format!("{}…", &s[..s.floor_char_boundary(300)])
    } else {
        s
    }
}

fn content_type(r: &Reply) -> &str {
    r.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn verdict(r: &Reply, want: &Want) -> Result<(), String> {
    if r.status >= 500 {
        return Err("a 5xx".into());
    }
    match *want {
        Want::Problem(status, code) => {
            if r.status != status || r.code() != code {
                return Err(format!("want {status} {code}"));
            }
            problem_shape(r)
        }
        Want::Status(status) => {
            if r.status != status {
                return Err(format!("want {status}"));
            }
            if status >= 400 {
                problem_shape(r)
            } else {
                Ok(())
            }
        }
        Want::Html(status) => {
            if r.status != status {
                return Err(format!("want the page with {status}"));
            }
            if !content_type(r).starts_with("text/html") {
                return Err(format!("want an HTML page, got {}", content_type(r)));
            }
            Ok(())
        }
    }
}

fn problem_shape(r: &Reply) -> Result<(), String> {
    if content_type(r) != "application/problem+json" {
        return Err(format!(
            "want application/problem+json, got {:?}",
            content_type(r)
        ));
    }
    let b = &r.body;
    if b["status"] != r.status
        || b["type"] != format!("urn:roster:problem:{}", r.code()).as_str()
        || !b["title"].is_string()
        || !b["detail"].is_string()
    {
        return Err("problem body lacks type/title/status/detail".into());
    }
    if r.status == 401 && r.headers.get(header::WWW_AUTHENTICATE).is_none() {
        return Err("401 without WWW-Authenticate".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Sending requests the handlers see exactly as given.

async fn send(
    t: &TestApp,
    method: &str,
    uri: &str,
    authorization: Option<&str>,
    content_type: &str,
    body: Option<Vec<u8>>,
) -> Reply {
    let mut b = HttpRequest::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type);
    if let Some(a) = authorization {
        b = b.header(header::AUTHORIZATION, a);
    }
    let body = match body {
        Some(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        },
        None => Body::Empty,
    };
    let req: Request = b.body(body).expect("request");
    t.dispatch(req).await
}

async fn send_json(
    t: &TestApp,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &[u8],
) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    send(
        t,
        method,
        uri,
        auth.as_deref(),
        "application/json",
        Some(body.to_vec()),
    )
    .await
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn pct(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

// ---------------------------------------------------------------------------------------
// Hostile strings and what each kind of field must make of them.

fn hostile_strings() -> Vec<(&'static str, String)> {
    vec![
        ("NUL", "nul\u{0}inside a longer value".into()),
        ("ESC", "\u{1b}[31mred\u{1b}[0m and more text".into()),
        ("RLO", "invoice\u{202e}fdp.exe for you".into()),
        ("CRLF", "line one\r\nBcc: eve@x.com".into()),
        ("10k chars", "x".repeat(10_000)),
        ("10k emoji", "🦀".repeat(10_000)),
        ("SQL", "' OR 1=1 --".into()),
        ("SQL drop", "'; DROP TABLE roster; --".into()),
        ("expr names", "#pk = :v".into()),
        ("expr function", "attribute_exists(pk)".into()),
        ("expr paren", ")".into()),
        (
            "expr condition",
            "pk = :pk OR attribute_not_exists(sk)".into(),
        ),
        ("template", "${x}".into()),
        ("dynamo json", r#"{"S":"x"}"#.into()),
        ("html", "<script>alert(1)</script>".into()),
        ("display name email", "\"Eve\" <eve@x.com>".into()),
        ("cyrillic domain", "eve@ex\u{430}mple.com".into()),
        ("fullwidth at", "eve\u{ff20}example.com".into()),
        ("empty", String::new()),
        ("blank", "   ".into()),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Organization name: 1-100 characters, no control characters.
    OrgName,
    /// Person name: 1-100 characters, one line.
    PersonName,
    /// Description: 0-1000 characters.
    Description,
    /// Organization code: `^[A-Z0-9][A-Z0-9_-]{1,31}$` after upper-casing.
    Code,
    /// An email address that is refused with a 400 when invalid.
    Email,
    /// An element of an invitation's `emails`: a per-address `invalid` result.
    InviteEmail,
    /// Sign-in email or password: the same 401 whatever is wrong.
    LoginSecret,
    /// A new password: 12-128 characters, any characters.
    Password,
    /// An enumerated value (role, tier) or an id: none of the hostile strings is one.
    Enum,
    InvitationToken,
    RefreshToken,
    /// Sign-out is idempotent: an unknown refresh token is a 204.
    LogoutToken,
}

enum Outcome {
    Answer(Want),
    /// Legal: stored as this (trimmed) value and read back byte-identical.
    Stored(String),
    /// An invitation address: 200 with an `invalid` result and nothing stored.
    InvalidResult,
}

fn text_ok(v: &str, min: usize, max: usize, one_line: bool) -> bool {
    let t = v.trim();
    let n = t.chars().count();
    (min..=max).contains(&n)
        && !t.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
        && !(one_line && (t.contains('\n') || t.contains('\t')))
}

fn code_ok(v: &str) -> bool {
    let c = v.trim().to_ascii_uppercase();
    let ok_char = |ch: char| ch.is_ascii_uppercase() || ch.is_ascii_digit();
    (2..=32).contains(&c.len())
        && c.chars().next().is_some_and(ok_char)
        && c.chars().all(|ch| ok_char(ch) || ch == '_' || ch == '-')
}

fn outcome(kind: Kind, v: &str) -> Outcome {
    let text = |ok: bool| {
        if ok {
            Outcome::Stored(v.trim().to_string())
        } else {
            Outcome::Answer(BAD)
        }
    };
    match kind {
        Kind::OrgName => text(text_ok(v, 1, 100, false)),
        Kind::PersonName => text(text_ok(v, 1, 100, true)),
        Kind::Description => text(text_ok(v, 0, 1000, false)),
        Kind::Code => {
            assert!(!code_ok(v), "{v:?} is a legal code: pick another value");
            Outcome::Answer(BAD)
        }
        Kind::Email | Kind::Enum => Outcome::Answer(BAD),
        Kind::InviteEmail => Outcome::InvalidResult,
        Kind::LoginSecret => Outcome::Answer(Want::Problem(401, "invalid_credentials")),
        Kind::Password => {
            if (12..=128).contains(&v.chars().count()) {
                Outcome::Stored(v.to_string())
            } else {
                Outcome::Answer(BAD)
            }
        }
        Kind::InvitationToken => Outcome::Answer(NOT_FOUND),
        Kind::RefreshToken => Outcome::Answer(UNAUTHORIZED),
        Kind::LogoutToken => Outcome::Answer(Want::Status(204)),
    }
}

// ---------------------------------------------------------------------------------------
// The world the cases run in.

struct World {
    root: Actor,
    org: OrgId,
    owner: Actor,
    /// A member whose id the member routes name (never actually changed).
    member: Actor,
    /// The user PATCH /users edits.
    edited: Actor,
    /// Links of pending invitations for new accounts, made in one go: (token, email).
    links: std::sync::Mutex<Vec<(String, String)>>,
}

async fn world(t: &TestApp) -> World {
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    let member = t.member_of(org, OrgRole::Member).await;
    let edited = t.member_of(org, OrgRole::Member).await;
    // Enough links for every case that accepts one (one invite, one read of the mail).
    let emails: Vec<String> = (0..90).map(|_| unique_email("hostile-inv")).collect();
    let r = t.invite(&owner, org, &emails, "member").await;
    assert_eq!(r.status, 200, "invite: {}", r.body);
    let tokens = t.latest_tokens(&emails).await;
    let links = emails
        .iter()
        .map(|e| (tokens[e].clone(), e.clone()))
        .collect();
    World {
        links: std::sync::Mutex::new(links),
        root,
        org,
        owner,
        member,
        edited,
    }
}

/// A fresh invitation into `org`: (token, email).
async fn fresh_invitation(t: &TestApp, w: &World) -> (String, String) {
    if let Some(link) = w.links.lock().unwrap().pop() {
        return link;
    }
    let email = unique_email("hostile-inv");
    let r = t.invite(&w.owner, w.org, &[&email], "member").await;
    assert_eq!(r.status, 200, "invite: {}", r.body);
    (t.latest_token(&email).await, email)
}

#[derive(Clone, Copy, PartialEq)]
enum Ty {
    Str(Kind),
    /// A list of strings; the hostile value goes in as its only element.
    List(Kind),
    Bool,
    Int,
}

struct Field {
    name: &'static str,
    ty: Ty,
    required: bool,
}

const fn f(name: &'static str, ty: Ty, required: bool) -> Field {
    Field { name, ty, required }
}

struct BodyRoute {
    name: &'static str,
    method: &'static str,
    uri: String,
    token: Option<String>,
    fields: Vec<Field>,
    /// The status a legal value gets.
    success: u16,
}

fn body_routes(w: &World) -> Vec<BodyRoute> {
    use Kind::*;
    use Ty::*;
    let org = w.org;
    let root = Some(w.root.token.clone());
    let owner = Some(w.owner.token.clone());
    vec![
        BodyRoute {
            name: "POST /auth/login",
            method: "POST",
            uri: "/auth/login".into(),
            token: None,
            fields: vec![
                f("email", Str(LoginSecret), true),
                f("password", Str(LoginSecret), true),
            ],
            success: 200,
        },
        BodyRoute {
            name: "POST /auth/refresh",
            method: "POST",
            uri: "/auth/refresh".into(),
            token: None,
            fields: vec![f("refresh_token", Str(RefreshToken), true)],
            success: 200,
        },
        BodyRoute {
            name: "POST /auth/logout",
            method: "POST",
            uri: "/auth/logout".into(),
            token: None,
            fields: vec![f("refresh_token", Str(LogoutToken), true)],
            success: 204,
        },
        BodyRoute {
            name: "POST /orgs",
            method: "POST",
            uri: "/orgs".into(),
            token: root.clone(),
            fields: vec![
                f("name", Str(OrgName), true),
                f("code", Str(Code), true),
                f("description", Str(Description), false),
                f("tier", Str(Enum), false),
                f("owner_email", Str(Email), false),
            ],
            success: 201,
        },
        BodyRoute {
            name: "PATCH /orgs/{id}",
            method: "PATCH",
            uri: format!("/orgs/{org}"),
            token: root.clone(),
            fields: vec![
                f("name", Str(OrgName), false),
                f("description", Str(Description), false),
                f("tier", Str(Enum), false),
                f("code", Str(Code), false),
            ],
            success: 200,
        },
        BodyRoute {
            name: "POST /orgs/{id}/invitations",
            method: "POST",
            uri: format!("/orgs/{org}/invitations"),
            token: owner.clone(),
            fields: vec![
                f("emails", List(InviteEmail), true),
                f("role", Str(Enum), true),
                f("expires_in_seconds", Int, false),
            ],
            success: 200,
        },
        BodyRoute {
            name: "POST /invitations/accept",
            method: "POST",
            uri: "/invitations/accept".into(),
            token: None,
            fields: vec![
                f("token", Str(InvitationToken), true),
                f("name", Str(PersonName), false),
                f("password", Str(Password), false),
            ],
            success: 200,
        },
        BodyRoute {
            name: "POST /invitations/decline",
            method: "POST",
            uri: "/invitations/decline".into(),
            token: None,
            fields: vec![f("token", Str(InvitationToken), true)],
            success: 200,
        },
        BodyRoute {
            name: "PATCH /orgs/{id}/members/{user}",
            method: "PATCH",
            uri: format!("/orgs/{org}/members/{}", w.member.user.id),
            token: owner.clone(),
            fields: vec![f("role", Str(Enum), true)],
            success: 200,
        },
        BodyRoute {
            name: "POST /orgs/{id}/members/bulk-role",
            method: "POST",
            uri: format!("/orgs/{org}/members/bulk-role"),
            token: owner.clone(),
            fields: vec![f("user_ids", List(Enum), true), f("role", Str(Enum), true)],
            success: 200,
        },
        BodyRoute {
            name: "POST /orgs/{id}/transfer-ownership",
            method: "POST",
            uri: format!("/orgs/{org}/transfer-ownership"),
            token: owner.clone(),
            fields: vec![f("user_id", Str(Enum), true)],
            success: 200,
        },
        BodyRoute {
            name: "POST /orgs/{id}/members/bulk-remove",
            method: "POST",
            uri: format!("/orgs/{org}/members/bulk-remove"),
            token: owner.clone(),
            fields: vec![f("user_ids", List(Enum), true)],
            success: 200,
        },
        BodyRoute {
            name: "POST /users",
            method: "POST",
            uri: "/users".into(),
            token: root.clone(),
            fields: vec![
                f("email", Str(Email), true),
                f("name", Str(PersonName), true),
                f("password", Str(Password), true),
                f("role", Str(Enum), false),
                f("org_id", Str(Enum), false),
                f("platform_admin", Bool, false),
            ],
            success: 201,
        },
        BodyRoute {
            name: "PATCH /users/{id}",
            method: "PATCH",
            uri: format!("/users/{}", w.edited.user.id),
            token: root,
            fields: vec![
                f("name", Str(PersonName), false),
                f("email", Str(Email), false),
                f("password", Str(Password), false),
                f("role", Str(Enum), false),
            ],
            success: 200,
        },
    ]
}

/// A valid body for the route, fresh where it must be (a new code, email or invitation).
/// With `live_invitation`, accept gets a token of a pending invitation for a new account.
async fn base_body(t: &TestApp, w: &World, route: &str, live_invitation: bool) -> Value {
    let well_formed_refresh = format!(
        "{}.{}",
        roster::auth::secret::random_token(),
        roster::auth::secret::random_token()
    );
    match route {
        "POST /auth/login" => json!({"email": unique_email("nobody"), "password": PASSWORD}),
        "POST /auth/refresh" | "POST /auth/logout" => json!({"refresh_token": well_formed_refresh}),
        "POST /orgs" => {
            json!({"name": "Hostile Org", "code": unique_code(), "description": "d", "tier": "free"})
        }
        "PATCH /orgs/{id}" => json!({"name": "Renamed", "description": "d"}),
        "POST /orgs/{id}/invitations" => {
            json!({"emails": [unique_email("hostile")], "role": "member", "expires_in_seconds": 3600})
        }
        "POST /invitations/accept" => {
            let token = if live_invitation {
                fresh_invitation(t, w).await.0
            } else {
                forged_invitation_token()
            };
            json!({"token": token, "name": "New Person", "password": PASSWORD})
        }
        "POST /invitations/decline" => json!({"token": forged_invitation_token()}),
        "PATCH /orgs/{id}/members/{user}" => json!({"role": "admin"}),
        "POST /orgs/{id}/members/bulk-role" => {
            json!({"user_ids": [w.member.user.id], "role": "admin"})
        }
        "POST /orgs/{id}/transfer-ownership" => json!({"user_id": w.member.user.id}),
        "POST /orgs/{id}/members/bulk-remove" => json!({"user_ids": [w.member.user.id]}),
        "POST /users" => json!({
            "email": unique_email("direct"), "name": "Made Directly", "password": PASSWORD,
            "role": "member", "org_id": w.org,
        }),
        "PATCH /users/{id}" => json!({"name": "Edited"}),
        other => panic!("no base body for {other}"),
    }
}

fn forged_invitation_token() -> String {
    roster::domain::InvitationToken {
        org_id: OrgId::new(),
        invitation_id: roster::domain::InvitationId::new(),
        nonce: roster::auth::secret::random_token(),
    }
    .encode()
}

/// Values of the wrong JSON type for a field.
fn wrong_types(ty: Ty) -> Vec<(&'static str, Value)> {
    match ty {
        Ty::Str(_) => vec![
            ("number", json!(12345)),
            ("array", json!(["x"])),
            ("object", json!({"S": "x"})),
            ("bool", json!(true)),
        ],
        Ty::List(_) => vec![
            ("string", json!("x@example.com")),
            ("number", json!(1)),
            ("object", json!({})),
            ("array of numbers", json!([1, 2])),
            ("array of objects", json!([{"S": "x"}])),
        ],
        Ty::Bool => vec![("string", json!("true")), ("number", json!(1))],
        Ty::Int => vec![
            ("string", json!("3600")),
            ("float", json!(3600.5)),
            ("bool", json!(true)),
            ("negative", json!(-1)),
            ("beyond i64", json!(u64::MAX)),
            ("below range", json!(299)),
            ("above range", json!(2_592_001)),
        ],
    }
}

// ---------------------------------------------------------------------------------------
// Section: bodies.

async fn bodies(t: &TestApp, w: &World) -> Tally {
    use futures_util::StreamExt;
    use std::future::Future;
    use std::pin::Pin;
    let mut tally = Tally::new("bodies");
    // Routes side by side (a few at a time): the emulator serves one request at a time,
    // but this keeps it busy while the test hashes passwords and builds bodies.
    let routes = body_routes(w);
    let mut work: Vec<Pin<Box<dyn Future<Output = Tally> + '_>>> = routes
        .iter()
        .map(|route| Box::pin(route_cases(t, w, route)) as Pin<Box<dyn Future<Output = Tally>>>)
        .collect();
    work.push(Box::pin(async {
        let mut tally = Tally::new("bodies");
        form_cases(t, w, &mut tally).await;
        tally
    }));
    let parts: Vec<Tally> = futures_util::stream::iter(work)
        .buffer_unordered(4)
        .collect()
        .await;
    for part in parts {
        tally.cases += part.cases;
        tally.failures.extend(part.failures);
    }
    tally.done()
}

/// Every body case of one route.
async fn route_cases(t: &TestApp, w: &World, route: &BodyRoute) -> Tally {
    let mut tally = Tally::new("bodies");
    {
        structural_cases(t, w, route, &mut tally).await;
        for field in &route.fields {
            for (label, wrong) in wrong_types(field.ty) {
                let mut body = base_body(t, w, route.name, false).await;
                body[field.name] = wrong;
                let r = send_json(
                    t,
                    route.method,
                    &route.uri,
                    route.token.as_deref(),
                    body.to_string().as_bytes(),
                )
                .await;
                let case = format!("{} {}: {label}", route.name, field.name);
                let named = r.body["errors"][0]["field"]
                    .as_str()
                    .is_some_and(|f| f.starts_with(field.name));
                if tally.check(&case, &r, &BAD) && !named {
                    tally.fail(&case, format!("errors do not name the field: {}", r.body));
                }
            }
            if field.required {
                let mut body = base_body(t, w, route.name, false).await;
                body.as_object_mut().unwrap().remove(field.name);
                let r = send_json(
                    t,
                    route.method,
                    &route.uri,
                    route.token.as_deref(),
                    body.to_string().as_bytes(),
                )
                .await;
                tally.check(&format!("{} {}: missing", route.name, field.name), &r, &BAD);
                let mut body = base_body(t, w, route.name, false).await;
                body[field.name] = Value::Null;
                let r = send_json(
                    t,
                    route.method,
                    &route.uri,
                    route.token.as_deref(),
                    body.to_string().as_bytes(),
                )
                .await;
                tally.check(&format!("{} {}: null", route.name, field.name), &r, &BAD);
            }
            let kind = match field.ty {
                Ty::Str(k) | Ty::List(k) => k,
                Ty::Bool | Ty::Int => continue,
            };
            for (label, value) in hostile_strings() {
                let case = format!("{} {}={label}", route.name, field.name);
                string_case(t, w, route, field, kind, &value, &case, &mut tally).await;
            }
        }
    }
    tally
}

/// Bodies that are not the JSON object the route takes.
async fn structural_cases(t: &TestApp, w: &World, route: &BodyRoute, tally: &mut Tally) {
    let valid = base_body(t, w, route.name, false).await.to_string();
    let first = route.fields[0].name;
    let mut with_unknown = base_body(t, w, route.name, false).await;
    with_unknown["zzz_unknown"] = json!(1);
    let mut big = base_body(t, w, route.name, false).await;
    big["padding"] = json!("p".repeat(1024 * 1024));
    let mut just_over = base_body(t, w, route.name, false).await;
    let len = just_over.to_string().len();
    // `,"padding":""` is 13 bytes.
    just_over["padding"] = json!("p".repeat(64 * 1024 + 1 - len - 13));
    let surrogate = valid.replacen(
        &format!("\"{first}\":"),
        &format!("\"{first}\":\"\\ud800\",\"x\":"),
        1,
    );
    let raw_control = format!("{{\"{first}\":\"a\u{1}b\"}}");
    let duplicate = format!("{{\"{first}\":\"a\",\"{first}\":\"b\"}}");
    let nested = format!(
        "{{\"{first}\":{}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let mut invalid_utf8 = format!("{{\"{first}\":\"a").into_bytes();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0x80]);
    invalid_utf8.extend_from_slice(b"b\"}");
    let cases: Vec<(&str, Vec<u8>, Want)> = vec![
        (
            "malformed",
            format!("{{\"{first}\": ").into_bytes(),
            MALFORMED,
        ),
        // An unknown key is refused as soon as it is read, before the syntax error.
        ("malformed after an unknown key", br#"{"a": "#.to_vec(), BAD),
        (
            "truncated",
            valid.as_bytes()[..valid.len() / 2].to_vec(),
            MALFORMED,
        ),
        ("not json", b"name=Acme&code=ACME".to_vec(), MALFORMED),
        ("empty", Vec::new(), MALFORMED),
        ("whitespace only", b" \n\t ".to_vec(), MALFORMED),
        (
            "byte order mark",
            format!("\u{feff}{valid}").into_bytes(),
            MALFORMED,
        ),
        (
            "trailing garbage",
            format!("{valid}x").into_bytes(),
            MALFORMED,
        ),
        (
            "two objects",
            format!("{valid}{valid}").into_bytes(),
            MALFORMED,
        ),
        ("invalid UTF-8", invalid_utf8, MALFORMED),
        ("lone surrogate", surrogate.into_bytes(), MALFORMED),
        ("raw control character", raw_control.into_bytes(), MALFORMED),
        (
            "single quotes",
            valid.replace('"', "'").into_bytes(),
            MALFORMED,
        ),
        ("array", b"[1,2,3]".to_vec(), BAD),
        ("null", b"null".to_vec(), BAD),
        ("number", b"42".to_vec(), BAD),
        ("string", b"\"x\"".to_vec(), BAD),
        ("duplicate field", duplicate.into_bytes(), BAD),
        ("deep nesting", nested.into_bytes(), BAD),
        ("unknown field", with_unknown.to_string().into_bytes(), BAD),
        (
            "unknown __proto__",
            valid
                .replacen('{', "{\"__proto__\":{\"admin\":true},", 1)
                .into_bytes(),
            BAD,
        ),
        ("1 MiB", big.to_string().into_bytes(), TOO_LARGE),
        ("64 KiB + 1", just_over.to_string().into_bytes(), TOO_LARGE),
    ];
    for (label, body, want) in cases {
        let case = format!("{}: {label}", route.name);
        if label == "64 KiB + 1" {
            assert_eq!(body.len(), 64 * 1024 + 1, "{case}: the body size is exact");
        }
        let r = send_json(t, route.method, &route.uri, route.token.as_deref(), &body).await;
        if tally.check(&case, &r, &want)
            && label == "unknown field"
            && r.body["errors"][0]["field"] != "zzz_unknown"
        {
            tally.fail(&case, format!("errors do not name the field: {}", r.body));
        }
    }
}

/// One hostile string in one field; a legal value must be stored and read back as sent.
#[allow(clippy::too_many_arguments)]
async fn string_case(
    t: &TestApp,
    w: &World,
    route: &BodyRoute,
    field: &Field,
    kind: Kind,
    value: &str,
    case: &str,
    tally: &mut Tally,
) {
    let expected = outcome(kind, value);
    let live = route.name == "POST /invitations/accept" && field.name != "token";
    let mut body = base_body(t, w, route.name, live).await;
    body[field.name] = match field.ty {
        Ty::List(_) => json!([value]),
        _ => json!(value),
    };
    let r = send_json(
        t,
        route.method,
        &route.uri,
        route.token.as_deref(),
        body.to_string().as_bytes(),
    )
    .await;
    match expected {
        Outcome::Answer(want) => {
            tally.check(case, &r, &want);
        }
        Outcome::InvalidResult => {
            if tally.check(case, &r, &Want::Status(200)) {
                let result = &r.body["results"][0];
                if result["status"] != "invalid" || !result["invitation_id"].is_null() {
                    tally.fail(case, format!("want an invalid result: {}", r.body));
                }
            }
        }
        Outcome::Stored(stored) => {
            if tally.check(case, &r, &Want::Status(route.success))
                && let Err(why) = read_back(t, w, route.name, field.name, &stored, &body, &r).await
            {
                tally.fail(case, why);
            }
        }
    }
}

/// Reads a legal value back through the API: it must be exactly what was stored.
async fn read_back(
    t: &TestApp,
    w: &World,
    route: &str,
    field: &str,
    stored: &str,
    sent: &Value,
    r: &Reply,
) -> Result<(), String> {
    let same = |got: &Value, what: &str| -> Result<(), String> {
        if got.as_str() == Some(stored) {
            Ok(())
        } else {
            Err(format!(
                "{what} reads back {}, not the {}-byte value sent",
                short(got),
                stored.len()
            ))
        }
    };
    let can_sign_in = |email: String, password: String| async move {
        let r = t.sign_in(&email, &password).await;
        if r.status == 200 {
            Ok(())
        } else {
            Err(format!("cannot sign in with the new password: {}", r.body))
        }
    };
    match (route, field) {
        ("POST /orgs", _) => {
            let id = r.body["id"].as_str().unwrap_or_default();
            let got = t.org(&w.root, id).await;
            same(&got.body[field], "GET /orgs/{id}")?;
            let stored_org = t
                .app
                .store
                .get_org(&OrgId::parse(id).map_err(|e| e.message)?)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the org is not in the table")?;
            let in_table = if field == "name" {
                stored_org.name
            } else {
                stored_org.description
            };
            same(&json!(in_table), "the table")
        }
        ("PATCH /orgs/{id}", _) => {
            let got = t.org(&w.root, w.org).await;
            same(&got.body[field], "GET /orgs/{id}")
        }
        ("POST /users", "name") => {
            let id = r.body["id"].as_str().unwrap_or_default();
            let got = t.user(&w.root, id).await;
            same(&got.body["name"], "GET /users/{id}")
        }
        ("POST /users", "password") => {
            can_sign_in(sent["email"].as_str().unwrap().into(), stored.into()).await
        }
        ("PATCH /users/{id}", "name") => {
            let got = t.user(&w.root, w.edited.user.id).await;
            same(&got.body["name"], "GET /users/{id}")
        }
        ("PATCH /users/{id}", "password") => {
            can_sign_in(w.edited.user.email.to_string(), stored.into()).await
        }
        ("POST /invitations/accept", "name") => {
            same(&r.body["user"]["name"], "the accept response")?;
            let token = r.body["access_token"].as_str().unwrap_or_default();
            let me = t.me(&token).await;
            same(&me.body["name"], "GET /me")
        }
        ("POST /invitations/accept", "password") => {
            can_sign_in(
                r.body["user"]["email"].as_str().unwrap_or_default().into(),
                stored.into(),
            )
            .await
        }
        other => Err(format!("no read-back for {other:?}")),
    }
}

/// The acceptance page's form (POST /invite): the same values, as form fields. Its answers
/// are HTML pages; hostile values must come back escaped.
async fn form_cases(t: &TestApp, w: &World, tally: &mut Tally) {
    let send_form = |body: Vec<u8>| async move {
        send(
            t,
            "POST",
            "/invite",
            None,
            "application/x-www-form-urlencoded",
            Some(body),
        )
        .await
    };
    let escaped = |case: &str, r: &Reply, value: &str, tally: &mut Tally| {
        let page = r.body.as_str().unwrap_or_default();
        if value.contains('<') && page.contains(value) {
            tally.fail(case, "the page echoes the value unescaped".into());
        }
    };
    for (label, value) in hostile_strings() {
        let case = format!("POST /invite token={label}");
        let body = form(&[("token", &value), ("action", "accept")]);
        let want = if body.len() > 64 * 1024 {
            Want::Html(413)
        } else {
            Want::Html(404)
        };
        let r = send_form(body).await;
        tally.check(&case, &r, &want);
        escaped(&case, &r, &value, tally);

        let case = format!("POST /invite decline token={label}");
        let r = send_form(form(&[("token", &value), ("action", "decline")])).await;
        tally.check(&case, &r, &want);

        for field in ["name", "password"] {
            let case = format!("POST /invite {field}={label}");
            let (token, email) = fresh_invitation(t, w).await;
            let mut pairs = vec![
                ("token", token.as_str()),
                ("action", "accept"),
                ("name", "Form Person"),
                ("password", PASSWORD),
            ];
            pairs.retain(|(k, _)| *k != field);
            pairs.push((field, &value));
            let body = form(&pairs);
            let kind = if field == "name" {
                Kind::PersonName
            } else {
                Kind::Password
            };
            // An empty name counts as none given.
            let want = if body.len() > 64 * 1024 {
                Want::Html(413)
            } else {
                match outcome(kind, &value) {
                    Outcome::Stored(_) => Want::Html(200),
                    _ => Want::Html(400),
                }
            };
            let r = send_form(body).await;
            if tally.check(&case, &r, &want) && want_status(&want) == 200 {
                // Signed up: the account has exactly that name, or signs in with that password.
                let login_pw = if field == "password" {
                    value.clone()
                } else {
                    PASSWORD.to_string()
                };
                let login = t.sign_in(&email, &login_pw).await;
                if login.status != 200 {
                    tally.fail(&case, format!("cannot sign in afterwards: {}", login.body));
                } else if field == "name" && login.body["user"]["name"] != value.trim() {
                    tally.fail(
                        &case,
                        format!("name reads back {}", short(&login.body["user"]["name"])),
                    );
                }
            }
            escaped(&case, &r, &value, tally);
        }
    }
    let structural: Vec<(&str, Vec<u8>, Want)> = vec![
        ("empty", Vec::new(), Want::Html(404)),
        (
            "invalid UTF-8",
            vec![0xff, 0xfe, b'=', 0x80],
            Want::Html(404),
        ),
        (
            "json instead of a form",
            br#"{"token":"x","action":"accept"}"#.to_vec(),
            Want::Html(404),
        ),
        (
            "broken escapes",
            b"token=%zz%&action=%%%accept".to_vec(),
            Want::Html(404),
        ),
        ("1 MiB", vec![b'a'; 1024 * 1024], Want::Html(413)),
    ];
    for (label, body, want) in structural {
        let r = send_form(body).await;
        tally.check(&format!("POST /invite: {label}"), &r, &want);
    }
}

fn want_status(w: &Want) -> u16 {
    match *w {
        Want::Problem(s, _) | Want::Status(s) | Want::Html(s) => s,
    }
}

// ---------------------------------------------------------------------------------------
// Section: cursors.

fn b64(v: &str) -> String {
    B64.encode(v)
}

async fn first_cursor(t: &TestApp, uri: &str, token: &str) -> String {
    let r = t.call("GET", uri, Some(token), None).await;
    assert_eq!(r.status, 200, "{uri}: {}", r.body);
    r.body["next_cursor"]
        .as_str()
        .unwrap_or_else(|| panic!("{uri} has no second page: {}", r.body))
        .to_string()
}

/// A cursor's decoded JSON (for the members list, after its `m.`/`i.` prefix).
fn decoded(cursor: &str) -> Value {
    let inner = cursor
        .strip_prefix("m.")
        .or_else(|| cursor.strip_prefix("i."))
        .unwrap_or(cursor);
    serde_json::from_slice(&B64.decode(inner).expect("a cursor is base64url")).expect("json")
}

async fn cursors(t: &TestApp) -> Tally {
    let mut tally = Tally::new("cursors");
    let root = t.platform_admin().await;
    t.platform_admin().await;
    let (a, owner_a) = t.org_with_owner().await;
    let (b, owner_b) = t.org_with_owner().await;
    for (org, owner) in [(a, &owner_a), (b, &owner_b)] {
        t.member_of(org, OrgRole::Member).await;
        t.member_of(org, OrgRole::Admin).await;
        let r = t
            .invite(
                owner,
                org,
                &[
                    &unique_email("c1"),
                    &unique_email("c2"),
                    &unique_email("c3"),
                ],
                "member",
            )
            .await;
        assert_eq!(r.status, 200);
    }
    let member_a = t.member_of(a, OrgRole::Member).await;

    // (list, page-1 URI for org a, the same for org b, caller)
    let lists: Vec<(&str, String, String, String)> = vec![
        (
            "GET /orgs",
            "/orgs?limit=1".into(),
            format!("/orgs/{a}/audit?limit=1"),
            root.token.clone(),
        ),
        (
            "GET /orgs/{id}/invitations",
            format!("/orgs/{a}/invitations?limit=1"),
            format!("/orgs/{b}/invitations?limit=1"),
            owner_a.token.clone(),
        ),
        (
            "GET /orgs/{id}/invitations?status=pending",
            format!("/orgs/{a}/invitations?status=pending&limit=1"),
            format!("/orgs/{b}/invitations?status=pending&limit=1"),
            owner_a.token.clone(),
        ),
        (
            "GET /orgs/{id}/members",
            format!("/orgs/{a}/members?limit=1"),
            format!("/orgs/{b}/members?limit=1"),
            owner_a.token.clone(),
        ),
        (
            "GET /orgs/{id}/members?include_pending=true",
            format!("/orgs/{a}/members?include_pending=true&limit=1"),
            format!("/orgs/{b}/members?include_pending=true&limit=1"),
            owner_a.token.clone(),
        ),
        (
            "GET /users?org_id={id}",
            format!("/users?org_id={a}&limit=1"),
            format!("/users?org_id={b}&limit=1"),
            root.token.clone(),
        ),
        (
            "GET /users?platform_admins=true",
            "/users?platform_admins=true&limit=1".into(),
            format!("/users?org_id={a}&limit=1"),
            root.token.clone(),
        ),
        (
            "GET /orgs/{id}/audit",
            format!("/orgs/{a}/audit?limit=1"),
            format!("/orgs/{b}/audit?limit=1"),
            owner_a.token.clone(),
        ),
    ];
    for (list, uri, other_uri, token) in &lists {
        // The other org's list is read by its own owner (or root).
        let other_token = if other_uri.contains(&b.to_string()) && !other_uri.starts_with("/users")
        {
            owner_b.token.clone()
        } else {
            root.token.clone()
        };
        let mut real = first_cursor(t, uri, token).await;
        let mut other = first_cursor(t, other_uri, &other_token).await;
        if list.contains("include_pending") {
            // Page on to the pending phase, so the cursors under test are `i.` ones.
            real = pending_phase_cursor(t, uri, token).await;
            other = pending_phase_cursor(t, other_uri, &other_token).await;
        }
        // The control: the real cursor works.
        let r = t
            .call("GET", &format!("{uri}&cursor={real}"), Some(token), None)
            .await;
        assert_eq!(r.status, 200, "{list}: the real cursor: {}", r.body);

        let (prefix, inner) = match real.split_once('.') {
            Some((p, rest)) if list.contains("members") => (format!("{p}."), rest.to_string()),
            _ => (String::new(), real.clone()),
        };
        let key = decoded(&real);
        let pk_attr = if key.get("gsi1pk").is_some() && !list.contains("invitations") {
            "gsi1pk"
        } else {
            "pk"
        };
        let partition = key[pk_attr].as_str().unwrap().to_string();
        let with = |edit: &dyn Fn(&mut Value)| {
            let mut k = key.clone();
            edit(&mut k);
            format!("{prefix}{}", b64(&k.to_string()))
        };
        let mut flipped = inner.clone().into_bytes();
        flipped[0] = if flipped[0] == b'e' { b'f' } else { b'e' };
        let flipped = format!("{prefix}{}", String::from_utf8(flipped).unwrap());
        let sort_attr = if pk_attr == "gsi1pk" { "gsi1sk" } else { "sk" };
        let mut tampered: Vec<(&str, String)> = vec![
            ("flipped first character", flipped),
            (
                "truncated",
                format!("{prefix}{}", &inner[..inner.len() / 2]),
            ),
            ("garbage appended", format!("{real}!!")),
            (
                "base64 of random bytes",
                format!(
                    "{prefix}{}",
                    B64.encode(uuid::Uuid::new_v4().as_bytes().repeat(3))
                ),
            ),
            ("base64 of an array", format!("{prefix}{}", b64("[1,2]"))),
            (
                "base64 of other attributes",
                format!("{prefix}{}", b64(r#"{"pk":"x"}"#)),
            ),
            (
                "an extra attribute",
                with(&|k| {
                    k["zz"] = json!("x");
                }),
            ),
            (
                "a number value",
                with(&|k| {
                    k[sort_attr] = json!(1);
                }),
            ),
            ("another org's cursor", other.clone()),
            (
                "another tenant's partition",
                with(&|k| {
                    let forged = partition.replace(&a.to_string(), &b.to_string());
                    let forged = if forged == partition {
                        "ORG#00000000-0000-4000-8000-000000000000".to_string()
                    } else {
                        forged
                    };
                    k[pk_attr] = json!(forged);
                }),
            ),
            (
                "same partition, outside the list's range",
                with(&|k| {
                    k[sort_attr] = json!("PROFILE");
                }),
            ),
            (
                "empty sort key",
                with(&|k| {
                    k[sort_attr] = json!("");
                }),
            ),
            (
                "oversized sort key",
                with(&|k| {
                    k[sort_attr] = json!("Z".repeat(1100));
                }),
            ),
            ("2 KiB of base64", format!("{prefix}{}", "A".repeat(2048))),
            // The longest URI the http crate builds is 64 KiB; API Gateway stops far sooner.
            ("60k characters", "A".repeat(60_000)),
            ("percent-encoded NUL and 0xFF", "%00%FF".into()),
            ("SQL", pct("' OR 1=1 --")),
            ("expression", pct("#pk = :v")),
            ("empty", String::new()),
        ];
        if list.contains("members") {
            tampered.push(("unknown phase prefix", format!("x.{inner}")));
            tampered.push(("no phase prefix", inner.clone()));
            if !list.contains("include_pending") {
                tampered.push((
                    "pending phase without include_pending",
                    format!("i.{inner}"),
                ));
            }
        }
        for (label, cursor) in tampered {
            let case = format!("{list} cursor: {label}");
            let r = t
                .call("GET", &format!("{uri}&cursor={cursor}"), Some(token), None)
                .await;
            // A key forged inside the caller's own partition is a position in a list they
            // may read anyway: refused, or read from there, but never another tenant's
            // items. (Empty and oversized keys, which DynamoDB rejects, are refused by
            // storage/cursor.rs like every other tampering, as are keys outside the
            // invitation and member lists' ranges.)
            let own_partition = label == "same partition, outside the list's range";
            if own_partition && r.status == 200 {
                tally.check(&case, &r, &Want::Status(200));
                let scoped = !matches!(*list, "GET /orgs" | "GET /users?platform_admins=true");
                if scoped && r.body.to_string().contains(&b.to_string()) {
                    tally.fail(&case, format!("another tenant's items: {}", short(&r.body)));
                }
                continue;
            }
            if tally.check(&case, &r, &BAD) && r.body["errors"][0]["field"] != "cursor" {
                tally.fail(&case, format!("errors do not name the cursor: {}", r.body));
            }
        }
    }
    // A member sees one organization: no cursor is ever valid for them.
    let r = t
        .call(
            "GET",
            &format!(
                "/orgs?cursor={}",
                first_cursor(t, "/orgs?limit=1", &root.token).await
            ),
            Some(&member_a.token),
            None,
        )
        .await;
    tally.check("GET /orgs as a member: any cursor", &r, &BAD);
    tally.done()
}

async fn pending_phase_cursor(t: &TestApp, uri: &str, token: &str) -> String {
    let mut next = uri.to_string();
    loop {
        let r = t.call("GET", &next, Some(token), None).await;
        assert_eq!(r.status, 200, "{next}: {}", r.body);
        let c = r.body["next_cursor"]
            .as_str()
            .unwrap_or_else(|| panic!("{uri}: no pending page"))
            .to_string();
        if c.starts_with("i.") && c.len() > 2 {
            return c;
        }
        next = format!("{uri}&cursor={c}");
    }
}

// ---------------------------------------------------------------------------------------
// Section: tokens.

fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(&header.to_string()),
        b64(&claims.to_string())
    )
}

/// Every forged, damaged or misused access token, as the Authorization header it arrives in.
fn access_token_variants(t: &TestApp, victim: &Actor, other: &Actor) -> Vec<(String, String)> {
    let keys = &t.app.keys;
    let signer = keys.signer().expect("the test app signs");
    let now = Now::get().epoch();
    let sub = victim.user.id.to_string();
    let claims = json!({
        "iss": t.app.config.jwt_issuer, "aud": t.app.config.jwt_audience, "sub": sub,
        "iat": now, "exp": now + 900, "ver": victim.user.token_version, "typ": "access",
    });
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        edit(&mut c);
        c
    };
    let sign = |c: &Value| keys.sign(c).unwrap();
    let valid = sign(&claims);
    let parts: Vec<&str> = valid.split('.').collect();
    let (head, payload, sig) = (parts[0], parts[1], parts[2]);
    let kid = signer.kid().to_string();
    let jwk = serde_json::to_value(keys.jwks()).unwrap();
    let x = jwk["keys"][0]["x"].as_str().unwrap().to_string();
    let hs256 = |secret: &[u8]| {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some(kid.clone());
        jsonwebtoken::encode(&h, &claims, &jsonwebtoken::EncodingKey::from_secret(secret)).unwrap()
    };
    // Another key under the published kid; the published key under other kids.
    let stranger = roster::auth::SigningSecret::generate(&kid)
        .and_then(|s| s.signer())
        .unwrap();
    let other_kid = signer.with_kid("roster-2");
    let traversal_kid = signer.with_kid("../../../../dev/null");
    let escalated = with(&|c| c["sub"] = json!(other.user.id.to_string()));
    let refresh = victim.refresh.clone();
    let invitation = forged_invitation_token();
    let huge = "A".repeat(100_000);
    let tokens: Vec<(&str, String)> = vec![
        ("garbage", "not-a-jwt".into()),
        ("empty segments", "..".into()),
        ("truncated signature", valid[..valid.len() - 10].into()),
        ("no signature", format!("{head}.{payload}")),
        ("empty signature", format!("{head}.{payload}.")),
        ("extra segment", format!("{valid}.{sig}")),
        (
            "signature of another token",
            format!(
                "{head}.{payload}.{}",
                sign(&escalated).rsplit('.').next().unwrap()
            ),
        ),
        (
            "payload swapped (privilege escalation)",
            format!("{head}.{}.{sig}", b64(&escalated.to_string())),
        ),
        (
            "expired a second ago",
            sign(&with(&|c| c["exp"] = json!(now - 1))),
        ),
        (
            "expired a day ago",
            sign(&with(&|c| c["exp"] = json!(now - 86_400))),
        ),
        (
            "another audience",
            sign(&with(&|c| c["aud"] = json!("someone-else"))),
        ),
        (
            "another issuer",
            sign(&with(&|c| c["iss"] = json!("https://evil.example"))),
        ),
        (
            "not an access token",
            sign(&with(&|c| c["typ"] = json!("refresh"))),
        ),
        (
            "an older token version",
            sign(&with(&|c| c["ver"] = json!(99))),
        ),
        (
            "unknown user",
            sign(&with(&|c| {
                c["sub"] = json!(uuid::Uuid::new_v4().to_string())
            })),
        ),
        (
            "subject not an id",
            sign(&with(&|c| c["sub"] = json!("' OR 1=1 --"))),
        ),
        (
            "no exp",
            sign(&with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            })),
        ),
        (
            "exp as a string",
            sign(&with(&|c| c["exp"] = json!("never"))),
        ),
        (
            "no typ",
            sign(&with(&|c| {
                c.as_object_mut().unwrap().remove("typ");
            })),
        ),
        ("signed with another key", stranger.sign(&claims).unwrap()),
        ("another kid", other_kid.sign(&claims).unwrap()),
        ("kid path traversal", traversal_kid.sign(&claims).unwrap()),
        (
            "alg none",
            unsigned(
                &json!({"alg": "none", "typ": "JWT", "kid": kid}),
                &claims,
                "",
            ),
        ),
        (
            "alg None with the real signature",
            unsigned(&json!({"alg": "None", "kid": kid}), &claims, sig),
        ),
        (
            "alg ES256 with the real signature",
            unsigned(&json!({"alg": "ES256", "kid": kid}), &claims, sig),
        ),
        (
            "HS256 keyed with the raw public key",
            hs256(&B64.decode(&x).unwrap()),
        ),
        ("HS256 keyed with the JWK x", hs256(x.as_bytes())),
        (
            "HS256 keyed with the JWKS",
            hs256(jwk.to_string().as_bytes()),
        ),
        ("a refresh token", refresh),
        ("an invitation token", invitation),
        ("100k characters", huge),
        ("SQL", "' OR 1=1 --".into()),
    ];
    let mut out: Vec<(String, String)> = tokens
        .into_iter()
        .map(|(n, tok)| (n.to_string(), format!("Bearer {tok}")))
        .collect();
    out.extend(
        [
            ("Basic scheme", format!("Basic {}", B64.encode("a@b.co:pw"))),
            ("bare token", valid.clone()),
            ("Bearer without a token", "Bearer".into()),
            ("Bearer with blanks", "Bearer    ".into()),
            ("token with trailing words", format!("Bearer {valid} extra")),
            ("Token scheme", format!("Token {valid}")),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_string(), v)),
    );
    out
}

async fn tokens(t: &TestApp) -> Tally {
    let mut tally = Tally::new("tokens");
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    let member = t.member_of(org, OrgRole::Member).await;
    let victim = t.member_of(org, OrgRole::Admin).await;
    let (token, _) = {
        let email = unique_email("tok-inv");
        let r = t.invite(&owner, org, &[&email], "member").await;
        assert_eq!(r.status, 200);
        (t.latest_token(&email).await, email)
    };
    let inv_list = t.invitations(&owner, org, "").await;
    let inv_id = inv_list.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let org_code = t.org(&owner, org).await.body["code"]
        .as_str()
        .unwrap()
        .to_string();

    // The control: the victim's genuine token works.
    let me = t.me(&victim).await;
    assert_eq!(me.status, 200, "{}", me.body);

    // Every route that takes a bearer token, with valid ids and a valid body.
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
    add!(members_routes::ROUTES);
    add!(change_role_routes::ROUTES);
    add!(remove_routes::ROUTES);
    add!(users_routes::ROUTES);
    add!(audit_routes::ROUTES);
    // Signed-out routes: sign-in and keys, and email confirmation (the link is the proof).
    routes.retain(|(_, p)| {
        !p.starts_with("/auth/") && !p.starts_with("/.well-known") && !p.ends_with("confirm-email")
    });
    routes.push(("POST", "/invitations/accept"));
    assert_eq!(routes.len(), 25, "every authenticated route");
    let variants = access_token_variants(t, &victim, &root);
    for (method, pattern) in &routes {
        let uri = pattern
            .replace("{org_id}", &org.to_string())
            .replace("{user_id}", &member.user.id.to_string())
            .replace("{invitation_id}", &inv_id);
        let uri = if *method == "DELETE" && *pattern == "/orgs/{org_id}" {
            format!("{uri}?confirm={org_code}")
        } else {
            uri
        };
        let body = match (*method, *pattern) {
            ("POST", "/orgs") => Some(json!({"name": "X", "code": unique_code()})),
            ("PATCH", "/orgs/{org_id}") => Some(json!({"name": "Forged"})),
            ("POST", "/orgs/{org_id}/invitations") => {
                Some(json!({"emails": [unique_email("forged")], "role": "admin"}))
            }
            ("PATCH", "/orgs/{org_id}/members/{user_id}") => Some(json!({"role": "admin"})),
            ("POST", "/orgs/{org_id}/members/bulk-role") => {
                Some(json!({"user_ids": [member.user.id], "role": "admin"}))
            }
            ("POST", "/orgs/{org_id}/transfer-ownership") => {
                Some(json!({"user_id": member.user.id}))
            }
            ("POST", "/orgs/{org_id}/members/bulk-remove") => {
                Some(json!({"user_ids": [member.user.id]}))
            }
            ("POST", "/users") => Some(json!({
                "email": unique_email("forged"), "name": "F", "password": PASSWORD,
                "platform_admin": true,
            })),
            ("PATCH", "/users/{user_id}") => Some(json!({"role": "admin"})),
            ("POST", "/invitations/accept") => Some(json!({"token": token})),
            _ => None,
        }
        .map(|b| b.to_string().into_bytes());
        for (label, authorization) in &variants {
            // Accepting takes an optional bearer token: a header of another form is no
            // token at all, and a new account then needs a name and password.
            let is_bearer = authorization
                .strip_prefix("Bearer ")
                .is_some_and(|rest| !rest.trim().is_empty());
            let want = if *pattern == "/invitations/accept" && !is_bearer {
                BAD
            } else {
                UNAUTHORIZED
            };
            let r = send(
                t,
                method,
                &uri,
                Some(authorization),
                "application/json",
                body.clone(),
            )
            .await;
            tally.check(&format!("{method} {pattern} bearer: {label}"), &r, &want);
        }
    }
    // Nothing a forged token asked for happened.
    let inv = t.invitation(&owner, org, &inv_id).await;
    assert_eq!(inv.body["status"], "pending", "{}", inv.body);
    let m = t.member(&owner, org, member.user.id).await;
    assert_eq!(
        (m.status, m.body["role"].as_str()),
        (200, Some("member")),
        "{}",
        m.body
    );
    let o = t.org(&owner, org).await;
    assert_eq!(o.body["owner_id"], owner.user.id.to_string().as_str());
    // A deleted user's still-unexpired token.
    let doomed = t.member_of(org, OrgRole::Member).await;
    let r = t.delete_user(&root, doomed.user.id).await;
    assert_eq!(r.status, 204, "{}", r.body);
    for (method, pattern) in [("GET", "/me"), ("GET", "/orgs")] {
        let r = t.call(method, pattern, Some(&doomed.token), None).await;
        tally.check(
            &format!("{method} {pattern} bearer: a deleted user's"),
            &r,
            &UNAUTHORIZED,
        );
    }

    tally.done()
}

async fn refresh_tokens(t: &TestApp, org: OrgId, root: &Actor, tally: &mut Tally) {
    let fresh = || async { t.member_of(org, OrgRole::Member).await };
    let random = roster::auth::secret::random_token;
    let a = fresh().await;
    let (sid, secret) = a.refresh.split_once('.').unwrap();
    // Rotated once: the old token is retired.
    let rotated = fresh().await;
    let r = t.refresh(&rotated.refresh).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Expired: the session's expiry moved into the past, as time passing would.
    let expired = fresh().await;
    let expired_sid = expired.refresh.split_once('.').unwrap().0.to_string();
    use aws_sdk_dynamodb::types::AttributeValue as V;
    t.dynamo
        .update_item()
        .table_name(&t.app.config.table_name)
        .key("pk", V::S(format!("SESSION#{expired_sid}")))
        .key("sk", V::S("SESSION".into()))
        .update_expression("SET expires_at = :e")
        .expression_attribute_values(":e", V::N((Now::get().epoch() - 60).to_string()))
        .send()
        .await
        .unwrap();
    // A deleted user's session.
    let deleted = fresh().await;
    let r = t.delete_user(&root, deleted.user.id).await;
    assert_eq!(r.status, 204, "{}", r.body);

    let mut flipped = secret.to_string().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let cases: Vec<(&str, String)> = vec![
        ("garbage", "garbage".into()),
        ("two dots", format!("{sid}.{secret}.x")),
        ("short parts", "a.b".into()),
        ("unknown session", format!("{}.{}", random(), random())),
        ("rotated", rotated.refresh.clone()),
        ("expired session", expired.refresh.clone()),
        ("deleted user", deleted.refresh.clone()),
        ("an access token", a.token.clone()),
        (
            "alg none JWT",
            unsigned(&json!({"alg": "none"}), &json!({"sub": a.user.id}), ""),
        ),
        (
            "HS256 JWT",
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                &json!({"sub": a.user.id, "exp": Now::get().epoch() + 900}),
                &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
            )
            .unwrap(),
        ),
        ("an invitation token", forged_invitation_token()),
        ("10k characters", format!("{sid}.{}", "x".repeat(10_000))),
        ("SQL in the session id", format!("' OR 1=1 --.{secret}")),
        ("expression in the session id", format!("#pk = :v.{secret}")),
        ("unicode session id", format!("{}.{secret}", "é".repeat(30))),
        // Last: a real session with a wrong secret is reuse, and ends every session.
        (
            "real session, truncated secret",
            format!("{sid}.{}", &secret[..secret.len() - 1]),
        ),
        (
            "real session, flipped secret",
            format!("{sid}.{}", String::from_utf8(flipped).unwrap()),
        ),
    ];
    for (label, token) in &cases {
        let r = t.refresh(token).await;
        tally.check(&format!("POST /auth/refresh: {label}"), &r, &UNAUTHORIZED);
        let r = t.logout(token).await;
        tally.check(
            &format!("POST /auth/logout: {label}"),
            &r,
            &Want::Status(204),
        );
    }
    // Reuse of `a`'s session ended it: its genuine token no longer works.
    let r = t.refresh(&a.refresh).await;
    tally.check(
        "POST /auth/refresh: genuine token after reuse was detected",
        &r,
        &UNAUTHORIZED,
    );
}

async fn invitation_tokens(t: &TestApp, owner: &Actor, org: OrgId, tally: &mut Tally) {
    // One invitation in each state, and its link.
    let link = |email: String| async move {
        let r = t.invite(owner, org, &[&email], "member").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let id = r.body["results"][0]["invitation_id"]
            .as_str()
            .unwrap()
            .to_string();
        (t.latest_token(&email).await, id, email)
    };
    let (live, live_id, _) = link(unique_email("live")).await;
    let (expired, expired_id, _) = link(unique_email("expired")).await;
    common::expire_now(t, org, &expired_id).await;
    let (revoked, revoked_id, _) = link(unique_email("revoked")).await;
    let r = t.revoke(&owner, org, &revoked_id).await;
    assert_eq!(r.status, 204);
    let (declined, _, _) = link(unique_email("declined")).await;
    let r = t.decline(&declined).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (accepted, _, _) = link(unique_email("accepted")).await;
    let r = t.accept(&accepted, Joining::New("Acc", PASSWORD)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (superseded, superseded_id, _) = link(unique_email("superseded")).await;
    let r = t.resend(&owner, org, &superseded_id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (other_org, other_owner) = t.org_with_owner().await;
    let other_email = unique_email("other");
    t.invite(&other_owner, other_org, &[&other_email], "member")
        .await;
    let other_link = t.latest_token(&other_email).await;
    let (ids, nonce) = live.split_once('.').unwrap();
    let (other_ids, other_nonce) = other_link.split_once('.').unwrap();
    let mut flipped = nonce.to_string().into_bytes();
    flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let jwt = t
        .app
        .keys
        .issue(
            &uuid::Uuid::new_v4().to_string(),
            0,
            Now::get().epoch(),
            900,
        )
        .unwrap();
    let deleted_org = t.org_with_owner().await;
    let deleted_email = unique_email("deleted-org");
    t.invite(&deleted_org.1, deleted_org.0, &[&deleted_email], "member")
        .await;
    let deleted_link = t.latest_token(&deleted_email).await;
    let r = t.delete_org(&deleted_org.1, deleted_org.0).await;
    assert_eq!(r.status, 204, "{}", r.body);

    // (case, token, want for preview, want for accept/decline and the page)
    let gone = |code| Want::Problem(410, code);
    let cases: Vec<(&str, String, Want, Want)> = vec![
        ("forged", forged_invitation_token(), NOT_FOUND, NOT_FOUND),
        (
            "truncated",
            live[..live.len() - 1].to_string(),
            NOT_FOUND,
            NOT_FOUND,
        ),
        ("ids only", ids.to_string(), NOT_FOUND, NOT_FOUND),
        ("nonce only", nonce.to_string(), NOT_FOUND, NOT_FOUND),
        (
            "flipped nonce",
            format!("{ids}.{flipped}"),
            gone("invitation_superseded"),
            gone("invitation_superseded"),
        ),
        (
            "another org's ids with this nonce",
            format!("{other_ids}.{nonce}"),
            gone("invitation_superseded"),
            gone("invitation_superseded"),
        ),
        (
            "this org's ids with another org's nonce",
            format!("{ids}.{other_nonce}"),
            gone("invitation_superseded"),
            gone("invitation_superseded"),
        ),
        (
            "mixed ids",
            format!("{}{}.{nonce}", &other_ids[..21], &ids[21..]),
            NOT_FOUND,
            NOT_FOUND,
        ),
        (
            "superseded by a resend",
            superseded,
            gone("invitation_superseded"),
            gone("invitation_superseded"),
        ),
        (
            "expired",
            expired,
            Want::Status(200),
            gone("invitation_expired"),
        ),
        (
            "revoked",
            revoked,
            Want::Status(200),
            gone("invitation_revoked"),
        ),
        (
            "declined",
            declined,
            Want::Status(200),
            gone("invitation_declined"),
        ),
        (
            "accepted",
            accepted,
            Want::Status(200),
            Want::Problem(409, "invitation_already_accepted"),
        ),
        ("of a deleted org", deleted_link, NOT_FOUND, NOT_FOUND),
        ("an access token", jwt.clone(), NOT_FOUND, NOT_FOUND),
        (
            "alg none",
            unsigned(&json!({"alg": "none"}), &json!({"sub": "x"}), ""),
            NOT_FOUND,
            NOT_FOUND,
        ),
        (
            "a refresh token",
            format!(
                "{}.{}",
                roster::auth::secret::random_token(),
                roster::auth::secret::random_token()
            ),
            NOT_FOUND,
            NOT_FOUND,
        ),
        (
            "10k characters",
            format!("{ids}.{}", "x".repeat(10_000)),
            NOT_FOUND,
            NOT_FOUND,
        ),
        ("SQL", "' OR 1=1 --".into(), NOT_FOUND, NOT_FOUND),
        ("expression", "#pk = :v".into(), NOT_FOUND, NOT_FOUND),
        (
            "html",
            "<script>alert(1)</script>".into(),
            NOT_FOUND,
            NOT_FOUND,
        ),
        ("empty", String::new(), NOT_FOUND, NOT_FOUND),
    ];
    for (label, token, preview, dead) in &cases {
        let r = t.preview(&pct(token)).await;
        tally.check(&format!("GET /invitations/preview: {label}"), &r, preview);
        for route in ["/invitations/accept", "/invitations/decline"] {
            let body = json!({"token": token, "name": "N", "password": PASSWORD});
            let body = if route.ends_with("decline") {
                json!({"token": token})
            } else {
                body
            };
            let r = t.call("POST", route, None, Some(body)).await;
            tally.check(&format!("POST {route}: {label}"), &r, dead);
        }
        let page = Want::Html(want_status(dead));
        let r = t
            .call("GET", &format!("/invite?token={}", pct(token)), None, None)
            .await;
        tally.check(&format!("GET /invite: {label}"), &r, &page);
        if r.body
            .as_str()
            .unwrap_or_default()
            .contains("<script>alert")
        {
            tally.fail(
                &format!("GET /invite: {label}"),
                "the page echoes markup".into(),
            );
        }
        for action in ["accept", "decline"] {
            let r = send(
                t,
                "POST",
                "/invite",
                None,
                "application/x-www-form-urlencoded",
                Some(form(&[
                    ("token", token),
                    ("action", action),
                    ("name", "N"),
                    ("password", PASSWORD),
                ])),
            )
            .await;
            tally.check(&format!("POST /invite {action}: {label}"), &r, &page);
        }
    }
    let r = t.call("GET", "/invitations/preview", None, None).await;
    tally.check("GET /invitations/preview: no token", &r, &BAD);
    // None of that touched the live invitation.
    let inv = t.invitation(&owner, org, &live_id).await;
    if inv.body["status"] != "pending" {
        tally.fail("the live invitation", format!("changed: {}", inv.body));
    }
}

// ---------------------------------------------------------------------------------------
// Section: path parameters and query strings.

async fn paths_and_queries(t: &TestApp) -> Tally {
    let mut tally = Tally::new("paths and queries");
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    let member = t.member_of(org, OrgRole::Member).await;
    let (other, _) = t.org_with_owner().await;
    let r = t
        .invite(&owner, org, &[&unique_email("pq")], "member")
        .await;
    let inv = r.body["results"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let code = t.org(&owner, org).await.body["code"]
        .as_str()
        .unwrap()
        .to_string();

    let ids: Vec<(&str, String)> = vec![
        ("SQL", pct("' OR 1=1 --")),
        ("expression", pct("#pk = :v")),
        ("function", pct("attribute_exists(pk)")),
        ("template", pct("${x}")),
        ("dot dot", "..".into()),
        ("encoded dot dot", "%2E%2E".into()),
        ("NUL", "%00".into()),
        ("10k chars", "x".repeat(10_000)),
        (
            "upper-case uuid",
            uuid::Uuid::new_v4().to_string().to_uppercase(),
        ),
        ("braced uuid", pct(&format!("{{{}}}", uuid::Uuid::new_v4()))),
        ("simple uuid", uuid::Uuid::new_v4().simple().to_string()),
        ("unknown uuid", uuid::Uuid::new_v4().to_string()),
        ("another org's id", other.to_string()),
    ];
    use roster::http::*;
    let mut routes: Vec<(&str, &str)> = Vec::new();
    macro_rules! add {
        ($table:expr) => {
            routes.extend($table.iter().map(|r| (r.method, r.path)))
        };
    }
    add!(orgs_routes::ROUTES);
    add!(invite_routes::ROUTES);
    add!(members_routes::ROUTES);
    add!(change_role_routes::ROUTES);
    add!(remove_routes::ROUTES);
    add!(users_routes::ROUTES);
    add!(audit_routes::ROUTES);
    for (method, pattern) in routes {
        for param in ["{org_id}", "{user_id}", "{invitation_id}"] {
            if !pattern.contains(param) {
                continue;
            }
            for (label, bad) in &ids {
                if label == &"another org's id" && param != "{org_id}" {
                    continue;
                }
                let uri = pattern
                    .replace(param, bad)
                    .replace("{org_id}", &org.to_string())
                    .replace("{user_id}", &member.user.id.to_string())
                    .replace("{invitation_id}", &inv);
                let uri = if method == "DELETE" && pattern == "/orgs/{org_id}" {
                    format!("{uri}?confirm={code}")
                } else {
                    uri
                };
                let body = match (method, pattern) {
                    ("PATCH", "/orgs/{org_id}") => Some(json!({"name": "N"})),
                    ("POST", "/orgs/{org_id}/invitations") => {
                        Some(json!({"emails": [unique_email("pq")], "role": "member"}))
                    }
                    ("PATCH", "/orgs/{org_id}/members/{user_id}") => Some(json!({"role": "admin"})),
                    ("POST", "/orgs/{org_id}/members/bulk-role") => {
                        Some(json!({"user_ids": [member.user.id], "role": "admin"}))
                    }
                    ("POST", "/orgs/{org_id}/transfer-ownership") => {
                        Some(json!({"user_id": member.user.id}))
                    }
                    ("POST", "/orgs/{org_id}/members/bulk-remove") => {
                        Some(json!({"user_ids": [member.user.id]}))
                    }
                    ("PATCH", "/users/{user_id}") => Some(json!({"name": "N"})),
                    _ => None,
                };
                // The owner: another org answers 404, never 403 (no existence oracle).
                let caller = if pattern.starts_with("/users") {
                    &root
                } else {
                    &owner
                };
                let r = t.call(method, &uri, Some(&caller.token), body).await;
                tally.check(
                    &format!("{method} {pattern} {param}={label}"),
                    &r,
                    &NOT_FOUND,
                );
            }
        }
    }
    // Nothing the bad ids named was touched.
    let m = t.member(&owner, org, member.user.id).await;
    assert_eq!(m.body["role"], "member", "{}", m.body);

    let limits = [
        "0",
        "-1",
        "101",
        "abc",
        "1e2",
        "2147483648",
        "",
        "50%20OR%201%3D1",
        "%00",
        "1.5",
        "99999999999999999999",
    ];
    let lists = [
        "/orgs?x=1".to_string(),
        format!("/orgs/{org}/invitations?x=1"),
        format!("/orgs/{org}/members?x=1"),
        format!("/users?org_id={org}"),
        format!("/orgs/{org}/audit?x=1"),
    ];
    for list in &lists {
        for limit in limits {
            let r = t
                .call(
                    "GET",
                    &format!("{list}&limit={limit}"),
                    Some(&root.token),
                    None,
                )
                .await;
            if tally.check(&format!("GET {list} limit={limit}"), &r, &BAD)
                && r.body["errors"][0]["field"] != "limit"
            {
                tally.fail(&format!("GET {list} limit={limit}"), format!("{}", r.body));
            }
        }
    }
    let words = [
        "' OR 1=1 --",
        "#status = :v",
        "attribute_exists(pk)",
        "PENDING",
        "pending ",
        "owner\u{0}",
        "${x}",
    ];
    for word in words {
        let w = pct(word);
        let cases = [
            (format!("/orgs/{org}/invitations?status={w}"), "status", BAD),
            (format!("/orgs/{org}/members?role={w}"), "role", BAD),
            (format!("/orgs/{org}?confirm={w}"), "confirm", BAD),
            (format!("/users?org_id={w}"), "org_id", NOT_FOUND),
        ];
        for (uri, what, want) in cases {
            let method = if what == "confirm" { "DELETE" } else { "GET" };
            let r = t.call(method, &uri, Some(&root.token), None).await;
            tally.check(&format!("{method} {uri} ({what}={word:?})"), &r, &want);
        }
    }
    let o = t.org(&owner, org).await;
    assert_eq!(o.status, 200, "the org survived every bad confirm");
    tally.done()
}

// ---------------------------------------------------------------------------------------

/// Unoptimised, the handlers' futures are large and these cases nest them deeply: each
/// section runs on a thread (and a runtime) with room for that, against its own table;
/// its failures are reported together, each named by its case, and a panic is re-raised
/// as is.
fn run(section: impl for<'a> FnOnce(&'a TestApp) -> LocalBoxFuture<'a, Tally> + Send + 'static) {
    const STACK: usize = 64 * 1024 * 1024;
    let run = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(STACK)
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async {
                    // Thousands of hostile requests come from one (unknown) client address:
                    // the per-address limits (limits.rs proves them) would answer 429 long
                    // before the cases are through.
                    let t = TestApp::spawn_with(|c| {
                        c.accept_max_failures_per_source = 1_000_000;
                        c.login_max_failures_per_source = 1_000_000;
                    })
                    .await;
                    report(section(&t).await);
                })
        })
        .expect("thread");
    if let Err(panic) = run.join() {
        std::panic::resume_unwind(panic);
    }
}

fn report(s: Tally) {
    println!(
        "hostile {:<18} {:>5} cases in {:.1}s, {} failed",
        s.section,
        s.cases,
        s.took.as_secs_f64(),
        s.failures.len()
    );
    assert!(
        s.failures.is_empty(),
        "{} of {} cases failed:\n{}",
        s.failures.len(),
        s.cases,
        s.failures.join("\n")
    );
}

#[test]
fn bodies_get_exact_4xx_problems_and_legal_strings_are_stored_as_data() {
    run(|t| {
        Box::pin(async move {
            let w = Box::pin(world(t)).await;
            Box::pin(bodies(t, &w)).await
        })
    });
}

#[test]
fn tampered_cursors_are_refused_or_stay_in_their_list() {
    run(|t| Box::pin(cursors(t)));
}

#[test]
fn bad_access_tokens_are_refused_on_every_route() {
    run(|t| Box::pin(tokens(t)));
}

#[test]
fn bad_refresh_tokens_are_refused() {
    run(|t| {
        Box::pin(async move {
            let mut tally = Tally::new("refresh tokens");
            let root = t.platform_admin().await;
            let (org, _) = t.org_with_owner().await;
            refresh_tokens(t, org, &root, &mut tally).await;
            tally.done()
        })
    });
}

#[test]
fn bad_invitation_links_are_refused_on_every_link_route() {
    run(|t| {
        Box::pin(async move {
            let mut tally = Tally::new("links");
            let (org, owner) = t.org_with_owner().await;
            invitation_tokens(t, &owner, org, &mut tally).await;
            tally.done()
        })
    });
}

#[test]
fn bad_path_parameters_and_queries_get_exact_problems() {
    run(|t| Box::pin(paths_and_queries(t)));
}
