//! `sdk-hello`: the SDK floor of the cold-start benchmark (DESIGN §8, `scripts/bench`).
//! `lambda_http`, `aws-config` defaults, and a DynamoDB and an SESv2 client built at init, as
//! every Roster function builds them; the handler returns a constant and uses neither.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // Held until `main` returns, like the clients a real function keeps for every invocation.
    let _dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let _ses = aws_sdk_sesv2::Client::new(&config);
    lambda_http::run(service_fn(|_request: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
