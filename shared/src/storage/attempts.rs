//! Attempt counters of the abuse limits: one item per limit, subject and fixed window. An
//! attempt is taken with one conditional ADD before the secret is checked, so concurrent
//! requests cannot get past a limit; the item expires by TTL after its window.

use super::retry::SendRetrying;
use super::{Store, errors, keys, n};
use crate::domain::limits::{Counted, Limit};
use crate::error::ServiceResult;

/// One limit's counter in the window of the moment it was made.
#[derive(Debug, Clone)]
pub struct Counter {
    pk: String,
    max: u32,
    /// When its window closes: how long a refused attempt waits.
    pub window_ends: i64,
}

impl Counter {
    pub fn new(counted: Counted, limit: Limit, subject: &str, now: i64) -> Counter {
        Counter {
            pk: keys::attempts_pk(counted.as_str(), limit.window(now), subject),
            max: limit.max,
            window_ends: limit.window_ends(now),
        }
    }
}

impl Store {
    /// Takes one attempt: `true` when it was under the limit (and now counts), `false` when
    /// the limit is reached (nothing changed).
    pub async fn take_attempt(&self, counter: &Counter) -> ServiceResult<bool> {
        let taken = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(counter.pk.clone(), keys::ATTEMPTS_SK)))
            .update_expression("ADD attempts :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(attempts) OR attempts < :max")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(counter.max))
            .expression_attribute_values(":ttl", n(counter.window_ends + 60))
            .send_retrying()
            .await;
        match taken {
            Ok(_) => Ok(true),
            Err(e) if errors::is_condition_failure(&e) => Ok(false),
            Err(e) => Err(super::sdk_error(e)),
        }
    }

    /// Gives a taken attempt back (it turned out not to count).
    pub async fn give_back_attempt(&self, counter: &Counter) -> ServiceResult<()> {
        let given = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(counter.pk.clone(), keys::ATTEMPTS_SK)))
            .update_expression("ADD attempts :minus")
            .condition_expression("attempts > :zero")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send_retrying()
            .await;
        match given {
            Ok(_) => Ok(()),
            // Already expired or cleared: nothing to give back.
            Err(e) if errors::is_condition_failure(&e) => Ok(()),
            Err(e) => Err(super::sdk_error(e)),
        }
    }

    /// Starts the counter again (an address that proved the password for an account).
    pub async fn clear_attempts(&self, counter: &Counter) -> ServiceResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(counter.pk.clone(), keys::ATTEMPTS_SK)))
            .send_retrying()
            .await
            .map_err(super::sdk_error)?;
        Ok(())
    }
}
