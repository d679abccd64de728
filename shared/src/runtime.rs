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
        async move { Ok::<_, std::convert::Infallible>(handler(app, req).await) }
    }))
    .await
}
