//! Transactions that name their failures. Each item is pushed with the error its failed
//! condition means, so a cancellation maps through the item that failed, not through
//! arithmetic on positions; and the builder refuses a key that appears twice, which
//! DynamoDB would answer with a ValidationException (a 500 to the client).

use super::{Store, errors, keys};
use crate::domain::{User, UserId};
use crate::error::{ServiceError, ServiceResult};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use std::collections::{HashMap, HashSet};

/// An item as stored.
pub(crate) type StoredItem = HashMap<String, AttributeValue>;

/// What an item's failed condition means, given the item as it was when the write asked
/// DynamoDB to return it (`ReturnValuesOnConditionCheckFailure::AllOld`).
pub(crate) type Refusal = fn(Option<&StoredItem>) -> ServiceError;

pub(crate) const FORBIDDEN: Refusal = |_| ServiceError::Forbidden;
pub(crate) const NOT_FOUND: Refusal = |_| ServiceError::NotFound;
pub(crate) const CONFLICT: Refusal = |_| ServiceError::Conflict;
pub(crate) const UNAUTHORIZED: Refusal = |_| ServiceError::Unauthorized;
pub(crate) const CODE_TAKEN: Refusal = |_| ServiceError::CodeTaken;
pub(crate) const EMAIL_TAKEN: Refusal = |_| ServiceError::EmailTaken;
pub(crate) const IN_ANOTHER_ORG: Refusal = |_| ServiceError::MemberOfAnotherOrganization;

/// A transaction being built.
#[derive(Default)]
pub(crate) struct Tx {
    items: Vec<TransactWriteItem>,
    refusals: Vec<Refusal>,
    /// The caller's own item, when the transaction writes it (it then carries their
    /// authority, see `Condition::on_user`): its position and the caller as read.
    caller: Option<(usize, UserId, u64)>,
}

impl Tx {
    pub(crate) fn new() -> Tx {
        Tx::default()
    }

    /// A transaction of one item.
    pub(crate) fn of(item: TransactWriteItem, refused: Refusal) -> Tx {
        let mut tx = Tx::new();
        tx.push(item, refused);
        tx
    }

    /// Adds `item`; `refused` is what its failed condition means.
    pub(crate) fn push(&mut self, item: TransactWriteItem, refused: Refusal) {
        self.items.push(item);
        self.refusals.push(refused);
    }

    /// Adds the caller's own item, carrying their authority. When its condition fails, the
    /// caller is read again (the failure path only) to say why: credentials changed since
    /// their read (or the account is gone) is a 401, anything else is `refused`.
    pub(crate) fn push_caller(&mut self, item: TransactWriteItem, caller: &User, refused: Refusal) {
        self.caller = Some((self.items.len(), caller.id, caller.token_version));
        self.push(item, refused);
    }

