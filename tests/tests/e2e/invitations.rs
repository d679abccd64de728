//! Invitations end to end against the emulator: bulk invite, email, resend, tokens,
//! listing, revoke, expiry, SES failure, and the owner invitation.

use crate::common;

use common::{Anonymous, Joining, TestApp, unique_code, unique_email};
use roster::domain::OrgRole;
use serde_json::json;

#[tokio::test]
async fn admins_invite_in_bulk_with_one_result_per_address() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    let existing = t.member_of(org, OrgRole::Member).await;
    let a = unique_email("inv-a");
    let b = unique_email("inv-b");
    let emails = vec![
        format!("  {}  ", a.to_uppercase()),
        a.clone(),
        b.clone(),
        "not-an-email".to_string(),
        existing.user.email.to_string(),
    ];
    let r = t.invite(&admin, org, &emails, "member").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let results = r.body["results"].as_array().unwrap();
    let status_of = |e: &str| {
        results
            .iter()
            .find(|x| x["email"] == e)
            .map(|x| x["status"].as_str().unwrap().to_string())
    };
    assert_eq!(
        results.len(),
        4,
        "trimmed, lower-cased and de-duplicated: {}",
        r.body
    );
    assert_eq!(status_of(&a).as_deref(), Some("invited"));
    assert_eq!(status_of(&b).as_deref(), Some("invited"));
    assert_eq!(status_of("not-an-email").as_deref(), Some("invalid"));
    assert!(
        results
            .iter()
            .any(|x| x["status"] == "invalid" && x["reason"].as_str().unwrap().contains("email"))
    );
    assert_eq!(
        status_of(existing.user.email.as_ref()).as_deref(),
        Some("already_member")
    );
    assert!(
        results
            .iter()
            .filter(|x| x["status"] == "invited")
            .all(|x| x["email_delivery"] == "sent")
    );

    // One email each, naming the org, the inviter, the role and the expiry, with the link.
    let mails = t.mails_to(&a).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.source, t.app.config.ses_from_address);
    assert!(
        mail.subject.contains("Acme") && mail.subject.contains(&admin.user.name),
        "{}",
        mail.subject
    );
    assert!(
        mail.html.contains("member") && mail.html.contains("expires at"),
        "{}",
        mail.html
    );
    assert!(
        mail.html
            .contains(&format!("{}/invite?token=", t.app.config.app_base_url))
    );

    // Members cannot invite; another org's admin cannot see this org at all.
    let r = t
        .invite(&existing, org, &[&unique_email("x")], "member")
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let (other, _) = t.org_with_owner().await;
    let outsider = t.member_of(other, OrgRole::Admin).await;
    let r = t
        .invite(&outsider, org, &[&unique_email("x")], "member")
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = t.invite(&Anonymous, org, &["a@b.co"], "member").await;
    assert_eq!(r.status, 401);
    drop(owner);
}

#[tokio::test]
async fn invite_requests_are_validated() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let many: Vec<String> = (0..101).map(|i| format!("p{i}@example.com")).collect();
    for (body, field) in [
        (json!({"emails": [], "role": "member"}), "emails"),
        (json!({"emails": many, "role": "member"}), "emails"),
        (
            json!({"emails": ["a@example.com"], "role": "owner"}),
            "role",
        ),
        (
            json!({"emails": ["a@example.com"], "role": "member", "expires_in_seconds": 299}),
            "expires_in_seconds",
        ),
        (
            json!({"emails": ["a@example.com"], "role": "member", "expires_in_seconds": 2_592_001}),
            "expires_in_seconds",
        ),
        (
            json!({"emails": "a@example.com", "role": "member"}),
            "emails",
        ),
    ] {
        let r = t
            .call(
                "POST",
                &format!("/orgs/{org}/invitations"),
                Some(&owner.token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (400, "validation_failed"),
            "{body}: {}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.body);
    }
}

#[tokio::test]
async fn org_names_are_escaped_in_the_email() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let r = t
        .create_org(
            &root,
            json!({"name": "<script>alert('x')</script>", "code": unique_code()}),
        )
        .await;
    let org = roster::domain::OrgId::parse(r.body["id"].as_str().unwrap()).unwrap();
    let to = unique_email("esc");
    assert_eq!(t.invite(&root, org, &[&to], "admin").await.status, 200);
    let mail = &t.mails_to(&to).await[0];
    assert!(!mail.html.contains("<script>"), "{}", mail.html);
    assert!(
        mail.html
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
        "{}",
        mail.html
    );
}

