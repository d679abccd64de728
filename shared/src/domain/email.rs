use super::{Invalid, string_newtype_serde};

/// An email address: trimmed, lower-cased, one `@`, a dotted domain, no display name.
///
/// Deliberately stricter than RFC 5322 (no quoted local parts, no comments, ASCII only):
/// these addresses are login names and go into mail headers, where look-alikes and
/// display names are a liability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim().to_ascii_lowercase();
        if email.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if email.len() > 254 {
            return Err(Invalid::new("must be at most 254 characters"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(Invalid::new("must contain @"));
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_alphabetic()) && tld.len() >= 2);
        if !local_ok || !domain_ok {
            return Err(Invalid::new("is not a valid email address"));
        }
        Ok(Email(email))
    }
}
string_newtype_serde!(Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_ordinary_addresses() {
        for (raw, want) in [
            ("ada@example.com", "ada@example.com"),
            (
                "  Ada.Lovelace+roster@Example.CO.uk ",
                "ada.lovelace+roster@example.co.uk",
            ),
            (
                "o'brien@sub-domain.example.org",
                "o'brien@sub-domain.example.org",
            ),
        ] {
            assert_eq!(Email::parse(raw).unwrap().as_ref(), want, "{raw}");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        for raw in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada@exa mple.com",
            "Ada <ada@example.com>",
            ".ada@example.com",
            "ada.@example.com",
            "a..da@example.com",
            "ada@-example.com",
            "ada@example.c0m",
            "аda@example.com", // Cyrillic 'а'
            "ada@exämple.com",
            "ada\r\n@example.com",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(Email::parse(&format!("a@{}.com", "b".repeat(250))).is_err());
    }
}
