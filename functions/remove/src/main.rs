//! The `remove` Lambda: routes in `roster::http::remove_routes`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::runtime::serve(|app, req| async move {
        roster::http::remove_routes::handle(&app, req).await
    })
    .await
}