#[tokio::test]
async fn inviting_again_resends_with_a_new_link_and_kills_the_old_one() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let to = unique_email("again");
    let first = t.invite(&owner, org, &[&to], "member").await;
    let id = first.body["results"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let old = t.latest_token(&to).await;
    let before = t.invitation(&owner, org, &id).await;

    let second = t.invite(&owner, org, &[&to], "admin").await;
    assert_eq!(
        second.body["results"][0]["status"], "resent",
        "{}",
        second.body
    );
    assert_eq!(second.body["results"][0]["invitation_id"], id.as_str());
    let new = t.latest_token(&to).await;
    assert_ne!(old, new);
    assert_eq!(t.mails_to(&to).await.len(), 2);

    let after = t.invitation(&owner, org, &id).await;
    assert_eq!(after.body["send_count"], 2);
    assert_eq!(after.body["role"], "admin");
    assert!(after.body["expires_at"].as_str() >= before.body["expires_at"].as_str());

    let r = t.preview(&old).await;
    assert_eq!(
        (r.status, r.code()),
        (410, "invitation_superseded"),
        "{}",
        r.body
    );
    let r = t.accept(&old, Joining::New("Old", common::PASSWORD)).await;
    assert_eq!(r.status, 410);
    let r = t.preview(&new).await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (200, Some("pending")),
        "{}",
        r.body
    );

    // The explicit resend route does the same.
    let r = t.resend(&owner, org, &id).await;
    assert_eq!(
        (r.status, r.body["send_count"].as_u64()),
        (200, Some(3)),
        "{}",
        r.body
    );
    let r = t.preview(&new).await;
    assert_eq!(r.status, 410);
}

#[tokio::test]
async fn tokens_are_never_stored_in_plain_text_and_never_pass_as_access_tokens() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let to = unique_email("plain");
    t.invite(&owner, org, &[&to], "member").await;
    let token = t.latest_token(&to).await;
    let nonce = token.split('.').nth(1).unwrap().to_string();
    assert!(nonce.len() >= 43, "at least 256 bits");

    // Read the raw table (a test may Scan; the code never does).
    let scan = t
        .dynamo
        .scan()
        .table_name(&t.app.config.table_name)
        .send()
        .await
        .unwrap();
    let dump = format!("{:?}", scan.items());
    assert!(!dump.contains(&nonce), "the raw nonce is in the table");
    assert!(!dump.contains(&token));
    assert!(
        !dump.contains(&owner.refresh),
        "refresh tokens are stored hashed too"
    );

    let r = t.me(&token).await;
    assert_eq!(r.status, 401, "an invitation token is not an access token");
    let r = t.preview(&owner.token).await;
    assert_eq!(r.status, 404, "an access token is not an invitation token");
    let r = t.accept(&owner.token, Joining::LinkOnly).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn listing_filters_by_status_pages_and_revokes() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let emails: Vec<String> = (0..5).map(|i| unique_email(&format!("l{i}"))).collect();
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    let r = t.invite(&owner, org, &refs, "member").await;
    let ids: Vec<String> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["invitation_id"].as_str().unwrap().to_string())
        .collect();

    // Revoke one: its link fails.
    let token = t.latest_token(&emails[0]).await;
    let r = t.revoke(&owner, org, &ids[0]).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = t.accept(&token, Joining::New("N", common::PASSWORD)).await;
    assert_eq!(
        (r.status, r.code()),
        (410, "invitation_revoked"),
        "{}",
        r.body
    );
    let r = t.revoke(&owner, org, &ids[0]).await;
    assert_eq!(r.status, 410);

    let seen: Vec<String> = t
        .pages(&format!("/orgs/{org}/invitations?limit=2"), &owner.token)
        .await
        .iter()
        .flat_map(|page| page.body["items"].as_array().unwrap().clone())
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, ids, "every invitation once, in creation order");

    let r = t.invitations(&owner, org, "?status=pending").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 4);
    let r = t.invitations(&owner, org, "?status=revoked").await;
    assert_eq!(r.body["items"][0]["id"], ids[0].as_str());
    let r = t.invitations(&owner, org, "?status=bogus").await;
    assert_eq!(r.status, 400);
    let r = t
        .call(
            "GET",
            &format!("/orgs/{org}/invitations/not-an-id"),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(r.status, 404);

    let member = t.member_of(org, OrgRole::Member).await;
    let r = t.invitations(&member, org, "").await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn a_pending_invitation_past_expiry_shows_expired_everywhere_at_once() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let to = unique_email("late");
    let r = t.invite(&owner, org, &[&to], "member").await;
    let id = r.body["results"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = t.latest_token(&to).await;
    common::expire_now(&t, org, &id).await;

    let r = t.invitation(&owner, org, &id).await;
    assert_eq!(r.body["status"], "expired");
    let r = t.invitations(&owner, org, "?status=expired").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let r = t.invitations(&owner, org, "?status=pending").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    let r = t.preview(&token).await;
    assert_eq!(r.body["status"], "expired");
    let r = t
        .accept(&token, Joining::New("Late", common::PASSWORD))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (410, "invitation_expired"),
        "{}",
        r.body
    );
    let r = t.decline(&token).await;
    assert_eq!(r.status, 410);

    // Resending revives it with a new link.
    let r = t.resend(&owner, org, &id).await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (200, Some("pending")),
        "{}",
        r.body
    );
    let fresh = t.latest_token(&to).await;
    let r = t
        .accept(&fresh, Joining::New("Late", common::PASSWORD))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_failed_email_is_recorded_and_a_resend_delivers_it() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let broken = t.with_dead_mail().await;
    let to = unique_email("bounce");
    let r = broken.invite(&owner, org, &[&to], "member").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["results"][0]["status"], "invited");
    assert_eq!(r.body["results"][0]["email_delivery"], "failed");
    let id = r.body["results"][0]["invitation_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(t.mails_to(&to).await.is_empty());
    // Recorded in the audit log too (an event for the applications), by no one.
    let failed = t.audit_entries(org, "invitation.delivery_failed").await;
    assert_eq!(failed.len(), 1, "one delivery_failed entry");
    assert_eq!(
        (failed[0].target.as_str(), failed[0].actor),
        (to.as_str(), None)
    );
    let r = t.invitation(&owner, org, &id).await;
    assert_eq!(
        (r.body["status"].as_str(), r.body["email_delivery"].as_str()),
        (Some("pending"), Some("failed"))
    );

    let r = t.resend(&owner, org, &id).await;
    assert_eq!(
        (r.status, r.body["email_delivery"].as_str()),
        (200, Some("sent")),
        "{}",
        r.body
    );
    assert_eq!(t.mails_to(&to).await.len(), 1);
}

