//! The table's schema, as template.yaml declares it: keys pk/sk, sparse GSIs gsi1 and gsi2
//! (all attributes projected), TTL on `ttl`. Used by `roster-admin create-table` and tests.

use super::{Store, keys};
use crate::error::{ServiceError, ServiceResult};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use std::time::Duration;

/// How long a new table may stay CREATING before `create_table_if_missing` gives up (AWS
/// takes seconds, rarely a minute), and how often it asks.
const ACTIVE_WITHIN: Duration = Duration::from_secs(300);
const POLL_EVERY: Duration = Duration::from_secs(1);

impl Store {
    /// Creates the table if it does not exist; returns whether it created it.
    pub async fn create_table_if_missing(&self) -> ServiceResult<bool> {
        if self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .is_ok()
        {
            return Ok(false);
        }
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let gsi = |name: &str, pk: &str, sk: &str| -> ServiceResult<GlobalSecondaryIndex> {
            Ok(GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(pk, KeyType::Hash)?)
                .key_schema(key(sk, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()?)
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(keys::PK)?)
            .attribute_definitions(attr(keys::SK)?)
            .attribute_definitions(attr(keys::GSI1PK)?)
            .attribute_definitions(attr(keys::GSI1SK)?)
            .attribute_definitions(attr(keys::GSI2PK)?)
            .attribute_definitions(attr(keys::GSI2SK)?)
            .key_schema(key(keys::PK, KeyType::Hash)?)
            .key_schema(key(keys::SK, KeyType::Range)?)
            .global_secondary_indexes(gsi(keys::GSI1, keys::GSI1PK, keys::GSI1SK)?)
            .global_secondary_indexes(gsi(keys::GSI2, keys::GSI2PK, keys::GSI2SK)?)
            .send()
            .await;
        match created {
            Ok(_) => {}
            // Another process created it between our describe and create.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_in_use_exception()) =>
            {
                return Ok(false);
            }
            Err(e) => return Err(super::sdk_error(e)),
        }
        // UpdateTimeToLive is refused while the table is CREATING.
        self.wait_until_active().await?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(keys::TTL)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(super::sdk_error)?;
        Ok(true)
    }

    /// Returns once the table is ACTIVE (a new table starts CREATING), or fails after
    /// `ACTIVE_WITHIN`.
    async fn wait_until_active(&self) -> ServiceResult<()> {
        let deadline = tokio::time::Instant::now() + ACTIVE_WITHIN;
        loop {
            let out = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(super::sdk_error)?;
            let status = out.table.and_then(|t| t.table_status);
            if status == Some(TableStatus::Active) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ServiceError::Unavailable(format!(
                    "table {} not ACTIVE after {}s (status {status:?})",
                    self.table,
                    ACTIVE_WITHIN.as_secs()
                )));
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}
