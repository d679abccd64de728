//! The `auth` Lambda: routes in `roster::http::auth_routes`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::runtime::serve(
        |app, req| async move { roster::http::auth_routes::handle(&app, req).await },
    )
    .await
}
