//! Quotas (issue 12, item 12): limits come from the organization's tier (TIERS: invitations
//! per day, optional seats), self-service organizations start on the first tier, and a
//! deployment-wide daily cap (INVITATIONS_PER_DAY) holds however many organizations share
//! it. A full organization refuses invitations, acceptances and direct user creation with
//! 409 `seat_limit_reached`; joins are refused by a condition in their own transaction.

use crate::common;

use common::{Actor, Joining, PASSWORD, Reply, TestApp, unique_code, unique_email};
use roster::domain::{Email, OrgId, Tiers};
use serde_json::{Value, json};

fn tiers(raw: &str) -> Tiers {
    Tiers::parse(raw).expect("TIERS")
}

/// A 429 `rate_limited` with a Retry-After within the UTC day.
fn assert_daily_limit(r: &Reply, what: &str) {
    assert_eq!(
        (r.status, r.code()),
        (429, "rate_limited"),
        "{what}: {}",
        r.body
    );
    let wait: u64 = r.headers["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{what}: Retry-After is a number of seconds"));
    assert!((1..=86_400).contains(&wait), "{what}: Retry-After {wait}");
}

fn assert_full(r: &Reply, what: &str) {
    assert_eq!(
        (r.status, r.code()),
        (409, "seat_limit_reached"),
        "{what}: {}",
        r.body
    );
    assert_eq!(r.headers["content-type"], "application/problem+json");
}

fn emails(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| unique_email(&format!("{prefix}{i}")))
        .collect()
}

async fn invite_all(t: &TestApp, who: &Actor, org: OrgId, to: &[String]) -> Reply {
    t.invite(&who, org, to, "member").await
}

