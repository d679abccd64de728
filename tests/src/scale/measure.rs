//! The run itself: set up, seed, then measure each thing the issue names.

use super::app::{Function, ItemsRead, Measured, call, counted_app};
use super::seed::{self, SeedInvitation};
use super::{Report, Sizes};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Select};
use roster::App;
use roster::auth::secret;
use roster::clock::Now;
use roster::domain::{Email, InvitationId, InvitationToken, OrgId, User, UserId};
use roster::services::cleanup;
use roster::storage::{cursor, keys};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Res<T> = Result<T, String>;

/// What the cleanup function keeps in hand before Lambda's deadline (functions/cleanup).
const CLEANUP_MARGIN: Duration = Duration::from_secs(5);

fn err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

struct Run {
    app: Arc<App>,
    reads: ItemsRead,
    seeder: aws_sdk_dynamodb::Client,
    table: String,
    org: OrgId,
    code: String,
    owner: User,
    token: String,
    /// Every member the org's list shows (the owner too), in the list's order.
    members: Vec<UserId>,
    /// Invitations in creation (list) order, and whether each was seeded past due.
    invitations: Vec<(InvitationId, bool)>,
    nonce: String,
    /// Audit sort keys, newest first (the log's order).
    audit: Vec<String>,
    report: Report,
}

/// Refuses anything but an emulator on this machine: the run writes hundreds of thousands
/// of items and must never reach AWS.
fn loopback_endpoint() -> Res<String> {
    let url = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| "AWS_ENDPOINT_URL is not set: scripts/scale starts an emulator".to_string())?;
    if !is_loopback(&url) {
        return Err(format!(
            "AWS_ENDPOINT_URL={url} is not a loopback http:// emulator"
        ));
    }
    Ok(url)
}

fn is_loopback(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")),
        None => authority.split(':').next().map(str::to_string),
    };
    matches!(host.as_deref(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

pub async fn run(sizes: &Sizes) -> Res<Report> {
    sizes.check()?;
    let endpoint = loopback_endpoint()?;
    let table = format!("roster-scale-{}", uuid::Uuid::new_v4().simple());
    let signer = roster::auth::SigningSecret::generate("roster-1")
        .and_then(|s| s.signer())
        .map_err(err("signing key"))?;
    let config = roster::config::Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(table.clone()),
        "JWT_PUBLIC_KEYS" => Some(signer.public().to_string()),
        _ => None,
    })
    .map_err(err("config"))?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let keys = roster::auth::TokenKeys::signing(&config, signer).map_err(err("keys"))?;
    let reads = ItemsRead::default();
    let app = counted_app(config, keys, &aws, &reads)?;
    app.store
        .create_table_if_missing()
        .await
        .map_err(err("create table"))?;
    let seeder = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .timeout_config(
                aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(120))
                    .build(),
            )
            .build(),
    );
    let mut report = Report::default();
    report.markdown.push_str(&format!(
        "Sizes: {} members, {} invitations (every third past due), {} audit entries; cleanup \
         runs of {:.1} s; pages read {} time(s), median shown. Emulator {endpoint}, table {table}.\n",
        sizes.members,
        sizes.invitations,
        sizes.audit,
        sizes.cleanup_budget.as_secs_f64(),
        sizes.repeats,
    ));
    let owner = new_account(&app, "owner").await?;
    let token = token_for(&app, &owner)?;
    let code = format!("S{}", &uuid::Uuid::new_v4().simple().to_string()[..10]).to_uppercase();
    let created = call(
        &app,
        &reads,
        Function::Orgs,
        "POST",
        "/orgs",
        Some(&token),
        Some(json!({"name": "Scale", "code": code})),
    )
    .await?;
    if created.status != 201 {
        return Err(format!("create org: {} {}", created.status, created.body));
    }
    let org = created.body["id"]
        .as_str()
        .and_then(|id| OrgId::parse(id).ok())
        .ok_or("create org: no id")?;
    let mut run = Run {
        app,
        reads,
        seeder,
        table,
        org,
        code,
        owner,
        token,
        members: Vec::new(),
        invitations: Vec::new(),
        nonce: secret::random_token(),
        audit: Vec::new(),
        report,
    };
    progress("seeding");
    run.seed(sizes).await?;
    progress("pages");
    run.pages(sizes).await?;
    progress("bulk changes");
    run.bulk().await?;
    progress("member count against the list");
    run.counts().await?;
    progress("cleanup of the due invitations");
    run.cleanup_due(sizes).await?;
    progress("deleting the organization");
    run.delete(sizes).await?;
    progress("done");
    Ok(run.report)
}

