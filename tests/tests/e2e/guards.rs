//! Write-time guards on user items. A self-targeted write (leaving, self-demotion, an
//! owner's own transfer, editing or deleting one's own account) checks the caller's
//! credentials in its transaction like every other write: the storage functions are driven
//! with the caller as read before their token version moved (the HTTP layer would refuse
//! such a token at its read). And an organization's owners and admins never act on a
//! platform admin who belongs to it, through any route, nor at the write.

use crate::common;

use common::{Actor, TestApp, unique_email};
use roster::clock::Now;
use roster::domain::{Email, OrgId, OrgRole, User, UserId};
use roster::error::ServiceError;
use roster::services::access::{MANAGERS, OWNER};
use roster::storage::{Authority, MemberCounter, UserChanges};
use serde_json::json;

async fn user(t: &TestApp, id: &UserId) -> User {
    t.app.store.get_user(id).await.unwrap().unwrap()
}

/// What a refused write must leave alone: the users' records (membership, role, name,
/// email, credentials), the org's owner and count, and its audit log.
async fn state(t: &TestApp, org: OrgId, ids: &[UserId]) -> String {
    let mut out = Vec::new();
    for id in ids {
        let u = t.app.store.get_user(id).await.unwrap();
        out.push(format!(
            "{:?}",
            u.map(|u| (u.org_id, u.role, u.name, u.email, u.token_version))
        ));
    }
    let o = t.app.store.get_org(&org).await.unwrap().unwrap();
    let audit = t.app.store.list_audit(&org, 100, None).await.unwrap();
    out.push(format!(
        "owner {:?}, count {}, audit {}",
        o.owner_id,
        o.member_count,
        audit.items.len()
    ));
    out.join("\n")
}

/// The caller as read, after their token version moved on (a password change, sign-out
/// everywhere): what a request that read them a moment earlier holds.
async fn stale(t: &TestApp, who: &Actor) -> User {
    let read = who.user.clone();
    t.app.store.revoke_all_sessions(&read.id).await.unwrap();
    assert_ne!(user(t, &read.id).await.token_version, read.token_version);
    read
}

fn managers(org: OrgId) -> Authority {
    Authority::OrgRole {
        org,
        roles: MANAGERS,
    }
}

#[tokio::test]
async fn leaving_with_stale_credentials_is_refused() {
    let t = TestApp::spawn().await;
    let (org, _) = t.org_with_owner().await;
    let leaver = t.member_of(org, OrgRole::Member).await;
    let caller = stale(&t, &leaver).await;
    let before = state(&t, org, &[caller.id]).await;
    let r = t
        .app
        .store
        .remove_members(
            &org,
            MemberCounter::OrgItem,
            &caller,
            &Authority::SignedIn,
            std::slice::from_ref(&caller),
            Now::get(),
        )
        .await;
    assert!(matches!(r, Err(ServiceError::Unauthorized)), "{r:?}");
    assert_eq!(state(&t, org, &[caller.id]).await, before);

    // With the credentials as they are now, the same leave goes through.
    let current = user(&t, &caller.id).await;
    let slice = std::slice::from_ref(&current);
    let r = t
        .app
        .store
        .remove_members(
            &org,
            MemberCounter::OrgItem,
            &current,
            &Authority::SignedIn,
            slice,
            Now::get(),
        )
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(user(&t, &caller.id).await.org_id, None);
}

#[tokio::test]
async fn self_demotion_with_stale_credentials_is_refused() {
    let t = TestApp::spawn().await;
    let (org, _) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    let caller = stale(&t, &admin).await;
    let before = state(&t, org, &[caller.id]).await;
    let r = t
        .app
        .store
        .change_roles(
            &org,
            &caller,
            &managers(org),
            std::slice::from_ref(&caller),
            OrgRole::Member,
            Now::get(),
        )
        .await;
    assert!(matches!(r, Err(ServiceError::Unauthorized)), "{r:?}");
    assert_eq!(state(&t, org, &[caller.id]).await, before);
    assert_eq!(user(&t, &caller.id).await.role, Some(OrgRole::Admin));

    let current = user(&t, &caller.id).await;
    let r = t
        .app
        .store
        .change_roles(
            &org,
            &current,
            &managers(org),
            std::slice::from_ref(&current),
            OrgRole::Member,
            Now::get(),
        )
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(user(&t, &caller.id).await.role, Some(OrgRole::Member));
}

#[tokio::test]
async fn an_owners_own_transfer_with_stale_credentials_is_refused() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let heir = t.member_of(org, OrgRole::Member).await;
    let caller = stale(&t, &owner).await;
    let authority = Authority::OrgRole { org, roles: OWNER };
    let before = state(&t, org, &[caller.id, heir.user.id]).await;
    let r = t
        .app
        .store
        .transfer_ownership(
            &org,
            &caller,
            &authority,
            Some(&caller.id),
            &heir.user,
            Now::get(),
        )
        .await;
    assert!(matches!(r, Err(ServiceError::Unauthorized)), "{r:?}");
    assert_eq!(state(&t, org, &[caller.id, heir.user.id]).await, before);

    let current = user(&t, &caller.id).await;
    let r = t
        .app
        .store
        .transfer_ownership(
            &org,
            &current,
            &authority,
            Some(&current.id),
            &heir.user,
            Now::get(),
        )
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(user(&t, &heir.user.id).await.role, Some(OrgRole::Owner));
    assert_eq!(user(&t, &caller.id).await.role, Some(OrgRole::Admin));
}

