//! Everything a function needs, built once per cold start and shared by every invocation.

use crate::auth::TokenKeys;
use crate::config::{Config, ConfigError};
use crate::mail::Mailer;
use crate::metrics::CallCounter;
use crate::storage::Store;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Key(#[from] crate::auth::jwt::KeyError),
    #[error("TLS setup: {0}")]
    Tls(String),
}

pub struct App {
    pub config: Config,
    pub store: Store,
    pub keys: TokenKeys,
    pub mailer: Mailer,
    /// AWS requests made so far (see `metrics`).
    pub calls: CallCounter,
}

impl App {
    /// Reads the environment and builds the AWS clients (endpoint, region and credentials
    /// come from the SDK's standard chain, so `AWS_ENDPOINT_URL` points it at the emulator).
    pub async fn from_env() -> Result<Arc<App>, InitError> {
        let config = Config::from_env()?;
        let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(crate::tls::https_client(config.tls_roots)?)
            .load()
            .await;
        Self::new(config, &aws)
    }

    pub fn new(config: Config, aws: &aws_config::SdkConfig) -> Result<Arc<App>, InitError> {
        Self::with_mail_config(config, aws, aws)
    }

    /// As `new`, with SES reached through its own SDK config (tests point it at a dead port).
    pub fn with_mail_config(
        config: Config,
        aws: &aws_config::SdkConfig,
        ses: &aws_config::SdkConfig,
    ) -> Result<Arc<App>, InitError> {
        let keys = TokenKeys::from_config(&config)?;
        let calls = CallCounter::default();
        let dynamo = aws_sdk_dynamodb::config::Builder::from(aws)
            .interceptor(calls.interceptor("dynamodb"))
            .timeout_config(timeouts(config.aws_attempt_timeout))
            .build();
        let ses = aws_sdk_sesv2::config::Builder::from(ses)
            .interceptor(calls.interceptor("sesv2"))
            .timeout_config(timeouts(config.aws_attempt_timeout))
            .build();
        let store = Store::new(
            aws_sdk_dynamodb::Client::from_conf(dynamo),
            config.table_name.clone(),
        );
        let mailer = Mailer::new(
            aws_sdk_sesv2::Client::from_conf(ses),
            config.ses_from_address.clone(),
        );
        Ok(Arc::new(App {
            config,
            store,
            keys,
            mailer,
            calls,
        }))
    }
}

/// Bounded waits, so an unreachable or stalled dependency becomes a quick 503 rather than a
/// request that hangs until the Lambda timeout (the SDK's standard retries still apply).
fn timeouts(attempt: std::time::Duration) -> aws_sdk_dynamodb::config::timeout::TimeoutConfig {
    aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(1))
        .operation_attempt_timeout(attempt)
        .operation_timeout(attempt * 2 + std::time::Duration::from_secs(2))
        .build()
}
