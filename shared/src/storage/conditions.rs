//! What a write demands beyond an item's own state: the caller's authority, re-checked at
//! write time (a ConditionCheck on their own item, or a condition on it when the write
//! changes that item), and the conditions joined to an item's own with AND.

use super::{Store, keys, n, s};
use crate::domain::{OrgId, OrgRole, User};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use std::collections::HashMap;

/// What the caller must still be at the moment of a write: checked by a ConditionCheck on
/// the caller's own item inside the same transaction, not only by the earlier read.
#[derive(Debug, Clone)]
pub enum Authority {
    PlatformAdmin,
    OrgRole {
        org: OrgId,
        roles: &'static [OrgRole],
    },
    /// Signed in with these credentials still valid (no role needed).
    SignedIn,
}

impl Store {
    /// The ConditionCheck that re-asserts `caller` holds `authority` at write time.
    pub(crate) fn authority_check(
        &self,
        caller: &User,
        authority: &Authority,
    ) -> Result<TransactWriteItem, crate::error::ServiceError> {
        let c = Condition::authority(caller, authority);
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::user_pk(&caller.id), keys::PROFILE)))
            .condition_expression(c.expression)
            .set_expression_attribute_values(Some(c.values))
            .set_expression_attribute_names((!c.names.is_empty()).then_some(c.names))
            .build()?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }
}

/// A condition expression with its own placeholders, to be joined to an item's own
/// condition with AND.
pub(crate) struct Condition {
    expression: String,
    values: HashMap<String, AttributeValue>,
    names: HashMap<String, String>,
}

impl Condition {
    /// What `caller` must still be, on their own user item: the same credentials (token
    /// version) and `authority`.
    fn authority(caller: &User, authority: &Authority) -> Condition {
        let mut values = HashMap::from([(":caller_ver".to_string(), n(caller.token_version))]);
        let mut names = HashMap::new();
        let expression = match authority {
            Authority::SignedIn => "token_version = :caller_ver".to_string(),
            Authority::PlatformAdmin => {
                values.insert(":caller_pa".into(), AttributeValue::Bool(true));
                "token_version = :caller_ver AND platform_admin = :caller_pa".to_string()
            }
            Authority::OrgRole { org, roles } => {
                values.insert(":caller_org".into(), s(org.to_string()));
                names.insert("#role".to_string(), "role".to_string());
                let mut placeholders = Vec::new();
                for (i, role) in roles.iter().enumerate() {
                    values.insert(format!(":caller_r{i}"), s(role.as_str()));
                    placeholders.push(format!(":caller_r{i}"));
                }
                format!(
                    "token_version = :caller_ver AND org_id = :caller_org AND #role IN ({})",
                    placeholders.join(", ")
                )
            }
        };
        Condition {
            expression,
            values,
            names,
        }
    }

    /// What a write by `caller` demands of a user item it changes (`target`), beyond the
    /// item's own state: an organization-level caller never acts on a platform admin
    /// (DESIGN §10); and the caller's own item carries the caller's authority, since one
    /// transaction may not also hold a ConditionCheck on it (leaving, self-demotion, an
    /// owner's own transfer). `None` when nothing is demanded.
    pub(crate) fn on_user(
        caller: &User,
        authority: &Authority,
        target: &crate::domain::UserId,
    ) -> Option<Condition> {
        if *target == caller.id {
            return Some(Condition::authority(caller, authority));
        }
        (!caller.platform_admin).then(|| Condition {
            expression: "platform_admin = :target_pa".to_string(),
            values: HashMap::from([(":target_pa".to_string(), AttributeValue::Bool(false))]),
            names: HashMap::new(),
        })
    }

    /// `own` AND this condition, set on a write with this condition's placeholders.
    pub(crate) fn and<B: Conditional>(extra: Option<Condition>, own: &str, mut write: B) -> B {
        let Some(c) = extra else {
            return write.condition(own.to_string());
        };
        for (k, v) in c.values {
            write = write.value(k, v);
        }
        for (k, v) in c.names {
            write = write.name(k, v);
        }
        write.condition(format!("({own}) AND ({})", c.expression))
    }
}

/// A write of a transaction that takes a condition and its placeholders (Update, Delete).
pub(crate) trait Conditional: Sized {
    fn condition(self, expression: String) -> Self;
    fn value(self, name: String, value: AttributeValue) -> Self;
    fn name(self, placeholder: String, name: String) -> Self;
}

macro_rules! conditional {
    ($($builder:ty),*) => {$(
        impl Conditional for $builder {
            fn condition(self, expression: String) -> Self {
                self.condition_expression(expression)
            }
            fn value(self, name: String, value: AttributeValue) -> Self {
                self.expression_attribute_values(name, value)
            }
            fn name(self, placeholder: String, name: String) -> Self {
                self.expression_attribute_names(placeholder, name)
            }
        }
    )*};
}

conditional!(
    aws_sdk_dynamodb::types::builders::UpdateBuilder,
    aws_sdk_dynamodb::types::builders::DeleteBuilder
);
