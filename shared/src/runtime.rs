//! The whole of a function's `main`: tracing, config and clients once, then the runtime loop.

use crate::app::App;
use lambda_http::{Body, Error, Request, Response, service_fn};
use std::future::Future;
use std::sync::Arc;

pub async fn serve<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(Arc<App>, Request) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Response<Body>> + Send,
{
    crate::telemetry::init();
    let app = App::from_env().await.map_err(|e| {
        tracing::error!(error = %e, "init failed");
        e
    })?;
    lambda_http::run(service_fn(move |req: Request| {
        let app = app.clone();
        async move {
            let method = req.method().to_string();
            let path = req.uri().path().to_string();
            // Boxed: keeps the (in debug builds, large) handler future off the stack.
            let res = Box::pin(handler(app.clone(), req)).await;
            // One summary line per invocation, with the AWS requests it made.
            let calls = app.calls.take();
            tracing::info!(
                %method,
                %path,
                status = res.status().as_u16(),
                dynamodb = calls.total("dynamodb"),
                dynamodb_round_trips = calls.round_trips("dynamodb"),
                ses = calls.total("sesv2"),
                calls = ?calls.requests,
                "invocation"
            );
            Ok::<_, std::convert::Infallible>(res)
        }
    }))
    .await
}
