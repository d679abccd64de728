//! `hello`: the floor of the cold-start benchmark (DESIGN §8, `scripts/bench`). A
//! `lambda_runtime` function that answers every event with a constant; nothing else.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({ "statusCode": 200, "body": "hello" }))
    }))
    .await
}
