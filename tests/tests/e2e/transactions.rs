//! Every transactional write names the error each failed condition means. Each test sets
//! the state up so that one condition fails on the first try (the storage function is given
//! what a request read a moment earlier, the table has moved on) and checks the code the
//! service would see. And no write names the same item twice (issue 18.1).

use crate::common;

use common::{TestApp, unique_code, unique_email};
use roster::clock::Now;
use roster::domain::{
    Description, Email, InvitationStatus, OrgCode, OrgId, OrgName, OrgRole, Tier, User, UserId,
};
use roster::domain::{Invitation, InvitationId};
use roster::error::ServiceError;
use roster::services::access::{MANAGERS, OWNER};
use roster::storage::{
    Authority, EmailChange, InviteWrite, MemberCounter, NewOrg, OrgChanges, Retention, Session,
    UserChanges,
};

fn managers(org: OrgId) -> Authority {
    Authority::OrgRole {
        org,
        roles: MANAGERS,
    }
}

fn owner_of(org: OrgId) -> Authority {
    Authority::OrgRole { org, roles: OWNER }
}

async fn user(t: &TestApp, id: &UserId) -> User {
    t.app.store.get_user(id).await.unwrap().unwrap()
}

/// `who` as read, then demoted to member in the table: a caller whose authority is gone.
async fn demoted(t: &TestApp, org: OrgId, who: &User) -> User {
    let now = user(t, &who.id).await;
    t.app
        .store
        .change_roles(
            &org,
            &now,
            &Authority::SignedIn,
            std::slice::from_ref(&now),
            OrgRole::Member,
            Now::get(),
        )
        .await
        .unwrap();
    who.clone()
}

macro_rules! assert_refused {
    ($r:expr, $pat:pat) => {{
        let r = $r;
        assert!(matches!(r, Err($pat)), "{r:?}");
    }};
}

// --- issue 18.1: the same item twice -------------------------------------------------------

/// A platform admin who is a member (not the owner) takes ownership for themselves: their
/// own item is both the target and the caller, written once, and the transfer succeeds.
#[tokio::test]
async fn a_platform_admin_member_takes_ownership_for_themselves() {
    let t = TestApp::spawn().await;
    let (org, owner) = t.org_with_owner().await;
    let email = unique_email("root-member");
    t.create_user(&email, Some((org, OrgRole::Admin)), true)
        .await;
    let root = t.login(&email).await;
    let r = t.transfer(&root, org, root.user.id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["owner_id"], root.user.id.to_string());
    assert_eq!(user(&t, &root.user.id).await.role, Some(OrgRole::Owner));
    assert_eq!(user(&t, &owner.user.id).await.role, Some(OrgRole::Admin));
    // Once the owner, the same request is a clear 400 on user_id, not a transaction.
    let r = t.transfer(&root, org, root.user.id).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "user_id");
}

