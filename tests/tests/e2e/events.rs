//! Events: changes made through the API reach an SQS queue that an EventBridge rule targets,
//! through the table's stream and the events function, fed as the event source mapping
//! feeds it (the template's filter applied to the stream's records, failed records and
//! everything after them retried). Every audit entry arrives as one event (after
//! de-duplication by its id) with its fields, matching its published schema, with no secret;
//! an entry that PutEvents fails is retried and still arrives.
//!
//! The failure is the emulator's own: a proxy in front of its EventBridge blanks one entry's
//! Detail in the first PutEvents, which EventBridge (and moto) answer with FailedEntryCount 1
//! and an error code for that entry.

use crate::common::{
    Joining, PASSWORD, TestApp, confirmation_token, expire_now, unique_code, unique_email,
};
use roster::domain::{OrgId, OrgRole};
use roster::events::Publisher;
use roster::events::detail::{DETAIL_TYPES, detail_type, schema_file};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};

/// The entry of the first PutEvents that the proxy makes fail (the fifth: mid-batch, so
/// entries before it are published and entries after it are published again).
const FAILED_ENTRY: usize = 4;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test]
async fn every_audited_change_arrives_once_with_its_fields_even_when_an_entry_fails() {
    let (t, table) = app_with_stream().await;

    // Changes, through the API.
    let (org, owner) = t.org_with_owner().await;
    let r = t
        .update_org(&owner, org, json!({"name": "Acme Events"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let admin = t.member_of(org, OrgRole::Admin).await;
    let joiner = unique_email("joiner");
    let revoked = unique_email("revoked");
    let more: Vec<String> = (0..3).map(|i| unique_email(&format!("more{i}"))).collect();
    let mut emails = vec![joiner.clone(), revoked.clone()];
    emails.extend(more.iter().cloned());
    let r = t.invite(&owner, org, &emails, "member").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let pending = t.invitations(&owner, org, "?status=pending").await;
    let id_of = |email: &str| {
        pending.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["email"] == email)
            .and_then(|i| i["id"].as_str())
            .expect("invitation id")
            .to_string()
    };
    let (joiner_inv, revoked_inv) = (id_of(&joiner), id_of(&revoked));
    assert_eq!(t.resend(&owner, org, &joiner_inv).await.status, 200);
    let r = t.revoke(&owner, org, &revoked_inv).await;
    assert!(r.status < 300, "revoke: {} {}", r.status, r.body);
    let link = t.latest_token(&joiner).await;
    let r = t.accept(&link, Joining::New("Joiner", PASSWORD)).await;
    assert!(r.status < 300, "accept: {} {}", r.status, r.body);
    let r = t.change_role(&owner, org, admin.user.id, "member").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = t.remove(&owner, org, admin.user.id).await;
    assert!(r.status < 300, "remove: {} {}", r.status, r.body);
    // A bulk role change and a bulk removal of two: one audit entry each, one event per
    // member.
    let pair = [
        t.member_of(org, OrgRole::Member).await,
        t.member_of(org, OrgRole::Member).await,
    ];
    let pair_ids = [pair[0].user.id.to_string(), pair[1].user.id.to_string()];
    let r = t
        .bulk_role(&owner, org, json!({"user_ids": pair_ids, "role": "admin"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = t.bulk_remove(&owner, org, json!(pair_ids)).await;
    assert!(r.status < 300, "bulk remove: {} {}", r.status, r.body);

    // What the audit log says happened: the events expected, one each.
    let audit: Vec<Value> = t
        .pages(&format!("/orgs/{org}/audit?limit=50"), &owner.token)
        .await
        .iter()
        .flat_map(|p| p.body["items"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(audit.len() > 10, "more than one PutEvents: {audit:?}");

    // The bus, and a queue its rule delivers every Roster event to.
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let subscriber = Subscriber::create(&aws).await;
    let (sqs, bus, queue_url) = (&subscriber.sqs, &subscriber.bus, &subscriber.queue_url);

    // The stream's records, filtered as the event source mapping's filter does.
    let records = stream_records(&table).await;
    let pattern = template_filter();
    let filtered: Vec<Value> = records
        .iter()
        .filter(|r| matches(&pattern, r))
        .cloned()
        .collect();
    assert!(
        records.len() > filtered.len(),
        "the filter leaves out other items"
    );
    assert_eq!(
        filtered.len(),
        audit.len(),
        "one stream record per audit entry"
    );

    // The function, as Lambda runs it: a failure reported for a record means that record
    // and every later one are delivered again.
    let proxy = FailingEventBridge::start().await;
    let conf = aws_sdk_eventbridge::config::Builder::from(&aws)
        .endpoint_url(&proxy.url)
        .build();
    let publisher = Publisher::new(aws_sdk_eventbridge::Client::from_conf(conf), bus);
    let seq = |r: &Value| -> u128 {
        r["dynamodb"]["SequenceNumber"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("sequence number")
    };
    let mut batch = filtered.clone();
    let mut responses = Vec::new();
    while !batch.is_empty() && responses.len() < 5 {
        let event = serde_json::from_value(json!({"Records": batch})).expect("stream event");
        let response = publisher.handle(event).await.expect("handled");
        let lowest = response
            .batch_item_failures
            .iter()
            .filter_map(|f| f.item_identifier.parse::<u128>().ok())
            .min();
        batch = match lowest {
            Some(lowest) => batch.into_iter().filter(|r| seq(r) >= lowest).collect(),
            None => Vec::new(),
        };
        responses.push(response);
    }
    assert_eq!(responses.len(), 2, "one failure, one retry: {responses:?}");
    let failed: Vec<String> = responses[0]
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    let expected_failed: Vec<String> = filtered[FAILED_ENTRY..]
        .iter()
        .map(|r| seq(r).to_string())
        .collect();
    assert_eq!(
        failed, expected_failed,
        "the failed entry and everything after it"
    );
    assert!(responses[1].batch_item_failures.is_empty());
    assert_eq!(proxy.failed(), 1, "exactly one entry was made to fail");

    // What the queue received: every audit entry once after de-duplication by event id.
    let received = drain(sqs, queue_url).await;
    let mut by_id: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for e in &received {
        let id = e["detail"]["event_id"]
            .as_str()
            .expect("event_id")
            .to_string();
        by_id.entry(id).or_default().push(e.clone());
    }
    // The events each audit entry gives: one per member it names, with that member's own
    // `before` out of the entry's list (a bulk change's event id is `<entry id>/<user id>`).
    let expected: Vec<(String, Value, Value)> = audit
        .iter()
        .flat_map(|a| {
            let target = a["target"].as_str().expect("target");
            let action = a["action"].as_str().expect("action");
            let ids: Vec<&str> = if action.starts_with("member.") {
                target.split(',').collect()
            } else {
                vec![target]
            };
            let id = a["id"].as_str().expect("audit id").to_string();
            let before = a.get("before").cloned().unwrap_or(Value::Null);
            let bulk = ids.len() > 1;
            ids.into_iter()
                .map(|user| {
                    let event_id = if bulk {
                        format!("{id}/{user}")
                    } else {
                        id.clone()
                    };
                    let own = match &before {
                        Value::Array(list) if list.iter().all(|m| m.get("user_id").is_some()) => {
                            list.iter()
                                .find(|m| m["user_id"] == user)
                                .cloned()
                                .expect("the member's own entry")
                        }
                        other => other.clone(),
                    };
                    (event_id, json!(user), own)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(expected.len() > audit.len(), "the bulk changes give more");
    assert_eq!(
        by_id.len(),
        expected.len(),
        "every expected event, and nothing else"
    );
    // Published twice: only those after the failed entry in its PutEvents (at least once).
    let twice = by_id.values().filter(|v| v.len() > 1).count();
    assert_eq!(twice, (audit.len().min(10)) - FAILED_ENTRY - 1);
    assert!(
        by_id
            .values()
            .all(|v| v.len() <= 2 && v.iter().all(|e| e["detail"] == v[0]["detail"])),
        "a duplicate is the same event"
    );

    let entry_of = |event_id: &str| {
        let id = event_id.split('/').next().unwrap_or_default();
        audit
            .iter()
            .find(|a| a["id"] == id)
            .expect("its audit entry")
    };
    for (event_id, target, before) in &expected {
        let a = entry_of(event_id);
        let e = &by_id
            .get(event_id)
            .unwrap_or_else(|| panic!("no event {event_id} for {a}"))[0];
        let action = a["action"].as_str().expect("action");
        assert_eq!(e["source"], "roster");
        assert_eq!(e["detail-type"], detail_type(action), "{action}");
        let d = &e["detail"];
        assert_eq!(d["version"], "1");
        assert_eq!(d["action"], action);
        assert_eq!(d["occurred_at"], a["at"]);
        assert_eq!(d["organization"], org.to_string());
        assert_eq!(d["actor"], a["actor"]);
        assert_eq!(&d["target"], target);
        assert_eq!(&d["before"], before);
        assert_eq!(d["after"], a.get("after").cloned().unwrap_or(Value::Null));
    }
    // The bulk pair: promoted from member, then removed as admins, an event each.
    for (i, user) in pair_ids.iter().enumerate() {
        let of = |action: &str| {
            received
                .iter()
                .find(|e| e["detail"]["action"] == action && e["detail"]["target"] == *user)
                .unwrap_or_else(|| panic!("no {action} event for member {i}"))
        };
        assert_eq!(
            of("member.role_changed")["detail"]["before"]["role"],
            "member"
        );
        assert_eq!(
            of("member.role_changed")["detail"]["after"]["role"],
            "admin"
        );
        assert_eq!(of("member.removed")["detail"]["before"]["role"], "admin");
    }
    let kinds: std::collections::BTreeSet<&str> =
        audit.iter().filter_map(|a| a["action"].as_str()).collect();
    for action in [
        "org.updated",
        "invitation.sent",
        "invitation.resent",
        "invitation.revoked",
        "invitation.accepted",
        "member.role_changed",
        "member.removed",
    ] {
        assert!(kinds.contains(action), "{action} in {kinds:?}");
    }

    // Every published event against its schema, and never a secret.
    for e in &received {
        assert_published_form(e);
    }
}

/// One change of every kind DETAIL_TYPES names, through the API (cleanup for the expiry),
/// published as the events function publishes them: every detail-type arrives, none other,
/// each event in its published schema and without a secret.
#[tokio::test]
async fn every_kind_of_change_is_published_under_its_own_detail_type_and_schema() {
    let (t, table) = app_with_stream().await;
    let root = t.platform_admin().await;
    let ok = |what: &str, r: &crate::common::Reply| {
        assert!(r.status < 300, "{what}: {} {}", r.status, r.body);
    };

    // Organizations: created with an owner invitation (sent, then accepted: a member
    // joined), updated; another one deleted.
    let owner_email = unique_email("owner");
    let r = t
        .create_org(
            &root,
            json!({"name": "Every Kind", "code": unique_code(), "owner_email": owner_email}),
        )
        .await;
    ok("create org", &r);
    let org = r.body["id"]
        .as_str()
        .and_then(|id| OrgId::parse(id).ok())
        .expect("org id");
    let link = t.latest_token(&owner_email).await;
    ok(
        "accept",
        &t.accept(&link, Joining::New("Owner", PASSWORD)).await,
    );
    ok(
        "update org",
        &t.update_org(&root, org, json!({"description": "All of them"}))
            .await,
    );
    let (gone, _) = t.org_with_owner().await;
    ok("delete org", &t.delete_org(&root, gone).await);

    // Invitations: resent, revoked, declined, expired, and one whose mail SES refused.
    let [resent, revoked, declined, expired] =
        ["resent", "revoked", "declined", "expired"].map(unique_email);
    let r = t
        .invite(
            &root,
            org,
            &[&resent, &revoked, &declined, &expired],
            "member",
        )
        .await;
    ok("invite", &r);
    let pending = t.invitations(&root, org, "?status=pending").await;
    let id_of = |email: &str| {
        pending.body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["email"] == email))
            .and_then(|i| i["id"].as_str())
            .expect("invitation id")
            .to_string()
    };
    ok("resend", &t.resend(&root, org, &id_of(&resent)).await);
    ok("revoke", &t.revoke(&root, org, &id_of(&revoked)).await);
    ok(
        "decline",
        &t.decline(&t.latest_token(&declined).await).await,
    );
    expire_now(&t, org, &id_of(&expired)).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let report = roster::services::cleanup::run(&t.app, deadline).await;
    assert!(report.is_ok(), "cleanup: {report:?}");
    let r = t
        .with_dead_mail()
        .await
        .invite(&root, org, &[unique_email("bounced")], "member")
        .await;
    assert_eq!(
        r.body["results"][0]["email_delivery"], "failed",
        "{}",
        r.body
    );

    // Members: a role changed, ownership transferred, one removed, one left.
    let next_owner = t.member_of(org, OrgRole::Member).await;
    let r = t.change_role(&root, org, next_owner.user.id, "admin").await;
    ok("change role", &r);
    ok(
        "transfer",
        &t.transfer(&root, org, next_owner.user.id).await,
    );
    let removed = t.member_of(org, OrgRole::Member).await;
    ok("remove", &t.remove(&root, org, removed.user.id).await);
    let leaver = t.member_of(org, OrgRole::Member).await;
    ok("leave", &t.remove(&leaver, org, leaver.user.id).await);

    // Users: created by an admin, updated, their email changed by themself, deleted.
    let email = unique_email("made");
    let r = t
        .create_user_via_api(
            &root,
            json!({"email": email, "name": "Made", "password": PASSWORD, "org_id": org.to_string()}),
        )
        .await;
    ok("create user", &r);
    let made = t.login(&email).await;
    let id = made.user.id;
    ok(
        "update user",
        &t.update_user(&root, id, json!({"name": "Renamed"})).await,
    );
    let new_email = unique_email("moved");
    let r = t
        .update_user(
            &made,
            id,
            json!({"email": new_email, "current_password": PASSWORD}),
        )
        .await;
    ok("ask for an email change", &r);
    let token = confirmation_token(&t, &new_email).await;
    ok("confirm email", &t.confirm_email(&token).await);
    ok("delete user", &t.delete_user(&root, id).await);

    // The stream's audit records, published in one invocation, as the mapping delivers them.
    let pattern = template_filter();
    let records: Vec<Value> = stream_records(&table)
        .await
        .into_iter()
        .filter(|r| matches(&pattern, r))
        .collect();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let subscriber = Subscriber::create(&aws).await;
    let publisher = Publisher::new(aws_sdk_eventbridge::Client::new(&aws), &subscriber.bus);
    let event = serde_json::from_value(json!({"Records": records})).expect("stream event");
    let response = publisher.handle(event).await.expect("handled");
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    let received = drain(&subscriber.sqs, &subscriber.queue_url).await;
    assert!(received.len() >= records.len(), "{} events", received.len());
    let kinds: BTreeSet<&str> = received
        .iter()
        .filter_map(|e| e["detail-type"].as_str())
        .collect();
    let every: BTreeSet<&str> = DETAIL_TYPES.iter().map(|(_, kind)| *kind).collect();
    assert_eq!(kinds, every, "every kind of change, and no other");
    for e in &received {
        assert_published_form(e);
    }
}

/// A test app whose table has its stream on (as the template deploys it), and the table.
async fn app_with_stream() -> (TestApp, String) {
    let t = TestApp::spawn().await;
    let table = t.app.config.table_name.clone();
    roster::events::stream::enable_stream(&t.dynamo, &table)
        .await
        .expect("stream on");
    (t, table)
}

/// An application subscribed to Roster's events: a bus of its own, and a rule sending every
/// Roster event on it to an SQS queue.
struct Subscriber {
    sqs: aws_sdk_sqs::Client,
    bus: String,
    queue_url: String,
}

impl Subscriber {
    async fn create(aws: &aws_config::SdkConfig) -> Subscriber {
        let bus = format!("roster-test-{}", uuid::Uuid::new_v4().simple());
        let events = aws_sdk_eventbridge::Client::new(aws);
        let sqs = aws_sdk_sqs::Client::new(aws);
        events
            .create_event_bus()
            .name(&bus)
            .send()
            .await
            .expect("bus");
        let queue = sqs
            .create_queue()
            .queue_name(&bus)
            .send()
            .await
            .expect("queue");
        let queue_url = queue.queue_url().expect("queue url").to_string();
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .expect("queue arn");
        events
            .put_rule()
            .name("all-roster-events")
            .event_bus_name(&bus)
            .event_pattern(r#"{"source": ["roster"]}"#)
            .send()
            .await
            .expect("rule");
        events
            .put_targets()
            .rule("all-roster-events")
            .event_bus_name(&bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(queue_arn)
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("target");
        Subscriber {
            sqs,
            bus,
            queue_url,
        }
    }
}

/// `event` against the schema docs/events/ publishes for its detail-type, and no secret in
/// it.
fn assert_published_form(event: &Value) {
    let kind = event["detail-type"].as_str().expect("detail-type");
    let path = root().join("docs/events").join(schema_file(kind));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{}", path.display())),
    )
    .expect("schema");
    if let Err(why) = validate(&schema, event, "$") {
        panic!("{kind} does not match {}: {why}\n{event}", path.display());
    }
    let text = event.to_string().to_ascii_lowercase();
    for secret in [PASSWORD, "password", "hash", "token", "secret"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

/// Every record of the table's stream, as the DynamoDB Streams API returns them (the JSON a
/// stream event's records carry).
async fn stream_records(table: &str) -> Vec<Value> {
    let streams = streams_call("ListStreams", json!({"TableName": table})).await;
    let arn = streams["Streams"][0]["StreamArn"].clone();
    let described = streams_call("DescribeStream", json!({"StreamArn": arn})).await;
    let mut records = Vec::new();
    for shard in described["StreamDescription"]["Shards"]
        .as_array()
        .expect("shards")
    {
        let it = streams_call(
            "GetShardIterator",
            json!({"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .await;
        let mut iterator = it["ShardIterator"].clone();
        loop {
            let page = streams_call("GetRecords", json!({"ShardIterator": iterator})).await;
            let got = page["Records"].as_array().cloned().unwrap_or_default();
            if got.is_empty() {
                break;
            }
            records.extend(got);
            iterator = page["NextShardIterator"].clone();
        }
    }
    records
}

async fn streams_call(operation: &str, body: Value) -> Value {
    let endpoint = crate::common::env_or_fail("AWS_ENDPOINT_URL");
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header("x-amz-target", format!("DynamoDBStreams_20120810.{operation}"))
        .header("content-type", "application/x-amz-json-1.0")
        // The emulator routes by the credential scope and does not check the signature.
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential=test/20260101/{region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0"),
        )
        .body(body.to_string())
        .send()
        .await
        .expect("streams request")
        .json()
        .await
        .expect("streams answer")
}

/// The event source mapping's filter pattern, from template.yaml.
fn template_filter() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("- Pattern: '"))
        .expect("a filter pattern in template.yaml");
    serde_json::from_str(line.trim_end_matches('\'')).expect("pattern is JSON")
}

/// EventBridge pattern matching, for what filters use here: objects nest, a list of values
/// matches any of them, `{"prefix": ...}` a string's start.
fn matches(pattern: &Value, value: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields
            .iter()
            .all(|(k, p)| value.get(k).is_some_and(|v| matches(p, v))),
        Value::Array(options) => options.iter().any(|o| match o {
            Value::Object(op) => match (op.get("prefix"), value) {
                (Some(Value::String(p)), Value::String(v)) => v.starts_with(p.as_str()),
                _ => false,
            },
            literal => literal == value,
        }),
        _ => false,
    }
}

/// The JSON Schema keywords docs/events uses: type, const, required, properties,
/// additionalProperties false, minLength, format date-time.
fn validate(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(c) = schema.get("const")
        && c != value
    {
        return Err(format!("{at}: {value} is not {c}"));
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let kind = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !types.contains(&kind) {
            return Err(format!("{at}: {kind} is not {types:?}"));
        }
    }
    if let (Some(min), Some(s)) = (
        schema.get("minLength").and_then(Value::as_u64),
        value.as_str(),
    ) && (s.chars().count() as u64) < min
    {
        return Err(format!("{at}: shorter than {min}"));
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time") {
        let s = value.as_str().unwrap_or("");
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map_err(|e| format!("{at}: {s:?} is not a date-time: {e}"))?;
    }
    if let Some(obj) = value.as_object() {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = r.as_str().unwrap_or("");
            if !obj.contains_key(name) {
                return Err(format!("{at}: {name} is missing"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, v) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(s, v, &format!("{at}.{k}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: {k} is not allowed"));
                }
                None => {}
            }
        }
    }
    Ok(())
}

#[test]
fn the_schema_check_refuses_what_the_schemas_refuse() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root()
                .join("docs/events")
                .join(schema_file("Member Removed")),
        )
        .expect("schema"),
    )
    .expect("json");
    let good = json!({"source": "roster", "detail-type": "Member Removed", "detail": {
        "version": "1", "event_id": "e", "occurred_at": "2026-01-01T00:00:00Z",
        "action": "member.removed", "organization": "o", "actor": null, "target": "u",
        "before": [{"user_id": "u"}], "after": null}});
    assert_eq!(validate(&schema, &good, "$"), Ok(()));
    let mut extra = good.clone();
    extra["detail"]["password_hash"] = json!("x");
    assert!(validate(&schema, &extra, "$").is_err());
    let mut wrong = good.clone();
    wrong["detail"]["action"] = json!("member.role_changed");
    assert!(validate(&schema, &wrong, "$").is_err());
    let mut missing = good.clone();
    missing["detail"]
        .as_object_mut()
        .expect("detail")
        .remove("event_id");
    assert!(validate(&schema, &missing, "$").is_err());
    let mut when = good;
    when["detail"]["occurred_at"] = json!("yesterday");
    assert!(validate(&schema, &when, "$").is_err());
}

/// Every message on the queue, parsed (moto delivers synchronously within PutEvents).
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        let messages = got.messages();
        if messages.is_empty() {
            return out;
        }
        for m in messages {
            out.push(serde_json::from_str(m.body().unwrap_or("")).expect("event JSON"));
            sqs.delete_message()
                .queue_url(url)
                .set_receipt_handle(m.receipt_handle().map(str::to_string))
                .send()
                .await
                .expect("delete");
        }
    }
}

/// The emulator's EventBridge behind a proxy that blanks the Detail of entry
/// `FAILED_ENTRY` in the first PutEvents that has one; everything else passes unchanged.
struct FailingEventBridge {
    url: String,
    failed: Arc<Mutex<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FailingEventBridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FailingEventBridge {
    async fn start() -> FailingEventBridge {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let upstream = crate::common::env_or_fail("AWS_ENDPOINT_URL");
        let failed = Arc::new(Mutex::new(0));
        let count = failed.clone();
        let task = tokio::spawn(async move {
            let http = reqwest::Client::new();
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(proxy(socket, upstream.clone(), http.clone(), count.clone()));
            }
        });
        FailingEventBridge { url, failed, task }
    }

    fn failed(&self) -> usize {
        *self.failed.lock().expect("lock")
    }
}

/// One connection: blanks entry `FAILED_ENTRY`'s Detail in the first PutEvents that has
/// one (EventBridge then refuses that entry alone), passes everything else on unchanged.
async fn proxy(
    socket: TcpStream,
    upstream: String,
    http: reqwest::Client,
    failed: Arc<Mutex<usize>>,
) {
    crate::proxy::serve(socket, |mut req: crate::proxy::Request| {
        let (upstream, http, failed) = (upstream.clone(), http.clone(), failed.clone());
        async move {
            if req.operation() == "PutEvents" {
                let mut n = failed.lock().expect("lock");
                if *n == 0
                    && let Ok(mut request) = serde_json::from_slice::<Value>(&req.body)
                    && let Some(entry) = request["Entries"].get_mut(FAILED_ENTRY)
                {
                    entry["Detail"] = json!("");
                    req.body = request.to_string().into_bytes();
                    *n += 1;
                }
            }
            crate::proxy::forward(&http, &upstream, req, str::to_string).await
        }
    })
    .await
}
