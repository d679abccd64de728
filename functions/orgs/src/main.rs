//! The `orgs` Lambda: routes in `roster::http::orgs_routes`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::runtime::serve(
        |app, req| async move { roster::http::orgs_routes::handle(&app, req).await },
    )
    .await
}