async fn new_account(app: &App, prefix: &str) -> Res<User> {
    let now = Now::get().rfc3339();
    let id = UserId::new();
    let user = User {
        id,
        email: Email::parse(&format!(
            "{prefix}-{}@scale.example",
            id.to_string().get(..8).unwrap_or("x")
        ))
        .map_err(err("email"))?,
        name: "Scale Owner".into(),
        org_id: None,
        role: None,
        platform_admin: false,
        created_at: now.clone().into(),
        updated_at: now.clone().into(),
        joined_at: None,
        password_hash: "seeded".into(),
        token_version: 0,
    };
    app.store
        .create_user(&user, None)
        .await
        .map_err(err("create account"))?;
    Ok(user)
}

fn token_for(app: &App, user: &User) -> Res<String> {
    app.keys
        .issue(
            &user.id.to_string(),
            user.token_version,
            Now::get().epoch(),
            12 * 3600,
        )
        .map_err(err("access token"))
}

/// A progress line on stderr (the tables go to stdout at the end).
fn progress(what: impl std::fmt::Display) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(Instant::now);
    eprintln!("scale: [{:>7.1} s] {what}", start.elapsed().as_secs_f64());
}

fn ms(v: f64) -> String {
    format!("{v:.1}")
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "—".into()
    }
}

impl Run {
    async fn call(
        &self,
        f: Function,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> Res<Measured> {
        call(
            &self.app,
            &self.reads,
            f,
            method,
            uri,
            Some(&self.token),
            body,
        )
        .await
    }

    async fn seed(&mut self, sizes: &Sizes) -> Res<()> {
        let now = Now::get();
        let at = now.rfc3339();
        let mut rows = Vec::new();
        let started = Instant::now();

        // Members (user item + email claim each), then the org's count of them.
        let t = Instant::now();
        let mut items = Vec::with_capacity(sizes.members * 2);
        let mut members = vec![self.owner.id];
        for i in 0..sizes.members {
            let id = UserId::new();
            let email = Email::parse(&format!("m{i}-{}@scale.example", &self.code))
                .map_err(err("email"))?;
            items.extend(seed::member(&self.org, &id, &email, &at));
            members.push(id);
        }
        let count = items.len();
        let requests = seed::batch_write(&self.seeder, &self.table, items).await?;
        self.seeder
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(keys::org_pk(&self.org)))
            .key(keys::SK, AttributeValue::S(keys::PROFILE.into()))
            .update_expression("ADD member_count :n")
            .expression_attribute_values(":n", AttributeValue::N(sizes.members.to_string()))
            .send()
            .await
            .map_err(err("member count"))?;
        rows.push(seed_row(
            "members (user item, email claim)",
            count,
            requests,
            t,
        ));
        progress(format!("{count} member items written"));
        // The list's order: gsi1sk `USER#<id>`.
        members.sort_by_key(keys::member_sk);
        self.members = members;

        // Invitations (item + pending claim each): every third past due, the rest a week out.
        let t = Instant::now();
        let retention = i64::try_from(self.app.config.invitation_retention.as_secs()).unwrap_or(0);
        let nonce_hash = secret::digest(&self.nonce);
        let created = now.after_secs(-86_400).rfc3339();
        let mut items = Vec::with_capacity(sizes.invitations * 2);
        let mut invitations = Vec::with_capacity(sizes.invitations);
        for i in 0..sizes.invitations {
            let id = InvitationId::new();
            let due = i % 3 == 0;
            let expires = if due {
                now.after_secs(-3_600 - (i as i64 % 3_600))
            } else {
                now.after_secs(7 * 86_400)
            };
            let email = Email::parse(&format!("i{i}-{}@scale.example", &self.code))
                .map_err(err("email"))?;
            items.extend(seed::invitation(
                &SeedInvitation {
                    org: &self.org,
                    id: &id,
                    email: &email,
                    inviter: &self.owner.id,
                    created_at: &created,
                    expires_at: &expires.rfc3339(),
                    expires_epoch: expires.epoch(),
                    nonce_hash: &nonce_hash,
                },
                retention,
            ));
            invitations.push((id, due));
        }
        let count = items.len();
        let requests = seed::batch_write(&self.seeder, &self.table, items).await?;
        rows.push(seed_row(
            "invitations (item, pending claim)",
            count,
            requests,
            t,
        ));
        progress(format!("{count} invitation items written"));
        invitations.sort_by_key(|(id, _)| keys::invitation_sk(id));
        self.invitations = invitations;

        // The audit log: one entry a second back from now.
        let t = Instant::now();
        let mut items = Vec::with_capacity(sizes.audit);
        let mut sks = Vec::with_capacity(sizes.audit);
        for i in 0..sizes.audit {
            let when = now.after_secs(-(sizes.audit as i64) + i as i64);
            let target = self.members[i % self.members.len()];
            let (sk, item) = seed::audit(
                &self.org,
                &self.owner.id,
                &target,
                &when.rfc3339(),
                when.epoch(),
            );
            sks.push(sk);
            items.push(item);
        }
        let count = items.len();
        let requests = seed::batch_write(&self.seeder, &self.table, items).await?;
        rows.push(seed_row("audit entries", count, requests, t));
        sks.sort();
        sks.reverse();
        self.audit = sks;
        let total: usize = 2 * sizes.members + 2 * sizes.invitations + sizes.audit;
        rows.push(vec![
            "**all**".into(),
            total.to_string(),
            "".into(),
            format!("{:.1}", started.elapsed().as_secs_f64()),
            format!("{:.0}", total as f64 / started.elapsed().as_secs_f64()),
        ]);
        self.report.table(
            "Seeding (BatchWriteItem, 25 items a request)",
            &["what", "items", "requests", "s", "items/s"],
            &rows,
        );

        // The seeded shapes, read back through the store.
        let member = self
            .app
            .store
            .get_user(&self.members[1])
            .await
            .map_err(err("read member"))?;
        let inv = &self.invitations[1].0;
        let invitation = self
            .app
            .store
            .get_invitation(&self.org, inv, now.epoch())
            .await
            .map_err(err("read invitation"))?;
        let audit = self
            .app
            .store
            .list_audit(&self.org, 1, None)
            .await
            .map_err(err("read audit"))?;
        self.report.check(
            member.is_some_and(|m| m.org_id == Some(self.org))
                && invitation.is_some()
                && audit.items.len() == 1,
            "the seeded member, invitation and audit entry read back through the store",
        );
        Ok(())
    }

