//! A list's continuation cursor as the client hands it back: base64url JSON of the last key
//! read, parsed at the edge. Which list it may continue (its key attributes, its partition)
//! is checked by the query that uses it (`storage::cursor::key`).

use crate::error::{ServiceError, ServiceResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::BTreeMap;

/// Longest cursor accepted: a key of a few attributes of at most 1,024 bytes each fits well.
const MAX_LEN: usize = 2048;

/// A decoded cursor: key attribute names and their string values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(BTreeMap<String, String>);

impl Cursor {
    /// Base64url JSON of string values, each 1 to 1,024 bytes (what DynamoDB accepts as a
    /// key), at most 2,048 characters: anything else is a 400 here, never a DynamoDB
    /// validation error (a 500) later.
    pub fn parse(raw: &str) -> ServiceResult<Cursor> {
        let bad = || ServiceError::field("cursor", "is not a valid cursor");
        if raw.len() > MAX_LEN {
            return Err(bad());
        }
        let json = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let key: BTreeMap<String, String> = serde_json::from_slice(&json).map_err(|_| bad())?;
        if key.is_empty() || key.values().any(|v| v.is_empty() || v.len() > 1024) {
            return Err(bad());
        }
        Ok(Cursor(key))
    }

    /// The cursor a client gets for a list that continues after `key`.
    pub fn encode<'a>(key: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<String> {
        let plain: BTreeMap<&str, &str> = key.into_iter().collect();
        serde_json::to_vec(&plain)
            .ok()
            .map(|json| URL_SAFE_NO_PAD.encode(json))
    }

    pub fn get(&self, attribute: &str) -> Option<&str> {
        self.0.get(attribute).map(String::as_str)
    }

    /// True when the cursor names exactly these key attributes.
    pub fn has_attributes(&self, attributes: &[&str]) -> bool {
        self.0.len() == attributes.len() && attributes.iter().all(|a| self.0.contains_key(*a))
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_is_not_a_key() {
        let raw = Cursor::encode([("pk", "ORG#1"), ("sk", "MEMBER#2")]).unwrap();
        let c = Cursor::parse(&raw).unwrap();
        assert_eq!(c.get("pk"), Some("ORG#1"));
        assert!(c.has_attributes(&["sk", "pk"]));
        assert!(!c.has_attributes(&["pk"]));
        assert_eq!(Cursor::encode(c.pairs()).as_deref(), Some(raw.as_str()));
        let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
        for bad in [
            "not base64!".to_string(),
            b64("[1,2]"),
            b64("{}"),
            b64(r#"{"pk":1}"#),
            b64(r#"{"pk":""}"#),
            b64(&format!(r#"{{"pk":"{}"}}"#, "x".repeat(1025))),
            "A".repeat(MAX_LEN + 1),
        ] {
            let err = Cursor::parse(&bad).unwrap_err();
            assert!(format!("{err:?}").contains("cursor"), "{bad}: {err:?}");
        }
    }
}
