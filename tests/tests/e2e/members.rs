//! Members, roles, removal, ownership transfer, direct user management and the audit log.

use crate::common;

use common::{Joining, PASSWORD, TestApp, unique_email};
use futures_util::{StreamExt, stream};
use roster::domain::{Email, OrgId, OrgRole, User, UserId};
use serde_json::json;

/// Many members quickly: one password hash shared, accounts written concurrently.
async fn add_members(t: &TestApp, org: OrgId, count: usize, role: OrgRole) -> Vec<User> {
    let template = t.create_user(&unique_email("template"), None, false).await;
    let users: Vec<User> = (0..count)
        .map(|i| {
            let mut u = template.clone();
            u.id = UserId::new();
            u.email = Email::parse(&format!("m{i}-{}", unique_email("bulk"))).unwrap();
            u.org_id = Some(org);
            u.role = Some(role);
            u.joined_at = Some(u.created_at.clone());
            u
        })
        .collect();
    let created: Vec<_> = stream::iter(users.iter())
        .map(|u| t.app.store.create_user(u, None))
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(created.iter().all(Result::is_ok));
    users
}

#[tokio::test]
async fn an_org_of_2000_members_pages_completely_without_duplicates() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let members = add_members(&t, org, 2000, OrgRole::Member).await;
    let mut seen = std::collections::HashSet::new();
    let all_pages = t
        .pages(&format!("/orgs/{org}/members?limit=100"), &owner.token)
        .await;
    let pages = all_pages.len();
    for page in &all_pages {
        for m in page.body["items"].as_array().unwrap() {
            assert!(
                seen.insert(m["user_id"].as_str().unwrap().to_string()),
                "duplicate {m}"
            );
        }
    }
    assert_eq!(seen.len(), 2001, "every member (and the owner) once");
    assert!(members.iter().all(|m| seen.contains(&m.id.to_string())));
    assert!(pages >= 21);
    let org_now = t.org(&owner, org).await;
    assert_eq!(
        org_now.body["member_count"], 2001,
        "counted with each account"
    );
}

#[tokio::test]
async fn members_list_by_role_and_with_pending_invitations() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    t.member_of(org, OrgRole::Member).await;
    let pending = unique_email("pending");
    t.invite(&owner, org, &[&pending], "admin").await;

    let r = t.members(&owner, org, "?role=admin").await;
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["user_id"], admin.user.id.to_string());
    assert_eq!(items[0]["status"], "active");

    let all: Vec<serde_json::Value> = t
        .pages(
            &format!("/orgs/{org}/members?include_pending=true&limit=2"),
            &owner.token,
        )
        .await
        .iter()
        .flat_map(|page| page.body["items"].as_array().unwrap().clone())
        .collect();
    assert_eq!(all.iter().filter(|m| m["status"] == "active").count(), 3);
    let p: Vec<_> = all.iter().filter(|m| m["status"] == "pending").collect();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["email"], pending);
    assert_eq!(p[0]["role"], "admin");

    let r = t.member(&owner, org, admin.user.id).await;
    assert_eq!(r.body["email"], admin.user.email.to_string());
    let r = t.members(&owner, org, "?cursor=zz").await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn role_changes_apply_on_the_next_request_and_protect_the_owner() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    let member = t.member_of(org, OrgRole::Member).await;
    let members_uri = format!("/orgs/{org}/members");
    assert_eq!(
        t.call("GET", &members_uri, Some(&member.token), None)
            .await
            .status,
        403
    );

    let r = t.change_role(&admin, org, member.user.id, "admin").await;
    assert_eq!(
        (r.status, r.body["role"].as_str()),
        (200, Some("admin")),
        "{}",
        r.body
    );
    // The same token, the new role: no waiting for expiry.
    assert_eq!(
        t.call("GET", &members_uri, Some(&member.token), None)
            .await
            .status,
        200
    );
    let r = t.change_role(&owner, org, member.user.id, "member").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        t.call("GET", &members_uri, Some(&member.token), None)
            .await
            .status,
        403
    );

    let r = t.change_role(&admin, org, owner.user.id, "member").await;
    assert_eq!((r.status, r.code()), (409, "owner_protected"));
    let r = t.change_role(&admin, org, member.user.id, "owner").await;
    assert_eq!((r.status, r.code()), (400, "validation_failed"));
    let r = t.change_role(&member, org, member.user.id, "admin").await;
    assert_eq!(r.status, 403);
    let audit = t.app.store.list_audit(&org, 50, None).await.unwrap();
    assert_eq!(
        audit
            .items
            .iter()
            .filter(|a| a.action == "member.role_changed")
            .count(),
        2
    );
    let change = audit
        .items
        .iter()
        .find(|a| a.action == "member.role_changed")
        .unwrap();
    assert_eq!(change.after.as_ref().unwrap()["role"], "member");
    assert_eq!(change.before.as_ref().unwrap()[0]["role"], "admin");
}

