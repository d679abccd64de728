use super::Invalid;
use uuid::Uuid;

macro_rules! uuid_id {
    ($name:ident) => {
        /// A random (v4) UUID, in its hyphenated lower-case form.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> Self {
                $name(Uuid::new_v4())
            }

            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                // Only the canonical hyphenated form: one spelling per id keeps keys unique.
                if raw.len() != 36 {
                    return Err(Invalid::new("is not a valid id"));
                }
                Uuid::try_parse(raw)
                    .map($name)
                    .map_err(|_| Invalid::new("is not a valid id"))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

uuid_id!(UserId);
uuid_id!(OrgId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_refuse_other_spellings() {
        let id = UserId::new();
        assert_eq!(UserId::parse(&id.to_string()).unwrap(), id);
        assert!(UserId::parse("not-a-uuid").is_err());
        assert!(UserId::parse("").is_err());
        assert!(OrgId::parse("6f1c1f7e5a6b4c1d8e9fa0b1c2d3e4f5").is_err());
        assert!(OrgId::parse("{6f1c1f7e-5a6b-4c1d-8e9f-a0b1c2d3e4f5}").is_err());
        assert!(OrgId::parse("6f1c1f7e-5a6b-4c1d-8e9f-a0b1c2d3e4f5").is_ok());
    }
}
