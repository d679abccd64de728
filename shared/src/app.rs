//! Everything a function needs, built once per cold start and shared by every invocation.

use crate::auth::TokenKeys;
use crate::config::{Config, ConfigError};
use crate::storage::Store;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Key(#[from] crate::auth::jwt::KeyError),
}

pub struct App {
    pub config: Config,
    pub store: Store,
    pub keys: TokenKeys,
}

impl App {
    /// Reads the environment and builds the AWS clients (endpoint, region and credentials
    /// come from the SDK's standard chain, so `AWS_ENDPOINT_URL` points it at the emulator).
    pub async fn from_env() -> Result<Arc<App>, InitError> {
        let config = Config::from_env()?;
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(config, &aws)
    }

    pub fn new(config: Config, aws: &aws_config::SdkConfig) -> Result<Arc<App>, InitError> {
        let keys = TokenKeys::from_config(&config)?;
        let store = Store::new(
            aws_sdk_dynamodb::Client::new(aws),
            config.table_name.clone(),
        );
        Ok(Arc::new(App {
            config,
            store,
            keys,
        }))
    }
}
