//! The functions as the scale program calls them: one `App` whose DynamoDB client counts
//! requests (the `CallCounter` every function has) and the items each read returned, and
//! requests sent in-process to the functions' `lambda_http` handlers, as the e2e tests do.

use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use lambda_http::http::{Method, Request as HttpRequest, header};
use lambda_http::{Body, Request};
use roster::App;
use roster::config::Config;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Items DynamoDB read for the requests so far: a Query's ScannedCount (what it read
/// before any filter, what read units are charged for), 1 per GetItem that found its item,
/// each item a BatchGetItem returned.
#[derive(Debug, Clone, Default)]
pub struct ItemsRead(Arc<AtomicU64>);

impl ItemsRead {
    pub fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }
}

impl Intercept for ItemsRead {
    fn name(&self) -> &'static str {
        "ItemsRead"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(out) = context.output_or_error() else {
            return Ok(());
        };
        let n = if let Some(q) = out.downcast_ref::<QueryOutput>() {
            u64::try_from(q.scanned_count()).unwrap_or(0)
        } else if let Some(g) = out.downcast_ref::<GetItemOutput>() {
            u64::from(g.item().is_some())
        } else if let Some(b) = out.downcast_ref::<BatchGetItemOutput>() {
            b.responses()
                .map(|r| r.values().map(|items| items.len() as u64).sum())
                .unwrap_or(0)
        } else {
            0
        };
        self.0.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }
}

/// The App every measured request goes through, built as a function's is, with the
/// items-read interceptor beside the request counter and generous timeouts (the emulator
/// holds hundreds of thousands of items).
pub fn counted_app(
    config: Config,
    keys: roster::auth::TokenKeys,
    aws: &aws_config::SdkConfig,
    reads: &ItemsRead,
) -> Result<Arc<App>, String> {
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_secs(120))
        .operation_timeout(Duration::from_secs(300))
        .build();
    App::with_dynamo_config(config, keys, aws, |dynamo| {
        dynamo.interceptor(reads.clone()).timeout_config(timeouts)
    })
    .map_err(|e| format!("app: {e}"))
}

/// The function that serves a request (the scale program knows which it calls).
#[derive(Debug, Clone, Copy)]
pub enum Function {
    Orgs,
    Members,
    Invite,
    Accept,
    ChangeRole,
    Remove,
    Audit,
}

/// One request's answer and what it cost.
#[derive(Debug, Clone)]
pub struct Measured {
    pub status: u16,
    pub body: Value,
    pub requests: u64,
    pub round_trips: u64,
    pub items_read: u64,
    pub ms: f64,
}

pub async fn call(
    app: &App,
    reads: &ItemsRead,
    function: Function,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<Measured, String> {
    let mut builder = HttpRequest::builder()
        .method(Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req: Request = builder
        .body(body.map_or(Body::Empty, |b| Body::from(b.to_string())))
        .map_err(|e| format!("{method} {uri}: {e}"))?;
    app.calls.take();
    reads.take();
    let start = Instant::now();
    use roster::http::*;
    // Boxed: unoptimised handler futures are large.
    let res = match function {
        Function::Orgs => Box::pin(orgs_routes::handle(app, req)).await,
        Function::Members => Box::pin(members_routes::handle(app, req)).await,
        Function::Invite => Box::pin(invite_routes::handle(app, req)).await,
        Function::Accept => Box::pin(accept_routes::handle(app, req)).await,
        Function::ChangeRole => Box::pin(change_role_routes::handle(app, req)).await,
        Function::Remove => Box::pin(remove_routes::handle(app, req)).await,
        Function::Audit => Box::pin(audit_routes::handle(app, req)).await,
    };
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let calls = app.calls.take();
    let body = match res.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::String(t.clone())),
        Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Ok(Measured {
        status: res.status().as_u16(),
        body,
        requests: calls.total("dynamodb"),
        round_trips: calls.round_trips("dynamodb"),
        items_read: reads.take(),
        ms,
    })
}