    /// First, middle and deep pages of each list: each page's cost must not grow with depth.
    async fn pages(&mut self, sizes: &Sizes) -> Res<()> {
        let org = self.org;
        let member_key = |id: &UserId| -> HashMap<String, AttributeValue> {
            key(&[
                (keys::PK, keys::user_pk(id)),
                (keys::SK, keys::PROFILE.into()),
                (keys::GSI1PK, keys::org_members_pk(&org)),
                (keys::GSI1SK, keys::member_sk(id)),
            ])
        };
        let inv_key = |id: &InvitationId| {
            key(&[
                (keys::PK, keys::org_pk(&org)),
                (keys::SK, keys::invitation_sk(id)),
            ])
        };
        let audit_key =
            |sk: &String| key(&[(keys::PK, keys::audit_pk(&org)), (keys::SK, sk.clone())]);
        // Deep enough that a full page of pending invitations (two in three) remains after it.
        let at =
            |len: usize, frac: f64| ((len as f64 * frac) as usize).min(len.saturating_sub(120));
        let m = self.members.len();
        let i = self.invitations.len();
        let a = self.audit.len();
        let enc = |k: HashMap<String, AttributeValue>| cursor::encode(&k).unwrap_or_default();
        // The middle and the deep page of a list of `len`: (label, cursor) each.
        let deeper = |len: usize, what: &str, cursor_at: &dyn Fn(usize) -> String| {
            [("middle", 0.5), ("deep", 1.0)]
                .map(|(name, frac)| {
                    let k = at(len, frac);
                    (format!("{name} ({what} {})", k + 1), cursor_at(k))
                })
                .to_vec()
        };
        let members = |k: usize| format!("m.{}", enc(member_key(&self.members[k])));
        let invitations = |k: usize| enc(inv_key(&self.invitations[k].0));
        let audit = |k: usize| enc(audit_key(&self.audit[k]));
        let lists: Vec<List> = vec![
            (
                "members",
                Function::Members,
                format!("/orgs/{org}/members?limit=50"),
                deeper(m, "after", &members),
            ),
            (
                "members with pending",
                Function::Members,
                format!("/orgs/{org}/members?limit=50&include_pending=true"),
                deeper(i, "invitation", &|k| format!("i.{}", invitations(k))),
            ),
            (
                "invitations",
                Function::Invite,
                format!("/orgs/{org}/invitations?limit=50"),
                deeper(i, "after", &invitations),
            ),
            (
                "pending invitations",
                Function::Invite,
                format!("/orgs/{org}/invitations?limit=50&status=pending"),
                deeper(i, "after", &invitations),
            ),
            (
                "audit",
                Function::Audit,
                format!("/orgs/{org}/audit?limit=50"),
                deeper(a, "after", &audit),
            ),
        ];
        let mut rows = Vec::new();
        for (list, f, uri, deeper) in lists {
            let first = self.page(f, &uri, sizes.repeats).await?;
            rows.push(page_row(list, "first", &first, &first));
            let mut worst: f64 = 1.0;
            for (label, c) in deeper {
                let page = self
                    .page(f, &format!("{uri}&cursor={c}"), sizes.repeats)
                    .await?;
                rows.push(page_row(list, &label, &page, &first));
                self.report.check(
                    page.status == 200 && page.shown == 50,
                    format!(
                        "{list}, {label}: 200 with a full page ({} shown)",
                        page.shown
                    ),
                );
                worst = worst.max(page.items_read as f64 / first.items_read.max(1) as f64);
                self.report.check(
                    page.requests <= first.requests.max(1) + 1,
                    format!(
                        "{list}, {label}: {} DynamoDB requests (first page: {})",
                        page.requests, first.requests
                    ),
                );
            }
            // Items read per page: a deep page reads what the first does (within a filter's
            // spread: a third of the invitations are past due and filtered out).
            self.report.check(
                worst <= 1.6,
                format!("{list}: items read by a deep page ÷ the first page's = {worst:.2} (at most 1.6)"),
            );
        }
        self.report.table(
            "Pages of 50 (through the handlers; times are the emulator's)",
            &[
                "list",
                "page",
                "status",
                "DynamoDB requests",
                "round trips",
                "items read",
                "items shown",
                "ms",
                "items read ÷ first",
                "ms ÷ first",
            ],
            &rows,
        );
        Ok(())
    }

