//! Who may do what: every permission rule of DESIGN §3 and §10 as a pure function of the
//! caller (and the organization or user acted on), unit-tested below without DynamoDB. Each
//! returns the `Authority` the write re-checks in its transaction, or the refusal: 404 for
//! anything outside the caller's organization (no existence oracle), 403 inside it.

use crate::domain::{OrgId, OrgRole, Organization, User};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::Authority;

pub const MANAGERS: &[OrgRole] = &[OrgRole::Owner, OrgRole::Admin];
pub const OWNER: &[OrgRole] = &[OrgRole::Owner];

/// The organization, if the caller may see it: its members and platform admins. Anyone else
/// gets the 404 a missing organization gets.
pub fn reader(caller: &User, org: Option<Organization>) -> ServiceResult<Organization> {
    org.filter(|o| caller.platform_admin || caller.org_id == Some(o.id))
        .ok_or(ServiceError::NotFound)
}

/// Owners, admins and platform admins manage an organization; a member is refused (403);
/// anyone outside it gets the 404 a missing organization gets.
pub fn manager(caller: &User, org: &OrgId) -> ServiceResult<Authority> {
    if caller.platform_admin {
        return Ok(Authority::PlatformAdmin);
    }
    match caller.role_in(org) {
        None => Err(ServiceError::NotFound),
        Some(role) if role.manages_org() => Ok(Authority::OrgRole {
            org: *org,
            roles: MANAGERS,
        }),
        Some(_) => Err(ServiceError::Forbidden),
    }
}

/// The owner (or a platform admin): delete the organization, transfer its ownership.
pub fn owner(caller: &User, org: &OrgId) -> ServiceResult<Authority> {
    if caller.platform_admin {
        return Ok(Authority::PlatformAdmin);
    }
    match caller.role_in(org) {
        None => Err(ServiceError::NotFound),
        Some(OrgRole::Owner) => Ok(Authority::OrgRole {
            org: *org,
            roles: OWNER,
        }),
        Some(_) => Err(ServiceError::Forbidden),
    }
}

/// Platform admins only: platform-wide lists, tiers and codes, other platform admins.
pub fn platform_admin(caller: &User) -> ServiceResult<Authority> {
    if caller.platform_admin {
        Ok(Authority::PlatformAdmin)
    } else {
        Err(ServiceError::Forbidden)
    }
}

/// A user's own record, or one their organization's managers (or a platform admin) may
/// see; anyone else gets 404.
pub fn self_or_manager(caller: &User, target: &User) -> ServiceResult<Authority> {
    if caller.platform_admin {
        return Ok(Authority::PlatformAdmin);
    }
    if caller.id == target.id {
        return Ok(Authority::SignedIn);
    }
    let org = target.org_id.ok_or(ServiceError::NotFound)?;
    manager(caller, &org)
}