#[tokio::test]
async fn bulk_role_changes_are_all_or_nothing_and_name_every_blocker() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    let members = add_members(&t, org, 100, OrgRole::Member).await;
    let (other, _) = t.org_with_owner().await;
    let outsider = t.member_of(other, OrgRole::Member).await;

    let mut ids: Vec<String> = members.iter().take(98).map(|m| m.id.to_string()).collect();
    ids.push(owner.user.id.to_string());
    ids.push(outsider.user.id.to_string());
    let audit_before = t
        .app
        .store
        .list_audit(&org, 100, None)
        .await
        .unwrap()
        .items
        .len();
    let r = t
        .bulk_role(&admin, org, json!({"user_ids": ids, "role": "admin"}))
        .await;
    assert_eq!((r.status, r.code()), (409, "bulk_refused"), "{}", r.body);
    let blockers: Vec<_> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        blockers,
        [owner.user.id.to_string(), outsider.user.id.to_string()]
    );
    let r = t.members(&admin, org, "?role=admin&limit=100").await;
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        1,
        "nothing changed"
    );
    assert_eq!(
        t.app
            .store
            .list_audit(&org, 100, None)
            .await
            .unwrap()
            .items
            .len(),
        audit_before,
        "a refused change writes nothing"
    );

    // All 100 at once (more than one DynamoDB transaction holds).
    let ids: Vec<String> = members.iter().map(|m| m.id.to_string()).collect();
    let r = t
        .bulk_role(&admin, org, json!({"user_ids": ids, "role": "admin"}))
        .await;
    assert_eq!(
        (r.status, r.body["updated"].as_u64()),
        (200, Some(100)),
        "{}",
        r.body
    );
    let r = t.members(&admin, org, "?role=admin&limit=100").await;
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        100,
        "a full page of admins"
    );
    let r = t
        .bulk_role(&admin, org, json!({"user_ids": [], "role": "admin"}))
        .await;
    assert_eq!(r.status, 400);
    let r = t
        .bulk_role(&admin, org, json!({"user_ids": ["nope"], "role": "admin"}))
        .await;
    assert_eq!(
        (r.status, r.body["errors"][0]["field"].as_str()),
        (400, Some("user_ids[0]"))
    );
}

#[tokio::test]
async fn removal_leaving_and_the_protected_owner() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    let member = t.member_of(org, OrgRole::Member).await;
    let leaver = t.member_of(org, OrgRole::Member).await;

    let r = t.remove(&admin, org, owner.user.id).await;
    assert_eq!((r.status, r.code()), (409, "owner_protected"));
    let r = t.remove(&owner, org, owner.user.id).await;
    assert_eq!(
        (r.status, r.code()),
        (409, "owner_protected"),
        "the owner cannot leave"
    );
    let r = t.remove(&member, org, admin.user.id).await;
    assert_eq!(r.status, 403, "a member removes nobody else");

    let r = t.remove(&leaver, org, leaver.user.id).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = t.remove(&admin, org, member.user.id).await;
    assert_eq!(r.status, 204);
    // Leaving and being removed are told apart in the audit log (and its events).
    let audit = t.app.store.list_audit(&org, 50, None).await.unwrap();
    let by_target = |id: roster::domain::UserId| {
        audit
            .items
            .iter()
            .filter(|a| a.target == id.to_string())
            .map(|a| a.action.as_str())
            .filter(|a| a.starts_with("member."))
            .collect::<Vec<_>>()
    };
    assert_eq!(by_target(leaver.user.id), ["member.left", "member.joined"]);
    assert_eq!(
        by_target(member.user.id),
        ["member.removed", "member.joined"]
    );
    // Access ends on the next request; the account stays and can be invited again.
    assert_eq!(t.org(&member, org).await.status, 404);
    let me = t.me(&member).await;
    assert_eq!(
        (me.status, me.body["org_id"].clone()),
        (200, serde_json::Value::Null)
    );
    let r = t
        .invite(&owner, org, &[member.user.email.as_ref()], "member")
        .await;
    assert_eq!(r.body["results"][0]["status"], "invited");
    let token = t.latest_token(member.user.email.as_ref()).await;
    let r = t.accept(&token, Joining::Password(PASSWORD)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let org_now = t.org(&owner, org).await;
    assert_eq!(org_now.body["member_count"], 3);

    // Bulk: all or nothing.
    let extra = add_members(&t, org, 3, OrgRole::Member).await;
    let mut ids: Vec<String> = extra.iter().map(|m| m.id.to_string()).collect();
    ids.push(owner.user.id.to_string());
    let r = t.bulk_remove(&admin, org, json!(ids)).await;
    assert_eq!((r.status, r.code()), (409, "bulk_refused"));
    ids.pop();
    let r = t.bulk_remove(&admin, org, json!(ids)).await;
    assert_eq!(
        (r.status, r.body["updated"].as_u64()),
        (200, Some(3)),
        "{}",
        r.body
    );
    let audit = t.app.store.list_audit(&org, 100, None).await.unwrap();
    assert_eq!(
        audit
            .items
            .iter()
            .filter(|a| a.action == "member.removed")
            .count(),
        2,
        "one removal and one bulk removal (the leave is member.left)"
    );
}