    /// One page read `repeats` times: the last answer, the median time.
    async fn page(&self, f: Function, uri: &str, repeats: usize) -> Res<Page> {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..repeats {
            let r = self.call(f, "GET", uri, None).await?;
            times.push(r.ms);
            last = Some(r);
        }
        let r = last.ok_or("no page read")?;
        if r.status != 200 {
            return Err(format!("GET {uri}: {} {}", r.status, r.body));
        }
        times.sort_by(f64::total_cmp);
        Ok(Page {
            status: r.status,
            requests: r.requests,
            round_trips: r.round_trips,
            items_read: r.items_read,
            shown: r.body["items"].as_array().map_or(0, Vec::len),
            ms: times[times.len() / 2],
        })
    }

    /// A bulk role change and a bulk removal of 100 members each.
    async fn bulk(&mut self) -> Res<()> {
        let org = self.org;
        // Members other than the owner, 100 for each operation.
        let others: Vec<String> = self
            .members
            .iter()
            .filter(|id| **id != self.owner.id)
            .map(ToString::to_string)
            .collect();
        let role = self
            .call(
                Function::ChangeRole,
                "POST",
                &format!("/orgs/{org}/members/bulk-role"),
                Some(json!({"user_ids": &others[..100], "role": "admin"})),
            )
            .await?;
        let removed_ids: Vec<String> = others[100..200].to_vec();
        let remove = self
            .call(
                Function::Remove,
                "POST",
                &format!("/orgs/{org}/members/bulk-remove"),
                Some(json!({"user_ids": removed_ids})),
            )
            .await?;
        let rows: Vec<Vec<String>> = [
            ("bulk role change of 100", &role),
            ("bulk removal of 100", &remove),
        ]
        .iter()
        .map(|(op, r)| {
            vec![
                op.to_string(),
                r.status.to_string(),
                r.requests.to_string(),
                r.round_trips.to_string(),
                r.items_read.to_string(),
                ms(r.ms),
            ]
        })
        .collect();
        self.report.table(
            "Bulk changes inside the organization",
            &[
                "operation",
                "status",
                "DynamoDB requests",
                "round trips",
                "items read",
                "ms",
            ],
            &rows,
        );
        self.report.check(
            role.status == 200,
            format!("bulk role change of 100: {}", role.status),
        );
        self.report.check(
            remove.status == 200,
            format!("bulk removal of 100: {}", remove.status),
        );
        self.members
            .retain(|id| !removed_ids.contains(&id.to_string()));
        Ok(())
    }

