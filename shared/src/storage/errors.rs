//! SDK errors to service errors: throttling and unreachable endpoints are 503s, a cancelled
//! transaction is mapped reason by reason by the caller's table, anything else is internal.

use crate::error::ServiceError;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

const UNAVAILABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
];

pub fn sdk_error<E, R>(err: SdkError<E, R>) -> ServiceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let detail = aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            ServiceError::Unavailable(detail)
        }
        SdkError::ServiceError(se)
            if UNAVAILABLE_CODES.contains(&se.err().code().unwrap_or("")) =>
        {
            ServiceError::Unavailable(detail)
        }
        // A single write that raced a transaction on its item, still after `retry`'s tries.
        SdkError::ServiceError(se) if se.err().code() == Some("TransactionConflictException") => {
            tracing::warn!(error = %detail, "write kept losing races");
            ServiceError::Conflict
        }
        _ => ServiceError::Internal(detail),
    }
}

pub(crate) fn is_condition_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::ServiceError(se) if se.err().code() == Some("ConditionalCheckFailedException"))
}

/// Maps a failed TransactWriteItems: the first item whose condition failed picks the error,
/// given that item as it was when the transaction asked for it
/// (`ReturnValuesOnConditionCheckFailure::AllOld`).
pub(crate) fn transaction_error_with_item<R>(
    err: SdkError<TransactWriteItemsError, R>,
    reason: impl Fn(usize, Option<&HashMap<String, AttributeValue>>) -> ServiceError,
) -> ServiceError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let SdkError::ServiceError(se) = &err
        && let TransactWriteItemsError::TransactionCanceledException(cancelled) = se.err()
    {
        let reasons = cancelled.cancellation_reasons();
        let code = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
        if let Some(i) = (0..reasons.len()).find(|&i| code(i) == "ConditionalCheckFailed") {
            return reason(i, reasons.get(i).and_then(|r| r.item()));
        }
        if (0..reasons.len()).any(|i| code(i) == "TransactionConflict") {
            tracing::warn!(?reasons, "transaction kept losing races");
            return ServiceError::Conflict;
        }
        if (0..reasons.len())
            .any(|i| code(i).contains("Throughput") || code(i) == "ThrottlingError")
        {
            return ServiceError::Unavailable("transaction throttled".into());
        }
    }
    sdk_error(err)
}

impl From<BuildError> for ServiceError {
    fn from(err: BuildError) -> Self {
        ServiceError::Internal(format!("request build: {err}"))
    }
}

impl From<serde_dynamo::Error> for ServiceError {
    fn from(err: serde_dynamo::Error) -> Self {
        ServiceError::Internal(format!("item mapping: {err}"))
    }
}
