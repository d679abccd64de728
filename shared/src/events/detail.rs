//! An audit item, as the stream carries it, to the published event: `source` "roster", a
//! detail-type per action, and a versioned detail (docs/events.md, docs/events/*.json).

use serde::{Deserialize, Serialize};

/// Every event's `source`.
pub const SOURCE: &str = "roster";
/// The detail's schema version: a breaking change publishes "2" beside it.
pub const VERSION: &str = "1";

/// (stored `action`, detail-type) for every audited change; docs/events/ has one schema per
/// detail-type, named after it.
pub const DETAIL_TYPES: &[(&str, &str)] = &[
    ("org.created", "Organization Created"),
    ("org.updated", "Organization Updated"),
    ("org.deleted", "Organization Deleted"),
    ("org.ownership_transferred", "Ownership Transferred"),
    ("invitation.sent", "Invitation Sent"),
    ("invitation.resent", "Invitation Resent"),
    ("invitation.revoked", "Invitation Revoked"),
    ("invitation.accepted", "Invitation Accepted"),
    ("invitation.declined", "Invitation Declined"),
    ("invitation.expired", "Invitation Expired"),
    ("invitation.delivery_failed", "Invitation Delivery Failed"),
    ("member.joined", "Member Joined"),
    ("member.role_changed", "Member Role Changed"),
    ("member.removed", "Member Removed"),
    ("member.left", "Member Left"),
    ("user.created", "User Created"),
    ("user.updated", "User Updated"),
    ("user.deleted", "User Deleted"),
    ("user.email_changed", "User Email Changed"),
];

/// An action this table does not know yet (a newer writer, an older events function) is
/// still published, under this detail-type, rather than dropped.
pub const OTHER_DETAIL_TYPE: &str = "Audit Entry Recorded";

pub fn detail_type(action: &str) -> &'static str {
    DETAIL_TYPES
        .iter()
        .find(|(a, _)| *a == action)
        .map_or(OTHER_DETAIL_TYPE, |(_, t)| t)
}

/// The stored audit item (storage::audit writes it; before and after are JSON text).
#[derive(Debug, Deserialize)]
struct AuditImage {
    id: String,
    at: String,
    org_id: String,
    #[serde(default)]
    actor: Option<String>,
    action: String,
    target: String,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

/// The published detail, version 1.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Detail {
    pub version: String,
    /// The audit entry's id: the same for every delivery of this change, so consumers
    /// de-duplicate on it (delivery is at least once).
    pub event_id: String,
    pub occurred_at: String,
    pub action: String,
    /// The organization's id.
    pub organization: String,
    /// The acting user's id; null when the system acted (expiry, cleanup).
    pub actor: Option<String>,
    /// What changed: a user id or an invitation's email.
    pub target: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum DetailError {
    #[error("the record has no new image")]
    NoImage,
    #[error("the new image is not an audit entry: {0}")]
    NotAudit(#[from] serde_dynamo::Error),
}

/// A published event, before it becomes a PutEvents entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub detail_type: &'static str,
    pub detail: Detail,
}

impl Event {
    pub fn from_image(image: Option<serde_dynamo::Item>) -> Result<Event, DetailError> {
        let image: AuditImage = serde_dynamo::from_item(image.ok_or(DetailError::NoImage)?)?;
        // Before and after were written by us as JSON; text that is not JSON is published
        // as a string rather than lost.
        let parse = |v: Option<String>| {
            v.map(|t| {
                let value = serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t));
                without_secrets(value)
            })
        };
        Ok(Event {
            detail_type: detail_type(&image.action),
            detail: Detail {
                version: VERSION.into(),
                event_id: image.id,
                occurred_at: image.at,
                action: image.action,
                organization: image.org_id,
                actor: image.actor,
                target: image.target,
                before: parse(image.before),
                after: parse(image.after),
            },
        })
    }
}

