//! Organizations end to end: every route for every kind of caller, code uniqueness (also
//! under a race), self-service, updates and deletion.

use crate::common;

use aws_sdk_dynamodb::types::AttributeValue;
use common::{Joining, PASSWORD, TestApp, unique_code};
use roster::domain::OrgRole;
use roster::storage::keys;
use serde_json::json;

#[tokio::test]
async fn every_org_route_answers_each_role_as_designed() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    let member = t.member_of(org, OrgRole::Member).await;
    let (_other, other_owner) = t.org_with_owner().await;
    let other_admin = t.member_of(_other, OrgRole::Admin).await;
    let code = t.app.store.get_org(&org).await.unwrap().unwrap().code;
    let bad = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln";
    let path = format!("/orgs/{org}");

    // (caller, token) pairs in a fixed order; None = anonymous.
    let callers: Vec<(&str, Option<&str>)> = vec![
        ("anonymous", None),
        ("bad token", Some(bad)),
        ("member", Some(&member.token)),
        ("admin", Some(&admin.token)),
        ("owner", Some(&owner.token)),
        ("other org admin", Some(&other_admin.token)),
        ("platform admin", Some(&root.token)),
    ];
    let expect = |route: &str, want: [u16; 7]| (route.to_string(), want);
    let cases = vec![
        (
            expect("GET /orgs", [401, 401, 200, 200, 200, 200, 200]),
            "GET",
            "/orgs".to_string(),
            None,
        ),
        (
            expect("GET /orgs/{id}", [401, 401, 200, 200, 200, 404, 200]),
            "GET",
            path.clone(),
            None,
        ),
        (
            expect("PATCH /orgs/{id} name", [401, 401, 403, 200, 200, 404, 200]),
            "PATCH",
            path.clone(),
            Some(json!({"name": "Renamed", "description": "new words"})),
        ),
        (
            expect("PATCH /orgs/{id} tier", [401, 401, 403, 403, 403, 404, 200]),
            "PATCH",
            path.clone(),
            Some(json!({"tier": "pro"})),
        ),
        (
            expect(
                "DELETE /orgs/{id} (admin may not)",
                [401, 401, 403, 403, 0, 404, 0],
            ),
            "DELETE",
            format!("{path}?confirm={code}"),
            None,
        ),
        (
            expect(
                "POST /orgs (already in an org)",
                [401, 401, 409, 409, 409, 409, 201],
            ),
            "POST",
            "/orgs".to_string(),
            Some(json!({"name": "Another", "code": unique_code()})),
        ),
    ];
    let mut table = String::from(
        "route | anonymous | bad token | member | admin | owner | other org admin | platform admin\n",
    );
    for ((route, want), method, uri, body) in cases {
        let mut row = route.clone();
        for (i, (who, token)) in callers.iter().enumerate() {
            if want[i] == 0 {
                row.push_str(" | (below)");
                continue;
            }
            // A fresh code per call so only the caller decides the outcome.
            let body = body.clone().map(|mut b| {
                if b.get("code").is_some() {
                    b["code"] = json!(unique_code());
                }
                b
            });
            let r = t.call(method, &uri, *token, body).await;
            assert_eq!(r.status, want[i], "{route} as {who}: {}", r.body);
            assert!(r.status < 400 || r.headers["content-type"] == "application/problem+json");
            row.push_str(&format!(" | {}", r.status));
        }
        table.push_str(&row);
        table.push('\n');
    }
    println!("{table}");

    // A member lists only their own organization.
    let r = t.call("GET", "/orgs", Some(&member.token), None).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0]["id"], org.to_string());
    assert_eq!(r.body["items"][0]["name"], "Renamed");
    assert_eq!(r.body["items"][0]["tier"], "pro");

    // Owners delete their own organization; platform admins delete any.
    let r = t
        .call(
            "DELETE",
            &format!("{path}?confirm={code}"),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let other_code = t.app.store.get_org(&_other).await.unwrap().unwrap().code;
    let r = t
        .call(
            "DELETE",
            &format!("/orgs/{_other}?confirm={other_code}"),
            Some(&root.token),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    drop(other_owner);
}

#[tokio::test]
async fn duplicate_codes_are_refused_case_insensitively() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let code = unique_code();
    let r = t
        .create_org(&root, json!({"name": "One", "code": code.to_lowercase()}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["code"], code, "codes are stored upper case");
    assert_eq!(r.body["tier"], "free");
    assert_eq!(r.body["owner_id"], serde_json::Value::Null);
    let r = t
        .create_org(&root, json!({"name": "Two", "code": code}))
        .await;
    assert_eq!((r.status, r.code()), (409, "code_taken"), "{}", r.body);
}

#[tokio::test]
async fn two_concurrent_creates_with_one_code_exactly_one_wins() {
    let t = TestApp::spawn().await;
    let a = t.user_without_org().await;
    let b = t.user_without_org().await;
    let code = unique_code();
    for round in 0..3 {
        let code = format!("{code}{round}");
        let body = json!({"name": "Race", "code": code});
        let (ra, rb) = tokio::join!(
            t.create_org(&a, body.clone()),
            t.create_org(&b, body.clone())
        );
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        if round == 0 {
            assert_eq!(statuses, [201, 409], "{} / {}", ra.body, rb.body);
            let loser = if ra.status == 409 { &ra } else { &rb };
            assert_eq!(loser.code(), "code_taken");
        } else {
            // The winner of round 0 already owns an org; the other one is still free.
            assert!(
                statuses.iter().all(|s| *s == 201 || *s == 409),
                "{statuses:?}"
            );
            assert!(statuses.iter().filter(|s| **s == 201).count() <= 1);
        }
    }
    // Exactly one organization holds the code.
    let root = t.platform_admin().await;
    let r = t
        .call("GET", "/orgs?limit=100", Some(&root.token), None)
        .await;
    let held: Vec<_> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["code"] == format!("{code}0"))
        .collect();
    assert_eq!(held.len(), 1);
}

