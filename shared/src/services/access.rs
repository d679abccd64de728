//! Who may act on an organization: the same answers for every org-scoped service.

use crate::domain::{OrgId, OrgRole, User};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::Authority;

pub const MANAGERS: &[OrgRole] = &[OrgRole::Owner, OrgRole::Admin];
pub const OWNER: &[OrgRole] = &[OrgRole::Owner];

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

/// An organization's owners and admins never act on a platform admin (DESIGN §10): only a
/// platform admin, or that platform admin themself, changes or removes one. The same rule
/// is a condition of the write (`storage::Condition::on_user`).
pub fn may_act_on(caller: &User, target: &User) -> ServiceResult<()> {
    if target.platform_admin && !caller.platform_admin && caller.id != target.id {
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}
