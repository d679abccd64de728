//! The one mapping from `ServiceError` to an HTTP response: RFC 9457 problem+json with a
//! stable machine `code`. Causes of 5xx are logged, never sent.

use crate::error::{FieldError, ServiceError};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// Status, stable code and title for each error.
pub fn classify(err: &ServiceError) -> (StatusCode, &'static str, &'static str) {
    use ServiceError::*;
    match err {
        Validation(_) => (
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "The request is not valid",
        ),
        MalformedBody(_) => (
            StatusCode::BAD_REQUEST,
            "malformed_request",
            "The request body is not valid JSON",
        ),
        PayloadTooLarge { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is too large",
        ),
        Unauthorized => (
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
        ),
        BadCredentials => (
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Invalid email or password",
        ),
        Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Not allowed"),
        NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
        RouteNotFound => (StatusCode::NOT_FOUND, "not_found", "No such route"),
        MethodNotAllowed { .. } => (
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
        ),
        CodeTaken => (
            StatusCode::CONFLICT,
            "code_taken",
            "Organization code already taken",
        ),
        EmailTaken => (StatusCode::CONFLICT, "email_taken", "Email already taken"),
        MemberOfAnotherOrganization => (
            StatusCode::CONFLICT,
            "member_of_another_organization",
            "Already a member of an organization",
        ),
        BulkRefused(_) => (
            StatusCode::CONFLICT,
            "bulk_refused",
            "Refused for some users",
        ),
        AlreadyMember => (StatusCode::CONFLICT, "already_member", "Already a member"),
        InvitationExpired => (StatusCode::GONE, "invitation_expired", "Invitation expired"),
        InvitationRevoked => (StatusCode::GONE, "invitation_revoked", "Invitation revoked"),
        InvitationDeclined => (
            StatusCode::GONE,
            "invitation_declined",
            "Invitation declined",
        ),
        InvitationSuperseded => (
            StatusCode::GONE,
            "invitation_superseded",
            "Invitation link replaced",
        ),
        InvitationAlreadyAccepted => (
            StatusCode::CONFLICT,
            "invitation_already_accepted",
            "Invitation already accepted",
        ),
        EmailMismatch => (
            StatusCode::FORBIDDEN,
            "email_mismatch",
            "Signed in as someone else",
        ),
        OwnerProtected => (
            StatusCode::CONFLICT,
            "owner_protected",
            "The owner is protected",
        ),
        ConfirmationMismatch => (
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "Confirmation required",
        ),
        SeatLimitReached => (StatusCode::CONFLICT, "seat_limit_reached", "No seat left"),
        RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many attempts",
        ),
        Conflict => (StatusCode::CONFLICT, "conflict", "Conflicting change"),
        Unavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Temporarily unavailable",
        ),
        Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
        ),
    }
}

pub fn problem_response(err: &ServiceError) -> Response<Body> {
    let (status, code, title) = classify(err);
    let detail = match err {
        ServiceError::Unavailable(cause) | ServiceError::Internal(cause) => {
            tracing::error!(code, %cause, "request failed");
            "The service could not complete the request; try again shortly.".to_string()
        }
        ServiceError::ConfirmationMismatch => {
            "Pass ?confirm= with the organization's code to delete it.".to_string()
        }
        other => other.to_string(),
    };
    let errors = match err {
        ServiceError::Validation(fields) | ServiceError::BulkRefused(fields) => {
            Some(fields.clone())
        }
        ServiceError::ConfirmationMismatch => Some(vec![FieldError::new(
            "confirm",
            "must equal the organization code",
        )]),
        _ => None,
    };
    let problem = Problem {
        type_: format!("urn:roster:problem:{code}"),
        title,
        status: status.as_u16(),
        detail,
        code,
        errors,
    };
    let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    match err {
        ServiceError::RateLimited { retry_after_secs } => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        ServiceError::MethodNotAllowed { allow } => {
            if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                headers.insert(header::ALLOW, v);
            }
        }
        ServiceError::Unauthorized | ServiceError::BadCredentials => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        _ => {}
    }
    res
}
