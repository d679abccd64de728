use super::{Invalid, string_newtype_serde};

/// Trims `raw` and checks its length in characters and that it holds no control characters.
pub(crate) fn bounded_text(raw: &str, min: usize, max: usize) -> Result<String, Invalid> {
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    if len < min {
        return Err(Invalid::new(if min == 1 {
            "must not be empty".to_string()
        } else {
            format!("must be at least {min} characters")
        }));
    }
    if len > max {
        return Err(Invalid::new(format!("must be at most {max} characters")));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Invalid::new("must not contain control characters"));
    }
    Ok(trimmed.to_string())
}

/// A person's display name: 1 to 100 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = bounded_text(raw, 1, 100)?;
        if name.contains('\n') || name.contains('\t') {
            return Err(Invalid::new("must be a single line"));
        }
        Ok(PersonName(name))
    }
}
string_newtype_serde!(PersonName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            PersonName::parse("  Ada Lovelace ").unwrap().as_ref(),
            "Ada Lovelace"
        );
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
        assert!(PersonName::parse("a\u{0}b").is_err());
        assert!(PersonName::parse("two\nlines").is_err());
    }
}
