//! Failed sign-ins per email: a counter with a window end, expired by TTL.

use super::items::ThrottleItem;
use super::{Store, errors, keys, n};
use crate::domain::Email;
use crate::error::ServiceResult;

#[derive(Debug, Clone, Copy, Default)]
pub struct LoginThrottle {
    pub failures: u32,
    pub window_ends: i64,
}

impl Store {
    pub async fn get_login_throttle(&self, email: &Email) -> ServiceResult<LoginThrottle> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::login_throttle_pk(email),
                keys::THROTTLE_SK,
            )))
            .send()
            .await
            .map_err(super::sdk_error)?;
        Ok(match out.item {
            Some(item) => {
                let t: ThrottleItem = serde_dynamo::from_item(item)?;
                LoginThrottle {
                    failures: t.failures,
                    window_ends: t.window_ends,
                }
            }
            None => LoginThrottle::default(),
        })
    }

    /// Counts one failure: inside the open window it adds one, otherwise it opens a new window.
    pub async fn record_login_failure(
        &self,
        email: &Email,
        now: i64,
        window_secs: i64,
    ) -> ServiceResult<()> {
        let key = Self::key(keys::login_throttle_pk(email), keys::THROTTLE_SK);
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
                    pk: keys::login_throttle_pk(email),
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

    pub async fn clear_login_throttle(&self, email: &Email) -> ServiceResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::login_throttle_pk(email),
                keys::THROTTLE_SK,
            )))
            .send()
            .await
            .map_err(super::sdk_error)?;
        Ok(())
    }
}