    /// The org's member count against every page of its member list, and the list against
    /// the members seeded (less those removed).
    async fn counts(&mut self) -> Res<()> {
        let org = self.org;
        let t = Instant::now();
        let shown = self
            .call(Function::Orgs, "GET", &format!("/orgs/{org}"), None)
            .await?;
        let count = shown.body["member_count"].as_u64().unwrap_or(u64::MAX);
        let (mut listed, mut pages, mut requests, mut read) = (0u64, 0u64, 0u64, 0u64);
        let mut admins = 0u64;
        let base = format!("/orgs/{org}/members?limit=100");
        let mut uri = base.clone();
        loop {
            let r = self.call(Function::Members, "GET", &uri, None).await?;
            if r.status != 200 {
                return Err(format!("GET {uri}: {} {}", r.status, r.body));
            }
            pages += 1;
            requests += r.requests;
            read += r.items_read;
            let items = r.body["items"].as_array().cloned().unwrap_or_default();
            listed += items.len() as u64;
            admins += items.iter().filter(|m| m["role"] == "admin").count() as u64;
            match r.body["next_cursor"].as_str() {
                Some(c) => uri = format!("{base}&cursor={c}"),
                None => break,
            }
        }
        self.report.table(
            "Member count against the list (after the bulk changes)",
            &[
                "member_count (GET /orgs/{id})",
                "members listed",
                "admins listed",
                "pages of 100",
                "DynamoDB requests",
                "items read",
                "s",
            ],
            &[vec![
                count.to_string(),
                listed.to_string(),
                admins.to_string(),
                pages.to_string(),
                requests.to_string(),
                read.to_string(),
                format!("{:.1}", t.elapsed().as_secs_f64()),
            ]],
        );
        self.report.check(
            count == listed && listed == self.members.len() as u64,
            format!(
                "member_count {count} = members listed {listed} = seeded + owner − removed {}",
                self.members.len()
            ),
        );
        self.report.check(
            admins == 100,
            format!("the list shows the 100 promoted as admins ({admins})"),
        );
        Ok(())
    }

    /// Cleanup runs, each with its deadline, until one ends with nothing left to do.
    async fn cleanup_runs(&mut self, sizes: &Sizes, title: &str) -> Res<(u64, u64)> {
        let mut rows = Vec::new();
        let (mut expired, mut finished) = (0u64, 0u64);
        let started = Instant::now();
        let mut late = Vec::new();
        let mut worst_overrun = Duration::ZERO;
        for n in 1..=10_000 {
            self.app.calls.take();
            let t = Instant::now();
            let deadline = tokio::time::Instant::now() + sizes.cleanup_budget;
            let r = cleanup::run(&self.app, deadline)
                .await
                .map_err(err("cleanup"))?;
            let took = t.elapsed();
            let calls = self.app.calls.take();
            expired += r.invitations_expired;
            progress(format!(
                "cleanup run {n}: {} expired, {:.1} s",
                r.invitations_expired,
                took.as_secs_f64()
            ));
            finished += r.orgs_finished;
            let over = took.saturating_sub(sizes.cleanup_budget);
            worst_overrun = worst_overrun.max(over);
            if !over.is_zero() {
                late.push(format!("run {n} by {:.0} ms", over.as_secs_f64() * 1000.0));
            }
            rows.push(vec![
                n.to_string(),
                r.invitations_expired.to_string(),
                r.orgs_finished.to_string(),
                format!("{:.2}", took.as_secs_f64()),
                if r.stopped_early { "yes" } else { "no (done)" }.into(),
                calls.total("dynamodb").to_string(),
                format!("{:.0}", r.invitations_expired as f64 / took.as_secs_f64()),
            ]);
            if !r.stopped_early {
                break;
            }
        }
        let runs = rows.len();
        let secs = started.elapsed().as_secs_f64();
        if rows.len() > 12 {
            // The first five and the last five runs; the middle ones are alike.
            let tail = rows.split_off(rows.len() - 5);
            rows.truncate(5);
            rows.push(vec!["…".into(); 7]);
            rows.extend(tail);
        }
        rows.push(vec![
            format!("**{runs} runs**"),
            expired.to_string(),
            finished.to_string(),
            format!("{secs:.1}"),
            "".into(),
            "".into(),
            format!("{:.0}", expired as f64 / secs),
        ]);
        self.report.table(
            &format!(
                "{title} (deadline {:.1} s a run)",
                sizes.cleanup_budget.as_secs_f64()
            ),
            &[
                "run",
                "invitations expired",
                "orgs finished",
                "s",
                "stopped early",
                "DynamoDB requests",
                "invitations/s",
            ],
            &rows,
        );
        // A run stops between pages of 100 and never starts one past its deadline; a page
        // already in flight finishes, which the function's margin (5 s before Lambda's
        // deadline) is for.
        self.report.check(
            worst_overrun < CLEANUP_MARGIN,
            format!(
                "every run stopped by its deadline, or within the page in flight and inside the \
                 cleanup function's 5 s margin ({})",
                if late.is_empty() {
                    "none went past it".to_string()
                } else {
                    format!("past it: {}", late.join(", "))
                }
            ),
        );
        Ok((expired, finished))
    }

