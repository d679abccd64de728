//! The member count without a hot item (issue 18.3, docs/storage.md "Conflicts"): in a tier
//! without a seat limit joins and removals count on shard items under the org, so hundreds
//! of concurrent accepts all land (the proxy version, where any transaction naming the org
//! item loses its race, is `faults::joins_in_a_tier_without_seat_limit_never_touch_the_org_item`);
//! the count shown is the org's own counter plus its shards, and equals the member list; a
//! change into a seat-limited tier folds the shards into the exact counter, so the seat
//! limit holds exactly, and a change back opens them again.

use crate::common;

use common::{Actor, Joining, PASSWORD, TestApp, unique_email};
use futures_util::future::join_all;
use roster::clock::Now;
use roster::domain::{Email, OrgId, OrgRole, Tiers, User};
use roster::error::ServiceError;
use roster::storage::{Authority, MemberCounter};
use serde_json::json;
use std::time::Instant;

/// `n` accounts without an organization, each with a pending invitation to `org` (sent by
/// `owner`, 100 to a request), signed in (tokens minted, one password hash for all), with
/// their invitation's link.
pub async fn joiners(t: &TestApp, owner: &Actor, org: OrgId, n: usize) -> Vec<(Actor, String)> {
    let emails: Vec<String> = (0..n).map(|_| unique_email("crowd")).collect();
    for chunk in emails.chunks(100) {
        let r = t.invite(owner, org, chunk, "member").await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let links = t.latest_tokens(&emails).await;
    let hash =
        roster::auth::password::hash(&roster::domain::Password::parse(PASSWORD).unwrap()).unwrap();
    let mut out = Vec::new();
    for email in &emails {
        let now = Now::get().rfc3339();
        let address = Email::parse(email).unwrap();
        let user = User::new(address, "Crowd".into(), hash.clone(), &now);
        t.app.store.create_user(&user, None).await.unwrap();
        let actor = Actor {
            token: t.token_for(&user),
            user,
            refresh: String::new(),
        };
        out.push((actor, links[email].clone()));
    }
    out
}

/// Every joiner accepts at once (signed in); their statuses, in order.
pub async fn accept_all(t: &TestApp, joiners: &[(Actor, String)]) -> Vec<u16> {
    join_all(
        joiners
            .iter()
            .map(|(who, link)| t.accept(link, Joining::SignedIn(who))),
    )
    .await
    .into_iter()
    .map(|r| r.status)
    .collect()
}

/// The org's `member_count` (GET /orgs/{id}) is `expected`, and so is its member list.
pub async fn assert_count_matches_members(t: &TestApp, owner: &Actor, org: OrgId, expected: u64) {
    let r = t.org(owner, org).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["member_count"], expected, "{}", r.body);
    let mut listed = 0u64;
    let mut query = "?limit=100".to_string();
    loop {
        let page = t.members(owner, org, &query).await;
        assert_eq!(page.status, 200, "{}", page.body);
        listed += page.body["items"].as_array().map_or(0, |i| i.len() as u64);
        match page.body["next_cursor"].as_str() {
            Some(c) => query = format!("?limit=100&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(listed, expected, "members listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_accepts_in_an_org_without_seat_limit_all_land_and_are_counted() {
    let t = TestApp::spawn_with(|c| c.accept_max_failures_per_source = 100_000).await;
    let (org, owner) = t.org_with_owner().await;
    let joiners = joiners(&t, &owner, org, 200).await;
    let began = Instant::now();
    let statuses = accept_all(&t, &joiners).await;
    eprintln!("200 concurrent accepts: {} ms", began.elapsed().as_millis());
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_count_matches_members(&t, &owner, org, 201).await;
    let stored = t.app.store.get_org(&org).await.unwrap().unwrap();
    assert!(
        stored.count_shards.len() > 1,
        "spread over shards: {:?}",
        stored.count_shards
    );
    // Removals take from the shards as well.
    let gone = &joiners[0].0;
    assert_eq!(t.remove(&owner, org, gone.user.id).await.status, 204);
    assert_count_matches_members(&t, &owner, org, 200).await;
}

#[tokio::test]
async fn a_change_into_a_seat_limited_tier_folds_the_shards_and_the_limit_is_exact() {
    let t = TestApp::spawn_with(|c| {
        c.tiers = Tiers::parse("free,team:seats=6").unwrap();
        c.accept_max_failures_per_source = 100_000;
    })
    .await;
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    // On `free`: five join on shards, one leaves. Five members.
    let crowd = joiners(&t, &owner, org, 5).await;
    assert_eq!(accept_all(&t, &crowd).await, [200; 5]);
    assert_eq!(t.remove(&owner, org, crowd[4].0.user.id).await.status, 204);
    assert_count_matches_members(&t, &owner, org, 5).await;

    let r = t.update_org(&root, org, json!({"tier": "team"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["member_count"], 5, "{}", r.body);
    let folded = t.app.store.get_org(&org).await.unwrap().unwrap();
    assert_eq!(folded.count_shards.len(), 16, "{:?}", folded.count_shards);
    assert!(
        folded.count_shards.iter().all(|s| s.closed && s.delta == 0),
        "{:?}",
        folded.count_shards
    );
    assert_eq!(folded.member_count, 5);

    // A removal that read the old tier meets a closed shard: refused, nothing changed.
    let member = t
        .app
        .store
        .get_user(&crowd[0].0.user.id)
        .await
        .unwrap()
        .unwrap();
    let refused = t
        .app
        .store
        .remove_members(
            &org,
            MemberCounter::Shard,
            &owner.user,
            &Authority::OrgRole {
                org,
                roles: &[OrgRole::Owner],
            },
            &[member],
            Now::get(),
        )
        .await;
    assert!(
        matches!(refused, Err(ServiceError::Conflict)),
        "{refused:?}"
    );
    assert_count_matches_members(&t, &owner, org, 5).await;

    // One seat left, two racing for it: exactly one wins.
    let racers = joiners(&t, &owner, org, 2).await;
    let mut statuses = accept_all(&t, &racers).await;
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    assert_count_matches_members(&t, &owner, org, 6).await;

    // Back to a tier without seat limit: the shards open again and take joins.
    let r = t.update_org(&root, org, json!({"tier": "free"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let more = joiners(&t, &owner, org, 3).await;
    assert_eq!(accept_all(&t, &more).await, [200; 3]);
    assert_count_matches_members(&t, &owner, org, 9).await;
    let opened = t.app.store.get_org(&org).await.unwrap().unwrap();
    assert!(opened.count_shards.iter().all(|s| !s.closed));
}

/// A redeploy whose TIERS gives a tier in use a seat limit folds nothing by itself: the
/// next join into such an org folds its shards into the exact counter first, so the seat
/// limit counts every member who joined on a shard.
#[tokio::test]
async fn a_tier_given_a_seat_limit_by_a_redeploy_is_settled_by_the_next_join() {
    let t = TestApp::spawn_with(|c| c.accept_max_failures_per_source = 100_000).await;
    let (org, owner) = t.org_with_owner().await;
    // On `free`, without a seat limit: four join on shards. Five members.
    let crowd = joiners(&t, &owner, org, 4).await;
    assert_eq!(accept_all(&t, &crowd).await, [200; 4]);
    let racers = joiners(&t, &owner, org, 2).await;

    // The redeploy: `free` now has six seats. One is left, and two race for it.
    let mut config = t.app.config.clone();
    config.tiers = Tiers::parse("free:seats=6,pro,enterprise").unwrap();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let redeployed =
        t.beside(roster::App::with_mail_config(config, t.app.keys.clone(), &aws, &aws).unwrap());
    let mut statuses = accept_all(&redeployed, &racers).await;
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 409],
        "the shards' members count toward the seats"
    );
    assert_count_matches_members(&redeployed, &owner, org, 6).await;
    let settled = redeployed.app.store.get_org(&org).await.unwrap().unwrap();
    assert_eq!(settled.member_count, 6);
    assert!(
        settled
            .count_shards
            .iter()
            .all(|s| s.closed && s.delta == 0),
        "{:?}",
        settled.count_shards
    );
}
