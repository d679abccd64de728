use super::Invalid;
use serde::{Deserialize, Serialize};

/// A role inside an organization. Platform administration is a separate flag on the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    Owner,
    Admin,
    Member,
}

impl OrgRole {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "owner" => Ok(OrgRole::Owner),
            "admin" => Ok(OrgRole::Admin),
            "member" => Ok(OrgRole::Member),
            _ => Err(Invalid::new("must be one of owner, admin, member")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Owner => "owner",
            OrgRole::Admin => "admin",
            OrgRole::Member => "member",
        }
    }

    /// Owners and admins run the organization; members only use it.
    pub fn manages_org(self) -> bool {
        matches!(self, OrgRole::Owner | OrgRole::Admin)
    }
}

/// A role that can be given to someone (an invitation, a role change, a new account):
/// admin or member. Ownership moves only by transfer, or with a new organization's first
/// owner invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssignableRole {
    Admin,
    Member,
}

impl AssignableRole {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "admin" => Ok(AssignableRole::Admin),
            "member" => Ok(AssignableRole::Member),
            _ => Err(Invalid::new(
                "must be admin or member (ownership moves by transfer-ownership)",
            )),
        }
    }
}

impl From<AssignableRole> for OrgRole {
    fn from(role: AssignableRole) -> OrgRole {
        match role {
            AssignableRole::Admin => OrgRole::Admin,
            AssignableRole::Member => OrgRole::Member,
        }
    }
}

impl<'de> Deserialize<'de> for AssignableRole {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        AssignableRole::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admin_and_member_are_assignable() {
        assert_eq!(
            AssignableRole::parse("admin").unwrap(),
            AssignableRole::Admin
        );
        assert_eq!(
            OrgRole::from(AssignableRole::parse("member").unwrap()),
            OrgRole::Member
        );
        for raw in ["owner", "Admin", "platform_admin", ""] {
            assert!(AssignableRole::parse(raw).is_err(), "{raw}");
        }
        let parsed: Result<AssignableRole, _> = serde_json::from_str(r#""owner""#);
        assert!(parsed.is_err());
    }

    #[test]
    fn roles_parse_exactly() {
        assert_eq!(OrgRole::parse("admin").unwrap(), OrgRole::Admin);
        assert!(OrgRole::parse("Admin").is_err());
        assert!(OrgRole::parse("platform_admin").is_err());
        assert!(OrgRole::Owner.manages_org() && OrgRole::Admin.manages_org());
        assert!(!OrgRole::Member.manages_org());
    }
}
