//! A bounded load run against the served local API (`cargo lambda watch`, ROSTER_API_URL):
//! a few hundred concurrent requests in one organization (and a second one for the
//! cross-organization races), then every invariant checked by reading the API and the table.
//!
//! The mix: parallel invites to the same and to different emails, parallel accepts of the
//! same invitation and of different ones, accepts racing declines, revokes and resends,
//! one email accepted into two organizations at once, role changes (single and bulk),
//! removals (single, bulk, leaving), ownership transfers by the owner and a platform admin,
//! and reads. `cargo lambda watch` runs one instance per function, so requests to the same
//! function queue there; to race a function with itself for real, some of the racing
//! requests also go straight to the handlers in this process (same table, same key).
//!
//! Invariants: no 5xx; exactly one owner per org (API and table agree with `owner_id`);
//! `member_count` equals the members listed; no user in two orgs; no invitation used twice
//! (accepted, declined, revoked: at most one of them, once) and each accepted invitation
//! has exactly one member; at most one pending invitation per email; every audit entry
//! written during the run matches a successful change, kind by kind.

use crate::common;

use common::{PASSWORD, TestApp, unique_email};
use futures_util::{StreamExt, stream};
use roster::domain::{OrgId, OrgRole, User};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 48;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Via {
    Http,
    InProcess,
}

#[derive(Clone, Debug)]
struct Op {
    kind: &'static str,
    method: &'static str,
    path: String,
    token: Option<String>,
    body: Option<Value>,
    /// What the op acts on (an invitation's email, a user id, a group name).
    target: String,
    via: Via,
}

struct Done {
    op: Op,
    status: u16,
    body: Value,
}

impl Done {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

async fn send(t: &TestApp, http: &reqwest::Client, base: &str, op: &Op) -> (u16, Value) {
    if op.via == Via::InProcess {
        let r = t
            .call(op.method, &op.path, op.token.as_deref(), op.body.clone())
            .await;
        return (r.status, r.body);
    }
    let mut attempt = 0;
    loop {
        let (status, body) = send_http(http, base, op).await;
        // `cargo lambda watch` runs each function one request at a time and answers a bare
        // 500 of its own (not a Roster problem) when a queued request waits too long. A read
        // is safe to send again; a change is not, and stays a failure.
        let local_api_500 = status == 500
            && !body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:roster:problem:"));
        if op.method == "GET" && local_api_500 && attempt < 2 {
            attempt += 1;
            eprintln!(
                "local API answered its own 500 to {} {}; reading again",
                op.method, op.path
            );
            continue;
        }
        return (status, body);
    }
}

async fn send_http(http: &reqwest::Client, base: &str, op: &Op) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(op.method.as_bytes()).unwrap();
    let mut req = http.request(method, format!("{base}{}", op.path));
    if let Some(tok) = &op.token {
        req = req.bearer_auth(tok);
    }
    if let Some(b) = &op.body {
        req = req.json(b);
    }
    match req.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            let text = res.text().await.unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        // A transport failure is recorded as status 0 and fails the run, with its causes.
        Err(e) => {
            let mut why = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                why.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            (0, Value::String(why))
        }
    }
}

/// A small deterministic shuffle (xorshift), so a failing mix can be replayed.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

struct Org {
    id: OrgId,
    owner_token: String,
}