#[tokio::test]
async fn a_platform_admin_taking_ownership_with_stale_credentials_is_refused() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let email = unique_email("root-member");
    t.create_user(&email, Some((org, OrgRole::Admin)), true)
        .await;
    let root = t.login(&email).await;
    let caller = stale(&t, &root).await;
    let before = state(&t, org, &[caller.id, owner.user.id]).await;
    let r = t
        .app
        .store
        .transfer_ownership(
            &org,
            &caller,
            &Authority::PlatformAdmin,
            Some(&owner.user.id),
            &caller,
            Now::get(),
        )
        .await;
    assert!(matches!(r, Err(ServiceError::Unauthorized)), "{r:?}");
    assert_eq!(state(&t, org, &[caller.id, owner.user.id]).await, before);
}

/// The target of PATCH /users/{id} is read beside the caller, in its own GetItem: it can
/// show the newer token version while the caller's read shows the older one.
#[tokio::test]
async fn editing_or_deleting_ones_own_account_with_stale_credentials_is_refused() {
    let t = TestApp::spawn().await;
    let (org, _) = t.org_with_owner().await;
    let member = t.member_of(org, OrgRole::Member).await;
    let caller = stale(&t, &member).await;
    let target = user(&t, &caller.id).await;
    let before = state(&t, org, &[caller.id]).await;
    let changes = UserChanges {
        name: Some("Renamed".into()),
        ..UserChanges::default()
    };
    let r = t
        .app
        .store
        .update_user(&target, &changes, &caller, &Authority::SignedIn, None)
        .await;
    assert!(matches!(r, Err(ServiceError::Unauthorized)), "{r:?}");
    let r = t
        .app
        .store
        .delete_user(&target, &caller, &Authority::SignedIn)
        .await;
    assert!(matches!(r, Err(ServiceError::Unauthorized)), "{r:?}");
    assert_eq!(state(&t, org, &[caller.id]).await, before);

    let r = t
        .app
        .store
        .update_user(&target, &changes, &target, &Authority::SignedIn, None)
        .await;
    assert_eq!(r.map(|u| u.name).ok().as_deref(), Some("Renamed"));
}

/// An org with its owner, an admin, a member, and a platform admin who belongs to it.
struct WithRoot {
    org: OrgId,
    owner: Actor,
    admin: Actor,
    member: User,
    root: User,
}

async fn org_with_root_member(t: &TestApp) -> WithRoot {
    let (org, owner) = t.org_with_owner().await;
    let admin = t.member_of(org, OrgRole::Admin).await;
    let member = t
        .create_user(&unique_email("m"), Some((org, OrgRole::Member)), false)
        .await;
    let root = t
        .create_user(&unique_email("root"), Some((org, OrgRole::Member)), true)
        .await;
    WithRoot {
        org,
        owner,
        admin,
        member,
        root,
    }
}

#[tokio::test]
async fn org_owners_and_admins_never_act_on_a_platform_admin_through_any_route() {
    let t = TestApp::spawn().await;
    let w = org_with_root_member(&t).await;
    let (org, root, member) = (w.org, w.root.id, w.member.id);
    let ids = [root, member, w.owner.user.id];
    let before = state(&t, org, &ids).await;
    let m = format!("/orgs/{org}/members");
    let both = json!([root, member]);
    let routes: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        (
            "PATCH",
            format!("{m}/{root}"),
            Some(json!({"role": "admin"})),
        ),
        (
            "POST",
            format!("{m}/bulk-role"),
            Some(json!({"user_ids": both, "role": "admin"})),
        ),
        ("DELETE", format!("{m}/{root}"), None),
        (
            "POST",
            format!("{m}/bulk-remove"),
            Some(json!({"user_ids": both})),
        ),
        (
            "POST",
            format!("/orgs/{org}/transfer-ownership"),
            Some(json!({"user_id": root})),
        ),
        (
            "PATCH",
            format!("/users/{root}"),
            Some(json!({"name": "Renamed", "role": "admin"})),
        ),
        ("DELETE", format!("/users/{root}"), None),
    ];
    for caller in [&w.owner, &w.admin] {
        for (method, uri, body) in &routes {
            let r = t.call(method, uri, Some(&caller.token), body.clone()).await;
            assert_eq!(
                (r.status, r.code()),
                (403, "forbidden"),
                "{} {method} {uri}: {}",
                caller.user.role.map(|r| r.as_str()).unwrap_or(""),
                r.body
            );
            assert_eq!(state(&t, org, &ids).await, before, "{method} {uri}");
        }
    }

    // Another organization's admin learns nothing: the same 404 as a missing org or user.
    let (other, _) = t.org_with_owner().await;
    let stranger = t.member_of(other, OrgRole::Admin).await;
    for (method, uri, body) in &routes {
        let r = t
            .call(method, uri, Some(&stranger.token), body.clone())
            .await;
        assert_eq!(r.status, 404, "{method} {uri}: {}", r.body);
    }
    assert_eq!(state(&t, org, &ids).await, before);

    // A platform admin acts on them, and they on themselves.
    let pa = t.platform_admin().await;
    let r = t
        .call(
            "PATCH",
            &format!("{m}/{root}"),
            Some(&pa.token),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let email = w.root.email.to_string();
    let root_actor = t.login(&email).await;
    let r = t
        .call(
            "DELETE",
            &format!("{m}/{root}"),
            Some(&root_actor.token),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "a platform admin leaves: {}", r.body);
}