/// The members holding the owner role, read from the table itself (not the GSI).
async fn owners(t: &TestApp, org: OrgId) -> Vec<UserId> {
    let page = t
        .app
        .store
        .list_members(&org, None, 100, None)
        .await
        .unwrap();
    let ids: Vec<UserId> = page.items.iter().map(|u| u.id).collect();
    let fresh = t.app.store.get_users(&ids).await.unwrap();
    fresh
        .into_iter()
        .filter(|u| u.org_id == Some(org) && u.role == Some(OrgRole::Owner))
        .map(|u| u.id)
        .collect()
}

#[tokio::test]
async fn ownership_moves_atomically_even_under_races() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    let a = t.member_of(org, OrgRole::Member).await;
    let b = t.member_of(org, OrgRole::Member).await;

    let r = t.transfer(&admin, org, a.user.id).await;
    assert_eq!(r.status, 403, "admins cannot transfer");
    let (other, _) = t.org_with_owner().await;
    let outsider = t.member_of(other, OrgRole::Member).await;
    let r = t.transfer(&owner, org, outsider.user.id).await;
    assert_eq!(r.status, 400, "the target must be a member");

    // Two concurrent transfers by the owner: exactly one wins.
    let (ra, rb) = tokio::join!(
        t.transfer(&owner, org, a.user.id),
        t.transfer(&owner, org, b.user.id)
    );
    let wins = [ra.status, rb.status].iter().filter(|s| **s == 200).count();
    assert_eq!(wins, 1, "{} / {}", ra.body, rb.body);
    let now_owner = owners(&t, org).await;
    assert_eq!(now_owner.len(), 1);
    let org_now = t.app.store.get_org(&org).await.unwrap().unwrap();
    assert_eq!(org_now.owner_id, Some(now_owner[0]));
    let me = t.me(&owner).await;
    assert_eq!(
        me.body["role"], "admin",
        "the previous owner is an admin now"
    );

    // A transfer racing a removal of its target: never zero or two owners.
    let new_owner = if now_owner[0] == a.user.id { &a } else { &b };
    let target = t.member_of(org, OrgRole::Member).await;
    let remove_uri = format!("/orgs/{org}/members/{}", target.user.id);
    let (rt, rr) = tokio::join!(
        t.transfer(&new_owner, org, target.user.id),
        t.call("DELETE", &remove_uri, Some(&admin.token), None)
    );
    let final_owners = owners(&t, org).await;
    assert_eq!(
        final_owners.len(),
        1,
        "transfer {} / remove {}",
        rt.status,
        rr.status
    );
    assert_eq!(
        t.app.store.get_org(&org).await.unwrap().unwrap().owner_id,
        Some(final_owners[0])
    );
    let audit = t.app.store.list_audit(&org, 100, None).await.unwrap();
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.action == "org.ownership_transferred")
    );
}

