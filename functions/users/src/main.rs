//! The `users` Lambda: routes in `roster::http::users_routes`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::runtime::serve(
        |app, req| async move { roster::http::users_routes::handle(&app, req).await },
    )
    .await
}
