//! Pagination cursors: DynamoDB's LastEvaluatedKey as base64url JSON. A cursor is only
//! accepted back if it has exactly the key attributes of the query it came from and points
//! into the same partition, so a tampered cursor is a 400 and never reads another tenant.

use crate::error::{ServiceError, ServiceResult};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::{BTreeMap, HashMap};

pub type Key = HashMap<String, AttributeValue>;

pub fn encode(last_key: &Key) -> Option<String> {
    let plain: BTreeMap<&str, &str> = last_key
        .iter()
        .map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str())))
        .collect::<Option<_>>()?;
    serde_json::to_vec(&plain)
        .ok()
        .map(|json| URL_SAFE_NO_PAD.encode(json))
}

/// Decodes `raw` for a query whose key attributes are `attributes`, whose partition
/// attribute `partition.0` must equal `partition.1`, and (when given) whose attribute
/// `sort.0` must start with `sort.1`. Every value must be a key DynamoDB accepts (1 to
/// 1,024 bytes): anything else is a 400 here, not a DynamoDB validation error (a 500) later.
pub fn decode(
    raw: &str,
    attributes: &[&str],
    partition: (&str, &str),
    sort: Option<(&str, &str)>,
) -> ServiceResult<Key> {
    let bad = || ServiceError::field("cursor", "is not a valid cursor");
    if raw.len() > 2048 {
        return Err(bad());
    }
    let json = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let plain: BTreeMap<String, String> = serde_json::from_slice(&json).map_err(|_| bad())?;
    let same_attributes =
        plain.len() == attributes.len() && attributes.iter().all(|a| plain.contains_key(*a));
    if !same_attributes || plain.get(partition.0).map(String::as_str) != Some(partition.1) {
        return Err(bad());
    }
    if plain.values().any(|v| v.is_empty() || v.len() > 1024) {
        return Err(bad());
    }
    if let Some((attr, prefix)) = sort
        && !plain.get(attr).is_some_and(|v| v.starts_with(prefix))
    {
        return Err(bad());
    }
    Ok(plain
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(pairs: &[(&str, &str)]) -> Key {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
            .collect()
    }

    #[test]
    fn round_trips_and_refuses_tampering() {
        let k = key(&[
            ("pk", "ORG#1"),
            ("sk", "PROFILE"),
            ("gsi1pk", "ORGS"),
            ("gsi1sk", "x"),
        ]);
        let attrs = ["pk", "sk", "gsi1pk", "gsi1sk"];
        let c = encode(&k).unwrap();
        let orgs = ("gsi1pk", "ORGS");
        assert_eq!(decode(&c, &attrs, orgs, None).unwrap(), k);
        assert_eq!(decode(&c, &attrs, orgs, Some(("sk", "PRO"))).unwrap(), k);
        // Another partition, missing or extra attributes, garbage: all refused.
        assert!(decode(&c, &attrs, ("gsi1pk", "ORG#2#MEMBERS"), None).is_err());
        assert!(decode(&c, &attrs[..3], orgs, None).is_err());
        assert!(decode("not base64!", &attrs, orgs, None).is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("[1,2]"), &attrs, orgs, None).is_err());
        assert!(decode(&"A".repeat(5000), &attrs, orgs, None).is_err());
        // A sort key outside the list's range, empty, or longer than DynamoDB allows.
        assert!(decode(&c, &attrs, orgs, Some(("sk", "INV#"))).is_err());
        for bad_sk in ["", &"x".repeat(1025)] {
            let forged = key(&[
                ("pk", "ORG#1"),
                ("sk", bad_sk),
                ("gsi1pk", "ORGS"),
                ("gsi1sk", "x"),
            ]);
            let c = encode(&forged).unwrap();
            assert!(decode(&c, &attrs, orgs, None).is_err());
        }
    }
}