#[tokio::test]
async fn users_are_managed_directly_within_the_rules() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    let member = t.member_of(org, OrgRole::Member).await;
    let (other, _) = t.org_with_owner().await;

    let new = |email: &str, extra: serde_json::Value| {
        let mut body = json!({"email": email, "name": "Direct User", "password": PASSWORD});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    // Org admins: own org, admin or member only.
    let e1 = unique_email("direct");
    let r = t
        .create_user_via_api(&admin, new(&e1, json!({"role": "admin"})))
        .await;
    assert_eq!(
        (r.status, r.body["org_id"].as_str()),
        (201, Some(org.to_string().as_str())),
        "{}",
        r.body
    );
    assert!(r.body.get("password_hash").is_none());
    let created = r.body["id"].as_str().unwrap().to_string();
    t.login(&e1).await;
    let r = t
        .create_user_via_api(&admin, new(&unique_email("x"), json!({"org_id": other})))
        .await;
    assert_eq!(r.status, 404);
    let r = t
        .create_user_via_api(&admin, new(&unique_email("x"), json!({"role": "owner"})))
        .await;
    assert_eq!(r.status, 400);
    let r = t
        .create_user_via_api(
            &admin,
            new(&unique_email("x"), json!({"platform_admin": true})),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = t
        .create_user_via_api(&member, new(&unique_email("x"), json!({})))
        .await;
    assert_eq!(r.status, 403);
    let r = t.create_user_via_api(&admin, new(&e1, json!({}))).await;
    assert_eq!((r.status, r.code()), (409, "email_taken"));

    // Platform admins: any org, and platform admins with no org.
    let r = t
        .create_user_via_api(
            &root,
            new(
                &unique_email("y"),
                json!({"org_id": other, "role": "admin"}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let pa = unique_email("pa");
    let r = t
        .create_user_via_api(&root, new(&pa, json!({"platform_admin": true})))
        .await;
    assert_eq!(
        (r.status, r.body["platform_admin"].as_bool()),
        (201, Some(true)),
        "{}",
        r.body
    );
    let r = t
        .call(
            "GET",
            "/users?platform_admins=true",
            Some(&root.token),
            None,
        )
        .await;
    assert!(
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == pa.as_str()),
        "{}",
        r.body
    );
    let r = t
        .call(
            "GET",
            &format!("/users?org_id={org}"),
            Some(&root.token),
            None,
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 4);
    let r = t.call("GET", "/users", Some(&admin.token), None).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 4, "own org only");
    let r = t
        .call(
            "GET",
            &format!("/users?org_id={other}"),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = t
        .call(
            "GET",
            "/users?platform_admins=true",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(r.status, 403);

    // Edit: name, unique email, password (ends the user's sessions), role; never the owner.
    let session = t.login(&e1).await;
    let e2 = unique_email("renamed");
    let r = t
        .update_user(
            &admin,
            &created,
            json!({"name": "Renamed", "email": e2, "role": "member"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["email"].as_str(), r.body["role"].as_str()),
        (200, Some(e2.as_str()), Some("member")),
        "{}",
        r.body
    );
    let r = t
        .update_user(&admin, &created, json!({"email": member.user.email}))
        .await;
    assert_eq!((r.status, r.code()), (409, "email_taken"));
    assert_eq!(t.me(&session).await.status, 200, "no password change yet");
    let r = t
        .update_user(
            &admin,
            &created,
            json!({"password": "another long password"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(t.me(&session).await.status, 401, "sessions ended");
    let r = t.sign_in(&e2, "another long password").await;
    assert_eq!(r.status, 200);
    let r = t
        .update_user(&admin, owner.user.id, json!({"name": "Hijack"}))
        .await;
    assert_eq!(r.status, 403);
    // The freed email can register again.
    let r = t.create_user_via_api(&admin, new(&e1, json!({}))).await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Delete: account, membership and sessions go; the email is free; never the owner.
    let r = t.delete_user(&root, owner.user.id).await;
    assert_eq!((r.status, r.code()), (409, "owner_protected"));
    let r = t.delete_user(&admin, &created).await;
    assert_eq!(r.status, 204);
    assert_eq!(t.user(&root, &created).await.status, 404);
    let r = t.sign_in(&e2, "another long password").await;
    assert_eq!(r.status, 401);
    let r = t
        .create_user_via_api(&root, new(&e2, json!({"org_id": org})))
        .await;
    assert_eq!(r.status, 201, "the email is free again: {}", r.body);
    let audit = t.app.store.list_audit(&org, 100, None).await.unwrap();
    for action in ["user.created", "user.updated", "user.deleted"] {
        assert!(audit.items.iter().any(|a| a.action == action), "{action}");
    }
}

#[tokio::test]
async fn one_email_one_account_even_when_created_concurrently() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let (org, _) = t.org_with_owner().await;
    let email = unique_email("twin");
    let body = json!({"email": email, "name": "Twin", "password": PASSWORD, "org_id": org});
    let calls = (0..5).map(|_| t.create_user_via_api(&root, body.clone()));
    let replies = futures_util::future::join_all(calls).await;
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1);
    assert!(
        replies
            .iter()
            .filter(|r| r.status != 201)
            .all(|r| r.code() == "email_taken")
    );
}

#[tokio::test]
async fn the_audit_log_lists_newest_first_for_managers_only() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let member = t.member_of(org, OrgRole::Member).await;
    t.update_org(&owner, org, json!({"name": "Audited"})).await;
    t.invite(&owner, org, &[&unique_email("aud")], "member")
        .await;
    let r = t.audit(&owner, org, "?limit=2").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items[0]["action"], "invitation.sent");
    assert_eq!(items[1]["action"], "org.updated");
    assert_eq!(items[0]["actor"], owner.user.id.to_string());
    let next = r.body["next_cursor"].as_str().unwrap();
    let r = t
        .call(
            "GET",
            &format!("/orgs/{org}/audit?limit=10&cursor={next}"),
            Some(&owner.token),
            None,
        )
        .await;
    let actions: Vec<_> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap().to_string())
        .collect();
    assert!(
        actions.contains(&"org.created".to_string())
            && actions.contains(&"user.created".to_string()),
        "{actions:?}"
    );
    assert_eq!(t.audit(&member, org, "").await.status, 403);
    let (other, other_owner) = t.org_with_owner().await;
    assert_eq!(t.audit(&other_owner, org, "").await.status, 404);
    let _ = other;
}

#[tokio::test]
async fn a_platform_admin_gives_an_ownerless_organization_its_first_owner() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    // Created with an owner invitation that nobody accepts (yet).
    let invited = unique_email("would-be-owner");
    let r = t
        .create_org(
            &root,
            json!({"name": "Ownerless", "code": common::unique_code(), "owner_email": invited}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["owner_id"].clone()),
        (201, serde_json::Value::Null)
    );
    let org = OrgId::parse(r.body["id"].as_str().unwrap()).unwrap();
    let owner_invitation = r.body["owner_invitation"]["invitation_id"]
        .as_str()
        .expect("owner invitation")
        .to_string();
    let first = t.member_of(org, OrgRole::Member).await;
    let admin = t.member_of(org, OrgRole::Admin).await;

    let r = t.transfer(&admin, org, first.user.id).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
    assert!(owners(&t, org).await.is_empty());

    let r = t.transfer(&root, org, first.user.id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["owner_id"], first.user.id.to_string());
    assert_eq!(owners(&t, org).await, vec![first.user.id]);
    let stored = t.app.store.get_org(&org).await.unwrap().unwrap();
    assert_eq!(stored.owner_id, Some(first.user.id));
    let audit = t.app.store.list_audit(&org, 100, None).await.unwrap();
    let entry = audit
        .items
        .iter()
        .find(|e| e.action == "org.ownership_transferred")
        .expect("audit entry");
    assert_eq!(entry.before, Some(json!({"owner_id": null})));
    // The owner invitation could only be refused now: it is revoked, not left pending.
    let r = t.invitation(&root, org, &owner_invitation).await;
    assert_eq!(r.body["status"], "revoked", "{}", r.body);
    let r = t.invitations(&root, org, "?status=pending").await;
    assert_eq!(r.body["items"], json!([]), "{}", r.body);
    assert!(audit.items.iter().any(|e| e.action == "invitation.revoked"));
    let link = t.latest_token(&invited).await;
    let r = t.accept(&link, Joining::New("Late", PASSWORD)).await;
    assert_eq!(
        (r.status, r.code()),
        (410, "invitation_revoked"),
        "{}",
        r.body
    );
    // The admin's role is untouched: there was no previous owner to demote.
    let me = t.me(&admin).await;
    assert_eq!(me.body["role"], "admin");

    // From then on, ownership moves as usual; the new owner can hand it on.
    let r = t.transfer(&first, org, admin.user.id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(owners(&t, org).await, vec![admin.user.id]);
    let me = t.me(&first).await;
    assert_eq!(me.body["role"], "admin");
}

/// A platform admin who belongs to the organization can take its ownership: the caller's
/// check and the target's update are one item, written once.
#[tokio::test]
async fn a_platform_admin_member_takes_ownership_themself() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let email = unique_email("root-member");
    t.create_user(&email, Some((org, OrgRole::Member)), true)
        .await;
    let root = t.login(&email).await;
    let r = t.transfer(&root, org, root.user.id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(owners(&t, org).await, vec![root.user.id]);
    let me = t.me(&owner).await;
    assert_eq!(me.body["role"], "admin");
}

/// The member list's entries, page by page, following the cursors.
async fn member_pages(t: &TestApp, uri: &str, token: &str) -> Vec<Vec<serde_json::Value>> {
    t.pages(uri, token)
        .await
        .iter()
        .map(|p| p.body["items"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn sizes(pages: &[Vec<serde_json::Value>]) -> Vec<usize> {
    pages.iter().map(Vec::len).collect()
}

#[tokio::test]
async fn the_member_list_with_pending_invitations_fills_every_page() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    t.member_of(org, OrgRole::Admin).await;
    let invited = unique_email("pending");
    let r = t.invite(&owner, org, &[&invited], "member").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let base = format!("/orgs/{org}/members?include_pending=true");

    // 2 members + 1 pending: one page of 3, no cursor.
    let r = t
        .call("GET", &format!("{base}&limit=50"), Some(&owner.token), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    let status: Vec<&str> = items
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["active", "active", "pending"]);
    assert_eq!(r.body["next_cursor"], serde_json::Value::Null);
    let all = member_pages(&t, &format!("{base}&limit=3"), &owner.token).await;
    assert_eq!(sizes(&all), [3]);
    // The members fill a page exactly: the cursor leads to the pending one.
    let all = member_pages(&t, &format!("{base}&limit=2"), &owner.token).await;
    assert_eq!(sizes(&all), [2, 1]);
    assert_eq!(all[1][0]["email"], invited);
    let all = member_pages(&t, &format!("{base}&limit=1"), &owner.token).await;
    assert_eq!(sizes(&all), [1, 1, 1]);

    // A cursor inside the pending part: 2 members + 3 pending by 3 is [m m p] [p p].
    let more = [unique_email("p2"), unique_email("p3")];
    let more: Vec<&str> = more.iter().map(String::as_str).collect();
    t.invite(&owner, org, &more, "admin").await;
    let all = member_pages(&t, &format!("{base}&limit=3"), &owner.token).await;
    assert_eq!(sizes(&all), [3, 2]);
    let emails: std::collections::HashSet<&str> = all
        .iter()
        .flatten()
        .filter(|e| e["status"] == "pending")
        .map(|e| e["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails.len(), 3, "each pending invitation once: {all:?}");
    let all = member_pages(&t, &format!("{base}&limit=4"), &owner.token).await;
    assert_eq!(sizes(&all), [4, 1]);
    let all = member_pages(&t, &format!("{base}&limit=5"), &owner.token).await;
    assert_eq!(sizes(&all), [5]);

    // A role filter applies to both parts, and still fills the page.
    let all = member_pages(&t, &format!("{base}&role=admin&limit=50"), &owner.token).await;
    assert_eq!(sizes(&all), [3], "1 admin and 2 admin invitations: {all:?}");
    let all = member_pages(&t, &format!("{base}&role=admin&limit=1"), &owner.token).await;
    assert_eq!(sizes(&all), [1, 1, 1]);
    let all = member_pages(&t, &format!("{base}&role=member&limit=1"), &owner.token).await;
    assert_eq!(
        sizes(&all),
        [1],
        "no member role, one member invitation: {all:?}"
    );
}

/// Pages of `uri` (which has a query string) at `limit`: their sizes, and that the last has
/// no cursor (`pages` follows cursors until there is none).
async fn page_sizes(t: &TestApp, uri: &str, limit: usize, token: &str) -> Vec<usize> {
    let pages = t.pages(&format!("{uri}&limit={limit}"), token).await;
    pages
        .iter()
        .map(|p| p.body["items"].as_array().map(Vec::len).unwrap_or(0))
        .collect()
}

#[tokio::test]
async fn every_list_has_a_cursor_only_when_more_remain() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    t.member_of(org, OrgRole::Member).await;
    t.create_user(&unique_email("root2"), None, true).await;
    t.org_with_owner().await;
    let emails = [unique_email("i1"), unique_email("i2")];
    let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
    t.invite(&owner, org, &emails, "member").await;
    // (list, caller, how many it holds)
    let audit = t.app.store.list_audit(&org, 100, None).await.unwrap();
    let lists = [
        (format!("/orgs/{org}/members?role=member"), &owner, 1),
        (
            format!("/orgs/{org}/members?include_pending=false"),
            &owner,
            2,
        ),
        (format!("/orgs/{org}/invitations?status=pending"), &owner, 2),
        (format!("/orgs/{org}/invitations?x=1"), &owner, 2),
        (format!("/orgs/{org}/audit?x=1"), &owner, audit.items.len()),
        ("/orgs?x=1".to_string(), &root, 2),
        (format!("/users?org_id={org}"), &root, 2),
        ("/users?platform_admins=true".to_string(), &root, 2),
    ];
    let mut wrong = Vec::new();
    for (uri, who, total) in lists {
        assert!(total >= 1, "{uri}");
        let mut expected = vec![(total, vec![total]), (total + 1, vec![total])];
        if total > 1 {
            expected.push((total - 1, vec![total - 1, 1]));
        }
        for (limit, sizes) in expected {
            let got = page_sizes(&t, &uri, limit, &who.token).await;
            if got != sizes {
                wrong.push(format!(
                    "{uri} limit={limit}: pages {got:?}, expected {sizes:?}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The edge parses completely: an anonymous request is refused (401) before its body is
/// looked at, and a signed-in caller's malformed request gets its 400 before the 403 or 404
/// its reads would lead to (docs/architecture.md, "Order of refusals").
#[tokio::test]
async fn refusals_come_in_order_anonymous_then_malformed_then_forbidden() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let member = t.member_of(org, OrgRole::Member).await;
    let path = format!("/orgs/{org}/members/{}", owner.user.id);
    let owner_role = Some(json!({"role": "owner"}));

    let r = t.call("PATCH", &path, None, owner_role.clone()).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"), "{}", r.body);

    // A plain member may change no role (403), but a role that cannot be given is 400 first.
    let r = t
        .call("PATCH", &path, Some(&member.token), owner_role.clone())
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "role", "{}", r.body);
    let r = t
        .call(
            "PATCH",
            &path,
            Some(&member.token),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);

    // Another organization's id: 400 for the malformed body before the 404.
    let elsewhere = format!("/orgs/{}/members/bulk-remove", OrgId::new());
    let r = t
        .call(
            "POST",
            &elsewhere,
            Some(&member.token),
            Some(json!({"user_ids": ["x"]})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "user_ids[0]", "{}", r.body);
    let r = t
        .call(
            "POST",
            &elsewhere,
            Some(&member.token),
            Some(json!({"user_ids": [member.user.id]})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
}

/// A platform admin who leaves an organization (removed, or detached when it is deleted)
/// stays on the platform-admin list: the membership's index attributes give way to the
/// list's, not to nothing.
#[tokio::test]
async fn a_platform_admin_removed_or_detached_from_an_org_stays_a_listed_platform_admin() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let listed = |id: UserId| {
        let (t, root) = (&t, &root);
        async move {
            t.pages("/users?platform_admins=true&limit=50", &root.token)
                .await
                .iter()
                .flat_map(|p| p.body["items"].as_array().cloned().unwrap_or_default())
                .any(|u| u["id"] == id.to_string())
        }
    };
    let (org, owner) = t.org_with_owner().await;
    let removed = t
        .create_user(
            &unique_email("admin-member"),
            Some((org, OrgRole::Member)),
            true,
        )
        .await;
    let detached = t
        .create_user(
            &unique_email("admin-member"),
            Some((org, OrgRole::Admin)),
            true,
        )
        .await;
    assert!(
        !listed(removed.id).await,
        "a member is listed with their org"
    );

    let r = t.remove(&root, org, removed.id).await;
    assert!((200..300).contains(&r.status), "{}", r.body);
    assert!(listed(removed.id).await, "removed, still a platform admin");

    let r = t.delete_org(&owner, org).await;
    assert!((200..300).contains(&r.status), "{}", r.body);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    roster::services::cleanup::run(&t.app, deadline)
        .await
        .unwrap();
    assert!(
        listed(detached.id).await,
        "detached, still a platform admin"
    );
    assert!(!listed(owner.user.id).await, "the owner never was one");
}
