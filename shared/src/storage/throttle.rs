//! Abuse limits: failed attempts per key (an email, a client address) counted in a window.
//! Every counter expires by TTL. (Invitation quotas are in `quota`.)

use super::items::ThrottleItem;
use super::{Store, errors, keys, n};
use crate::domain::Email;
use crate::error::ServiceResult;

/// What a failure counter counts.
#[derive(Debug, Clone, Copy)]
pub enum ThrottleKey<'a> {
    /// Failed sign-ins for one email.
    Login(&'a Email),
    /// Failed sign-ins from one client address.
    LoginSource(&'a str),
    /// Acceptance attempts with unknown or stale links from one client address.
    AcceptSource(&'a str),
}

impl ThrottleKey<'_> {
    fn pk(&self) -> String {
        match self {
            ThrottleKey::Login(email) => keys::login_throttle_pk(email),
            ThrottleKey::LoginSource(ip) => keys::source_throttle_pk("LOGIN-SOURCE", ip),
            ThrottleKey::AcceptSource(ip) => keys::source_throttle_pk("ACCEPT-SOURCE", ip),
        }
    }
}

/// Failures counted for one key, and when their window closes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Throttle {
    pub failures: u32,
    pub window_ends: i64,
}

impl Throttle {
    /// Seconds to wait when `max` failures are reached inside the open window.
    pub fn retry_after(&self, max: u32, now: i64) -> Option<u64> {
        (self.failures >= max && self.window_ends > now)
            .then(|| (self.window_ends - now).max(1) as u64)
    }
}

impl Store {
    pub async fn get_throttle(&self, key: ThrottleKey<'_>) -> ServiceResult<Throttle> {
        let pk = key.pk();
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, keys::THROTTLE_SK)))
            .send()
            .await
            .map_err(super::sdk_error)?;
        Ok(match out.item {
            Some(item) => {
                let t: ThrottleItem = serde_dynamo::from_item(item)?;
                Throttle {
                    failures: t.failures,
                    window_ends: t.window_ends,
                }
            }
            None => Throttle::default(),
        })
    }

    /// Counts one failure: inside the open window it adds one, otherwise it opens a new window.
    pub async fn record_failure(
        &self,
        key: ThrottleKey<'_>,
        now: i64,
        window_secs: i64,
    ) -> ServiceResult<()> {
        let pk = key.pk();
        let key = Self::key(pk.clone(), keys::THROTTLE_SK);
        let added = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("ADD failures :one")
            .condition_expression("window_ends > :now")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match added {
            Ok(_) => Ok(()),
            Err(e) if errors::is_condition_failure(&e) => {
                let item = ThrottleItem {
                    pk,
                    sk: keys::THROTTLE_SK.into(),
                    failures: 1,
                    window_ends: now + window_secs,
                    ttl: now + window_secs,
                };
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(serde_dynamo::to_item(item)?))
                    .send()
                    .await
                    .map_err(super::sdk_error)?;
                Ok(())
            }
            Err(e) => Err(super::sdk_error(e)),
        }
    }

    pub async fn clear_throttle(&self, key: ThrottleKey<'_>) -> ServiceResult<()> {
        let pk = key.pk();
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, keys::THROTTLE_SK)))
            .send()
            .await
            .map_err(super::sdk_error)?;
        Ok(())
    }
}
