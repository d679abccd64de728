//! A moment as the API shows it and the table stores it: RFC 3339, UTC, milliseconds, fixed
//! width, so stored timestamps sort as strings (`clock::Now::rfc3339`).

use crate::clock::Now;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Now> for Timestamp {
    fn from(now: Now) -> Self {
        Timestamp(now.rfc3339())
    }
}

/// A timestamp already formatted by `Now::rfc3339` (or read back from the table).
impl From<String> for Timestamp {
    fn from(raw: String) -> Self {
        Timestamp(raw)
    }
}

impl From<&str> for Timestamp {
    fn from(raw: &str) -> Self {
        Timestamp(raw.to_string())
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

impl AsRef<str> for Timestamp {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_is_its_fixed_width_text_and_sorts_in_time() {
        let a = Now::get();
        let (ta, tb) = (Timestamp::from(a), Timestamp::from(a.after_secs(1)));
        assert_eq!(ta.as_str(), a.rfc3339());
        assert!(ta < tb);
        assert_eq!(
            serde_json::to_value(&ta).unwrap(),
            serde_json::json!(a.rfc3339())
        );
    }
}
