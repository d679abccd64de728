//! The `change-role` Lambda: routes in `roster::http::change_role_routes`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    roster::runtime::serve(|app, req| async move {
        roster::http::change_role_routes::handle(&app, req).await
    })
    .await
}