/// Every page of `uri` (which has a query string), through the handlers.
async fn all_items(t: &TestApp, uri: &str, token: &str) -> Vec<Value> {
    t.pages(uri, token)
        .await
        .into_iter()
        .flat_map(|r| r.body["items"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Audit entries of `org` by action.
async fn audit_counts(
    t: &TestApp,
    org: OrgId,
    token: &str,
) -> (BTreeMap<String, usize>, Vec<Value>) {
    let entries = all_items(t, &format!("/orgs/{org}/audit?limit=100"), token).await;
    let mut by = BTreeMap::new();
    for e in &entries {
        *by.entry(e["action"].as_str().unwrap_or("").to_string())
            .or_insert(0) += 1;
    }
    (by, entries)
}

/// The members of `org` straight from the table (its gsi1 member partition).
async fn members_in_table(t: &TestApp, org: OrgId) -> Vec<HashMap<String, String>> {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = t
            .dynamo
            .query()
            .table_name(&t.app.config.table_name)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", V::S(format!("ORG#{org}#MEMBERS")))
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("query the member partition");
        for item in page.items() {
            out.push(
                item.iter()
                    .filter_map(|(k, v)| v.as_s().ok().map(|s| (k.clone(), s.clone())))
                    .collect(),
            );
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_changes_keep_every_invariant() {
    let Some(base) = common::local_api_url() else {
        return;
    };
    // Alone: its run time is bounded, and it fills the served API's queues.
    let t = TestApp::served_alone().await;
    let setup_started = Instant::now();

    // ---- Setup (through the handlers and storage; not counted in the run) ----------------
    let root = t.create_user(&unique_email("load-root"), None, true).await;
    let root_token = t.token_for(&root);
    let mut orgs = Vec::new();
    for _ in 0..2 {
        let (id, owner) = t.org_with_owner().await;
        orgs.push(Org {
            id,
            owner_token: owner.token.clone(),
        });
    }
    let (a, b) = (orgs[0].id, orgs[1].id);
    let user_in = |org: OrgId, role: OrgRole| {
        let t = &t;
        async move {
            t.create_user(&unique_email("load"), Some((org, role)), false)
                .await
        }
    };
    let admin_a = user_in(a, OrgRole::Admin).await;
    let admin_a_token = t.token_for(&admin_a);
    let group =
        |n: usize, role: OrgRole| futures_util::future::join_all((0..n).map(|_| user_in(a, role)));
    let role_targets = group(10, OrgRole::Member).await;
    let bulk_role_groups = [
        group(3, OrgRole::Member).await,
        group(3, OrgRole::Member).await,
    ];
    let remove_targets = group(8, OrgRole::Member).await;
    let bulk_remove_groups = [
        group(3, OrgRole::Admin).await,
        group(3, OrgRole::Member).await,
    ];
    let leavers = group(3, OrgRole::Member).await;
    let transfer_targets = group(3, OrgRole::Admin).await;

    // Invitations to race on, and their links.
    let fresh = |n: usize, prefix: &str| (0..n).map(|_| unique_email(prefix)).collect::<Vec<_>>();
    let same_inv = fresh(10, "same");
    let diff_inv = fresh(20, "diff");
    let decline_race = fresh(6, "decl");
    let revoke_race = fresh(5, "revk");
    let cross = fresh(8, "cross");
    let all_a: Vec<String> = [&same_inv, &diff_inv, &decline_race, &revoke_race, &cross]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let mut invitation_ids: HashMap<(OrgId, String), String> = HashMap::new();
    for (org, emails) in [(&orgs[0], &all_a), (&orgs[1], &cross)] {
        let r = t.invite(&org.owner_token, org.id, emails, "member").await;
        assert_eq!(r.status, 200, "{}", r.body);
        for res in r.body["results"].as_array().unwrap() {
            assert_eq!(res["status"], "invited", "{res}");
            invitation_ids.insert(
                (org.id, res["email"].as_str().unwrap().to_string()),
                res["invitation_id"].as_str().unwrap().to_string(),
            );
        }
    }
    // The cross-org emails got two mails: A's first, then B's.
    let links_a = t.latest_tokens(&all_a).await;
    let mut links: HashMap<(OrgId, String), String> = HashMap::new();
    for e in &all_a {
        links.insert((a, e.clone()), links_a[e].clone());
    }
    {
        let data = reqwest::get(format!(
            "{}/moto-api/data.json",
            std::env::var("AWS_ENDPOINT_URL").unwrap()
        ))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
        for e in &cross {
            let tokens: Vec<String> = data["ses"]["Message"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| {
                    m["destinations"]["ToAddresses"]
                        .as_array()
                        .is_some_and(|x| x.iter().any(|v| v == e.as_str()))
                })
                .filter_map(|m| {
                    common::Mail {
                        subject: String::new(),
                        html: m["body"].as_str().unwrap_or("").to_string(),
                        source: String::new(),
                    }
                    .token()
                })
                .collect();
            assert_eq!(tokens.len(), 2, "two invitations for {e}");
            links.insert((a, e.clone()), tokens[0].clone());
            links.insert((b, e.clone()), tokens[1].clone());
        }
    }
    let (audit_before_a, _) = audit_counts(&t, a, &root_token).await;
    let (audit_before_b, _) = audit_counts(&t, b, &root_token).await;
    let setup_time = setup_started.elapsed();

    // ---- The mix --------------------------------------------------------------------------
    let owner_a = orgs[0].owner_token.clone();
    let owner_b = orgs[1].owner_token.clone();
    let mut ops: Vec<Op> = Vec::new();
    let op =
        |kind, method, path: String, token: &str, body: Option<Value>, target: String, via| Op {
            kind,
            method,
            path,
            token: Some(token.to_string()),
            body,
            target,
            via,
        };
    let anon = |kind, path: &str, body: Value, target: &str, via| Op {
        kind,
        method: "POST",
        path: path.to_string(),
        token: None,
        body: Some(body),
        target: target.to_string(),
        via,
    };
    let accept_body =
        |token: &str| json!({"token": token, "name": "Load Tester", "password": PASSWORD});
    // Invites: the same four emails ten times each, and fresh ones in both orgs.
    let contested = fresh(4, "contested");
    for i in 0..40 {
        let e = &contested[i % 4];
        let who = if i % 2 == 0 { &owner_a } else { &admin_a_token };
        ops.push(op(
            "invite",
            "POST",
            format!("/orgs/{a}/invitations"),
            who,
            Some(json!({"emails": [e], "role": "member"})),
            e.clone(),
            Via::Http,
        ));
    }
    for i in 0..60 {
        let emails = fresh(2, "spread");
        let who = if i % 3 == 0 { &admin_a_token } else { &owner_a };
        ops.push(op(
            "invite",
            "POST",
            format!("/orgs/{a}/invitations"),
            who,
            Some(json!({"emails": emails, "role": if i % 4 == 0 { "admin" } else { "member" }})),
            emails.join(","),
            Via::Http,
        ));
    }
    for _ in 0..20 {
        let e = unique_email("spread-b");
        ops.push(op(
            "invite",
            "POST",
            format!("/orgs/{b}/invitations"),
            &owner_b,
            Some(json!({"emails": [e], "role": "member"})),
            e,
            Via::Http,
        ));
    }
    // Re-invites racing the accepts of the same emails (a resend kills the old link).
    for e in same_inv.iter().take(5) {
        for _ in 0..2 {
            ops.push(op(
                "invite",
                "POST",
                format!("/orgs/{a}/invitations"),
                &owner_a,
                Some(json!({"emails": [e], "role": "member"})),
                e.clone(),
                Via::Http,
            ));
        }
    }
    // Accepts: six of each contested invitation (half over HTTP, half in process). The five
    // that race re-invites go in process only: a link a resend replaced counts against the
    // client address (20 per 15 minutes, then 429 for every link), and over HTTP every
    // request comes from 127.0.0.1.
    for (n, e) in same_inv.iter().enumerate() {
        for i in 0..6 {
            let via = if i % 2 == 0 && n >= 5 {
                Via::Http
            } else {
                Via::InProcess
            };
            ops.push(anon(
                "accept",
                "/invitations/accept",
                accept_body(&links[&(a, e.clone())]),
                e,
                via,
            ));
        }
    }
    for e in &diff_inv {
        ops.push(anon(
            "accept",
            "/invitations/accept",
            accept_body(&links[&(a, e.clone())]),
            e,
            Via::Http,
        ));
    }
    for e in &decline_race {
        let link = &links[&(a, e.clone())];
        for via in [Via::Http, Via::InProcess] {
            ops.push(anon(
                "accept",
                "/invitations/accept",
                accept_body(link),
                e,
                via,
            ));
        }
        for via in [Via::Http, Via::Http, Via::InProcess] {
            ops.push(anon(
                "decline",
                "/invitations/decline",
                json!({"token": link}),
                e,
                via,
            ));
        }
    }
    for e in &revoke_race {
        let link = &links[&(a, e.clone())];
        let id = &invitation_ids[&(a, e.clone())];
        for via in [Via::Http, Via::InProcess] {
            ops.push(anon(
                "accept",
                "/invitations/accept",
                accept_body(link),
                e,
                via,
            ));
        }
        for (who, via) in [(&owner_a, Via::Http), (&admin_a_token, Via::InProcess)] {
            ops.push(op(
                "revoke",
                "DELETE",
                format!("/orgs/{a}/invitations/{id}"),
                who,
                None,
                e.clone(),
                via,
            ));
        }
    }
    // One email, invited to both orgs, accepted into both at once.
    for e in &cross {
        ops.push(anon(
            "accept",
            "/invitations/accept",
            accept_body(&links[&(a, e.clone())]),
            e,
            Via::Http,
        ));
        ops.push(anon(
            "accept",
            "/invitations/accept",
            accept_body(&links[&(b, e.clone())]),
            e,
            Via::Http,
        ));
        ops.push(anon(
            "accept",
            "/invitations/accept",
            accept_body(&links[&(b, e.clone())]),
            e,
            Via::InProcess,
        ));
    }
    // Role changes: four identical requests per member, from two managers.
    for u in &role_targets {
        for i in 0..4 {
            let who = if i % 2 == 0 { &owner_a } else { &admin_a_token };
            let via = if i == 3 { Via::InProcess } else { Via::Http };
            ops.push(op(
                "change_role",
                "PATCH",
                format!("/orgs/{a}/members/{}", u.id),
                who,
                Some(json!({"role": "admin"})),
                u.id.to_string(),
                via,
            ));
        }
    }
    for (g, members) in bulk_role_groups.iter().enumerate() {
        let ids: Vec<String> = members.iter().map(|u| u.id.to_string()).collect();
        for i in 0..3 {
            let via = if i == 2 { Via::InProcess } else { Via::Http };
            ops.push(op(
                "bulk_role",
                "POST",
                format!("/orgs/{a}/members/bulk-role"),
                &owner_a,
                Some(json!({"user_ids": ids, "role": "admin"})),
                format!("group{g}"),
                via,
            ));
        }
    }
    // Removals: three per member, bulk removals three per group, and leaving.
    for u in &remove_targets {
        for i in 0..3 {
            let who = if i == 1 { &admin_a_token } else { &owner_a };
            let via = if i == 2 { Via::InProcess } else { Via::Http };
            ops.push(op(
                "remove",
                "DELETE",
                format!("/orgs/{a}/members/{}", u.id),
                who,
                None,
                u.id.to_string(),
                via,
            ));
        }
    }
    for (g, members) in bulk_remove_groups.iter().enumerate() {
        let ids: Vec<String> = members.iter().map(|u| u.id.to_string()).collect();
        for i in 0..3 {
            let via = if i == 2 { Via::InProcess } else { Via::Http };
            ops.push(op(
                "bulk_remove",
                "POST",
                format!("/orgs/{a}/members/bulk-remove"),
                &owner_a,
                Some(json!({"user_ids": ids})),
                format!("group{g}"),
                via,
            ));
        }
    }
    for u in &leavers {
        let own = t.token_for(u);
        ops.push(op(
            "leave",
            "DELETE",
            format!("/orgs/{a}/members/{}", u.id),
            &own,
            None,
            u.id.to_string(),
            Via::Http,
        ));
        ops.push(op(
            "remove",
            "DELETE",
            format!("/orgs/{a}/members/{}", u.id),
            &owner_a,
            None,
            u.id.to_string(),
            Via::Http,
        ));
    }
    // Ownership: the owner hands it to three people at once, a platform admin too.
    for u in &transfer_targets {
        for i in 0..3 {
            let via = if i == 2 { Via::InProcess } else { Via::Http };
            ops.push(op(
                "transfer",
                "POST",
                format!("/orgs/{a}/transfer-ownership"),
                &owner_a,
                Some(json!({"user_id": u.id})),
                u.id.to_string(),
                via,
            ));
        }
        for _ in 0..2 {
            ops.push(op(
                "transfer",
                "POST",
                format!("/orgs/{a}/transfer-ownership"),
                &root_token,
                Some(json!({"user_id": u.id})),
                u.id.to_string(),
                Via::Http,
            ));
        }
    }
    // Reads alongside.
    for i in 0..40 {
        let path = match i % 4 {
            0 => format!("/orgs/{a}/members?include_pending=true&limit=100"),
            1 => format!("/orgs/{a}/invitations?limit=100"),
            2 => format!("/orgs/{a}/audit?limit=50"),
            _ => format!("/orgs/{a}"),
        };
        ops.push(op(
            "read",
            "GET",
            path,
            &admin_a_token,
            None,
            String::new(),
            Via::Http,
        ));
    }
    shuffle(&mut ops, 0x5eed_2026);
    let total = ops.len();
    assert!((300..=600).contains(&total), "{total} requests");

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        // Generous: the served API queues requests per function on two shared cores (one CI
        // run took 77 s for the mix); the test counts answers, it does not time them.
        .timeout(Duration::from_secs(180))
        .build()
        .unwrap();
    // Warm-up: one request to each function the mix uses, each answered without changing
    // anything, so cold starts (and any build `cargo lambda watch` does on first use) stay
    // out of the timed run.
    let warm_up = [
        ("GET", format!("/orgs/{a}"), None),
        ("GET", format!("/orgs/{a}/invitations?limit=1"), None),
        ("POST", "/invitations/decline".to_string(), Some(json!({}))),
        ("GET", format!("/orgs/{a}/members?limit=1"), None),
        (
            "PATCH",
            format!("/orgs/{a}/members/{}", admin_a.id),
            Some(json!({})),
        ),
        ("DELETE", format!("/orgs/{a}/members/not-a-user"), None),
        ("GET", format!("/users/{}", admin_a.id), None),
        ("GET", format!("/orgs/{a}/audit?limit=1"), None),
    ];
    let patient = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let warm_started = Instant::now();
    for (method, path, body) in warm_up {
        let probe = op(
            "warm-up",
            method,
            path,
            &root_token,
            body,
            String::new(),
            Via::Http,
        );
        let (status, body) = send(&t, &patient, &base, &probe).await;
        assert!(
            (200..500).contains(&status),
            "warm-up {method} {}: {status} {body}",
            probe.path
        );
    }
    let warm_time = warm_started.elapsed();
    let started = Instant::now();
    let done: Vec<Done> = stream::iter(ops)
        .map(|op| {
            let (t, http, base) = (&t, &http, &base);
            async move {
                let (status, body) = send(t, http, base, &op).await;
                Done { op, status, body }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let run_time = started.elapsed();

    // ---- Summary ----------------------------------------------------------------------------
    let mut by_kind: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for d in &done {
        let key = if d.status < 400 || d.code().is_empty() {
            d.status.to_string()
        } else {
            format!("{} {}", d.status, d.code())
        };
        *by_kind
            .entry(d.op.kind)
            .or_default()
            .entry(key)
            .or_insert(0) += 1;
        *by_status.entry(d.status).or_insert(0) += 1;
    }
    let http_count = done.iter().filter(|d| d.op.via == Via::Http).count();
    println!(
        "load: {total} requests ({http_count} over HTTP to {base}, {} straight to the handlers), \
         concurrency {CONCURRENCY}, in {:.1}s ({:.0} req/s); setup {:.1}s, warm-up {:.1}s",
        total - http_count,
        run_time.as_secs_f64(),
        total as f64 / run_time.as_secs_f64(),
        setup_time.as_secs_f64(),
        warm_time.as_secs_f64()
    );
    println!("load: statuses {by_status:?}");
    let mut results: BTreeMap<String, usize> = BTreeMap::new();
    for d in done.iter().filter(|d| d.op.kind == "invite" && d.ok()) {
        for r in d.body["results"].as_array().into_iter().flatten() {
            *results
                .entry(r["status"].as_str().unwrap_or("?").to_string())
                .or_insert(0) += 1;
        }
    }
    println!("load: invitation results {results:?}");
    for (kind, statuses) in &by_kind {
        println!("load:   {kind:<12} {statuses:?}");
    }

    // ---- Invariants -------------------------------------------------------------------------
    // Invariant -> how many subjects it was checked for.
    let mut checked: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut broken: Vec<String> = Vec::new();
    let mut check = |invariant: &'static str, subject: String, ok: bool, detail: String| {
        if !ok {
            broken.push(format!("{invariant} [{subject}]: {detail}"));
        }
        *checked.entry(invariant).or_insert(0) += 1;
    };

    let errors: Vec<String> = done
        .iter()
        .filter(|d| d.status >= 500 || d.status == 0)
        .map(|d| {
            format!(
                "{} {} {}: {} {}",
                d.op.kind, d.op.method, d.op.path, d.status, d.body
            )
        })
        .collect();
    check(
        "no 5xx and no transport failure",
        "all requests".into(),
        errors.is_empty(),
        errors.join("\n"),
    );
    // Every answer is one the contract allows for its kind of request.
    let allowed = |d: &Done| -> bool {
        match (d.op.kind, d.status) {
            (_, 200 | 201 | 204) => true,
            ("accept", 409) => matches!(
                d.code(),
                "invitation_already_accepted"
                    | "conflict"
                    | "member_of_another_organization"
                    | "already_member"
            ),
            ("accept" | "decline", 410) => matches!(
                d.code(),
                "invitation_superseded" | "invitation_declined" | "invitation_revoked"
            ),
            ("decline", 409) => matches!(d.code(), "invitation_already_accepted" | "conflict"),
            ("revoke", 409 | 410) => d.code().starts_with("invitation_") || d.code() == "conflict",
            ("change_role" | "remove" | "leave" | "bulk_role" | "bulk_remove", 409) => {
                matches!(d.code(), "conflict" | "bulk_refused" | "owner_protected")
            }
            ("remove" | "leave", 404) | ("change_role", 404) => d.code() == "not_found",
            ("transfer", 403) => d.code() == "forbidden",
            ("transfer", 409) => d.code() == "conflict",
            ("transfer", 400) => d.body["errors"][0]["field"] == "user_id",
            ("invite" | "read", 409) => d.code() == "conflict",
            (_, 429) => true,
            _ => false,
        }
    };
    let odd: Vec<String> = done
        .iter()
        .filter(|d| !allowed(d))
        .map(|d| format!("{} {}: {} {}", d.op.kind, d.op.path, d.status, d.body))
        .collect();
    check(
        "every answer is one the contract allows for its request",
        "all requests".into(),
        odd.is_empty(),
        odd.join("\n"),
    );

    for org in &orgs {
        let o = t.org(&root_token, org.id).await;
        let owner_id = o.body["owner_id"].as_str().unwrap_or("").to_string();
        let listed = all_items(
            &t,
            &format!("/orgs/{}/members?limit=100", org.id),
            &root_token,
        )
        .await;
        let owners: Vec<&Value> = listed.iter().filter(|m| m["role"] == "owner").collect();
        check(
            "exactly one owner in the API, and it is owner_id",
            org.id.to_string(),
            owners.len() == 1 && owners[0]["user_id"] == owner_id.as_str(),
            format!("owner_id {owner_id}, owners {owners:?}"),
        );
        let in_table = members_in_table(&t, org.id).await;
        let table_owners: Vec<_> = in_table
            .iter()
            .filter(|m| m.get("role").map(String::as_str) == Some("owner"))
            .collect();
        check(
            "exactly one owner in the table",
            org.id.to_string(),
            table_owners.len() == 1
                && table_owners[0].get("pk").map(String::as_str)
                    == Some(&format!("USER#{owner_id}")),
            format!("{table_owners:?}"),
        );
        check(
            "member_count equals the members listed (API and table)",
            org.id.to_string(),
            o.body["member_count"].as_u64() == Some(listed.len() as u64)
                && listed.len() == in_table.len(),
            format!(
                "member_count {}, listed {}, in the table {}",
                o.body["member_count"],
                listed.len(),
                in_table.len()
            ),
        );
        let emails: Vec<&str> = listed.iter().filter_map(|m| m["email"].as_str()).collect();
        let unique: HashSet<&&str> = emails.iter().collect();
        check(
            "no email listed twice in an org",
            org.id.to_string(),
            unique.len() == emails.len(),
            format!("{} listed, {} distinct", emails.len(), unique.len()),
        );
        let pending = all_items(
            &t,
            &format!("/orgs/{}/invitations?status=pending&limit=100", org.id),
            &root_token,
        )
        .await;
        let pending_emails: Vec<&str> =
            pending.iter().filter_map(|i| i["email"].as_str()).collect();
        let distinct: HashSet<&&str> = pending_emails.iter().collect();
        check(
            "at most one pending invitation per email",
            org.id.to_string(),
            distinct.len() == pending_emails.len(),
            format!("{pending_emails:?}"),
        );
    }
    let members_a = all_items(&t, &format!("/orgs/{a}/members?limit=100"), &root_token).await;
    let members_b = all_items(&t, &format!("/orgs/{b}/members?limit=100"), &root_token).await;
    let ids = |list: &[Value]| -> HashSet<String> {
        list.iter()
            .filter_map(|m| m["user_id"].as_str().map(str::to_string))
            .collect()
    };
    let mails = |list: &[Value]| -> HashSet<String> {
        list.iter()
            .filter_map(|m| m["email"].as_str().map(str::to_string))
            .collect()
    };
    check(
        "no user in two orgs (members of A and B disjoint by id and email)",
        "A, B".into(),
        ids(&members_a).is_disjoint(&ids(&members_b))
            && mails(&members_a).is_disjoint(&mails(&members_b)),
        String::new(),
    );
    for e in &cross {
        let wins = done
            .iter()
            .filter(|d| d.op.kind == "accept" && &d.op.target == e && d.ok())
            .count();
        let in_a = mails(&members_a).contains(e);
        let in_b = mails(&members_b).contains(e);
        check(
            "an email accepted into two orgs at once joins exactly one",
            e.clone(),
            wins == 1 && in_a != in_b,
            format!("{wins} accepts succeeded; in A {in_a}, in B {in_b}"),
        );
    }

    // Each invitation raced on is used at most once, and an accepted one has one member.
    let raced: Vec<&String> = same_inv
        .iter()
        .chain(&diff_inv)
        .chain(&decline_race)
        .chain(&revoke_race)
        .collect();
    let mut accepted_total = 0;
    for e in &raced {
        let wins: Vec<&Done> = done
            .iter()
            .filter(|d| {
                &&d.op.target == e && matches!(d.op.kind, "accept" | "decline" | "revoke") && d.ok()
            })
            .collect();
        let accepted = wins.iter().filter(|d| d.op.kind == "accept").count();
        accepted_total += accepted;
        let id = &invitation_ids[&(a, (*e).clone())];
        let inv = t.invitation(&root_token, a, id).await;
        let want_status = match wins.first().map(|d| d.op.kind) {
            Some("accept") => "accepted",
            Some("decline") => "declined",
            Some("revoke") => "revoked",
            _ => "pending",
        };
        let listed = members_a
            .iter()
            .filter(|m| m["email"] == e.as_str())
            .count();
        check(
            "an invitation is used at most once; its stored status says how; accepted = one member",
            format!("{e} ({want_status})"),
            wins.len() <= 1 && inv.body["status"] == want_status && listed == accepted,
            format!(
                "{} successes {:?}; stored {}; listed {listed} times",
                wins.len(),
                wins.iter().map(|d| d.op.kind).collect::<Vec<_>>(),
                inv.body["status"]
            ),
        );
    }
    // Same-invitation races: some accept won each one that no resend superseded.
    for e in same_inv.iter().skip(5) {
        let won = done
            .iter()
            .any(|d| d.op.kind == "accept" && &d.op.target == e && d.ok());
        check(
            "one of six racing accepts of an invitation won",
            e.clone(),
            won,
            String::new(),
        );
    }

    // Roles and removals ended where the successful requests put them.
    for u in &role_targets {
        let oks = done
            .iter()
            .filter(|d| d.op.kind == "change_role" && d.op.target == u.id.to_string() && d.ok())
            .count();
        let m = t.member(&root_token, a, u.id).await;
        check(
            "a contested role change took effect",
            u.id.to_string(),
            oks >= 1 && m.body["role"] == "admin",
            format!("{oks} successes, role {}", m.body["role"]),
        );
    }
    for members in bulk_role_groups.iter() {
        for u in members {
            let m = t.member(&root_token, a, u.id).await;
            check(
                "a contested bulk role change took effect",
                u.id.to_string(),
                m.body["role"] == "admin",
                format!("{}", m.body),
            );
        }
    }
    let removed: Vec<&User> = remove_targets
        .iter()
        .chain(bulk_remove_groups.iter().flatten())
        .chain(&leavers)
        .collect();
    for u in &removed {
        let got = t.user(&root_token, u.id).await;
        check(
            "a removed member is out of the org, account kept",
            u.id.to_string(),
            got.status == 200
                && got.body["org_id"].is_null()
                && !ids(&members_a).contains(&u.id.to_string()),
            format!("{} {}", got.status, got.body),
        );
    }

    // The audit log: what was written during the run is exactly what succeeded.
    let (audit_after_a, entries_a) = audit_counts(&t, a, &root_token).await;
    let (audit_after_b, _) = audit_counts(&t, b, &root_token).await;
    let delta = |after: &BTreeMap<String, usize>, before: &BTreeMap<String, usize>| {
        let mut d = BTreeMap::new();
        for (k, v) in after {
            let n = v - before.get(k).copied().unwrap_or(0);
            if n > 0 {
                d.insert(k.clone(), n);
            }
        }
        d
    };
    let results_in = |org: OrgId, status: &str| -> usize {
        done.iter()
            .filter(|d| d.op.kind == "invite" && d.ok() && d.op.path.contains(&org.to_string()))
            .map(|d| {
                d.body["results"]
                    .as_array()
                    .map(|r| r.iter().filter(|x| x["status"] == status).count())
                    .unwrap_or(0)
            })
            .sum()
    };
    let oks = |kind: &str, filter: &dyn Fn(&Done) -> bool| {
        done.iter()
            .filter(|d| d.op.kind == kind && d.ok() && filter(d))
            .count()
    };
    let in_a = |d: &Done| {
        !cross.contains(&d.op.target)
            || d.op.body.as_ref().is_some_and(|b| {
                links
                    .get(&(a, d.op.target.clone()))
                    .is_some_and(|l| b["token"] == l.as_str())
            })
    };
    let changed_users: HashSet<&String> = done
        .iter()
        .filter(|d| d.op.kind == "change_role" && d.ok())
        .map(|d| &d.op.target)
        .collect();
    let mut expected_a = BTreeMap::new();
    let put = |map: &mut BTreeMap<String, usize>, k: &str, n: usize| {
        if n > 0 {
            map.insert(k.to_string(), n);
        }
    };
    put(&mut expected_a, "invitation.sent", results_in(a, "invited"));
    put(
        &mut expected_a,
        "invitation.resent",
        results_in(a, "resent"),
    );
    put(&mut expected_a, "invitation.accepted", oks("accept", &in_a));
    // Every join is also its own entry.
    put(&mut expected_a, "member.joined", oks("accept", &in_a));
    put(&mut expected_a, "member.left", oks("leave", &|_| true));
    put(
        &mut expected_a,
        "invitation.declined",
        oks("decline", &|_| true),
    );
    put(
        &mut expected_a,
        "invitation.revoked",
        oks("revoke", &|_| true),
    );
    put(
        &mut expected_a,
        "member.role_changed",
        changed_users.len()
            + oks("bulk_role", &|d| {
                d.body["updated"].as_u64().unwrap_or(0) > 0
            }),
    );
    put(
        &mut expected_a,
        "member.removed",
        oks("remove", &|_| true)
            + oks("bulk_remove", &|d| {
                d.body["updated"].as_u64().unwrap_or(0) > 0
            }),
    );
    put(
        &mut expected_a,
        "org.ownership_transferred",
        oks("transfer", &|_| true),
    );
    let got_a = delta(&audit_after_a, &audit_before_a);
    let got_a_print = format!("{got_a:?}");
    check(
        "audit entries written during the run = successful changes, by kind",
        "A".into(),
        got_a == expected_a,
        format!("audit {got_a:?}\nexpected {expected_a:?}"),
    );
    let mut expected_b = BTreeMap::new();
    put(&mut expected_b, "invitation.sent", results_in(b, "invited"));
    put(
        &mut expected_b,
        "invitation.resent",
        results_in(b, "resent"),
    );
    put(
        &mut expected_b,
        "invitation.accepted",
        oks("accept", &|d| !in_a(d)),
    );
    put(
        &mut expected_b,
        "member.joined",
        oks("accept", &|d| !in_a(d)),
    );
    let got_b = delta(&audit_after_b, &audit_before_b);
    let got_b_print = format!("{got_b:?}");
    check(
        "audit entries written during the run = successful changes, by kind",
        "B".into(),
        got_b == expected_b,
        format!("audit {got_b:?}\nexpected {expected_b:?}"),
    );
    // A role change is audited once per member, however many requests asked for it.
    for u in &role_targets {
        let id = u.id.to_string();
        let entries = entries_a
            .iter()
            .filter(|e| e["action"] == "member.role_changed" && e["target"] == id.as_str())
            .count();
        check(
            "one role_changed entry per changed member, however many asked",
            id.clone(),
            entries == usize::from(changed_users.contains(&id)),
            format!("{entries} entries"),
        );
    }
    check(
        "some accepts succeeded and some lost their race",
        "accepts".into(),
        accepted_total > 0 && by_kind["accept"].keys().any(|k| k.starts_with("4")),
        format!("{:?}", by_kind["accept"]),
    );

    let subjects: usize = checked.values().sum();
    println!(
        "load: {} invariants, checked on {subjects} subjects, {} broken:",
        checked.len(),
        broken.len()
    );
    for (invariant, n) in &checked {
        println!("load:   {invariant} (x{n})");
    }
    println!("load: audit entries written during the run, A: {got_a_print}; B: {got_b_print}");
    assert!(
        broken.is_empty(),
        "broken invariants:\n{}",
        broken.join("\n")
    );
    assert!(
        run_time < Duration::from_secs(90),
        "the run took {run_time:?}: keep it well under two minutes"
    );
}