impl Event {
    /// The events of one audit entry: one per member it names. A bulk role change or
    /// removal is one audit entry (one transaction) naming every member; an application
    /// acts per member (a rule can match `detail.target` to one user), so it gets one event
    /// each, with the event id `<entry id>/<user id>` (stable across deliveries), the
    /// member's own `before`, and the shared `after`.
    pub fn all_from_image(image: Option<serde_dynamo::Item>) -> Result<Vec<Event>, DetailError> {
        Ok(Event::from_image(image)?.per_member())
    }

    fn per_member(self) -> Vec<Event> {
        if !self.detail.action.starts_with("member.") {
            return vec![self];
        }
        let ids: Vec<&str> = self.detail.target.split(',').collect();
        let bulk = ids.len() > 1;
        ids.iter()
            .map(|id| {
                let mut d = self.detail.clone();
                if bulk {
                    d.event_id = format!("{}/{id}", self.detail.event_id);
                }
                d.target = (*id).to_string();
                d.before = d.before.map(|b| member_entry(b, id));
                Event {
                    detail_type: self.detail_type,
                    detail: d,
                }
            })
            .collect()
    }
}

/// A membership entry's `before` lists each member it changed (`[{"user_id": .., ..}]`,
/// one or many): the member's own entry. Anything else is kept as written.
fn member_entry(value: serde_json::Value, id: &str) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Array(items)
            if !items.is_empty() && items.iter().all(|i| i.get("user_id").is_some()) =>
        {
            items
                .into_iter()
                .find(|i| i["user_id"] == id)
                .unwrap_or(Value::Null)
        }
        other => other,
    }
}

/// Field names that never leave Roster in an event, at any depth: the audit log records
/// none of them today, and this keeps a future `before`/`after` from publishing one.
const SECRET_WORDS: &[&str] = &["password", "hash", "token", "secret", "nonce", "credential"];

fn without_secrets(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| {
                    let k = k.to_ascii_lowercase();
                    !SECRET_WORDS.iter().any(|w| k.contains(w))
                })
                .map(|(k, v)| (k, without_secrets(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_secrets).collect()),
        other => other,
    }
}

