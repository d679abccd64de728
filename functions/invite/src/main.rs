//! The `invite` Lambda: routes in `roster::http::invite_routes`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::runtime::serve(|app, req| async move {
        roster::http::invite_routes::handle(&app, req).await
    })
    .await
}
