//! Pagination cursors: DynamoDB's LastEvaluatedKey as a `Cursor`. A cursor is only accepted
//! back if it has exactly the key attributes of the query it came from and points into the
//! same partition, so a tampered cursor is a 400 and never reads another tenant.

use crate::domain::Cursor;
use crate::error::{ServiceError, ServiceResult};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Key = HashMap<String, AttributeValue>;

pub fn encode(last_key: &Key) -> Option<String> {
    let plain: Vec<(&str, &str)> = last_key
        .iter()
        .map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str())))
        .collect::<Option<_>>()?;
    Cursor::encode(plain)
}

/// The start key `cursor` gives a query whose key attributes are `attributes`, whose
/// partition attribute `partition.0` must equal `partition.1`, and (when given) whose
/// attribute `sort.0` must start with `sort.1`.
pub fn key(
    cursor: &Cursor,
    attributes: &[&str],
    partition: (&str, &str),
    sort: Option<(&str, &str)>,
) -> ServiceResult<Key> {
    let fits = cursor.has_attributes(attributes)
        && cursor.get(partition.0) == Some(partition.1)
        && sort
            .is_none_or(|(attr, prefix)| cursor.get(attr).is_some_and(|v| v.starts_with(prefix)));
    if !fits {
        return Err(ServiceError::field("cursor", "is not a valid cursor"));
    }
    Ok(cursor
        .pairs()
        .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(pairs: &[(&str, &str)]) -> Key {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
            .collect()
    }

    #[test]
    fn round_trips_and_refuses_a_cursor_from_another_list() {
        let k = key_of(&[
            ("pk", "ORG#1"),
            ("sk", "PROFILE"),
            ("gsi1pk", "ORGS"),
            ("gsi1sk", "x"),
        ]);
        let attrs = ["pk", "sk", "gsi1pk", "gsi1sk"];
        let c = Cursor::parse(&encode(&k).unwrap()).unwrap();
        let orgs = ("gsi1pk", "ORGS");
        assert_eq!(key(&c, &attrs, orgs, None).unwrap(), k);
        assert_eq!(key(&c, &attrs, orgs, Some(("sk", "PRO"))).unwrap(), k);
        // Another partition, missing or extra attributes: refused.
        assert!(key(&c, &attrs, ("gsi1pk", "ORG#2#MEMBERS"), None).is_err());
        assert!(key(&c, &attrs[..3], orgs, None).is_err());
        // A sort key outside the list's range.
        assert!(key(&c, &attrs, orgs, Some(("sk", "INV#"))).is_err());
    }
}
