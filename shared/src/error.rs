//! The one error type every service returns. `http::problem` maps it to a response, in one
//! place; nothing else chooses a status code.

/// A refusal that names a field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    /// For a person who blocked a bulk change (`field` is their id), whom a person can
    /// recognise: their name and email, given only for members of the caller's organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
            name: None,
            email: None,
        }
    }

    /// The same refusal, naming the person it is about.
    pub fn about(mut self, name: &str, email: &str) -> Self {
        self.name = Some(name.to_string());
        self.email = Some(email.to_string());
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("the request is not valid")]
    Validation(Vec<FieldError>),
    #[error("malformed request body: {0}")]
    MalformedBody(String),
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("authentication required")]
    Unauthorized,
    #[error("invalid email or password")]
    BadCredentials,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("no route for this path")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<&'static str> },
    #[error("the organization code is already taken")]
    CodeTaken,
    #[error("the email address is already taken")]
    EmailTaken,
    #[error("already a member of an organization")]
    MemberOfAnotherOrganization,
    #[error("already a member of this organization")]
    AlreadyMember,
    #[error("this invitation has expired")]
    InvitationExpired,
    #[error("this invitation was revoked")]
    InvitationRevoked,
    #[error("this invitation was declined")]
    InvitationDeclined,
    #[error("this invitation link was replaced by a newer one")]
    InvitationSuperseded,
    #[error("this invitation was already accepted")]
    InvitationAlreadyAccepted,
    #[error("the invitation is for another email address")]
    EmailMismatch,
    #[error("the change was refused for some of the users; nothing was changed")]
    BulkRefused(Vec<FieldError>),
    #[error("the owner is protected")]
    OwnerProtected,
    #[error("the confirmation does not match the organization code")]
    ConfirmationMismatch,
    #[error("the organization has no seat left on its tier")]
    SeatLimitReached,
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("conflicting change, try again")]
    Conflict,
    #[error("a dependency is unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Validation(vec![FieldError::new(field, message)])
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