/// The schema file of a detail-type under docs/events/: "Member Role Changed" ->
/// "member-role-changed.schema.json".
pub fn schema_file(detail_type: &str) -> String {
    format!(
        "{}.schema.json",
        detail_type.to_ascii_lowercase().replace(' ', "-")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image(fields: serde_json::Value) -> Option<serde_dynamo::Item> {
        Some(serde_dynamo::to_item(fields).expect("item"))
    }

    fn entry(action: &str, before: Option<&str>, after: Option<&str>) -> serde_json::Value {
        json!({
            "pk": "AUDIT#o1", "sk": "2026-01-01T00:00:00Z#e1", "id": "e1",
            "at": "2026-01-01T00:00:00Z", "org_id": "o1", "actor": "u1",
            "action": action, "target": "u2", "before": before, "after": after, "ttl": 1
        })
    }

    #[test]
    fn an_audit_item_becomes_a_versioned_detail_with_its_own_id() {
        let e = Event::from_image(image(entry(
            "member.role_changed",
            Some(r#"{"role":"member"}"#),
            Some(r#"{"role":"admin"}"#),
        )))
        .expect("event");
        assert_eq!(e.detail_type, "Member Role Changed");
        assert_eq!(
            serde_json::to_value(&e.detail).expect("json"),
            json!({
                "version": "1", "event_id": "e1", "occurred_at": "2026-01-01T00:00:00Z",
                "action": "member.role_changed", "organization": "o1", "actor": "u1",
                "target": "u2", "before": {"role": "member"}, "after": {"role": "admin"}
            })
        );
    }

    #[test]
    fn a_bulk_change_is_one_event_per_member_with_its_own_before() {
        let mut fields = entry(
            "member.removed",
            Some(r#"[{"user_id":"u2","role":"member"},{"user_id":"u3","role":"admin"}]"#),
            None,
        );
        fields["target"] = json!("u2,u3");
        let events = Event::all_from_image(image(fields)).expect("events");
        let details: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    e.detail_type,
                    e.detail.event_id.as_str(),
                    e.detail.target.as_str(),
                    e.detail.before.clone(),
                )
            })
            .collect();
        assert_eq!(
            details,
            vec![
                (
                    "Member Removed",
                    "e1/u2",
                    "u2",
                    Some(json!({"user_id": "u2", "role": "member"}))
                ),
                (
                    "Member Removed",
                    "e1/u3",
                    "u3",
                    Some(json!({"user_id": "u3", "role": "admin"}))
                ),
            ]
        );

        // One member: the entry's own id, and the member's entry rather than a list of one.
        let one = entry(
            "member.role_changed",
            Some(r#"[{"user_id":"u2","role":"member"}]"#),
            Some(r#"{"role":"admin"}"#),
        );
        let events = Event::all_from_image(image(one)).expect("events");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].detail.event_id, "e1");
        assert_eq!(
            events[0].detail.before,
            Some(json!({"user_id": "u2", "role": "member"}))
        );
        assert_eq!(events[0].detail.after, Some(json!({"role": "admin"})));

        // Other actions keep their target, commas and all.
        let mut other = entry("org.updated", Some(r#"{"name":"a,b"}"#), None);
        other["target"] = json!("o1");
        assert_eq!(
            Event::all_from_image(image(other)).expect("events").len(),
            1
        );
    }

    #[test]
    fn a_system_change_has_a_null_actor_and_absent_states_are_null() {
        let mut fields = entry("invitation.expired", None, None);
        fields.as_object_mut().expect("object").remove("actor");
        let e = Event::from_image(image(fields)).expect("event");
        let detail = serde_json::to_value(&e.detail).expect("json");
        assert_eq!(detail["actor"], json!(null));
        assert_eq!(detail["before"], json!(null));
        assert_eq!(detail["after"], json!(null));
    }

    #[test]
    fn every_stored_action_has_its_detail_type_and_unknown_ones_are_still_published() {
        for (action, kind) in DETAIL_TYPES {
            assert_eq!(detail_type(action), *kind);
        }
        assert_eq!(detail_type("org.renamed_in_future"), OTHER_DETAIL_TYPE);
        let mut kinds: Vec<_> = DETAIL_TYPES.iter().map(|(_, k)| k).collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(
            kinds.len(),
            DETAIL_TYPES.len(),
            "one detail-type per action"
        );
    }

    #[test]
    fn no_password_hash_or_token_is_ever_published() {
        let before = r#"{"email":"a@example.com","password_hash":"$argon2id$x","nested":{"refresh_token":"r","Secret":"s","role":"member"},"list":[{"token_hash":"h","name":"n"}]}"#;
        let after = r#"{"password":"hunter22","invitation_nonce":"n","role":"admin"}"#;
        let e = Event::from_image(image(entry("user.updated", Some(before), Some(after))))
            .expect("event");
        let text = serde_json::to_string(&e.detail).expect("json");
        for secret in [
            "argon2", "hunter22", "password", "token", "Secret", "nonce", "\"r\"",
        ] {
            assert!(!text.contains(secret), "{secret} published in {text}");
        }
        assert_eq!(
            e.detail.before,
            Some(
                json!({"email": "a@example.com", "nested": {"role": "member"}, "list": [{"name": "n"}]})
            )
        );
        assert_eq!(e.detail.after, Some(json!({"role": "admin"})));
    }

    #[test]
    fn an_item_that_is_not_an_audit_entry_is_an_error_not_an_empty_event() {
        assert!(matches!(Event::from_image(None), Err(DetailError::NoImage)));
        assert!(matches!(
            Event::from_image(image(json!({"pk": "AUDIT#o", "sk": "x"}))),
            Err(DetailError::NotAudit(_))
        ));
    }

    #[test]
    fn every_detail_type_has_a_published_schema() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/events");
        for kind in DETAIL_TYPES
            .iter()
            .map(|(_, k)| *k)
            .chain([OTHER_DETAIL_TYPE])
        {
            let path = dir.join(schema_file(kind));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
            assert_eq!(schema["properties"]["detail-type"]["const"], kind);
        }
    }
}