/// An owner naming themselves: 400 on user_id, nothing written.
#[tokio::test]
async fn an_owner_transferring_to_themselves_is_a_400() {
    let t = TestApp::spawn().await;
    let root = t.platform_admin().await;
    let r = t
        .create_org(
            &root,
            serde_json::json!({"name": "Acme", "code": unique_code()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let org = OrgId::parse(r.body["id"].as_str().unwrap()).unwrap();
    let member = t.member_of(org, OrgRole::Member).await;
    assert_eq!(t.transfer(&root, org, member.user.id).await.status, 200);
    let member = t.login(member.user.email.as_ref()).await;
    let r = t.transfer(&member, org, member.user.id).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "user_id");
    assert_eq!(user(&t, &member.user.id).await.role, Some(OrgRole::Owner));
}

// --- create_org ----------------------------------------------------------------------------

fn new_org(t: &TestApp, code: &str) -> NewOrg {
    NewOrg {
        id: OrgId::new(),
        name: OrgName::parse("Acme").unwrap(),
        code: OrgCode::parse(code).unwrap(),
        description: Description::parse("").unwrap(),
        tier: Tier::first(&t.app.config.tiers),
        now: Now::get().rfc3339(),
    }
}

#[tokio::test]
async fn create_org_refusals() {
    let t = TestApp::spawn().await;
    let (_, owner) = t.org_with_owner().await;
    // The self-service caller joined an organization since they were read.
    let mut stale = owner.user.clone();
    stale.org_id = None;
    stale.role = None;
    assert_refused!(
        t.app
            .store
            .create_org(&new_org(&t, &unique_code()), &stale, true)
            .await,
        ServiceError::MemberOfAnotherOrganization
    );
    // A platform admin no longer one.
    assert_refused!(
        t.app
            .store
            .create_org(&new_org(&t, &unique_code()), &owner.user, false)
            .await,
        ServiceError::Forbidden
    );
    // The code is claimed.
    let root = t.platform_admin().await;
    let code = unique_code();
    t.app
        .store
        .create_org(&new_org(&t, &code), &root.user, false)
        .await
        .unwrap();
    assert_refused!(
        t.app
            .store
            .create_org(&new_org(&t, &code), &root.user, false)
            .await,
        ServiceError::CodeTaken
    );
}

// --- update_org, tombstone_org -------------------------------------------------------------

async fn org(t: &TestApp, id: OrgId) -> roster::domain::Organization {
    t.app.store.get_org(&id).await.unwrap().unwrap()
}

fn code_change(code: &str) -> OrgChanges {
    OrgChanges {
        code: Some(OrgCode::parse(code).unwrap()),
        ..Default::default()
    }
}

#[tokio::test]
async fn update_org_refusals() {
    let t = TestApp::spawn().await;
    let (id, owner) = t.org_with_owner().await;
    let now = Now::get().rfc3339();
    let read = org(&t, id).await;
    // The caller is no longer a manager.
    let admin = t.member_of(id, OrgRole::Admin).await;
    let stale = demoted(&t, id, &admin.user).await;
    assert_refused!(
        t.app
            .store
            .update_org(
                &read,
                &code_change(&unique_code()),
                &stale,
                &managers(id),
                &now
            )
            .await,
        ServiceError::Forbidden
    );
    // Its code changed since it was read.
    let (app, by, at) = (&t.app, &owner.user, &now);
    let by_owner = |read| async move {
        let changes = code_change(&unique_code());
        app.store
            .update_org(read, &changes, by, &owner_of(id), at)
            .await
    };
    by_owner(&read).await.unwrap();
    assert_refused!(by_owner(&read).await, ServiceError::Conflict);
    // The new code is another organization's.
    let (other, _) = t.org_with_owner().await;
    let taken = org(&t, other).await.code;
    let read = org(&t, id).await;
    assert_refused!(
        t.app
            .store
            .update_org(
                &read,
                &code_change(taken.as_ref()),
                &owner.user,
                &owner_of(id),
                &now
            )
            .await,
        ServiceError::CodeTaken
    );
}

#[tokio::test]
async fn tombstone_org_refusals() {
    let t = TestApp::spawn().await;
    let (id, owner) = t.org_with_owner().await;
    let now = Now::get().rfc3339();
    let read = org(&t, id).await;
    // The caller is not (or no longer) the owner.
    let member = t.member_of(id, OrgRole::Member).await;
    assert_refused!(
        t.app
            .store
            .tombstone_org(&read, &member.user, &owner_of(id), &now)
            .await,
        ServiceError::Forbidden
    );
    // Deleted meanwhile.
    let root = t.platform_admin().await;
    t.app
        .store
        .tombstone_org(&read, &root.user, &Authority::PlatformAdmin, &now)
        .await
        .unwrap();
    assert_refused!(
        t.app
            .store
            .tombstone_org(&read, &owner.user, &owner_of(id), &now)
            .await,
        ServiceError::NotFound
    );
}

// --- create_user, update_user, delete_user -------------------------------------------------

fn account(email: &str, org: Option<(OrgId, OrgRole)>) -> User {
    let now = Now::get().rfc3339();
    User {
        id: UserId::new(),
        email: Email::parse(email).unwrap(),
        name: "New".into(),
        org_id: org.map(|o| o.0),
        role: org.map(|o| o.1),
        platform_admin: false,
        created_at: now.clone().into(),
        updated_at: now.clone().into(),
        joined_at: org.map(|_| now.into()),
        password_hash: "x".into(),
        token_version: 0,
    }
}

#[tokio::test]
async fn create_user_refusals() {
    let t = TestApp::spawn_with(|c| {
        c.tiers = roster::domain::Tiers::parse("free:seats=2").unwrap();
    })
    .await;
    let (id, owner) = t.org_with_owner().await;
    let in_org = Some((id, OrgRole::Member));
    // The caller is no longer a manager.
    let member = t.member_of(id, OrgRole::Member).await;
    let fresh = account(&unique_email("new"), None);
    assert_refused!(
        t.app
            .store
            .create_user(&fresh, Some((&member.user, &managers(id))))
            .await,
        ServiceError::Forbidden
    );
    // The email is claimed.
    let taken = account(owner.user.email.as_ref(), None);
    assert_refused!(
        t.app.store.create_user(&taken, None).await,
        ServiceError::EmailTaken
    );
    // No seat left (owner + member on a two-seat tier).
    let joining = account(&unique_email("new"), in_org);
    assert_refused!(
        t.app
            .store
            .create_user(&joining, Some((&owner.user, &managers(id))))
            .await,
        ServiceError::SeatLimitReached
    );
    // The organization was deleted.
    let read = org(&t, id).await;
    let now = Now::get().rfc3339();
    t.app
        .store
        .tombstone_org(&read, &owner.user, &owner_of(id), &now)
        .await
        .unwrap();
    assert_refused!(
        t.app.store.create_user(&joining, None).await,
        ServiceError::NotFound
    );
}

fn rename() -> UserChanges {
    UserChanges {
        name: Some("Renamed".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn update_user_refusals() {
    let t = TestApp::spawn().await;
    let (id, owner) = t.org_with_owner().await;
    let target = t.member_of(id, OrgRole::Member).await;
    // The caller is no longer a manager.
    let admin = t.member_of(id, OrgRole::Admin).await;
    let stale = demoted(&t, id, &admin.user).await;
    assert_refused!(
        t.app
            .store
            .update_user(&target.user, &rename(), &stale, &managers(id), None)
            .await,
        ServiceError::Forbidden
    );
    // The target's credentials moved since it was read.
    t.app
        .store
        .revoke_all_sessions(&target.user.id)
        .await
        .unwrap();
    assert_refused!(
        t.app
            .store
            .update_user(&target.user, &rename(), &owner.user, &managers(id), None)
            .await,
        ServiceError::Conflict
    );
    let target = user(&t, &target.user.id).await;
    // The new email is someone else's.
    let changes = UserChanges {
        email: Some(owner.user.email.clone()),
        ..Default::default()
    };
    assert_refused!(
        t.app
            .store
            .update_user(&target, &changes, &owner.user, &managers(id), None)
            .await,
        ServiceError::EmailTaken
    );
    // One's own password change, from a session that has ended meanwhile.
    let me = user(&t, &owner.user.id).await;
    let changes = UserChanges {
        password_hash: Some("y".into()),
        ..Default::default()
    };
    assert_refused!(
        t.app
            .store
            .update_user(&me, &changes, &me, &Authority::SignedIn, Some("gone"))
            .await,
        ServiceError::Unauthorized
    );
}

#[tokio::test]
async fn delete_user_refusals() {
    let t = TestApp::spawn().await;
    let (id, owner) = t.org_with_owner().await;
    let target = t.member_of(id, OrgRole::Member).await;
    let admin = t.member_of(id, OrgRole::Admin).await;
    let stale = demoted(&t, id, &admin.user).await;
    assert_refused!(
        t.app
            .store
            .delete_user(&target.user, &stale, &managers(id))
            .await,
        ServiceError::Forbidden
    );
    // Never the owner, whatever the read said.
    let root = t.platform_admin().await;
    let mut owner_read = owner.user.clone();
    owner_read.role = Some(OrgRole::Admin);
    assert_refused!(
        t.app
            .store
            .delete_user(&owner_read, &root.user, &Authority::PlatformAdmin)
            .await,
        ServiceError::Conflict
    );
    // The target's credentials moved since it was read.
    t.app
        .store
        .revoke_all_sessions(&target.user.id)
        .await
        .unwrap();
    assert_refused!(
        t.app
            .store
            .delete_user(&target.user, &root.user, &Authority::PlatformAdmin)
            .await,
        ServiceError::Conflict
    );
}

// --- change_roles, remove_members, transfer_ownership --------------------------------------

/// The two writes over a list of members, which refuse alike.
#[derive(Clone, Copy)]
enum MembersWrite {
    ChangeRoles(OrgRole),
    Remove,
}

impl MembersWrite {
    async fn run(
        self,
        t: &TestApp,
        org: OrgId,
        caller: &User,
        authority: &Authority,
        members: &[User],
    ) -> Result<(), ServiceError> {
        let store = &t.app.store;
        match self {
            MembersWrite::ChangeRoles(to) => {
                store
                    .change_roles(&org, caller, authority, members, to, Now::get())
                    .await
            }
            MembersWrite::Remove => {
                store
                    .remove_members(
                        &org,
                        MemberCounter::OrgItem,
                        caller,
                        authority,
                        members,
                        Now::get(),
                    )
                    .await
            }
        }
    }
}

/// A caller whose authority is gone is `Forbidden`; a member whose role moved since it was
/// read is a `Conflict`; an organization deleted since: see below, by write.
async fn members_write_refusals(write: MembersWrite) {
    let t = TestApp::spawn().await;
    let (id, owner) = t.org_with_owner().await;
    let target = t.member_of(id, OrgRole::Member).await;
    let admin = t.member_of(id, OrgRole::Admin).await;
    let stale = demoted(&t, id, &admin.user).await;
    let targets = std::slice::from_ref(&target.user);
    assert_refused!(
        write.run(&t, id, &stale, &managers(id), targets).await,
        ServiceError::Forbidden
    );
    let mut read = target.user.clone();
    read.role = Some(OrgRole::Admin);
    assert_refused!(
        write
            .run(
                &t,
                id,
                &owner.user,
                &managers(id),
                std::slice::from_ref(&read)
            )
            .await,
        ServiceError::Conflict
    );
    // The organization was deleted. The role change no longer names the org item (which
    // every join writes: docs/storage.md, Conflicts), so between the tombstone and the
    // detach it lands as if just before the deletion; once detached, the member's own
    // condition refuses it.
    let now = Now::get().rfc3339();
    t.app
        .store
        .tombstone_org(&org(&t, id).await, &owner.user, &owner_of(id), &now)
        .await
        .unwrap();
    let root = t.platform_admin().await;
    let platform = Authority::PlatformAdmin;
    match write {
        // Role changes leave the org item alone (so they never race joins on it): one landing
        // between the tombstone and the detach is like one just before the deletion, and a
        // detached member's role is a conflict.
        MembersWrite::ChangeRoles(to) => {
            assert!(
                write
                    .run(&t, id, &root.user, &platform, targets)
                    .await
                    .is_ok()
            );
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
            assert!(t.app.store.detach_members(&id, deadline).await.unwrap());
            let mut as_changed = target.user.clone();
            as_changed.role = Some(to);
            assert_refused!(
                write
                    .run(
                        &t,
                        id,
                        &root.user,
                        &platform,
                        std::slice::from_ref(&as_changed)
                    )
                    .await,
                ServiceError::Conflict
            );
        }
        // A removal counts the members down on the org item, which is gone.
        MembersWrite::Remove => {
            assert_refused!(
                write.run(&t, id, &root.user, &platform, targets).await,
                ServiceError::NotFound
            );
        }
    }
}

#[tokio::test]
async fn change_roles_refusals() {
    members_write_refusals(MembersWrite::ChangeRoles(OrgRole::Admin)).await;
}

#[tokio::test]
async fn remove_members_refusals() {
    members_write_refusals(MembersWrite::Remove).await;
}

#[tokio::test]
async fn transfer_ownership_refusals() {
    let t = TestApp::spawn().await;
    let (id, owner) = t.org_with_owner().await;
    let heir = t.member_of(id, OrgRole::Member).await;
    let other = t.member_of(id, OrgRole::Member).await;
    // The caller is not the owner (an owner authority they do not hold).
    let owner_id = Some(&owner.user.id);
    assert_refused!(
        t.app
            .store
            .transfer_ownership(
                &id,
                &other.user,
                &owner_of(id),
                owner_id,
                &heir.user,
                Now::get()
            )
            .await,
        ServiceError::Forbidden
    );
    // The owner as read is not the owner.
    let root = t.platform_admin().await;
    let pa = Authority::PlatformAdmin;
    assert_refused!(
        t.app
            .store
            .transfer_ownership(
                &id,
                &root.user,
                &pa,
                Some(&other.user.id),
                &heir.user,
                Now::get()
            )
            .await,
        ServiceError::Conflict
    );
    // The target's role as read is not theirs any more.
    let mut read = heir.user.clone();
    read.role = Some(OrgRole::Admin);
    assert_refused!(
        t.app
            .store
            .transfer_ownership(&id, &root.user, &pa, owner_id, &read, Now::get())
            .await,
        ServiceError::Conflict
    );
}

// --- write_invitations, close_invitation, accept_invitation --------------------------------

fn invitation(org: OrgId, email: &str, role: OrgRole, by: &User) -> Invitation {
    let now = Now::get();
    Invitation {
        id: InvitationId::new(),
        org_id: org,
        email: Email::parse(email).unwrap(),
        role,
        status: InvitationStatus::Pending,
        expires_at: now.into(),
        created_at: now.into(),
        invited_by: Some(by.id),
        inviter_name: by.name.clone(),
        send_count: 1,
        last_sent_at: now.into(),
        email_delivery: roster::domain::DeliveryStatus::Sent,
        accepted_at: None,
        expires_epoch: now.epoch() + 3600,
        nonce_hash: format!("hash-{}", uuid::Uuid::new_v4()),
        stored_status: InvitationStatus::Pending,
    }
}

async fn invite(
    t: &TestApp,
    by: &User,
    authority: &Authority,
    inv: &Invitation,
) -> Result<Vec<Result<(), ServiceError>>, ServiceError> {
    let writes = [InviteWrite::Create(inv.clone())];
    t.app
        .store
        .write_invitations(
            &inv.org_id,
            by,
            authority,
            &writes,
            Now::get(),
            &Retention(60),
            None,
        )
        .await
}

#[tokio::test]
async fn write_invitations_refusals() {
    let t = TestApp::spawn().await;
    let (id, owner) = t.org_with_owner().await;
    let email = unique_email("invitee");
    let admin = t.member_of(id, OrgRole::Admin).await;
    let stale = demoted(&t, id, &admin.user).await;
    let inv = invitation(id, &email, OrgRole::Member, &owner.user);
    assert_refused!(
        invite(&t, &stale, &managers(id), &inv).await,
        ServiceError::Forbidden
    );
    // A pending invitation for the address exists: that write alone is refused.
    let r = invite(&t, &owner.user, &managers(id), &inv).await.unwrap();
    assert!(r[0].is_ok(), "{r:?}");
    let again = invitation(id, &email, OrgRole::Member, &owner.user);
    let r = invite(&t, &owner.user, &managers(id), &again)
        .await
        .unwrap();
    assert!(matches!(r[0], Err(ServiceError::Conflict)), "{r:?}");
    // The organization was deleted.
    let now = Now::get().rfc3339();
    t.app
        .store
        .tombstone_org(&org(&t, id).await, &owner.user, &owner_of(id), &now)
        .await
        .unwrap();
    let root = t.platform_admin().await;
    let later = invitation(id, &unique_email("late"), OrgRole::Member, &owner.user);
    assert_refused!(
        invite(&t, &root.user, &Authority::PlatformAdmin, &later).await,
        ServiceError::NotFound
    );
}

#[tokio::test]
async fn close_invitation_refusals() {
    let t = TestApp::spawn().await;
    let (id, owner) = t.org_with_owner().await;
    let inv = invitation(id, &unique_email("invitee"), OrgRole::Member, &owner.user);
    invite(&t, &owner.user, &managers(id), &inv).await.unwrap();
    let now = Now::get();
    let admin = t.member_of(id, OrgRole::Admin).await;
    let stale = demoted(&t, id, &admin.user).await;
    let (app, inv) = (&t.app, &inv);
    let revoke = |by: &User, authority: &Authority| {
        let (by, authority) = (by.clone(), authority.clone());
        async move {
            app.store
                .close_invitation(
                    inv,
                    InvitationStatus::Revoked,
                    None,
                    Some((&by, &authority)),
                    &now.rfc3339(),
                    now.epoch(),
                )
                .await
        }
    };
    assert_refused!(revoke(&stale, &managers(id)).await, ServiceError::Forbidden);
    revoke(&owner.user, &managers(id)).await.unwrap();
    // No longer pending.
    assert_refused!(
        revoke(&owner.user, &managers(id)).await,
        ServiceError::Conflict
    );
}

fn session_for(user: &User) -> Session {
    Session {
        id: format!("s-{}", uuid::Uuid::new_v4().simple()),
        user_id: user.id,
        token_hash: "h".into(),
        token_version: user.token_version,
        expires_at: Now::get().epoch() + 3600,
    }
}

async fn accept(
    t: &TestApp,
    inv: &Invitation,
    who: &User,
    new_account: bool,
) -> Result<(), ServiceError> {
    let now = Now::get();
    t.app
        .store
        .accept_invitation(
            inv,
            who,
            MemberCounter::OrgItem,
            new_account,
            &session_for(who),
            &now.rfc3339(),
            now.epoch(),
        )
        .await
}

#[tokio::test]
async fn accept_invitation_refusals() {
    let t = TestApp::spawn_with(|c| {
        c.tiers = roster::domain::Tiers::parse("free:seats=2").unwrap();
    })
    .await;
    let (id, owner) = t.org_with_owner().await;
    let by = &owner.user;
    let tt = &t;
    let pending = |email: &str, role| {
        let inv = invitation(id, email, role, by);
        async move {
            invite(tt, by, &managers(id), &inv).await.unwrap();
            inv
        }
    };
    // Already accepted.
    let first = pending(&unique_email("first"), OrgRole::Member).await;
    let joiner = account(first.email.as_ref(), None);
    accept(&t, &first, &joiner, true).await.unwrap();
    let other = account(&unique_email("other"), None);
    assert_refused!(
        accept(&t, &first, &other, true).await,
        ServiceError::Conflict
    );
    // No seat left (owner + one member on a two-seat tier).
    let full = pending(&unique_email("full"), OrgRole::Member).await;
    let late = account(full.email.as_ref(), None);
    assert_refused!(
        accept(&t, &full, &late, true).await,
        ServiceError::SeatLimitReached
    );
    // An owner invitation to an organization that has its owner.
    let own = pending(&unique_email("owner"), OrgRole::Owner).await;
    let heir = account(own.email.as_ref(), None);
    assert_refused!(accept(&t, &own, &heir, true).await, ServiceError::NotFound);
    // The new account's email was claimed meanwhile.
    let t2 = TestApp::spawn().await;
    let (id2, owner2) = t2.org_with_owner().await;
    let claimed = unique_email("claimed");
    let inv = invitation(id2, &claimed, OrgRole::Member, &owner2.user);
    invite(&t2, &owner2.user, &managers(id2), &inv)
        .await
        .unwrap();
    t2.create_user(&claimed, None, false).await;
    assert_refused!(
        accept(&t2, &inv, &account(&claimed, None), true).await,
        ServiceError::EmailTaken
    );
    // The existing account joined another organization meanwhile.
    let (elsewhere, _) = t2.org_with_owner().await;
    let mut read = t2.create_user(&unique_email("mover"), None, false).await;
    let moved = t2.member_of(elsewhere, OrgRole::Member).await;
    read.id = moved.user.id;
    read.email = moved.user.email.clone();
    let inv = invitation(id2, read.email.as_ref(), OrgRole::Member, &owner2.user);
    invite(&t2, &owner2.user, &managers(id2), &inv)
        .await
        .unwrap();
    assert_refused!(
        accept(&t2, &inv, &read, false).await,
        ServiceError::MemberOfAnotherOrganization
    );
    // The organization was deleted.
    let inv = invitation(id2, &unique_email("gone"), OrgRole::Member, &owner2.user);
    invite(&t2, &owner2.user, &managers(id2), &inv)
        .await
        .unwrap();
    let now = Now::get().rfc3339();
    t2.app
        .store
        .tombstone_org(&org(&t2, id2).await, &owner2.user, &owner_of(id2), &now)
        .await
        .unwrap();
    assert_refused!(
        accept(&t2, &inv, &account(inv.email.as_ref(), None), true).await,
        ServiceError::NotFound
    );
}

// --- confirm_email_change, rotate_session --------------------------------------------------

#[tokio::test]
async fn confirm_email_change_refusals() {
    let t = TestApp::spawn().await;
    let me = t.signed_in("mover").await.user;
    let target = unique_email("new");
    let change = EmailChange {
        user_id: me.id,
        new_email: Email::parse(&target).unwrap(),
        nonce_hash: "h1".into(),
        expires_at: Now::get().epoch() + 3600,
    };
    let now = Now::get();
    let (app, me_ref) = (&t.app, &me);
    let confirm = |change: EmailChange| async move {
        app.store
            .confirm_email_change(me_ref, &change, &now.rfc3339(), now.epoch())
            .await
    };
    // No pending change (or another link's).
    assert_refused!(confirm(change.clone()).await, ServiceError::NotFound);
    t.app.store.put_email_change(&change).await.unwrap();
    let other_link = EmailChange {
        nonce_hash: "h2".into(),
        ..change.clone()
    };
    assert_refused!(confirm(other_link).await, ServiceError::NotFound);
    // The new address was taken meanwhile.
    t.create_user(&target, None, false).await;
    assert_refused!(confirm(change).await, ServiceError::EmailTaken);
}

#[tokio::test]
async fn rotate_session_refusals() {
    let t = TestApp::spawn().await;
    let me = t.signed_in("rotator").await.user;
    let session = session_for(&me);
    t.app
        .store
        .put_session(&session, &Now::get().rfc3339())
        .await
        .unwrap();
    t.app
        .store
        .rotate_session(&session, &me, "h2")
        .await
        .unwrap();
    // The old secret, once more.
    assert_refused!(
        t.app.store.rotate_session(&session, &me, "h3").await,
        ServiceError::Unauthorized
    );
    // Credentials changed since the session was issued.
    let current = roster::storage::Session {
        token_hash: "h2".into(),
        ..session
    };
    t.app.store.revoke_all_sessions(&me.id).await.unwrap();
    assert_refused!(
        t.app.store.rotate_session(&current, &me, "h4").await,
        ServiceError::Unauthorized
    );
}

/// The new address became the account's meanwhile (an admin changed it): confirming uses
/// the link up and changes nothing, rather than a transaction naming the claim twice.
#[tokio::test]
async fn confirming_an_address_the_account_already_has_uses_the_link_up() {
    let t = TestApp::spawn().await;
    let me = t.signed_in("mover").await.user;
    let target = Email::parse(&unique_email("new")).unwrap();
    let change = EmailChange {
        user_id: me.id,
        new_email: target.clone(),
        nonce_hash: "h1".into(),
        expires_at: Now::get().epoch() + 3600,
    };
    t.app.store.put_email_change(&change).await.unwrap();
    let root = t.platform_admin().await;
    let edit = UserChanges {
        email: Some(target.clone()),
        ..Default::default()
    };
    let me = t
        .app
        .store
        .update_user(&me, &edit, &root.user, &Authority::PlatformAdmin, None)
        .await
        .unwrap();
    let now = Now::get();
    let r = t
        .app
        .store
        .confirm_email_change(&me, &change, &now.rfc3339(), now.epoch())
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(user(&t, &me.id).await.email, target);
    assert!(t.app.store.email_claimed(&target).await.unwrap());
    assert!(
        t.app
            .store
            .get_email_change(&me.id)
            .await
            .unwrap()
            .is_none()
    );
}
