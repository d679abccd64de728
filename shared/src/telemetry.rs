//! Tracing through the subscriber lambda_runtime provides: Lambda's logging controls decide
//! the format and level. `LoggingConfig: LogFormat: JSON` (template.yaml) makes Lambda set
//! `AWS_LAMBDA_LOG_FORMAT=JSON`, so CloudWatch gets JSON lines; anything else (local runs,
//! tests) gets readable text lines. The level is `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`,
//! else INFO.

/// Call once per process, first thing in `main` (a second call panics).
pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}
