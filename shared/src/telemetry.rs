//! Tracing: JSON lines inside Lambda (CloudWatch parses them), readable lines elsewhere.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
        && std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
        && std::env::var("ROSTER_LOG_FORMAT").as_deref() != Ok("text");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    // try_init: a second call (tests) keeps the first subscriber.
    let _ = if in_lambda {
        builder.json().flatten_event(true).without_time().try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
}
