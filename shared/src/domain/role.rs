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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_exactly() {
        assert_eq!(OrgRole::parse("admin").unwrap(), OrgRole::Admin);
        assert!(OrgRole::parse("Admin").is_err());
        assert!(OrgRole::parse("platform_admin").is_err());
        assert!(OrgRole::Owner.manages_org() && OrgRole::Admin.manages_org());
        assert!(!OrgRole::Member.manages_org());
    }
}
