//! Accepting and declining invitations: new and existing accounts, proofs of identity,
//! races, and the scheduled cleanup of expired invitations.

use crate::common;

use common::{Joining, PASSWORD, TestApp, unique_email};
use roster::domain::OrgRole;
use serde_json::json;

#[tokio::test]
async fn a_new_address_creates_its_account_and_is_signed_in() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let to = unique_email("newbie");
    t.invite(&owner, org, &[&to], "admin").await;
    let token = t.latest_token(&to).await;

    let r = t.preview(&token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["org_name"], "Acme");
    assert_eq!(r.body["role"], "admin");
    assert_eq!(r.body["inviter"], owner.user.name);
    assert_eq!(r.body["email"], to);
    assert_eq!(r.body["status"], "pending");
    assert_eq!(r.body["account_exists"], false);
    assert!(r.body["expires_at"].is_string());

    let r = t.accept(&token, Joining::LinkOnly).await;
    assert_eq!(
        r.status, 400,
        "a new account needs a name and a password: {}",
        r.body
    );
    let fields: Vec<_> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["name", "password"]);
    let r = t.accept(&token, Joining::New("New", "short")).await;
    assert_eq!(r.body["errors"][0]["field"], "password");

    t.app.calls.take();
    let r = t.accept(&token, Joining::New("New Person", PASSWORD)).await;
    let calls = t.app.calls.take();
    println!("accept (new account): {calls:?}");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        calls.get("dynamodb.TransactWriteItems"),
        1,
        "one transaction: {calls:?}"
    );
    assert_eq!(r.body["user"]["org_id"], org.to_string());
    assert_eq!(r.body["user"]["role"], "admin");
    let me = t.me(&r.body["access_token"].as_str().unwrap()).await;
    assert_eq!(me.body["email"], to);
    t.login(&to).await;

    let org_now = t.org(&owner, org).await;
    assert_eq!(org_now.body["member_count"], 2);
    let again = t.accept(&token, Joining::New("New Person", PASSWORD)).await;
    assert_eq!(
        (again.status, again.code()),
        (409, "invitation_already_accepted")
    );

    // The change is in the audit log, in the same transaction.
    let audit = t.app.store.list_audit(&org, 50, None).await.unwrap();
    let actions: Vec<_> = audit.items.iter().map(|a| a.action.as_str()).collect();
    let invitation_actions: Vec<_> = actions
        .into_iter()
        .filter(|a| a.starts_with("invitation."))
        .collect();
    assert_eq!(
        invitation_actions,
        ["invitation.accepted", "invitation.sent"]
    );
    // The join is its own entry (and event), naming the new member.
    let joined = t.audit_entries(org, "member.joined").await;
    assert_eq!(joined.len(), 1, "one member.joined entry");
    assert_eq!(joined[0].target, me.body["id"].as_str().unwrap_or_default());
    // Inviting the member again says so.
    let r = t.invite(&owner, org, &[&to], "member").await;
    assert_eq!(r.body["results"][0]["status"], "already_member");
}