#[tokio::test]
async fn self_service_makes_the_creator_owner_and_can_be_turned_off() {
    let t = TestApp::spawn().await;
    let solo = t.user_without_org().await;
    let r = t
        .create_org(
            &solo,
            json!({"name": "Mine", "code": unique_code(), "description": "d"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["owner_id"], solo.user.id.to_string());
    assert_eq!(r.body["member_count"], 1);
    let me = t.me(&solo).await;
    assert_eq!(me.body["role"], "owner");
    assert_eq!(me.body["org_id"], r.body["id"]);
    assert!(me.body.get("password_hash").is_none());

    // Self-service callers may not pick a tier.
    let other = t.user_without_org().await;
    let r = t
        .create_org(
            &other,
            json!({"name": "X", "code": unique_code(), "tier": "pro"}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    let closed = TestApp::spawn_with(|c| c.allow_self_service_orgs = false).await;
    let solo = closed.user_without_org().await;
    let r = closed
        .create_org(&solo, json!({"name": "Mine", "code": unique_code()}))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let root = closed.platform_admin().await;
    let r = closed
        .create_org(
            &root,
            json!({"name": "Theirs", "code": unique_code(), "tier": "enterprise"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["tier"], "enterprise");
}

#[tokio::test]
async fn org_fields_are_validated() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    for (body, field) in [
        (json!({"name": "", "code": unique_code()}), "name"),
        (
            json!({"name": "x".repeat(101), "code": unique_code()}),
            "name",
        ),
        (json!({"name": "Ok", "code": "a"}), "code"),
        (json!({"name": "Ok", "code": "AC ME"}), "code"),
        (json!({"name": "Ok", "code": "ACME'; DROP TABLE"}), "code"),
        (
            json!({"name": "Ok", "code": unique_code(), "description": "d".repeat(1001)}),
            "description",
        ),
        (
            json!({"name": "Ok", "code": unique_code(), "tier": "platinum"}),
            "tier",
        ),
        (json!({"name": 5, "code": unique_code()}), "name"),
    ] {
        let r = t.create_org(&root, body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "validation_failed"),
            "{body}: {}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.body);
    }
    // Missing required fields.
    let r = t.create_org(&root, json!({"name": "NoCode"})).await;
    assert_eq!(r.status, 400);
    // Expression-like strings are stored as data.
    let name = "#name = :v OR attribute_exists(pk) -- <script>";
    let r = t
        .create_org(&root, json!({"name": name, "code": unique_code()}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["name"], name);
}

#[tokio::test]
async fn listing_pages_with_cursors_and_refuses_tampered_ones() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let mut created = Vec::new();
    for i in 0..7 {
        let r = t
            .create_org(
                &root,
                json!({"name": format!("Org {i}"), "code": unique_code()}),
            )
            .await;
        created.push(r.body["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    for page in t.pages("/orgs?limit=3", &root.token).await {
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|o| o["id"].as_str().unwrap().to_string()));
    }
    created.reverse(); // newest first
    assert_eq!(seen, created);

    for bad in ["garbage", "eyJwayI6IlVTRVIjeCJ9", "%%%"] {
        let r = t
            .call(
                "GET",
                &format!("/orgs?cursor={bad}"),
                Some(&root.token),
                None,
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (400, "validation_failed"),
            "{bad}: {}",
            r.body
        );
    }
    for bad in ["0", "101", "ten"] {
        let r = t
            .call(
                "GET",
                &format!("/orgs?limit={bad}"),
                Some(&root.token),
                None,
            )
            .await;
        assert_eq!(r.status, 400, "limit {bad}");
    }
}

#[tokio::test]
async fn code_changes_free_the_old_code_and_deletion_frees_it_too() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    let member = t.member_of(org, OrgRole::Member).await;
    let old = t.app.store.get_org(&org).await.unwrap().unwrap().code;
    let new = unique_code();
    let r = t.update_org(&root, org, json!({"code": new})).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (200, Some(new.as_str())),
        "{}",
        r.body
    );
    // The old code is free, the new one taken.
    let r = t
        .create_org(&root, json!({"name": "Reuse", "code": old}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = t
        .create_org(&root, json!({"name": "Clash", "code": new}))
        .await;
    assert_eq!(r.code(), "code_taken");

    // Delete needs the confirmation.
    let r = t
        .call("DELETE", &format!("/orgs/{org}"), Some(&owner.token), None)
        .await;
    assert_eq!((r.status, r.code()), (400, "validation_failed"));
    let r = t
        .call(
            "DELETE",
            &format!("/orgs/{org}?confirm=WRONG"),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    let r = t
        .call(
            "DELETE",
            &format!("/orgs/{org}?confirm={}", new.to_lowercase()),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);

    // Gone at once, code free, members detached.
    assert_eq!(t.org(&root, org).await.status, 404);
    let me = t.me(&member).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["org_id"], serde_json::Value::Null, "{}", me.body);
    let me = t.me(&owner).await;
    assert_eq!(me.body["role"], serde_json::Value::Null);
    let r = t
        .create_org(&root, json!({"name": "Again", "code": new}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The former owner may start a new organization.
    let r = t
        .create_org(&owner, json!({"name": "Fresh", "code": unique_code()}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = t
        .call("GET", "/orgs/not-a-uuid", Some(&root.token), None)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_delete_out_of_time_answers_and_cleanup_detaches_the_rest() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    let mut members = vec![owner.clone()];
    for _ in 0..3 {
        members.push(t.member_of(org, OrgRole::Member).await);
    }
    let found = t.app.store.get_org(&org).await.unwrap();
    let code = found.map(|o| o.code);
    let ctx = roster::services::Ctx::new(&t.app, Some(&owner.token), None);
    let delete = roster::domain::requests::DeleteOrg {
        org: Some(org),
        confirm: code,
    };
    // No time at all for detaching (the API gives it DELETE_INLINE_BUDGET).
    roster::services::orgs::delete_within(&ctx, delete, std::time::Duration::ZERO)
        .await
        .expect("the deletion itself succeeds");
    assert!(roster::services::orgs::DELETE_INLINE_BUDGET <= std::time::Duration::from_secs(10));

    // Deleted for every reader at once; the members are left for cleanup.
    let r = t.org(&root, org).await;
    assert_eq!(r.status, 404);
    for m in &members {
        let user = t.app.store.get_user(&m.user.id).await.unwrap().unwrap();
        assert_eq!(user.org_id, Some(org), "{} still attached", user.email);
    }
    assert_eq!(t.app.store.deleting_orgs(10).await.unwrap(), vec![org]);

    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    let report = roster::services::cleanup::run(&t.app, deadline)
        .await
        .unwrap();
    assert_eq!(report.orgs_finished, 1, "{report:?}");
    assert!(!report.stopped_early, "{report:?}");
    for m in &members {
        let user = t.app.store.get_user(&m.user.id).await.unwrap().unwrap();
        assert_eq!((user.org_id, user.role), (None, None), "{}", user.email);
    }
    assert!(t.app.store.deleting_orgs(10).await.unwrap().is_empty());
    // The former owner may start again.
    let r = t
        .create_org(&owner, json!({"name": "Again", "code": unique_code()}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// An account left pointing at a deleted organization (its detach missed it: the members
/// index lags, or it joined a moment before the deletion) behaves as having none: it can
/// accept an invitation to another organization, or create one, or delete itself, and the
/// dead membership is released on the way; GET /me shows no organization meanwhile.
#[tokio::test]
async fn an_account_left_pointing_at_a_deleted_org_can_join_or_create_another() {
    let t = TestApp::spawn().await;
    let (dead, dead_owner) = t.org_with_owner().await;
    let code = t.org(&dead_owner, dead).await.body["code"]
        .as_str()
        .unwrap()
        .to_string();
    let r = t
        .call(
            "DELETE",
            &format!("/orgs/{dead}?confirm={code}"),
            Some(&dead_owner.token),
            None,
        )
        .await;
    assert!((200..300).contains(&r.status), "{}", r.body);
    // Accounts the detach never saw: their items still name the dead organization (the
    // last one as its admin).
    let strays = [
        t.user_without_org().await,
        t.user_without_org().await,
        t.user_without_org().await,
    ];
    for (i, stray) in strays.iter().enumerate() {
        let role = if i == 2 { "admin" } else { "member" };
        t.dynamo
            .update_item()
            .table_name(&t.app.config.table_name)
            .key("pk", AttributeValue::S(keys::user_pk(&stray.user.id)))
            .key("sk", AttributeValue::S(keys::PROFILE.into()))
            .update_expression("SET org_id = :org, #role = :role, gsi1pk = :g1pk, gsi1sk = :g1sk")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":org", AttributeValue::S(dead.to_string()))
            .expression_attribute_values(":role", AttributeValue::S(role.into()))
            .expression_attribute_values(":g1pk", AttributeValue::S(keys::org_members_pk(&dead)))
            .expression_attribute_values(
                ":g1sk",
                AttributeValue::S(keys::member_sk(&stray.user.id)),
            )
            .send()
            .await
            .unwrap();
    }
    for stray in &strays {
        let me = t.me(stray).await;
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(
            (&me.body["org_id"], &me.body["role"]),
            (&json!(null), &json!(null)),
            "{}",
            me.body
        );
    }
    // Its admin lists none of the other leftovers.
    let r = t.call("GET", "/users", Some(&strays[2].token), None).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
    let (org, owner) = t.org_with_owner().await;
    let email = strays[0].user.email.to_string();
    t.invite(&owner, org, &[&email], "member").await;
    let link = t.latest_token(&email).await;
    let r = t.accept(&link, Joining::Password(PASSWORD)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let joined = t
        .app
        .store
        .get_user(&strays[0].user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(joined.org_id, Some(org));

    let r = t
        .create_org(&strays[1], json!({"name": "Fresh", "code": unique_code()}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = t
        .app
        .store
        .get_user(&strays[1].user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.role, Some(OrgRole::Owner));
    assert_ne!(created.org_id, Some(dead));

    let gone = &strays[2];
    let r = t
        .call(
            "DELETE",
            &format!("/users/{}", gone.user.id),
            Some(&gone.token),
            Some(json!({"current_password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(t.app.store.get_user(&gone.user.id).await.unwrap().is_none());
}

/// The members index lags on DynamoDB: after a deletion it may still list an account that
/// has already left (here: moved to another organization, its index entry still under the
/// deleted one). Cleanup passes over it (its detach's condition fails: a no-op) and
/// finishes the organization, rather than walking the stale entry until its deadline.
#[tokio::test]
async fn cleanup_of_a_deleted_org_passes_over_members_already_detached() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let member = t.member_of(org, OrgRole::Member).await;
    let (elsewhere, _) = t.org_with_owner().await;
    let moved = t.member_of(elsewhere, OrgRole::Member).await;
    // Deleted without the inline detach: the tombstone alone.
    let stored = t.app.store.get_org(&org).await.unwrap().unwrap();
    let caller = t.app.store.get_user(&owner.user.id).await.unwrap().unwrap();
    let authority = roster::storage::Authority::OrgRole {
        org,
        roles: &[OrgRole::Owner],
    };
    t.app
        .store
        .tombstone_org(
            &stored,
            &caller,
            &authority,
            &roster::clock::Now::get().rfc3339(),
        )
        .await
        .unwrap();
    // The index still lists `moved` under the deleted organization.
    t.dynamo
        .update_item()
        .table_name(&t.app.config.table_name)
        .key("pk", AttributeValue::S(keys::user_pk(&moved.user.id)))
        .key("sk", AttributeValue::S(keys::PROFILE.into()))
        .update_expression("SET gsi1pk = :g1pk")
        .expression_attribute_values(":g1pk", AttributeValue::S(keys::org_members_pk(&org)))
        .send()
        .await
        .unwrap();
    let began = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    let report = roster::services::cleanup::run(&t.app, deadline)
        .await
        .unwrap();
    assert_eq!(report.orgs_finished, 1, "{report:?}");
    assert!(!report.stopped_early, "{report:?}");
    assert!(began.elapsed() < std::time::Duration::from_secs(10));
    assert!(t.app.store.deleting_orgs(10).await.unwrap().is_empty());
    for m in [&owner, &member] {
        let user = t.app.store.get_user(&m.user.id).await.unwrap().unwrap();
        assert_eq!(user.org_id, None, "{}", user.email);
    }
    let kept = t.app.store.get_user(&moved.user.id).await.unwrap().unwrap();
    assert_eq!(kept.org_id, Some(elsewhere), "left as it was");
}