/// An organization a platform admin creates on `tier` (no owner; the admin invites).
async fn org_on_tier(t: &TestApp, root: &Actor, tier: &str) -> OrgId {
    let r = t
        .create_org(
            &root,
            json!({"name": "Tiered", "code": unique_code(), "tier": tier}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["tier"], tier);
    OrgId::parse(r.body["id"].as_str().expect("id")).expect("org id")
}

async fn invitations_of(t: &TestApp, who: &Actor, org: OrgId) -> Vec<Value> {
    let r = t.invitations(&who, org, "?limit=100").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

async fn no_mail_to(t: &TestApp, to: &[String]) {
    for e in to {
        assert!(t.mails_to(e).await.is_empty(), "no mail to {e}");
    }
}

async fn accept_new(t: &TestApp, token: &str) -> Reply {
    t.accept(token, Joining::New("Joiner", PASSWORD)).await
}

async fn member_count(t: &TestApp, org: OrgId) -> u64 {
    t.app
        .store
        .get_org(&org)
        .await
        .expect("read org")
        .expect("org")
        .member_count
}

#[tokio::test]
async fn each_tier_has_its_own_invitations_per_day() {
    let t = TestApp::spawn_with(|c| {
        c.tiers = tiers("free:invites=2,pro:invites=4,enterprise");
        c.invitations_per_org_per_day = 3;
    })
    .await;
    let root = t.platform_admin().await;
    // Self-service: the first tier, 2 a day.
    let (free, owner) = t.org_with_owner().await;
    let pro = org_on_tier(&t, &root, "pro").await;
    let enterprise = org_on_tier(&t, &root, "enterprise").await;

    let three = emails("free", 3);
    assert_daily_limit(
        &invite_all(&t, &owner, free, &three).await,
        "3 on a tier of 2",
    );
    no_mail_to(&t, &three).await;
    assert!(invitations_of(&t, &owner, free).await.is_empty());
    let r = invite_all(&t, &owner, free, &three[..2]).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Another tier, another limit: 4 fit, the fifth does not.
    let r = invite_all(&t, &root, pro, &emails("pro", 4)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let fifth = emails("pro-over", 1);
    assert_daily_limit(&invite_all(&t, &root, pro, &fifth).await, "fifth on pro");
    no_mail_to(&t, &fifth).await;

    // A tier without invites= has the deployment's per-org default (3 here).
    let r = invite_all(&t, &root, enterprise, &emails("ent", 3)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_daily_limit(
        &invite_all(&t, &root, enterprise, &emails("ent-over", 1)).await,
        "fourth on enterprise",
    );

    // The limit follows the tier: moved to pro, the free org has 2 more today.
    let r = t.update_org(&root, free, json!({"tier": "pro"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = invite_all(&t, &owner, free, &emails("upgraded", 2)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_daily_limit(
        &invite_all(&t, &owner, free, &emails("upgraded-over", 1)).await,
        "past pro's 4",
    );
}

#[tokio::test]
async fn a_self_service_org_starts_on_the_first_tier_and_cannot_ask_for_another() {
    let t = TestApp::spawn_with(|c| c.tiers = tiers("starter:invites=1,pro:invites=100")).await;
    let solo = t.user_without_org().await;
    let code = unique_code();
    let r = t
        .create_org(&solo, json!({"name": "Mine", "code": code, "tier": "pro"}))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
    // A tier the deployment does not have is malformed: its 400 comes first (the edge looks
    // it up before any service runs; docs/architecture.md, "The order of refusals").
    let r = t
        .create_org(
            &solo,
            json!({"name": "Mine", "code": code, "tier": "platinum"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "tier", "{}", r.body);
    let r = t
        .update_org(&solo, OrgId::new(), json!({"tier": "platinum"}))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Nothing was created: the caller has no org and the code is free.
    let me = t.me(&solo).await;
    assert_eq!(me.body["org_id"], Value::Null, "{}", me.body);

    // Naming the first tier, or none, gives the first tier.
    let r = t
        .create_org(
            &solo,
            json!({"name": "Mine", "code": code, "tier": "starter"}),
        )
        .await;
    assert_eq!((r.status, &r.body["tier"]), (201, &json!("starter")));
    let (org, owner) = t.org_with_owner().await;
    let r = t.org(&owner, org).await;
    assert_eq!(r.body["tier"], "starter", "{}", r.body);
    // ...with the first tier's limits: one invitation a day.
    let r = invite_all(&t, &owner, org, &emails("one", 1)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_daily_limit(
        &invite_all(&t, &owner, org, &emails("two", 1)).await,
        "second",
    );
    // An owner cannot move their own org to another tier either.
    let r = t.update_org(&owner, org, json!({"tier": "pro"})).await;
    assert_eq!(r.status, 403, "{}", r.body);
}

#[tokio::test]
async fn the_deployment_cap_stops_every_org_once_used_up() {
    // The attack: one person's many self-service orgs, each within its own limit.
    let t = TestApp::spawn_with(|c| c.invitations_per_day = 3).await;
    let (first, first_owner) = t.org_with_owner().await;
    let (second, second_owner) = t.org_with_owner().await;

    let r = invite_all(&t, &first_owner, first, &emails("a", 2)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Two more would make four: refused whole, though the org itself is far from 1,000.
    let over = emails("b", 2);
    assert_daily_limit(
        &invite_all(&t, &second_owner, second, &over).await,
        "second org past the cap",
    );
    no_mail_to(&t, &over).await;
    assert!(invitations_of(&t, &second_owner, second).await.is_empty());
    // One fits exactly; then nobody sends, a resend included.
    let r = invite_all(&t, &second_owner, second, &over[..1]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let late = emails("c", 1);
    assert_daily_limit(
        &invite_all(&t, &first_owner, first, &late).await,
        "first org after the cap",
    );
    no_mail_to(&t, &late).await;
    let id = invitations_of(&t, &first_owner, first).await[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = t.resend(&first_owner, first, &id).await;
    assert_daily_limit(&r, "resend after the cap");
    let sent = invitations_of(&t, &first_owner, first).await;
    assert!(sent.iter().all(|i| i["send_count"] == 1), "{sent:?}");
}

#[tokio::test]
async fn a_full_org_refuses_invitations_and_acceptances_until_a_seat_is_free() {
    let t = TestApp::spawn_with(|c| c.tiers = tiers("free:seats=2,pro")).await;
    let (org, owner) = t.org_with_owner().await;
    // One seat left: invitations do not hold seats, so two may be pending.
    let (x, z) = (unique_email("x"), unique_email("z"));
    let r = t.invite(&owner, org, &[&x, &z], "member").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (x_token, z_token) = (t.latest_token(&x).await, t.latest_token(&z).await);
    let r = accept_new(&t, &x_token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let x_id = r.body["user"]["id"].as_str().expect("id").to_string();
    assert_eq!(member_count(&t, org).await, 2);

    // Full: a new invitation and a resend are refused, nothing stored, no mail.
    let y = unique_email("y");
    assert_full(
        &t.invite(&owner, org, &[&y], "member").await,
        "invite when full",
    );
    no_mail_to(&t, std::slice::from_ref(&y)).await;
    let z_id = invitations_of(&t, &owner, org)
        .await
        .into_iter()
        .find(|i| i["email"] == z.as_str())
        .and_then(|i| i["id"].as_str().map(str::to_string))
        .expect("z's invitation");
    let r = t.resend(&owner, org, &z_id).await;
    assert_full(&r, "resend when full");
    assert_eq!(t.mails_to(&z).await.len(), 1);

    // The last seat was taken after z was invited: z's acceptance is refused, and nothing
    // of it stays (no account, the invitation still pending).
    assert_full(&accept_new(&t, &z_token).await, "accept when full");
    let z_email = Email::parse(&z).expect("email");
    assert!(
        t.app
            .store
            .find_user_by_email(&z_email)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(member_count(&t, org).await, 2);
    // The same on the HTML form.
    let form = format!(
        "token={z_token}&name=Zed&password={}",
        PASSWORD.replace(' ', "+")
    );
    let page = t.call_raw("POST", "/invite", None, Some(&form)).await;
    assert_eq!(page.status, 409);
    assert!(
        page.body
            .as_str()
            .is_some_and(|h| h.contains("no seat left")),
        "{}",
        page.body
    );

    // A member leaves: the seat is free and the same link works.
    let r = t.remove(&owner, org, x_id).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = accept_new(&t, &z_token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(member_count(&t, org).await, 2);
}

#[tokio::test]
async fn two_acceptances_racing_for_the_last_seat_exactly_one_wins() {
    let t = TestApp::spawn_with(|c| c.tiers = tiers("free:seats=2")).await;
    let (org, owner) = t.org_with_owner().await;
    let (a, b) = (unique_email("a"), unique_email("b"));
    let r = t.invite(&owner, org, &[&a, &b], "member").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let tokens = t.latest_tokens(&[a.clone(), b.clone()]).await;

    let (ra, rb) = tokio::join!(accept_new(&t, &tokens[&a]), accept_new(&t, &tokens[&b]));
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", ra.body, rb.body);
    let loser = if ra.status == 409 { &ra } else { &rb };
    assert_full(loser, "the slower acceptance");
    assert_eq!(member_count(&t, org).await, 2);
    let members = t.members(&owner, org, "?limit=50").await;
    assert_eq!(members.body["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn direct_user_creation_is_refused_when_the_org_is_full() {
    let t = TestApp::spawn_with(|c| c.tiers = tiers("free:seats=2,pro")).await;
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    let create = |email: String, org_id: Option<OrgId>| {
        let mut body = json!({"email": email, "name": "Direct", "password": PASSWORD});
        if let Some(id) = org_id {
            body["org_id"] = json!(id);
        }
        body
    };
    let r = t
        .create_user_via_api(&owner, create(unique_email("d1"), None))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let second = unique_email("d2");
    let r = t
        .create_user_via_api(&owner, create(second.clone(), None))
        .await;
    assert_full(&r, "an org admin's direct creation");
    // The email was not claimed: the account can be made elsewhere.
    let r = t
        .create_user_via_api(&root, create(second.clone(), Some(org)))
        .await;
    assert_full(&r, "a platform admin's direct creation");
    let pro = org_on_tier(&t, &root, "pro").await;
    let r = t
        .create_user_via_api(&root, create(second, Some(pro)))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(member_count(&t, org).await, 2);
}

#[tokio::test]
async fn an_org_on_a_tier_no_longer_configured_gets_the_first_tiers_limits() {
    let t = TestApp::spawn_with(|c| c.tiers = tiers("free:seats=1:invites=5,pro")).await;
    let root = t.platform_admin().await;
    let org = org_on_tier(&t, &root, "pro").await;
    // As if TIERS had listed `gold` when the org was put on it.
    use aws_sdk_dynamodb::types::AttributeValue as V;
    t.dynamo
        .update_item()
        .table_name(&t.app.config.table_name)
        .key("pk", V::S(roster::storage::keys::org_pk(&org)))
        .key("sk", V::S(roster::storage::keys::PROFILE.into()))
        .update_expression("SET tier = :gold")
        .expression_attribute_values(":gold", V::S("gold".into()))
        .send()
        .await
        .expect("set tier");
    let body =
        |email: String| json!({"email": email, "name": "D", "password": PASSWORD, "org_id": org});
    let r = t.create_user_via_api(&root, body(unique_email("g1"))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = t.create_user_via_api(&root, body(unique_email("g2"))).await;
    assert_full(&r, "second member on one seat");
    assert_full(
        &invite_all(&t, &root, org, &emails("g", 1)).await,
        "invite into the full org",
    );
}