#[tokio::test]
async fn an_existing_account_proves_itself_by_password_or_bearer() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let solo = t.user_without_org().await;
    let email = solo.user.email.to_string();
    t.invite(&owner, org, &[&email], "member").await;
    let token = t.latest_token(&email).await;
    let r = t.preview(&token).await;
    assert_eq!(r.body["account_exists"], true);

    let r = t.accept(&token, Joining::Password("not my password")).await;
    assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
    let stranger = t.user_without_org().await;
    let r = t.accept(&token, Joining::SignedIn(&stranger)).await;
    assert_eq!((r.status, r.code()), (403, "email_mismatch"), "{}", r.body);
    let r = t.accept(&token, Joining::SignedIn(&solo)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["id"], solo.user.id.to_string());
    assert_eq!(r.body["user"]["role"], "member");

    // Someone else with a password, no bearer.
    let other = t.user_without_org().await;
    t.invite(&owner, org, &[other.user.email.as_ref()], "member")
        .await;
    let token = t.latest_token(other.user.email.as_ref()).await;
    let r = t.accept(&token, Joining::Password(PASSWORD)).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_member_of_another_organization_cannot_accept() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let (other, _) = t.org_with_owner().await;
    let busy = t.member_of(other, OrgRole::Member).await;
    t.invite(&owner, org, &[busy.user.email.as_ref()], "member")
        .await;
    let token = t.latest_token(busy.user.email.as_ref()).await;
    let r = t.accept(&token, Joining::SignedIn(&busy)).await;
    assert_eq!(
        (r.status, r.code()),
        (409, "member_of_another_organization"),
        "{}",
        r.body
    );
    let r = t.accept(&token, Joining::Password(PASSWORD)).await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn ten_concurrent_accepts_of_one_token_admit_exactly_one() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let to = unique_email("rush");
    t.invite(&owner, org, &[&to], "member").await;
    let token = t.latest_token(&to).await;
    let body = json!({"token": token, "name": "Rush", "password": PASSWORD});
    let calls = (0..10).map(|_| t.call("POST", "/invitations/accept", None, Some(body.clone())));
    let replies = futures_util::future::join_all(calls).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.code().to_string()))
            .collect::<Vec<_>>()
    );
    assert!(
        replies
            .iter()
            .filter(|r| r.status != 200)
            .all(|r| r.status == 409),
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    let org_now = t.org(&owner, org).await;
    assert_eq!(org_now.body["member_count"], 2, "counted once");
}

#[tokio::test]
async fn declining_kills_the_link_and_the_org_can_invite_again() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let to = unique_email("nope");
    t.invite(&owner, org, &[&to], "member").await;
    let token = t.latest_token(&to).await;
    let r = t.decline(&token).await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (200, Some("declined")),
        "{}",
        r.body
    );
    let r = t.accept(&token, Joining::New("N", PASSWORD)).await;
    assert_eq!((r.status, r.code()), (410, "invitation_declined"));
    let r = t.decline(&token).await;
    assert_eq!(r.status, 410);
    let r = t.invite(&owner, org, &[&to], "member").await;
    assert_eq!(
        r.body["results"][0]["status"], "invited",
        "a new invitation, not a resend: {}",
        r.body
    );
    let audit = t.app.store.list_audit(&org, 50, None).await.unwrap();
    assert!(
        audit
            .items
            .iter()
            .any(|a| a.action == "invitation.declined" && a.target == to)
    );
    let r = t.decline("garbage").await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn cleanup_expires_only_what_is_due_and_is_idempotent() {
    // 1,050 invitations in one day: over the default daily limit of 1,000.
    let t = TestApp::spawn_with(|c| c.invitations_per_org_per_day = 10_000).await;
    let (org, owner) = t.org_with_owner().await;
    // 1,000 live invitations, 10 bulk requests.
    for batch in 0..10 {
        let emails: Vec<String> = (0..100)
            .map(|i| format!("live-{batch}-{i}@example.com"))
            .collect();
        let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
        let r = t.invite(&owner, org, &refs, "member").await;
        assert_eq!(r.status, 200);
    }
    // 50 more, then moved into the past as time passing would.
    let emails: Vec<String> = (0..50).map(|i| format!("due-{i}@example.com")).collect();
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    let r = t.invite(&owner, org, &refs, "member").await;
    for res in r.body["results"].as_array().unwrap() {
        common::expire_now(&t, org, res["invitation_id"].as_str().unwrap()).await;
    }

    t.app.calls.take();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    let report = roster::services::cleanup::run(&t.app, deadline)
        .await
        .unwrap();
    let calls = t.app.calls.take();
    println!("cleanup with 1,000 live and 50 due: {report:?} {calls:?}");
    assert_eq!(report.invitations_expired, 50);
    assert!(!report.stopped_early);
    assert_eq!(calls.get("dynamodb.TransactWriteItems"), 50, "{calls:?}");
    assert!(
        calls.get("dynamodb.Query") <= 17,
        "one query per shard (+1 for deleting orgs): {calls:?}"
    );
    assert_eq!(calls.get("dynamodb.Scan"), 0);

    // Listed as expired (following cursors: a filtered page reads at most 10 pages).
    let mut expired = 0;
    for page in t
        .pages(
            &format!("/orgs/{org}/invitations?status=expired&limit=100"),
            &owner.token,
        )
        .await
    {
        let items = page.body["items"].as_array().unwrap();
        assert!(items.iter().all(|i| i["status"] == "expired"));
        expired += items.len();
    }
    assert_eq!(expired, 50);
    let audit = t.app.store.list_audit(&org, 100, None).await.unwrap();
    assert_eq!(
        audit
            .items
            .iter()
            .filter(|a| a.action == "invitation.expired")
            .count(),
        50
    );
    assert!(
        audit
            .items
            .iter()
            .filter(|a| a.action == "invitation.expired")
            .all(|a| a.actor.is_none())
    );

    // Again: nothing to do, and nothing written.
    let report = roster::services::cleanup::run(&t.app, deadline)
        .await
        .unwrap();
    let calls = t.app.calls.take();
    assert_eq!(report.invitations_expired, 0);
    assert!(calls.get("dynamodb.TransactWriteItems") == 0, "{calls:?}");

    // A deadline already passed stops it at once, reporting the early stop.
    let report = roster::services::cleanup::run(&t.app, tokio::time::Instant::now())
        .await
        .unwrap();
    assert!(report.stopped_early);
}

