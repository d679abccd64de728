//! The `audit` Lambda: routes in `roster::http::audit_routes`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::runtime::serve(
        |app, req| async move { roster::http::audit_routes::handle(&app, req).await },
    )
    .await
}
