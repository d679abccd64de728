//! The `console` Lambda: the admin console's static files (`roster::http::console_routes`).
//! It reads no configuration and touches no table: no `App`, only the runtime loop.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    roster::telemetry::init();
    lambda_http::run(service_fn(|req: Request| async move {
        Ok::<Response<Body>, std::convert::Infallible>(roster::http::console_routes::handle(&req))
    }))
    .await
}
