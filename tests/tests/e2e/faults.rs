//! Faults: with DynamoDB unreachable or throttling, every route answers 503 problem+json (or
//! its page), never a 500 and never a panic, within a bounded time and a bounded number of
//! SDK retries; and a mutation that meets a throttled DynamoDB leaves the table exactly as
//! it was.
//!
//! The throttling DynamoDB is a small HTTP server on loopback inside the test: it answers
//! every request (or, in "writes only" mode, every write, forwarding reads to the emulator)
//! with `ProvisionedThroughputExceededException`, `ThrottlingException` or an HTTP 500
//! `InternalServerError`, and records each attempt by the SDK's invocation id. It also
//! plays real DynamoDB's lost races (`Scope::Races`): the first N writes a `Race` matches
//! get a `TransactionCanceledException` naming `TransactionConflict`, `ThrottlingError` or
//! `ProvisionedThroughputExceeded`, or (single writes) a `TransactionConflictException`.

use crate::common;
use crate::proxy;

use aws_sdk_dynamodb::types::AttributeValue;
use common::{Joining, PASSWORD, TestApp, unique_code, unique_email};
use roster::App;
use roster::clock::Now;
use roster::domain::{InvitationId, InvitationToken, OrgId, OrgRole};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// Every route of every function, as (method, pattern).
fn all_routes() -> Vec<(&'static str, &'static str)> {
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
    assert_eq!(routes.len(), 36);
    routes
}

