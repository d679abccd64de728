//! The `accept` Lambda: routes in `roster::http::accept_routes`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::runtime::serve(|app, req| async move {
        roster::http::accept_routes::handle(&app, req).await
    })
    .await
}