/// An organization's owners and admins never act on a platform admin (DESIGN §10): only a
/// platform admin, or that platform admin themself, changes or removes one. The same rule
/// is a condition of the write (`storage::Condition::on_user`).
pub fn may_act_on(caller: &User, target: &User) -> ServiceResult<()> {
    if target.platform_admin && !caller.platform_admin && caller.id != target.id {
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}

/// Editing or deleting a user account the caller may see (`self_or_manager`): org managers
/// act only on the admins and members of their organization, never on its owner or a
/// platform admin; anyone acts on themself.
pub fn may_manage_account(caller: &User, target: &User) -> ServiceResult<()> {
    if caller.platform_admin || caller.id == target.id {
        return Ok(());
    }
    may_act_on(caller, target)?;
    if target.role == Some(OrgRole::Owner) {
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, UserId};

    fn user(org: Option<OrgId>, role: Option<OrgRole>, platform_admin: bool) -> User {
        User {
            id: UserId::new(),
            email: Email::parse("someone@example.com").unwrap(),
            name: "Someone".into(),
            org_id: org,
            role,
            platform_admin,
            created_at: String::new().into(),
            updated_at: String::new().into(),
            joined_at: None,
            password_hash: String::new(),
            token_version: 0,
        }
    }

    /// The callers of the permission matrix, in one organization (and one outside it).
    struct World {
        org: OrgId,
        owner: User,
        admin: User,
        member: User,
        outsider: User,
        root: User,
        root_member: User,
        loner: User,
    }

    fn world() -> World {
        let org = OrgId::new();
        World {
            org,
            owner: user(Some(org), Some(OrgRole::Owner), false),
            admin: user(Some(org), Some(OrgRole::Admin), false),
            member: user(Some(org), Some(OrgRole::Member), false),
            outsider: user(Some(OrgId::new()), Some(OrgRole::Admin), false),
            root: user(None, None, true),
            root_member: user(Some(org), Some(OrgRole::Member), true),
            loner: user(None, None, false),
        }
    }

    /// 0 allowed, 403, 404.
    fn code<T>(r: ServiceResult<T>) -> u16 {
        match r {
            Ok(_) => 0,
            Err(ServiceError::Forbidden) => 403,
            Err(ServiceError::NotFound) => 404,
            Err(e) => panic!("unexpected refusal {e:?}"),
        }
    }

    #[test]
    fn managing_and_owning_an_organization() {
        let w = world();
        let callers = [
            ("owner", &w.owner, 0, 0),
            ("admin", &w.admin, 0, 403),
            ("member", &w.member, 403, 403),
            ("other org's admin", &w.outsider, 404, 404),
            ("no org", &w.loner, 404, 404),
            ("platform admin", &w.root, 0, 0),
        ];
        for (who, caller, manage, own) in callers {
            assert_eq!(code(manager(caller, &w.org)), manage, "manager: {who}");
            assert_eq!(code(owner(caller, &w.org)), own, "owner: {who}");
        }
        assert!(matches!(
            manager(&w.admin, &w.org),
            Ok(Authority::OrgRole {
                roles: MANAGERS,
                ..
            })
        ));
        assert!(matches!(
            owner(&w.owner, &w.org),
            Ok(Authority::OrgRole { roles: OWNER, .. })
        ));
        assert!(matches!(
            owner(&w.root, &w.org),
            Ok(Authority::PlatformAdmin)
        ));
    }

    #[test]
    fn reading_an_organization_and_platform_rules() {
        let w = world();
        let org = |id| Organization {
            id,
            name: "Acme".into(),
            code: crate::domain::OrgCode::parse("ACME").unwrap(),
            description: String::new(),
            tier: crate::domain::Tier::stored("free".into()),
            owner_id: None,
            member_count: 0,
            created_at: String::new().into(),
            updated_at: String::new().into(),
            count_shards: Vec::new(),
        };
        assert_eq!(code(reader(&w.member, Some(org(w.org)))), 0);
        assert_eq!(code(reader(&w.root, Some(org(w.org)))), 0);
        assert_eq!(code(reader(&w.outsider, Some(org(w.org)))), 404);
        assert_eq!(code(reader(&w.member, None)), 404);
        assert_eq!(code(platform_admin(&w.root)), 0);
        assert_eq!(code(platform_admin(&w.owner)), 403);
    }

    #[test]
    fn seeing_a_user_and_managing_accounts() {
        let w = world();
        // (caller, target, see, manage the account once seen, act on as a member)
        #[rustfmt::skip]
        let cases = [
            ("member on self", &w.member, &w.member, 0, Some(0), 0),
            ("member on admin", &w.member, &w.admin, 403, None, 0),
            ("admin on member", &w.admin, &w.member, 0, Some(0), 0),
            ("admin on owner", &w.admin, &w.owner, 0, Some(403), 0),
            ("owner on platform admin member", &w.owner, &w.root_member, 0, Some(403), 403),
            ("admin on platform admin member", &w.admin, &w.root_member, 0, Some(403), 403),
            ("platform admin member on self", &w.root_member, &w.root_member, 0, Some(0), 0),
            ("other org's admin on member", &w.outsider, &w.member, 404, None, 0),
            ("no org on member", &w.loner, &w.member, 404, None, 0),
            ("admin on a user without org", &w.admin, &w.loner, 404, None, 0),
            ("platform admin on owner", &w.root, &w.owner, 0, Some(0), 0),
        ];
        for (name, caller, target, see, manage, act) in cases {
            assert_eq!(code(self_or_manager(caller, target)), see, "see: {name}");
            if let Some(manage) = manage {
                let got = code(may_manage_account(caller, target));
                assert_eq!(got, manage, "manage: {name}");
            }
            assert_eq!(code(may_act_on(caller, target)), act, "act on: {name}");
        }
    }
}