/// Requests for every route whose bodies pass parsing, so each reaches storage: random ids,
/// a well-formed refresh token and invitation link (the caller's bearer token is added by
/// whoever sends them).
fn storage_bound_requests() -> Vec<(&'static str, &'static str, String, Option<String>)> {
    let invitation = InvitationToken {
        org_id: OrgId::new(),
        invitation_id: InvitationId::new(),
        nonce: roster::auth::secret::random_token(),
    }
    .encode();
    let email_link = format!(
        "{}.{}",
        uuid::Uuid::new_v4(),
        roster::auth::secret::random_token()
    );
    let refresh = format!(
        "{}.{}",
        roster::auth::secret::random_token(),
        roster::auth::secret::random_token()
    );
    all_routes()
        .into_iter()
        .map(|(method, pattern)| {
            let mut path = pattern.to_string();
            for param in ["{org_id}", "{user_id}", "{invitation_id}"] {
                path = path.replace(param, &uuid::Uuid::new_v4().to_string());
            }
            let (uri, body) = match (method, pattern) {
                ("POST", "/auth/login") => (
                    path,
                    Some(
                        json!({"email": "a@example.com", "password": "whatever password"})
                            .to_string(),
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
                ("POST", "/users/confirm-email") => {
                    (path, Some(json!({"token": email_link}).to_string()))
                }
                // A signed-in caller's malformed request is refused (400) before any read
                // (docs/architecture.md): these bodies parse, so the reads happen.
                ("POST", "/orgs") => (
                    path,
                    Some(json!({"name": "Faults", "code": unique_code()}).to_string()),
                ),
                ("PATCH", "/orgs/{org_id}" | "/users/{user_id}") => (path, Some("{}".into())),
                ("POST", "/orgs/{org_id}/invitations") => (
                    path,
                    Some(json!({"emails": ["a@example.com"], "role": "member"}).to_string()),
                ),
                ("PATCH", "/orgs/{org_id}/members/{user_id}") => {
                    (path, Some(json!({"role": "member"}).to_string()))
                }
                ("POST", "/orgs/{org_id}/members/bulk-role") => (
                    path,
                    Some(json!({"user_ids": [uuid::Uuid::new_v4()], "role": "member"}).to_string()),
                ),
                ("POST", "/orgs/{org_id}/members/bulk-remove") => (
                    path,
                    Some(json!({"user_ids": [uuid::Uuid::new_v4()]}).to_string()),
                ),
                ("POST", "/orgs/{org_id}/transfer-ownership") => (
                    path,
                    Some(json!({"user_id": uuid::Uuid::new_v4()}).to_string()),
                ),
                ("POST", "/users") => (
                    path,
                    Some(
                        json!({"email": "a@example.com", "name": "Faults", "password": PASSWORD})
                            .to_string(),
                    ),
                ),
                ("POST", "/confirm-email") => (path, Some(format!("token={email_link}"))),
                _ => (path, None),
            };
            (method, pattern, uri, body)
        })
        .collect()
}

fn is_page(pattern: &str) -> bool {
    pattern == "/invite" || pattern == "/confirm-email"
}

/// Routes that answer without storage: the JWKS, and the email confirmation page's GET
/// (a button; the POST uses the link).
fn needs_no_storage(method: &str, pattern: &str) -> bool {
    pattern == "/.well-known/jwks.json" || (method == "GET" && pattern == "/confirm-email")
}

#[tokio::test]
async fn every_route_answers_503_when_dynamodb_is_unreachable() {
    let t = TestApp::spawn().await;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // An explicit endpoint wins over AWS_ENDPOINT_URL; nothing listens on port 9.
    let dead = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .region(common::own_retry_quota("dead-dynamo"))
        .load()
        .await;
    let broken = t.beside(
        App::with_mail_config(t.app.config.clone(), t.app.keys.clone(), &dead, &aws).unwrap(),
    );
    let token = signed_token(&broken.app);
    let mut seen = Vec::new();
    for (method, pattern, uri, body) in storage_bound_requests() {
        let r = broken
            .call_raw(method, &uri, Some(&token), body.as_deref())
            .await;
        seen.push(format!("{method} {pattern}: {}", r.status));
        if needs_no_storage(method, pattern) {
            assert_eq!(r.status, 200, "{method} {pattern} needs no storage");
            continue;
        }
        assert_eq!(r.status, 503, "{method} {pattern}: {}", r.body);
        if !is_page(pattern) {
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

/// A token with a valid signature for a user that does not exist: verifying it needs the
/// table.
fn signed_token(app: &App) -> String {
    app.keys
        .issue(
            &uuid::Uuid::new_v4().to_string(),
            0,
            Now::get().epoch(),
            900,
        )
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// The throttling DynamoDB.

#[derive(Clone, Copy, Debug)]
enum Fault {
    ProvisionedThroughputExceeded,
    Throttling,
    InternalServerError,
    /// A race with another transaction on the same item, as real DynamoDB reports it: a
    /// TransactWriteItems is cancelled (`TransactionCanceledException`, reason
    /// `TransactionConflict` on its first item, `None` on the rest); a single-item write is
    /// refused with `TransactionConflictException`. The SDK retries neither.
    TransactionConflict,
    /// A transaction cancelled because one of its items is over its throughput: reason
    /// `ThrottlingError` (on-demand tables) on the first item.
    TransactionThrottled,
    /// The same with reason `ProvisionedThroughputExceeded` (provisioned tables).
    TransactionThroughputExceeded,
}

const FAULTS: [Fault; 3] = [
    Fault::ProvisionedThroughputExceeded,
    Fault::Throttling,
    Fault::InternalServerError,
];

impl Fault {
    /// The answer to `operation` with request body `request`.
    fn answer(self, operation: &str, request: &[u8]) -> (u16, &'static str, String) {
        let reason = match self {
            Fault::TransactionConflict => "TransactionConflict",
            Fault::TransactionThrottled => "ThrottlingError",
            Fault::TransactionThroughputExceeded => "ProvisionedThroughputExceeded",
            _ => return self.status_and_body(),
        };
        if operation != "TransactWriteItems" {
            let body = json!({
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
                "message": "Transaction is ongoing for the item",
            });
            return (400, "Bad Request", body.to_string());
        }
        let items = serde_json::from_slice::<Value>(request)
            .ok()
            .and_then(|v| v["TransactItems"].as_array().map(Vec::len))
            .unwrap_or(1);
        let reasons: Vec<Value> = (0..items)
            .map(|i| match i {
                0 => json!({"Code": reason, "Message": "raced"}),
                _ => json!({"Code": "None"}),
            })
            .collect();
        let body = json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{reason}]"),
            "CancellationReasons": reasons,
        });
        (400, "Bad Request", body.to_string())
    }

    fn status_and_body(self) -> (u16, &'static str, String) {
        let (status, reason, kind, message) = match self {
            Fault::ProvisionedThroughputExceeded => (
                400,
                "Bad Request",
                "ProvisionedThroughputExceededException",
                "throttled",
            ),
            Fault::Throttling => (400, "Bad Request", "ThrottlingException", "throttled"),
            Fault::InternalServerError
            | Fault::TransactionConflict
            | Fault::TransactionThrottled
            | Fault::TransactionThroughputExceeded => (
                500,
                "Internal Server Error",
                "InternalServerError",
                "internal error",
            ),
        };
        let body = json!({
            "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
            "message": message,
        });
        (status, reason, body.to_string())
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Scope {
    /// Every request gets the fault.
    Everything,
    /// Writes get the fault; reads are forwarded to the emulator and answered for real.
    WritesOnly,
    /// Only the writes a `Race` matches get the fault, each race as often as it says;
    /// everything else is forwarded.
    Races,
}

/// Which writes lose a race (`Scope::Races`): those of one of `operations` whose body
/// contains `needle` (a key, say), the first `times` of them.
#[derive(Clone, Debug)]
struct Race {
    operations: &'static [&'static str],
    needle: Option<String>,
    /// A transaction item's key (pk, sk) the request must name (written or checked).
    key: Option<(String, String)>,
    times: usize,
}

impl Race {
    fn transactions(times: usize) -> Race {
        Race {
            operations: &["TransactWriteItems"],
            needle: None,
            key: None,
            times,
        }
    }

    /// Transactions with an item (a write or a ConditionCheck) on the key (pk, sk): what
    /// real DynamoDB cancels when another transaction holds that item.
    fn transactions_on(pk: impl Into<String>, sk: impl Into<String>, times: usize) -> Race {
        Race {
            key: Some((pk.into(), sk.into())),
            ..Race::transactions(times)
        }
    }

    /// Transactions whose request names `needle` (an attribute only one item carries).
    fn transactions_naming(needle: impl Into<String>, times: usize) -> Race {
        Race {
            needle: Some(needle.into()),
            ..Race::transactions(times)
        }
    }

    fn single_writes(needle: impl Into<String>, times: usize) -> Race {
        Race {
            operations: &["PutItem", "UpdateItem", "DeleteItem"],
            needle: Some(needle.into()),
            key: None,
            times,
        }
    }
}

/// One SDK operation invocation as the server saw it: its attempts (the SDK sends the same
/// `amz-sdk-invocation-id` on every attempt, and `amz-sdk-request: attempt=N; max=M`).
#[derive(Debug, Default, Clone)]
struct Invocation {
    operation: String,
    attempts: u32,
    max_attempts: Option<u32>,
    faulted: bool,
}

#[derive(Default)]
struct Seen {
    invocations: BTreeMap<String, Invocation>,
    requests: usize,
    races: Vec<Race>,
    /// Requests answered with a lost race.
    raced: usize,
}

impl Seen {
    /// Whether this request loses a race (and counts it against the race's times).
    fn loses_race(&mut self, operation: &str, body: &[u8]) -> bool {
        let text = String::from_utf8_lossy(body);
        let race = self.races.iter_mut().find(|r| {
            r.times > 0
                && r.operations.contains(&operation)
                && r.needle.as_ref().is_none_or(|n| text.contains(n.as_str()))
                && r.key.as_ref().is_none_or(|k| names_key(body, k))
        });
        match race {
            Some(r) => {
                r.times -= 1;
                self.raced += 1;
                true
            }
            None => false,
        }
    }
}

/// Whether a TransactWriteItems request has an item on `key` (pk, sk).
fn names_key(body: &[u8], (pk, sk): &(String, String)) -> bool {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    request["TransactItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_object()?.values().next().map(|op| &op["Key"]))
        .any(|k| k["pk"]["S"] == pk.as_str() && k["sk"]["S"] == sk.as_str())
}

struct FaultyDynamo {
    endpoint: String,
    /// The SDK keeps one retry quota (token bucket) per service and region for the whole
    /// process; a region of its own gives this server's App a quota of its own, so one
    /// test's retries do not depend on what another test spent. (The forwarded reads are
    /// signed for it; the emulator is told the real region.)
    region: String,
    seen: Arc<Mutex<Seen>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FaultyDynamo {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FaultyDynamo {
    async fn start(fault: Fault, scope: Scope) -> FaultyDynamo {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let region = format!("fault-{port}");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let upstream = common::env_or_fail("AWS_ENDPOINT_URL");
        let http = reqwest::Client::new();
        let server = tokio::spawn({
            let seen = seen.clone();
            async move {
                let real_region = std::env::var("AWS_REGION").unwrap_or("us-east-1".into());
                let regions = (format!("/fault-{port}/"), format!("/{real_region}/"));
                while let Ok((socket, _)) = listener.accept().await {
                    tokio::spawn(serve(
                        socket,
                        fault,
                        scope,
                        seen.clone(),
                        (upstream.clone(), regions.clone()),
                        http.clone(),
                    ));
                }
            }
        });
        FaultyDynamo {
            endpoint,
            region,
            seen,
            server,
        }
    }

    /// An App (as the functions build it: SDK defaults, the app's timeouts) whose DynamoDB
    /// is this server; SES stays on the emulator.
    async fn app(&self, t: &TestApp) -> TestApp {
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let faulty = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new(self.region.clone()))
            .load()
            .await;
        t.beside(
            App::with_mail_config(t.app.config.clone(), t.app.keys.clone(), &faulty, &aws).unwrap(),
        )
    }

    /// A server that forwards everything except the writes `races` match, which lose their
    /// race with `fault`.
    async fn racing(fault: Fault, races: Vec<Race>) -> FaultyDynamo {
        let dynamo = FaultyDynamo::start(fault, Scope::Races).await;
        dynamo.seen.lock().unwrap().races = races;
        dynamo
    }

    /// Requests of `operation` that reached the server (every try is a new invocation).
    fn requests_of(&self, operation: &str) -> u32 {
        self.invocations()
            .iter()
            .filter(|i| i.operation == operation)
            .map(|i| i.attempts)
            .sum()
    }

    fn raced(&self) -> usize {
        self.seen.lock().unwrap().raced
    }

    fn invocations(&self) -> Vec<Invocation> {
        self.seen
            .lock()
            .unwrap()
            .invocations
            .values()
            .cloned()
            .collect()
    }
}

/// One connection: a fault where `scope` says, otherwise the emulator's answer.
async fn serve(
    socket: TcpStream,
    fault: Fault,
    scope: Scope,
    seen: Arc<Mutex<Seen>>,
    (upstream, regions): (String, (String, String)),
    http: reqwest::Client,
) {
    proxy::serve(socket, |req: proxy::Request| {
        let (seen, upstream, regions, http) = (
            seen.clone(),
            upstream.clone(),
            regions.clone(),
            http.clone(),
        );
        async move {
            let operation = req.operation().to_string();
            let write = matches!(
                operation.as_str(),
                "TransactWriteItems" | "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem"
            );
            let faulted = match scope {
                Scope::Everything => true,
                Scope::WritesOnly => write,
                Scope::Races => write && seen.lock().unwrap().loses_race(&operation, &req.body),
            };
            {
                let mut s = seen.lock().unwrap();
                s.requests += 1;
                let id = req
                    .header("amz-sdk-invocation-id")
                    .map_or_else(|| format!("none-{}", s.requests), str::to_string);
                let max = req.header("amz-sdk-request").and_then(|v| {
                    v.split(';')
                        .find_map(|p| p.trim().strip_prefix("max=").and_then(|m| m.parse().ok()))
                });
                let inv = s.invocations.entry(id).or_default();
                inv.operation = operation.clone();
                inv.attempts += 1;
                inv.max_attempts = max;
                inv.faulted |= faulted;
            }
            if faulted {
                let (status, reason, body) = fault.answer(&operation, &req.body);
                return Some(proxy::Response {
                    status,
                    reason: reason.to_string(),
                    content_type: "application/x-amz-json-1.0".into(),
                    extra: "x-amzn-requestid: fault-server\r\n".into(),
                    body: body.into_bytes(),
                });
            }
            // The emulator picks its backend by the signature's region.
            proxy::forward(&http, &upstream, req, |v| v.replace(&regions.0, &regions.1)).await
        }
    })
    .await
}

/// What a route answered against a faulty DynamoDB, and what the SDK did to get there.
struct Outcome {
    route: String,
    status: u16,
    elapsed: Duration,
    invocations: Vec<Invocation>,
}

fn summarise(outcomes: &[Outcome]) -> String {
    let mut lines = Vec::new();
    for o in outcomes {
        let attempts: u32 = o.invocations.iter().map(|i| i.attempts).sum();
        let ops: Vec<String> = o
            .invocations
            .iter()
            .map(|i| format!("{}x{}", i.operation, i.attempts))
            .collect();
        lines.push(format!(
            "{:<48} {} in {:>5.2}s, {} operations, {attempts} attempts [{}]",
            o.route,
            o.status,
            o.elapsed.as_secs_f64(),
            o.invocations.len(),
            ops.join(" ")
        ));
    }
    lines.join("\n")
}

/// Checks the SDK's retries: each operation is tried at most its `max` (3 in the SDK's
/// standard mode) and the one that failed the request was tried exactly that often; a route
/// makes a handful of operations (no retry loop of its own) and answers within the app's
/// operation timeout.
fn check_retries(outcomes: &[Outcome], failures: &mut Vec<String>) {
    for o in outcomes {
        let most = o.invocations.iter().map(|i| i.attempts).max().unwrap_or(0);
        if most != 3 {
            failures.push(format!(
                "{}: the failing operation was tried {most} times, not 3",
                o.route
            ));
        }
        // Sign-in is the widest: four attempt counters and the account lookup, at once.
        if o.invocations.len() > 5 {
            failures.push(format!(
                "{}: {} operations against a failing DynamoDB",
                o.route,
                o.invocations.len()
            ));
        }
        for i in &o.invocations {
            if i.max_attempts != Some(3) || i.attempts > 3 || i.attempts == 0 {
                failures.push(format!("{}: {i:?}", o.route));
            }
        }
        if o.elapsed > Duration::from_secs(10) {
            failures.push(format!("{}: answered after {:?}", o.route, o.elapsed));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_503_when_dynamodb_exceeds_its_provisioned_throughput() {
    every_route_answers_503_under(Fault::ProvisionedThroughputExceeded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_503_when_dynamodb_throttles() {
    every_route_answers_503_under(Fault::Throttling).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_503_when_dynamodb_has_an_internal_error() {
    every_route_answers_503_under(Fault::InternalServerError).await;
}

/// Every route against a DynamoDB that answers every request with `fault`: the failures
/// are collected, each named by its route, and reported together.
async fn every_route_answers_503_under(fault: Fault) {
    let t = TestApp::spawn().await;
    let mut failures = Vec::new();
    let started = Instant::now();
    // One server and App per route, so each route's attempts are its own; all at once.
    let runs = storage_bound_requests()
        .into_iter()
        .map(|(method, pattern, uri, body)| {
            let t = &t;
            Box::pin(async move {
                let dynamo = FaultyDynamo::start(fault, Scope::Everything).await;
                let app = dynamo.app(t).await;
                let token = signed_token(&app.app);
                let began = Instant::now();
                let r = app
                    .call_raw(method, &uri, Some(&token), body.as_deref())
                    .await;
                let outcome = Outcome {
                    route: format!("{method} {pattern}"),
                    status: r.status,
                    elapsed: began.elapsed(),
                    invocations: dynamo.invocations(),
                };
                (method, pattern, r, outcome)
            })
        });
    let results = futures_util::future::join_all(runs).await;
    let mut outcomes = Vec::new();
    for (method, pattern, r, outcome) in results {
        let name = format!("{fault:?}: {}", outcome.route);
        if needs_no_storage(method, pattern) {
            if r.status != 200 || !outcome.invocations.is_empty() {
                failures.push(format!("{name}: needs no storage: {}", r.status));
            }
            continue;
        }
        if r.status != 503 {
            failures.push(format!("{name}: {} {}", r.status, r.body));
        } else if is_page(pattern) {
            let html = r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html");
            if !html {
                failures.push(format!("{name}: the page answers HTML"));
            }
        } else if r.code() != "service_unavailable"
            || r.headers["content-type"] != "application/problem+json"
        {
            failures.push(format!("{name}: {} {}", r.status, r.body));
        }
        if internals(&r.body) {
            failures.push(format!("{name}: internals in the body: {}", r.body));
        }
        if outcome.invocations.is_empty() {
            failures.push(format!("{name}: never reached DynamoDB"));
        }
        outcomes.push(outcome);
    }
    check_retries(&outcomes, &mut failures);
    println!("--- {fault:?}\n{}", summarise(&outcomes));
    println!(
        "{} routes, {fault:?}, in {:.1}s",
        all_routes().len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// SDK error text that must never reach a response body.
fn internals(body: &Value) -> bool {
    let text = body.to_string();
    [
        "127.0.0.1",
        "ServiceError",
        "throttled",
        "Throughput",
        "Throttling",
        "InternalServerError",
        "dispatch failure",
    ]
    .iter()
    .any(|s| text.contains(s))
}

/// An invite whose write is throttled is a 503 (not per-address `invalid` results) and says
/// nothing of the storage layer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_invite_answers_503_without_internals() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let pending = unique_email("pending");
    t.invite(&owner, org, &[&pending], "member").await;
    let mut runs = Vec::new();
    for fault in FAULTS {
        for emails in [vec![unique_email("new")], vec![pending.clone()]] {
            runs.push(throttled_invite(&t, org, &owner, fault, emails));
        }
    }
    for (fault, emails, r, elapsed, writes) in futures_util::future::join_all(runs).await {
        println!(
            "{fault:?}, {emails} address(es): {} in {:.2}s, {writes} throttled write operations",
            r.status,
            elapsed.as_secs_f64()
        );
        assert_eq!(
            (r.status, r.code()),
            (503, "service_unavailable"),
            "{fault:?}: {}",
            r.body
        );
        assert!(!internals(&r.body), "{fault:?}: {}", r.body);
        // The invitation's transaction (and its quota counter, where that is a write of its
        // own): a few operations, not one per address, within the operation timeout.
        assert!(
            writes <= 3 && elapsed < Duration::from_secs(10),
            "{fault:?}: {writes} write operations in {elapsed:?}"
        );
    }
}

/// A bulk invite (two transactions) against a DynamoDB that refuses writes gives up after
/// those two: no falling back to one write per address, which multiplies the SDK's retries
/// and backoff by the number of addresses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_bulk_invite_gives_up_in_bounded_time() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let bulk: Vec<String> = (0..40).map(|_| unique_email("bulk")).collect();
    let (fault, n, r, elapsed, writes) =
        throttled_invite(&t, org, &owner, Fault::ProvisionedThroughputExceeded, bulk).await;
    println!(
        "{fault:?}, {n} addresses: {} in {:.2}s, {writes} throttled write operations",
        r.status,
        elapsed.as_secs_f64()
    );
    assert_eq!(
        (r.status, r.code()),
        (503, "service_unavailable"),
        "{}",
        r.body
    );
    assert!(
        writes <= 2 && elapsed < Duration::from_secs(10),
        "{writes} write operations in {elapsed:?}"
    );
}

/// Invites `emails` through an App whose DynamoDB refuses writes with `fault`: the fault,
/// how many addresses, the reply, how long it took, and how many write operations it made.
async fn throttled_invite(
    t: &TestApp,
    org: OrgId,
    owner: &common::Actor,
    fault: Fault,
    emails: Vec<String>,
) -> (Fault, usize, common::Reply, Duration, usize) {
    let dynamo = FaultyDynamo::start(fault, Scope::WritesOnly).await;
    let app = dynamo.app(t).await;
    let began = Instant::now();
    let r = app.invite(&owner, org, &emails, "member").await;
    let writes = dynamo.invocations().iter().filter(|i| i.faulted).count();
    (fault, emails.len(), r, began.elapsed(), writes)
}

// ---------------------------------------------------------------------------------------
// Nothing half-written: mutations against a throttled DynamoDB leave the table as it was.

/// An item's attribute, in a canonical JSON form (sets and maps sorted).
fn canon(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(_) => json!({"NULL": true}),
        AttributeValue::B(b) => json!({"B": b.as_ref()}),
        AttributeValue::L(l) => json!({"L": l.iter().map(canon).collect::<Vec<_>>()}),
        AttributeValue::M(m) => {
            let sorted: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, canon(v))).collect();
            json!({ "M": sorted })
        }
        AttributeValue::Ss(s) => {
            let mut s = s.clone();
            s.sort();
            json!({ "SS": s })
        }
        AttributeValue::Ns(s) => {
            let mut s = s.clone();
            s.sort();
            json!({ "NS": s })
        }
        other => json!({"other": format!("{other:?}")}),
    }
}

/// Every item of the test's table, canonical and sorted by key: one string per item.
async fn snapshot(t: &TestApp) -> Vec<String> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = t
            .dynamo
            .scan()
            .table_name(&t.app.config.table_name)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in page.items() {
            let sorted: BTreeMap<&String, Value> =
                item.iter().map(|(k, v)| (k, canon(v))).collect();
            items.push(serde_json::to_string(&sorted).unwrap());
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    items.sort();
    items
}

/// (name, method, uri, bearer token, body) for every kind of change, against real data.
type Mutation = (
    &'static str,
    &'static str,
    String,
    Option<String>,
    Option<String>,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_mutations_change_nothing_and_recovery_finds_the_data_as_before() {
    let t = TestApp::spawn().await;
    // Real data in the emulator: an org with an owner, an admin, members, a pending
    // invitation, a signed-in member with a refresh token, and someone with no org.
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    let member = t.member_of(org, OrgRole::Member).await;
    let other = t.member_of(org, OrgRole::Member).await;
    let solo = t.user_without_org().await;
    let invited = unique_email("pending");
    let r = t.invite(&owner, org, &[&invited], "member").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let inv_id = r.body["results"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let link = t.latest_token(&invited).await;
    let code = t.org(&owner, org).await.body["code"]
        .as_str()
        .unwrap()
        .to_string();

    let j = |v: Value| Some(v.to_string());
    let o = Some(owner.token.clone());
    let mutations: Vec<Mutation> = vec![
        (
            "create org",
            "POST",
            "/orgs".into(),
            Some(solo.token.clone()),
            j(json!({"name": "Throttled", "code": unique_code()})),
        ),
        (
            "update org",
            "PATCH",
            format!("/orgs/{org}"),
            o.clone(),
            j(json!({"name": "Renamed"})),
        ),
        (
            "delete org",
            "DELETE",
            format!("/orgs/{org}?confirm={code}"),
            o.clone(),
            None,
        ),
        (
            "invite",
            "POST",
            format!("/orgs/{org}/invitations"),
            o.clone(),
            j(json!({"emails": [unique_email("new")], "role": "member"})),
        ),
        (
            "invite again (resend)",
            "POST",
            format!("/orgs/{org}/invitations"),
            o.clone(),
            j(json!({"emails": [invited], "role": "admin"})),
        ),
        (
            "resend",
            "POST",
            format!("/orgs/{org}/invitations/{inv_id}/resend"),
            o.clone(),
            None,
        ),
        (
            "revoke",
            "DELETE",
            format!("/orgs/{org}/invitations/{inv_id}"),
            o.clone(),
            None,
        ),
        (
            "accept",
            "POST",
            "/invitations/accept".into(),
            None,
            j(json!({"token": link, "name": "New Person", "password": PASSWORD})),
        ),
        (
            "decline",
            "POST",
            "/invitations/decline".into(),
            None,
            j(json!({"token": link})),
        ),
        (
            "change role",
            "PATCH",
            format!("/orgs/{org}/members/{}", member.user.id),
            o.clone(),
            j(json!({"role": "admin"})),
        ),
        (
            "bulk role",
            "POST",
            format!("/orgs/{org}/members/bulk-role"),
            o.clone(),
            j(json!({"user_ids": [member.user.id, other.user.id], "role": "admin"})),
        ),
        (
            "transfer ownership",
            "POST",
            format!("/orgs/{org}/transfer-ownership"),
            o.clone(),
            j(json!({"user_id": admin.user.id})),
        ),
        (
            "remove",
            "DELETE",
            format!("/orgs/{org}/members/{}", member.user.id),
            o.clone(),
            None,
        ),
        (
            "leave",
            "DELETE",
            format!("/orgs/{org}/members/{}", other.user.id),
            Some(other.token.clone()),
            None,
        ),
        (
            "bulk remove",
            "POST",
            format!("/orgs/{org}/members/bulk-remove"),
            o.clone(),
            j(json!({"user_ids": [member.user.id, other.user.id]})),
        ),
        (
            "create user",
            "POST",
            "/users".into(),
            Some(root.token.clone()),
            j(
                json!({"email": unique_email("direct"), "name": "D", "password": PASSWORD,
                "role": "member", "org_id": org}),
            ),
        ),
        (
            "update user",
            "PATCH",
            format!("/users/{}", member.user.id),
            o.clone(),
            j(json!({"name": "Edited", "password": "a brand new password"})),
        ),
        (
            "delete user",
            "DELETE",
            format!("/users/{}", member.user.id),
            o.clone(),
            None,
        ),
        (
            "sign in",
            "POST",
            "/auth/login".into(),
            None,
            j(json!({"email": member.user.email, "password": PASSWORD})),
        ),
        (
            "failed sign-in",
            "POST",
            "/auth/login".into(),
            None,
            j(json!({"email": member.user.email, "password": "not the password"})),
        ),
        (
            "refresh",
            "POST",
            "/auth/refresh".into(),
            None,
            j(json!({"refresh_token": member.refresh})),
        ),
        (
            "sign out",
            "POST",
            "/auth/logout".into(),
            None,
            j(json!({"refresh_token": member.refresh})),
        ),
    ];

    let before = snapshot(&t).await;
    let started = Instant::now();
    let mut failures: Vec<String> = Vec::new();
    let mut table = Vec::new();
    for scope in [Scope::Everything, Scope::WritesOnly] {
        for fault in FAULTS {
            let runs = mutations.iter().map(|(name, method, uri, token, body)| {
                let t = &t;
                Box::pin(async move {
                    let dynamo = FaultyDynamo::start(fault, scope).await;
                    let app = dynamo.app(t).await;
                    let began = Instant::now();
                    let r = app
                        .call_raw(method, uri, token.as_deref(), body.as_deref())
                        .await;
                    (*name, r, began.elapsed(), dynamo.invocations())
                })
            });
            for (name, r, elapsed, invocations) in futures_util::future::join_all(runs).await {
                let case = format!("{scope:?} {fault:?}: {name}");
                let writes = invocations
                    .iter()
                    .filter(|i| i.faulted && scope == Scope::WritesOnly)
                    .count();
                table.push(format!(
                    "{case:<64} {} in {:.2}s ({} operations, {writes} throttled writes)",
                    r.status,
                    elapsed.as_secs_f64(),
                    invocations.len()
                ));
                if scope == Scope::WritesOnly && writes == 0 {
                    failures.push(format!("{case}: never got as far as a write"));
                }
                if r.status != 503 || r.code() != "service_unavailable" {
                    failures.push(format!("{case}: {} {}", r.status, r.body));
                }
                if internals(&r.body) {
                    failures.push(format!("{case}: internals in the body: {}", r.body));
                }
            }
        }
    }
    let after = snapshot(&t).await;
    println!("{}", table.join("\n"));
    println!(
        "{} mutations x {} faults x 2 scopes in {:.1}s; table: {} items before, {} after",
        mutations.len(),
        FAULTS.len(),
        started.elapsed().as_secs_f64(),
        before.len(),
        after.len()
    );
    let changed: Vec<String> = {
        let b: std::collections::BTreeSet<&String> = before.iter().collect();
        let a: std::collections::BTreeSet<&String> = after.iter().collect();
        b.symmetric_difference(&a).map(|s| s.to_string()).collect()
    };
    assert!(
        changed.is_empty(),
        "the table changed under throttled mutations:\n{}",
        changed.join("\n")
    );
    assert_eq!(before, after, "byte-identical");
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Recovery: against the healthy table the same changes now work, from the same state.
    let ok = |r: &common::Reply, what: &str| {
        assert!(
            (200..300).contains(&r.status),
            "{what} after recovery: {} {}",
            r.status,
            r.body
        );
    };
    let r = t.accept(&link, Joining::New("New Person", PASSWORD)).await;
    ok(&r, "accept");
    let r = t.change_role(&owner, org, member.user.id, "admin").await;
    ok(&r, "change role");
    let r = t.remove(&owner, org, other.user.id).await;
    ok(&r, "remove");
    let r = t.refresh(&member.refresh).await;
    ok(
        &r,
        "refresh with the token the throttled refresh could not rotate",
    );
    let got = t.org(&owner, org).await;
    assert_eq!(
        (
            got.body["member_count"].as_u64(),
            got.body["owner_id"].as_str()
        ),
        (Some(4), Some(owner.user.id.to_string().as_str())),
        "{}",
        got.body
    );
}

// ---------------------------------------------------------------------------------------
// Lost races: what real DynamoDB answers when a write races a transaction on the same item
// (the emulator, one request at a time, never does). The server above answers the writes a
// `Race` matches as DynamoDB would (a cancelled transaction naming the reason, or
// `TransactionConflictException` for a single write), forwards the rest to the emulator,
// and counts the requests, each try of the storage layer's retry being one.

const TRANSACTION_FAULTS: [(Fault, u16, &str); 3] = [
    (Fault::TransactionConflict, 409, "conflict"),
    (Fault::TransactionThrottled, 503, "service_unavailable"),
    (
        Fault::TransactionThroughputExceeded,
        503,
        "service_unavailable",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_cancelled_once_by_contention_succeeds_on_its_retry() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    for (fault, _, _) in TRANSACTION_FAULTS {
        let member = t.member_of(org, OrgRole::Member).await;
        let dynamo = FaultyDynamo::racing(fault, vec![Race::transactions(1)]).await;
        let app = dynamo.app(&t).await;
        let r = app.change_role(&owner, org, member.user.id, "admin").await;
        assert_eq!(r.status, 200, "{fault:?}: {}", r.body);
        assert_eq!(
            (dynamo.raced(), dynamo.requests_of("TransactWriteItems")),
            (1, 2),
            "{fault:?}: one cancelled try, one that landed"
        );
        let stored = t
            .app
            .store
            .get_user(&member.user.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.role, Some(OrgRole::Admin), "{fault:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_that_keeps_losing_races_answers_honestly_and_writes_nothing() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let member = t.member_of(org, OrgRole::Member).await;
    for (fault, status, code) in TRANSACTION_FAULTS {
        let before = snapshot(&t).await;
        let dynamo = FaultyDynamo::racing(fault, vec![Race::transactions(1000)]).await;
        let app = dynamo.app(&t).await;
        let began = Instant::now();
        let r = app.change_role(&owner, org, member.user.id, "admin").await;
        assert_eq!(
            (r.status, r.code()),
            (status, code),
            "{fault:?}: {}",
            r.body
        );
        assert!(!internals(&r.body), "{fault:?}: {}", r.body);
        assert_eq!(
            dynamo.requests_of("TransactWriteItems"),
            roster::storage::WRITE_ATTEMPTS,
            "{fault:?}: tried a bounded number of times"
        );
        assert!(began.elapsed() < Duration::from_secs(5), "{fault:?}");
        assert_eq!(
            snapshot(&t).await,
            before,
            "{fault:?}: nothing half-written"
        );
    }
}

/// The session's key, from its refresh token.
fn session_key(refresh: &str) -> String {
    let (sid, _) = refresh.split_once('.').unwrap();
    roster::storage::keys::session_pk(sid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_racing_a_refresh_is_retried_and_ends_the_session() {
    let t = TestApp::spawn().await;
    let member = t.signed_in("race").await;
    let race = Race::single_writes(session_key(&member.refresh), 1);
    let dynamo = FaultyDynamo::racing(Fault::TransactionConflict, vec![race]).await;
    let r = dynamo.app(&t).await.logout(&member.refresh).await;
    assert!((200..300).contains(&r.status), "{}", r.body);
    assert_eq!((dynamo.raced(), dynamo.requests_of("DeleteItem")), (1, 2));
    assert_eq!(
        t.refresh(&member.refresh).await.status,
        401,
        "the session ended"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_that_keeps_losing_races_answers_409_and_keeps_the_session() {
    let t = TestApp::spawn().await;
    let member = t.signed_in("race").await;
    let race = Race::single_writes(session_key(&member.refresh), 1000);
    let dynamo = FaultyDynamo::racing(Fault::TransactionConflict, vec![race]).await;
    let r = dynamo.app(&t).await.logout(&member.refresh).await;
    assert_eq!((r.status, r.code()), (409, "conflict"), "{}", r.body);
    assert!(!internals(&r.body), "{}", r.body);
    assert_eq!(
        dynamo.requests_of("DeleteItem"),
        roster::storage::WRITE_ATTEMPTS
    );
    // Not half-done: the session is whole, and the caller may sign out again.
    assert_eq!(t.refresh(&member.refresh).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_all_sessions_on_reuse_is_retried_when_it_races() {
    let t = TestApp::spawn().await;
    let member = t.signed_in("reuse").await;
    let rotated = t.refresh(&member.refresh).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let fresh = rotated.body["refresh_token"].as_str().unwrap().to_string();
    let user_key = roster::storage::keys::user_pk(&member.user.id);
    let race = Race::single_writes(user_key.clone(), 1);
    let dynamo = FaultyDynamo::racing(Fault::TransactionConflict, vec![race]).await;
    // The rotated-away token comes back: reuse, which revokes every session.
    let r = dynamo.app(&t).await.refresh(&member.refresh).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!((dynamo.raced(), dynamo.requests_of("UpdateItem")), (1, 2));
    assert_eq!(t.refresh(&fresh).await.status, 401, "every session revoked");

    // Losing every try: an honest 409, the sessions as they were.
    let other = t.signed_in("reuse").await;
    let rotated = t.refresh(&other.refresh).await;
    let fresh = rotated.body["refresh_token"].as_str().unwrap().to_string();
    let race = Race::single_writes(roster::storage::keys::user_pk(&other.user.id), 1000);
    let dynamo = FaultyDynamo::racing(Fault::TransactionConflict, vec![race]).await;
    let r = dynamo.app(&t).await.refresh(&other.refresh).await;
    assert_eq!((r.status, r.code()), (409, "conflict"), "{}", r.body);
    let user = t.app.store.get_user(&other.user.id).await.unwrap().unwrap();
    assert_eq!(user.token_version, other.user.token_version, "not revoked");
    assert_eq!(t.refresh(&fresh).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_passes_over_a_member_whose_detach_keeps_losing_races_and_finishes_next_run() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let members = [
        t.member_of(org, OrgRole::Member).await,
        t.member_of(org, OrgRole::Admin).await,
        t.member_of(org, OrgRole::Member).await,
    ];
    let stuck = &members[1];
    let race = Race::single_writes(roster::storage::keys::user_pk(&stuck.user.id), 1000);
    let dynamo = FaultyDynamo::racing(Fault::TransactionConflict, vec![race]).await;
    let app = dynamo.app(&t).await;
    let r = app.delete_org(&owner, org).await;
    assert!((200..300).contains(&r.status), "{}", r.body);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let report = roster::services::cleanup::run(&app.app, deadline).await;
    assert!(
        report.is_ok(),
        "a lost race does not abort the run: {report:?}"
    );
    let org_of = |id| {
        let t = &t;
        async move { t.app.store.get_user(&id).await.unwrap().unwrap().org_id }
    };
    for m in [&owner, &members[0], &members[2]] {
        assert_eq!(org_of(m.user.id).await, None, "the others are detached");
    }
    assert_eq!(
        org_of(stuck.user.id).await,
        Some(org),
        "passed over this run"
    );
    assert!(
        t.app
            .store
            .deleting_orgs(1000)
            .await
            .unwrap()
            .contains(&org)
    );
    assert!(dynamo.raced() >= 2 * roster::storage::WRITE_ATTEMPTS as usize);

    // The next run, with the race over, finishes the rest.
    let report = roster::services::cleanup::run(&t.app, deadline)
        .await
        .unwrap();
    assert!(report.orgs_finished >= 1, "{report:?}");
    assert_eq!(org_of(stuck.user.id).await, None);
    assert!(
        !t.app
            .store
            .deleting_orgs(1000)
            .await
            .unwrap()
            .contains(&org)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_stored_before_their_quota_count_lost_its_races_still_send_mail() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let email = unique_email("counted");
    // The invitation's transaction (with the day's counts) loses every try, so the counts
    // are added on their own after the invitation is stored; and those lose every try too.
    let races = vec![
        Race::transactions(roster::storage::WRITE_ATTEMPTS as usize),
        Race::single_writes("THROTTLE#INVITES", 1000),
    ];
    let dynamo = FaultyDynamo::racing(Fault::TransactionConflict, races).await;
    let r = dynamo
        .app(&t)
        .await
        .invite(&owner, org, &[&email], "member")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["results"][0]["invitation_id"].is_string(),
        "{}",
        r.body
    );
    assert_eq!(
        dynamo.requests_of("UpdateItem"),
        2 * roster::storage::WRITE_ATTEMPTS,
        "both day counters, each tried a bounded number of times"
    );
    assert!(
        !t.latest_token(&email).await.is_empty(),
        "the mail went out"
    );
}

/// Role changes leave the org item alone, so the joins and removals that write its member
/// count cannot cancel them: here every transaction naming `member_count` (the org item's
/// counter: seat-limited joins and removals, and any write of the org item itself) loses
/// its race, and single and bulk role changes still land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_changes_do_not_race_joins_on_the_org_item() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let one = t.member_of(org, OrgRole::Member).await;
    let two = t.member_of(org, OrgRole::Member).await;
    let race = Race::transactions_naming("member_count", 1000);
    let dynamo = FaultyDynamo::racing(Fault::TransactionConflict, vec![race]).await;
    let app = dynamo.app(&t).await;
    let r = app.change_role(&owner, org, one.user.id, "admin").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = json!({"user_ids": [one.user.id, two.user.id], "role": "member"});
    let r = app.bulk_role(&owner, org, body).await;
    assert!((200..300).contains(&r.status), "{}", r.body);
    assert_eq!(
        dynamo.raced(),
        0,
        "no role change named the org's member count"
    );
    // A join in a tier without seat limit counts on a shard: no race on the org item either.
    let email = unique_email("joiner");
    t.invite(&owner, org, &[&email], "member").await;
    let link = t.latest_token(&email).await;
    let r = app.accept(&link, Joining::New("Joiner", PASSWORD)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(dynamo.raced(), 0);
}

/// Issue 18.3: in a tier without a seat limit, joins never name the org item, so hundreds
/// of concurrent accepts cannot cancel each other there. The proxy cancels every
/// transaction with an item on the org's key (`ORG#<id>` / `PROFILE`) as DynamoDB does when
/// another holds it; all 200 accepts land and none was raced. In a seat-limited tier the
/// join does write the org item (its exact counter and seat condition): the same race
/// cancels it, every try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_in_a_tier_without_seat_limit_never_touch_the_org_item() {
    let t = TestApp::spawn_with(|c| {
        c.tiers = roster::domain::Tiers::parse("free,team:seats=1000").unwrap();
        c.accept_max_failures_per_source = 100_000;
    })
    .await;
    let (org, owner) = t.org_with_owner().await;
    let joiners = crate::shards::joiners(&t, &owner, org, 200).await;
    let org_key = roster::storage::keys::org_pk(&org);
    let race = Race::transactions_on(org_key.clone(), roster::storage::keys::PROFILE, 100_000);
    let dynamo = FaultyDynamo::racing(Fault::TransactionConflict, vec![race]).await;
    let app = dynamo.app(&t).await;
    let began = Instant::now();
    let statuses = crate::shards::accept_all(&app, &joiners).await;
    let took = began.elapsed();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(dynamo.raced(), 0, "no accept named the org item");
    eprintln!(
        "200 concurrent accepts through the racing proxy: {} ms, {} transactions",
        took.as_millis(),
        dynamo.requests_of("TransactWriteItems")
    );
    crate::shards::assert_count_matches_members(&t, &owner, org, 201).await;

    // A seat-limited tier counts on the org item: there the race is real.
    let root = t.platform_admin().await;
    let r = t.update_org(&root, org, json!({"tier": "team"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let late = crate::shards::joiners(&t, &owner, org, 1).await;
    let statuses = crate::shards::accept_all(&app, &late).await;
    assert_eq!(statuses, [409]);
    assert_eq!(dynamo.raced(), roster::storage::WRITE_ATTEMPTS as usize);
    crate::shards::assert_count_matches_members(&t, &owner, org, 201).await;
}
