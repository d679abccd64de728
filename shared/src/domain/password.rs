use super::Invalid;

/// A password as the user chose it: 12 to 128 characters, any characters, no composition
/// rules (OWASP ASVS V2.1). Never serialised, never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let len = raw.chars().count();
        if len < 12 {
            return Err(Invalid::new("must be at least 12 characters"));
        }
        if len > 128 {
            return Err(Invalid::new("must be at most 128 characters"));
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl<'de> serde::Deserialize<'de> for Password {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Password::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A password as typed to prove who one is (a sign-in, a re-authentication, accepting as an
/// existing account): checked against the stored hash, never against the policy, so any
/// string. Never serialised, never printed.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct GivenPassword(String);

impl GivenPassword {
    pub fn new(raw: String) -> Self {
        GivenPassword(raw)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for GivenPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GivenPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neither_kind_of_password_is_ever_printed() {
        let given = GivenPassword::new("correct horse battery staple".into());
        let chosen = Password::parse("correct horse battery staple").unwrap();
        for shown in [format!("{given:?}"), format!("{chosen:?}")] {
            assert!(!shown.contains("horse"), "{shown}");
        }
        assert_eq!(given.expose(), "correct horse battery staple");
    }

    #[test]
    fn length_is_the_only_rule() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("exactly12chr").is_ok());
        assert!(Password::parse("aaaaaaaaaaaa").is_ok());
        assert!(Password::parse("🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑").is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-secret").unwrap()),
            "Password(***)"
        );
    }
}