    async fn cleanup_due(&mut self, sizes: &Sizes) -> Res<()> {
        let due = self.invitations.iter().filter(|(_, d)| *d).count() as u64;
        let (expired, _) = self
            .cleanup_runs(sizes, "Cleanup through the due invitations")
            .await?;
        self.report.check(
            expired == due,
            format!("cleanup expired every due invitation ({expired} of {due})"),
        );
        Ok(())
    }

    /// The deletion: the request, then cleanup runs until the last member is detached.
    async fn delete(&mut self, sizes: &Sizes) -> Res<()> {
        let org = self.org;
        // A few links to invitations still pending, spread over the list: live before.
        let live: Vec<String> = self
            .invitations
            .iter()
            .filter(|(_, due)| !*due)
            .step_by((self.invitations.len() / 8).max(1))
            .map(|(id, _)| {
                InvitationToken {
                    org_id: org,
                    invitation_id: *id,
                    nonce: self.nonce.clone(),
                }
                .encode()
            })
            .collect();
        let before = self.previews(&live).await?;
        self.report.check(
            before.iter().all(|s| *s == 200),
            format!(
                "{} pending invitations' links preview (200) before the deletion: {before:?}",
                live.len()
            ),
        );
        let deleted = self
            .call(
                Function::Orgs,
                "DELETE",
                &format!("/orgs/{org}?confirm={}", self.code),
                None,
            )
            .await?;
        self.report.table(
            "Deleting the organization",
            &["step", "status", "DynamoDB requests", "round trips", "s"],
            &[vec![
                "DELETE /orgs/{id} (detaches for up to 8 s inline)".into(),
                deleted.status.to_string(),
                deleted.requests.to_string(),
                deleted.round_trips.to_string(),
                format!("{:.1}", deleted.ms / 1000.0),
            ]],
        );
        self.report.check(
            deleted.status == 204,
            format!("DELETE /orgs/{{id}}: {}", deleted.status),
        );
        let (_, finished) = self
            .cleanup_runs(sizes, "Cleanup finishing the deletion")
            .await?;
        let tombstone = self
            .seeder
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(keys::org_pk(&org)))
            .key(keys::SK, AttributeValue::S(keys::PROFILE.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(err("read tombstone"))?
            .item
            .is_some();
        self.report.check(
            !tombstone,
            format!(
                "the deletion finished ({}; the tombstone is gone)",
                if finished == 1 {
                    "by cleanup"
                } else {
                    "inside the request"
                }
            ),
        );

        let attached = self.still_attached().await?;
        let indexed = self.members_indexed().await?;
        self.report.check(
            attached == 0 && indexed == 0,
            format!("every member detached: {attached} of {} still name the org, {indexed} left on its member index", self.members.len()),
        );
        let after = self.previews(&live).await?;
        let list = self
            .call(
                Function::Invite,
                "GET",
                &format!("/orgs/{org}/invitations"),
                None,
            )
            .await?;
        self.report.check(
            after.iter().all(|s| *s != 200) && list.status == 404,
            format!("every pending invitation dead: the same links answer {after:?}, the org's invitation list {}", list.status),
        );
        let newcomer = new_account(&self.app, "reuse").await?;
        let token = token_for(&self.app, &newcomer)?;
        let again = call(
            &self.app,
            &self.reads,
            Function::Orgs,
            "POST",
            "/orgs",
            Some(&token),
            Some(json!({"name": "Scale again", "code": self.code})),
        )
        .await?;
        self.report.check(
            again.status == 201,
            format!(
                "the code {} is free again: POST /orgs {}",
                self.code, again.status
            ),
        );
        Ok(())
    }

    /// What previewing each invitation link answers.
    async fn previews(&self, links: &[String]) -> Res<Vec<u16>> {
        let mut out = Vec::new();
        for t in links {
            let uri = format!("/invitations/preview?token={t}");
            let r = call(
                &self.app,
                &self.reads,
                Function::Accept,
                "GET",
                &uri,
                None,
                None,
            )
            .await?;
            out.push(r.status);
        }
        Ok(out)
    }

    /// Seeded members (and the owner) whose user item still names the organization.
    async fn still_attached(&self) -> Res<usize> {
        let mut attached = 0;
        for chunk in self.members.chunks(100) {
            let mut wanted: Vec<HashMap<String, AttributeValue>> = chunk
                .iter()
                .map(|id| {
                    key(&[
                        (keys::PK, keys::user_pk(id)),
                        (keys::SK, keys::PROFILE.into()),
                    ])
                })
                .collect();
            while !wanted.is_empty() {
                let ka = KeysAndAttributes::builder()
                    .set_keys(Some(wanted))
                    .projection_expression("org_id")
                    .build()
                    .map_err(err("keys"))?;
                let out = self
                    .seeder
                    .batch_get_item()
                    .request_items(&self.table, ka)
                    .send()
                    .await
                    .map_err(err("BatchGetItem"))?;
                attached += out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                    .iter()
                    .filter(|i| {
                        i.get("org_id").and_then(|v| v.as_s().ok()) == Some(&self.org.to_string())
                    })
                    .count();
                wanted = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
        }
        Ok(attached)
    }

    /// Items left under the org's member index partition.
    async fn members_indexed(&self) -> Res<i32> {
        let out = self
            .seeder
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(keys::org_members_pk(&self.org)))
            .select(Select::Count)
            .send()
            .await
            .map_err(err("count members"))?;
        Ok(out.count)
    }
}

/// A list: its name, function, first page's URI, and (label, cursor) of deeper pages.
type List = (&'static str, Function, String, Vec<(String, String)>);

struct Page {
    status: u16,
    requests: u64,
    round_trips: u64,
    items_read: u64,
    shown: usize,
    ms: f64,
}

fn page_row(list: &str, label: &str, p: &Page, first: &Page) -> Vec<String> {
    vec![
        list.into(),
        label.into(),
        p.status.to_string(),
        p.requests.to_string(),
        p.round_trips.to_string(),
        p.items_read.to_string(),
        p.shown.to_string(),
        ms(p.ms),
        ratio(p.items_read as f64, first.items_read as f64),
        ratio(p.ms, first.ms),
    ]
}

fn seed_row(what: &str, items: usize, requests: u64, t: Instant) -> Vec<String> {
    let secs = t.elapsed().as_secs_f64();
    vec![
        what.into(),
        items.to_string(),
        requests.to_string(),
        format!("{secs:.1}"),
        format!("{:.0}", items as f64 / secs),
    ]
}

fn key(pairs: &[(&str, String)]) -> HashMap<String, AttributeValue> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), AttributeValue::S(v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn only_a_loopback_http_emulator_is_accepted() {
        for ok in [
            "http://127.0.0.1:4566",
            "http://localhost:8000/",
            "http://[::1]:4566",
        ] {
            assert!(is_loopback(ok), "{ok}");
        }
        for refused in [
            "https://dynamodb.us-east-1.amazonaws.com",
            "http://dynamodb.us-east-1.amazonaws.com",
            "http://127.0.0.1.example.com:80",
            "http://10.0.0.5:4566",
            "https://127.0.0.1:4566",
            "",
        ] {
            assert!(!is_loopback(refused), "{refused}");
        }
    }
}