    /// Adds `item` as the caller's own item when `is_caller`, else as any other.
    pub(crate) fn push_maybe_caller(
        &mut self,
        item: TransactWriteItem,
        caller: Option<&User>,
        refused: Refusal,
    ) {
        match caller {
            Some(caller) => self.push_caller(item, caller, refused),
            None => self.push(item, refused),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The error for a cancellation whose first failed condition is item `i`'s.
    fn refusal(&self, i: usize, old: Option<&StoredItem>) -> ServiceError {
        match self.refusals.get(i) {
            Some(refused) => refused(old),
            None => {
                ServiceError::Internal(format!("cancellation names item {i} of {}", self.len()))
            }
        }
    }

    /// Refuses a transaction that names one key twice: DynamoDB would refuse it whole, with
    /// a ValidationException; this says which key, before any request.
    pub(crate) fn check_keys(&self) -> ServiceResult<()> {
        let mut seen = HashSet::new();
        for item in &self.items {
            let Some(key) = key_of(item) else { continue };
            if !seen.insert(key.clone()) {
                let err = format!("transaction names the key {} / {} twice", key.0, key.1);
                tracing::error!(error = %err, "refused a transaction before sending it");
                return Err(ServiceError::Internal(err));
            }
        }
        Ok(())
    }
}

/// The (pk, sk) an item of a transaction writes or checks.
fn key_of(item: &TransactWriteItem) -> Option<(String, String)> {
    let key = item
        .condition_check()
        .map(|c| c.key())
        .or_else(|| item.put().map(|p| p.item()))
        .or_else(|| item.update().map(|u| u.key()))
        .or_else(|| item.delete().map(|d| d.key()))?;
    let part = |name: &str| key.get(name).and_then(|v| v.as_s().ok()).cloned();
    Some((part(keys::PK)?, part(keys::SK)?))
}

impl Store {
    /// Runs `tx`: a cancellation is the refusal of the first item whose condition failed;
    /// one by contention alone is tried again (`retry`), boundedly, then is a 409 or 503.
    pub(crate) async fn transact(&self, mut tx: Tx) -> ServiceResult<()> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        tx.check_keys()?;
        let items = std::mem::take(&mut tx.items);
        // Atomic rather than a Cell: the future must stay Send.
        let failed = AtomicUsize::new(usize::MAX);
        let op = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items));
        let outcome =
            super::retry::retrying(|| op.clone().send(), super::retry::cancelled_by_contention)
                .await
                .map(|_| ())
                .map_err(|e| {
                    errors::transaction_error_with_item(e, |i, old| {
                        failed.store(i, Ordering::Relaxed);
                        tx.refusal(i, old)
                    })
                });
        match (outcome, tx.caller) {
            (Err(e), Some((at, id, version))) if failed.load(Ordering::Relaxed) == at => {
                match self.get_user(&id).await? {
                    Some(now) if now.token_version == version => Err(e),
                    _ => Err(ServiceError::Unauthorized),
                }
            }
            (outcome, _) => outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::{ConditionCheck, Update};

    fn key(pk: &str, sk: &str) -> StoredItem {
        HashMap::from([
            (keys::PK.to_string(), AttributeValue::S(pk.into())),
            (keys::SK.to_string(), AttributeValue::S(sk.into())),
        ])
    }

    fn check(pk: &str) -> TransactWriteItem {
        let c = ConditionCheck::builder()
            .table_name("t")
            .set_key(Some(key(pk, keys::PROFILE)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .unwrap();
        TransactWriteItem::builder().condition_check(c).build()
    }

    fn update(pk: &str) -> TransactWriteItem {
        let u = Update::builder()
            .table_name("t")
            .set_key(Some(key(pk, keys::PROFILE)))
            .update_expression("SET a = :a")
            .expression_attribute_values(":a", AttributeValue::N("1".into()))
            .build()
            .unwrap();
        TransactWriteItem::builder().update(u).build()
    }

    #[test]
    fn a_key_named_twice_is_refused_before_sending() {
        let mut tx = Tx::new();
        tx.push(check("USER#a"), FORBIDDEN);
        tx.push(update("USER#b"), CONFLICT);
        assert!(tx.check_keys().is_ok());
        tx.push(update("USER#a"), CONFLICT);
        match tx.check_keys() {
            Err(ServiceError::Internal(e)) => assert!(e.contains("USER#a / PROFILE twice"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cancellation_maps_through_the_failed_items_own_refusal() {
        let mut tx = Tx::new();
        tx.push(check("USER#a"), FORBIDDEN);
        tx.push(update("ORG#o"), |old| match old {
            Some(_) => ServiceError::SeatLimitReached,
            None => ServiceError::NotFound,
        });
        assert!(matches!(tx.refusal(0, None), ServiceError::Forbidden));
        assert!(matches!(tx.refusal(1, None), ServiceError::NotFound));
        let old = key("ORG#o", keys::PROFILE);
        assert!(matches!(
            tx.refusal(1, Some(&old)),
            ServiceError::SeatLimitReached
        ));
        assert!(matches!(tx.refusal(2, None), ServiceError::Internal(_)));
    }
}