#[tokio::test]
async fn the_writes_themselves_refuse_an_org_level_caller_on_a_platform_admin() {
    let t = TestApp::spawn().await;
    let w = org_with_root_member(&t).await;
    let org = w.org;
    let root = user(&t, &w.root.id).await;
    let admin = w.admin.user.clone();
    let owner = w.owner.user.clone();
    let ids = [root.id, owner.id];
    let before = state(&t, org, &ids).await;
    let targets = std::slice::from_ref(&root);

    let r = t
        .app
        .store
        .change_roles(
            &org,
            &admin,
            &managers(org),
            targets,
            OrgRole::Admin,
            Now::get(),
        )
        .await;
    assert!(r.is_err(), "role change: {r:?}");
    let r = t
        .app
        .store
        .remove_members(
            &org,
            MemberCounter::OrgItem,
            &admin,
            &managers(org),
            targets,
            Now::get(),
        )
        .await;
    assert!(r.is_err(), "removal: {r:?}");
    let authority = Authority::OrgRole { org, roles: OWNER };
    let r = t
        .app
        .store
        .transfer_ownership(&org, &owner, &authority, Some(&owner.id), &root, Now::get())
        .await;
    assert!(r.is_err(), "transfer: {r:?}");
    let changes = UserChanges {
        name: Some("Renamed".into()),
        email: Some(Email::parse(&unique_email("taken-over")).unwrap()),
        ..UserChanges::default()
    };
    let r = t
        .app
        .store
        .update_user(&root, &changes, &admin, &managers(org), None)
        .await;
    assert!(r.is_err(), "user update: {r:?}");
    let r = t.app.store.delete_user(&root, &admin, &managers(org)).await;
    assert!(r.is_err(), "user delete: {r:?}");
    assert_eq!(state(&t, org, &ids).await, before);

    // The same writes on an ordinary member go through.
    let member = user(&t, &w.member.id).await;
    let r = t
        .app
        .store
        .change_roles(
            &org,
            &admin,
            &managers(org),
            std::slice::from_ref(&member),
            OrgRole::Admin,
            Now::get(),
        )
        .await;
    assert!(r.is_ok(), "{r:?}");
}

/// Sets one attribute of a user's item in place, `token_version` untouched: a change the
/// user's access token does not know about.
async fn set_user_attr(
    t: &TestApp,
    id: &UserId,
    name: &str,
    value: aws_sdk_dynamodb::types::AttributeValue,
) {
    t.dynamo
        .update_item()
        .table_name(&t.app.config.table_name)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(roster::storage::keys::user_pk(id)),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(roster::storage::keys::PROFILE.into()),
        )
        .update_expression("SET #a = :v")
        .expression_attribute_names("#a", name)
        .expression_attribute_values(":v", value)
        .send()
        .await
        .unwrap();
}

/// An access token carries hints (the user's org, whether a platform admin) so a read can
/// go beside the caller's: they choose what is read ahead, never what is allowed. A
/// platform admin demoted since sign-in lists no one else's organizations; a member moved
/// to another organization is shown that one, even when the one the token names is gone.
#[tokio::test]
async fn a_tokens_hints_choose_what_is_read_never_what_is_allowed() {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let (org, owner) = t.org_with_owner().await;
    let (other, _) = t.org_with_owner().await;
    let r = t
        .call("GET", "/orgs?limit=100", Some(&root.token), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["items"].as_array().is_some_and(|a| !a.is_empty()));

    set_user_attr(&t, &root.user.id, "platform_admin", V::Bool(false)).await;
    let r = t
        .call("GET", "/orgs?limit=100", Some(&root.token), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["items"],
        json!([]),
        "what an account with no org sees"
    );
    let r = t
        .call("GET", "/orgs?limit=100", Some(&owner.token), None)
        .await;
    assert_eq!(
        r.body["items"].as_array().map(Vec::len),
        Some(1),
        "the owner's own"
    );

    // A member whose token names `org`, since moved to `other`; then `org` is deleted.
    let m = t.member_of(org, OrgRole::Member).await;
    set_user_attr(&t, &m.user.id, "org_id", V::S(other.to_string())).await;
    let r = t.delete_org(&owner, org).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let me = t.me(&m).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        me.body["org_id"],
        other.to_string(),
        "the org the account is in"
    );
}