/// Accepting with a name and a password (the new-account form) for an email that already
/// has an account. The new account is attempted first and refused by the email's claim in
/// the same transaction; then the existing account is looked up and the password must
/// prove it: the right one accepts as that account (the name is ignored, nothing about the
/// account changes, no second account exists), a wrong one is a 401 and changes nothing.
#[tokio::test]
async fn a_name_and_password_for_an_existing_email_accept_as_that_account_or_not_at_all() {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    use roster::storage::keys;
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let existing = t.user_without_org().await;
    let email = existing.user.email.to_string();
    t.invite(&owner, org, &[&email], "member").await;
    let token = t.latest_token(&email).await;
    let accounts = || async {
        let by_email = t
            .dynamo
            .query()
            .table_name(&t.app.config.table_name)
            .index_name(keys::GSI2)
            .key_condition_expression("gsi2pk = :pk")
            .expression_attribute_values(":pk", V::S(keys::email_pk(&existing.user.email)))
            .send()
            .await
            .unwrap();
        let claim = t
            .dynamo
            .get_item()
            .table_name(&t.app.config.table_name)
            .key("pk", V::S(keys::email_pk(&existing.user.email)))
            .key("sk", V::S(keys::EMAIL_SK.into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        let ids: Vec<String> = by_email
            .items()
            .iter()
            .filter_map(|i| i.get("id").and_then(|v| v.as_s().ok()).cloned())
            .collect();
        let owner = claim
            .item()
            .and_then(|i| i.get("owner"))
            .and_then(|v| v.as_s().ok())
            .cloned();
        (ids, owner)
    };
    let one = (
        vec![existing.user.id.to_string()],
        Some(existing.user.id.to_string()),
    );
    assert_eq!(accounts().await, one);

    let r = t
        .accept(
            &token,
            Joining::New("Someone Else", "not the password at all"),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (401, "invalid_credentials"),
        "{}",
        r.body
    );
    assert_eq!(accounts().await, one, "no second account");
    let preview = t.preview(&token).await;
    assert_eq!(preview.body["status"], "pending", "the link still works");
    let me = t.me(&existing).await;
    assert_eq!(me.body["org_id"], serde_json::Value::Null);

    let r = t
        .accept(&token, Joining::New("Someone Else", PASSWORD))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["id"], existing.user.id.to_string());
    assert_eq!(
        r.body["user"]["name"], existing.user.name,
        "the name is ignored"
    );
    assert_eq!(r.body["user"]["org_id"], org.to_string());
    assert_eq!(r.body["user"]["role"], "member");
    assert_eq!(accounts().await, one, "still one account");
    let stored = t
        .app
        .store
        .get_user(&existing.user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.org_id, stored.role),
        (
            existing.user.name.as_str(),
            Some(org),
            Some(OrgRole::Member)
        )
    );
    // Its password and its other sessions are as they were.
    assert_eq!(stored.password_hash, existing.user.password_hash);
    let me = t.me(&existing).await;
    assert_eq!((me.status, me.body["role"].clone()), (200, json!("member")));
    t.login(&email).await;
    let org_now = t.app.store.get_org(&org).await.unwrap().unwrap();
    assert_eq!(org_now.member_count, 2);
}
