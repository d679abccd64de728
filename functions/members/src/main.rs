//! The `members` Lambda: routes in `roster::http::members_routes`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::runtime::serve(|app, req| async move {
        roster::http::members_routes::handle(&app, req).await
    })
    .await
}