#[tokio::test]
async fn bulk_invites_use_a_bounded_number_of_calls() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    t.app.calls.take();
    let one = unique_email("one");
    assert_eq!(t.invite(&owner, org, &[&one], "member").await.status, 200);
    let single = t.app.calls.take();

    let many: Vec<String> = (0..100)
        .map(|i| unique_email(&format!("bulk{i}")))
        .collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = t.invite(&owner, org, &refs, "member").await;
    assert_eq!(r.status, 200);
    assert!(
        r.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["status"] == "invited" && x["email_delivery"] == "sent")
    );
    let bulk = t.app.calls.take();
    println!("1 email: {single:?}\n100 emails: {bulk:?}");
    assert_eq!(single.total("sesv2"), 1);
    assert!(single.total("dynamodb") <= 6, "{single:?}");
    assert_eq!(bulk.total("sesv2"), 100);
    assert!(bulk.total("dynamodb") <= 10, "{bulk:?}");
    assert_eq!(bulk.get("dynamodb.TransactWriteItems"), 4);
}

#[tokio::test]
async fn a_platform_admin_creates_an_org_with_an_owner_invitation() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let boss = unique_email("boss");
    let r = t
        .create_org(
            &root,
            json!({"name": "Owned", "code": unique_code(), "owner_email": boss}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["owner_id"], serde_json::Value::Null);
    assert_eq!(r.body["owner_invitation"]["status"], "invited");
    let org = r.body["id"].as_str().unwrap().to_string();
    let token = t.latest_token(&boss).await;
    let preview = t.preview(&token).await;
    assert_eq!(preview.body["role"], "owner");
    let r = t
        .accept(&token, Joining::New("Boss", common::PASSWORD))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["role"], "owner");
    let r = t.org(&root, org).await;
    assert_eq!(r.body["owner_id"], preview_user_id(&t, &boss).await);
    assert_eq!(r.body["member_count"], 1);

    // Only platform admins may ask for an owner.
    let solo = t.user_without_org().await;
    let r = t
        .create_org(
            &solo,
            json!({"name": "X", "code": unique_code(), "owner_email": unique_email("o")}),
        )
        .await;
    assert_eq!(r.status, 403);
}

async fn preview_user_id(t: &TestApp, email: &str) -> String {
    let user = t
        .app
        .store
        .find_user_by_email(&roster::domain::Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    user.id.to_string()
}
