//! Everything a function needs, built once per cold start and shared by every invocation.

use crate::auth::TokenKeys;
use crate::auth::signing_key::{self, SecretError};
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
    #[error(transparent)]
    SigningKey(#[from] SecretError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("AWS_REGION is not set")]
    NoRegion,
}

/// What a function needs of aws-config's default chain, and no more: the region and the
/// credentials Lambda puts in the environment (the function's role), the optional
/// `AWS_ENDPOINT_URL` (the local emulator), and the HTTPS client of `tls`. The full chain
/// (profile files, SSO, IMDS, ECS, web identity) is code every binary would carry and work
/// every cold start would do, for sources a Lambda never uses. `roster-admin` and the tests,
/// which run on developers' machines, keep the full chain.
pub fn lambda_sdk_config(
    config: &Config,
    env: impl Fn(&str) -> Option<String>,
) -> Result<aws_config::SdkConfig, InitError> {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    use aws_sdk_dynamodb::config::SharedCredentialsProvider;
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .filter(|r| !r.trim().is_empty())
        .ok_or(InitError::NoRegion)?;
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .http_client(crate::tls::https_client(config.tls_roots)?);
    if let Some(url) = env("AWS_ENDPOINT_URL").filter(|u| !u.trim().is_empty()) {
        builder = builder.endpoint_url(url);
    }
    Ok(builder.build())
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
    /// A function's init: reads the environment, the signing key where the function signs,
    /// and builds the AWS clients (`lambda_sdk_config`: `AWS_ENDPOINT_URL` points them at the
    /// emulator).
    pub async fn from_env() -> Result<Arc<App>, InitError> {
        Self::from_lookup(|name| std::env::var(name).ok()).await
    }

    /// As `from_env`, reading variables through `env` (tests build a function's App this
    /// way without touching the process environment).
    pub async fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Arc<App>, InitError> {
        let config = Config::from_lookup(&env)?;
        let aws = lambda_sdk_config(&config, &env)?;
        Self::load(config, &aws).await
    }

    /// The token keys as `config` says (see `load_keys`), then the clients.
    pub async fn load(config: Config, aws: &aws_config::SdkConfig) -> Result<Arc<App>, InitError> {
        let keys = load_keys(&config, aws).await?;
        Self::new(config, keys, aws)
    }

    pub fn new(
        config: Config,
        keys: TokenKeys,
        aws: &aws_config::SdkConfig,
    ) -> Result<Arc<App>, InitError> {
        Self::with_mail_config(config, keys, aws, aws)
    }

    /// As `new`, with SES reached through its own SDK config (tests point it at a dead port).
    pub fn with_mail_config(
        config: Config,
        keys: TokenKeys,
        aws: &aws_config::SdkConfig,
        ses: &aws_config::SdkConfig,
    ) -> Result<Arc<App>, InitError> {
        Self::assemble(config, keys, aws, ses, |dynamo| dynamo)
    }

    /// As `new`, with the DynamoDB client's configuration extended after Roster's own (the
    /// scale program adds an interceptor counting the items each read returned).
    pub fn with_dynamo_config(
        config: Config,
        keys: TokenKeys,
        aws: &aws_config::SdkConfig,
        extend: impl FnOnce(aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder,
    ) -> Result<Arc<App>, InitError> {
        Self::assemble(config, keys, aws, aws, extend)
    }

    fn assemble(
        config: Config,
        keys: TokenKeys,
        aws: &aws_config::SdkConfig,
        ses: &aws_config::SdkConfig,
        extend: impl FnOnce(aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder,
    ) -> Result<Arc<App>, InitError> {
        let calls = CallCounter::default();
        let dynamo = aws_sdk_dynamodb::config::Builder::from(aws)
            .interceptor(calls.interceptor("dynamodb"))
            .timeout_config(timeouts(config.aws_attempt_timeout));
        let dynamo = extend(dynamo).build();
        let ses = aws_sdk_sesv2::config::Builder::from(ses)
            .interceptor(calls.interceptor("sesv2"))
            .timeout_config(timeouts(config.aws_attempt_timeout))
            .build();
        let store = Store::new(
            aws_sdk_dynamodb::Client::from_conf(dynamo),
            config.table_name.clone(),
        )
        .with_tiers(&config.tiers);
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

/// The public keys of `JWT_PUBLIC_KEYS`, and, where `JWT_SIGNING_KEY_SECRET` is set (the
/// signing functions), the private key read from Secrets Manager: one GetSecretValue per
/// cold start, through the same SDK config as DynamoDB. A key whose kid and public key are
/// not published fails init.
pub async fn load_keys(
    config: &Config,
    aws: &aws_config::SdkConfig,
) -> Result<TokenKeys, InitError> {
    let Some(secret_id) = &config.jwt_signing_key_secret else {
        return Ok(TokenKeys::verifying(config)?);
    };
    let secrets = aws_sdk_secretsmanager::config::Builder::from(aws)
        .timeout_config(timeouts(config.aws_attempt_timeout))
        .build();
    let secret = signing_key::read(
        &aws_sdk_secretsmanager::Client::from_conf(secrets),
        secret_id,
    )
    .await?;
    Ok(TokenKeys::signing(config, secret.signer()?)?)
}

/// Bounded waits, so an unreachable or stalled dependency becomes a quick 503 rather than a
/// request that hangs until the Lambda timeout (the SDK's standard retries still apply).
pub(crate) fn timeouts(
    attempt: std::time::Duration,
) -> aws_sdk_dynamodb::config::timeout::TimeoutConfig {
    aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        // A third of an attempt: 1 s at the deployed 3 s. (A fixed 1 s failed bursts of a
        // few hundred connections to the one-at-a-time local emulator as 503s.)
        .connect_timeout(attempt / 3)
        .operation_attempt_timeout(attempt)
        .operation_timeout(attempt * 2 + std::time::Duration::from_secs(2))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".into()),
            "JWT_PUBLIC_KEYS" => {
                Some("roster-1=11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into())
            }
            _ => None,
        })
        .expect("config")
    }

    #[test]
    fn the_lambda_sdk_config_takes_region_and_endpoint_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let aws = lambda_sdk_config(
            &config(),
            env(&[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ]),
        )
        .expect("sdk config");
        assert_eq!(aws.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(aws.endpoint_url(), Some("http://127.0.0.1:4566"));
        assert!(aws.credentials_provider().is_some());
        assert!(aws.http_client().is_some());

        let aws = lambda_sdk_config(&config(), env(&[("AWS_DEFAULT_REGION", "us-east-2")]))
            .expect("sdk config");
        assert_eq!(aws.region().map(|r| r.as_ref()), Some("us-east-2"));
        assert_eq!(aws.endpoint_url(), None);

        assert!(matches!(
            lambda_sdk_config(&config(), env(&[])),
            Err(InitError::NoRegion)
        ));
    }
}
