use super::text::bounded_text;
use super::{Invalid, Tiers, string_newtype_serde};

/// An organization's display name: 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgName(String);

impl OrgName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        bounded_text(raw, 1, 100).map(OrgName)
    }
}
string_newtype_serde!(OrgName);

/// A free-text description: at most 1000 characters (may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        bounded_text(raw, 0, 1000).map(Description)
    }
}
string_newtype_serde!(Description);

/// The unique short code of an organization, stored upper case:
/// `^[A-Z0-9][A-Z0-9_-]{1,31}$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgCode(String);

impl OrgCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim().to_ascii_uppercase();
        let mut chars = code.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let rest_ok =
            chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !(2..=32).contains(&code.len()) || !first_ok || !rest_ok {
            return Err(Invalid::new(
                "must be 2 to 32 letters, digits, '_' or '-', starting with a letter or digit",
            ));
        }
        Ok(OrgCode(code))
    }
}
string_newtype_serde!(OrgCode);

/// A subscription tier: one of the deployment's configured `TIERS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier(String);

impl Tier {
    pub fn parse(raw: &str, allowed: &Tiers) -> Result<Self, Invalid> {
        match allowed.get(raw) {
            Some(t) => Ok(Tier(t.name.clone())),
            None => Err(Invalid::new(format!(
                "must be one of {}",
                allowed.names().join(", ")
            ))),
        }
    }

    /// The default tier: the first configured.
    pub fn first(allowed: &Tiers) -> Self {
        Tier(allowed.first().name.clone())
    }

    /// A tier read back from storage, where it was validated on the way in.
    pub fn stored(raw: String) -> Self {
        Tier(raw)
    }
}

impl AsRef<str> for Tier {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Serialised as its name; read back from storage with `Tier::stored`.
impl serde::Serialize for Tier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_cased_and_checked() {
        assert_eq!(OrgCode::parse(" acme ").unwrap().as_ref(), "ACME");
        assert_eq!(OrgCode::parse("a1_b-c").unwrap().as_ref(), "A1_B-C");
        assert!(OrgCode::parse("9LIVES").is_ok());
        for bad in [
            "",
            "A",
            "_ACME",
            "-ACME",
            "AC ME",
            "ACMÉ",
            "AC.ME",
            "A'; DROP",
            &"A".repeat(33),
        ] {
            assert!(OrgCode::parse(bad).is_err(), "{bad:?}");
        }
        assert!(OrgCode::parse(&"A".repeat(32)).is_ok());
    }

    #[test]
    fn org_names_and_descriptions_are_bounded() {
        assert!(OrgName::parse("Acme").is_ok());
        assert!(OrgName::parse(" ").is_err());
        assert!(OrgName::parse(&"n".repeat(101)).is_err());
        assert!(Description::parse("").is_ok());
        assert!(Description::parse(&"d".repeat(1000)).is_ok());
        assert!(Description::parse(&"d".repeat(1001)).is_err());
    }

    #[test]
    fn tiers_come_from_the_configured_list() {
        let tiers = Tiers::parse("free:seats=3,pro").unwrap();
        assert_eq!(Tier::parse("pro", &tiers).unwrap().as_ref(), "pro");
        assert!(Tier::parse("gold", &tiers).is_err());
        assert!(Tier::parse("free:seats=3", &tiers).is_err());
        assert_eq!(Tier::first(&tiers).as_ref(), "free");
    }
}
