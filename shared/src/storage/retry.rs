//! Writes that lost a race, tried again. Real DynamoDB cancels a transaction that races
//! another on the same item (reason `TransactionConflict`), or one of whose items is over
//! its throughput (`ThrottlingError`, `ProvisionedThroughputExceeded`), and answers a single
//! write racing a transaction with `TransactionConflictException`. The SDK retries none of
//! these; every write of the storage layer goes through here, so each is tried again a
//! bounded number of times with jittered exponential backoff, then mapped honestly (409
//! `conflict` or 503) by `errors`. A cancellation whose reasons include a failed condition
//! is an answer, not a race, and is never retried.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use std::time::Duration;

/// Tries per write, the first included. With `BASE` the backoff is at most
/// 20 + 40 + 80 = 140 ms in all: well inside the app's operation timeout.
pub const ATTEMPTS: u32 = 4;
const BASE: Duration = Duration::from_millis(20);

/// Sends `send()` until it succeeds, fails for a reason `retryable` does not accept, or has
/// been tried `ATTEMPTS` times; the last outcome is returned.
pub(crate) async fn retrying<T, E, R, Fut>(
    mut send: impl FnMut() -> Fut,
    retryable: impl Fn(&SdkError<E, R>) -> bool,
) -> Result<T, SdkError<E, R>>
where
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
{
    let mut attempt = 1;
    loop {
        match send().await {
            Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                let wait = backoff(attempt);
                tracing::info!(
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "write lost a race; trying again"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// A single-item write (PutItem, UpdateItem, DeleteItem), retried when it raced a
/// transaction.
pub(crate) async fn write<T, E, R, Fut>(send: impl FnMut() -> Fut) -> Result<T, SdkError<E, R>>
where
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata,
{
    retrying(send, raced_a_transaction).await
}

/// `.send_retrying()` for the single-item write builders: `.send()` through `write`.
pub(crate) trait SendRetrying: Clone + Sized {
    type Output;
    type Error: ProvideErrorMetadata;
    fn send_once(
        self,
    ) -> impl Future<Output = Result<Self::Output, SdkError<Self::Error, HttpResponse>>>;
    fn send_retrying(
        self,
    ) -> impl Future<Output = Result<Self::Output, SdkError<Self::Error, HttpResponse>>> {
        async move { write(|| self.clone().send_once()).await }
    }
}

macro_rules! send_retrying {
    ($($op:ident :: $builder:ident => $out:ident, $err:ident;)*) => {$(
        impl SendRetrying for aws_sdk_dynamodb::operation::$op::builders::$builder {
            type Output = aws_sdk_dynamodb::operation::$op::$out;
            type Error = aws_sdk_dynamodb::operation::$op::$err;
            fn send_once(self) -> impl Future<Output = Result<Self::Output, SdkError<Self::Error, HttpResponse>>> {
                self.send()
            }
        }
    )*};
}

send_retrying! {
    put_item::PutItemFluentBuilder => PutItemOutput, PutItemError;
    update_item::UpdateItemFluentBuilder => UpdateItemOutput, UpdateItemError;
    delete_item::DeleteItemFluentBuilder => DeleteItemOutput, DeleteItemError;
}

/// "Full jitter": uniform in [0, BASE * 2^(attempt-1)], so racing writers spread out.
fn backoff(attempt: u32) -> Duration {
    let cap = BASE.as_millis() as u64 * (1u64 << (attempt - 1).min(10));
    Duration::from_millis(rand::random_range(0..=cap))
}

pub(crate) fn raced_a_transaction<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::ServiceError(se) if se.err().code() == Some("TransactionConflictException"))
}

/// A cancellation by contention alone: some reason is a conflict or throughput, none a
/// failed condition.
pub(crate) fn cancelled_by_contention<R>(err: &SdkError<TransactWriteItemsError, R>) -> bool {
    let SdkError::ServiceError(se) = err else {
        return false;
    };
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = se.err() else {
        return false;
    };
    let codes: Vec<&str> = cancelled
        .cancellation_reasons()
        .iter()
        .map(|r| r.code().unwrap_or("None"))
        .collect();
    !codes.contains(&"ConditionalCheckFailed") && codes.iter().any(|c| is_contention(c))
}

/// A cancellation reason that a later try can change.
pub(crate) fn is_contention(code: &str) -> bool {
    code == "TransactionConflict" || code == "ThrottlingError" || code.contains("Throughput")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn backoff_stays_under_its_doubling_cap() {
        for attempt in 1..ATTEMPTS {
            let cap = Duration::from_millis(20 * (1 << (attempt - 1)));
            for _ in 0..200 {
                assert!(backoff(attempt) <= cap);
            }
        }
    }

    #[tokio::test]
    async fn retries_stop_after_the_bounded_number_of_tries() {
        let tries = AtomicU32::new(0);
        let out: Result<(), SdkError<std::io::Error, ()>> = retrying(
            || {
                tries.fetch_add(1, Ordering::Relaxed);
                async { Err(SdkError::timeout_error("raced")) }
            },
            |_| true,
        )
        .await;
        assert!(out.is_err());
        assert_eq!(tries.load(Ordering::Relaxed), ATTEMPTS);
    }
}
