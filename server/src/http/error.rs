//! The API's one error type: every failure leaves as JSON with a status that
//! says whose fault it was. Database failures are logged and hidden.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use switchboard_protocol::api::{ErrorBody, FieldError};

use crate::hub::HubError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    message: String,
    errors: Vec<FieldError>,
    /// Seconds, for 429s and 503s: when trying again makes sense.
    retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error,
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// With a `Retry-After` of `seconds`: when trying again makes sense.
    pub fn retry_after(self, seconds: u32) -> Self {
        ApiError {
            retry_after: Some(seconds),
            ..self
        }
    }

    /// The stable error code (`not_found`, `unprocessable_entity`, ...).
    pub fn code(&self) -> &'static str {
        self.error
    }

    /// What went wrong, for people, with the field errors spelled out.
    pub fn describe(&self) -> String {
        let mut text = self.message.clone();
        for e in &self.errors {
            text.push_str(&format!("; {} {}", e.field, e.message));
        }
        text
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "You need to sign in or sign up before continuing.",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Only administrators of this account can do that.",
        )
    }

    /// Too many failed sign-ins: try again after `wait`.
    pub fn too_many_attempts(wait: std::time::Duration) -> Self {
        let seconds = u32::try_from(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            .unwrap_or(u32::MAX)
            .max(1);
        ApiError {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!("Too many failed attempts: try again in {seconds} s."),
            )
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// A body that parsed but holds an unacceptable value in `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::refused(field, "invalid", message)
    }

    /// [`ApiError::invalid`] with a stable code saying why (`blank`,
    /// `too_short`, `incorrect`, ...): clients show their own words for it,
    /// in their user's language, and the server's sentence otherwise.
    pub fn refused(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            error: "validation_failed",
            message: format!("{field} {message}"),
            errors: vec![FieldError {
                field: field.to_string(),
                message,
                code: code.to_string(),
            }],
            retry_after: None,
        }
    }

    /// A failure that is the server's, not the caller's: logged, not shown.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side; it has been logged.",
        )
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The fields at fault, each with its code.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.errors
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<crate::input::Invalid> for ApiError {
    fn from(invalid: crate::input::Invalid) -> Self {
        ApiError::refused(&invalid.field, invalid.code, invalid.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::not_found("Resource"),
            StoreError::Conflict(message) => ApiError::conflict(message),
            StoreError::Invalid(message) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            ),
            StoreError::PersonExists => ApiError::new(
                StatusCode::CONFLICT,
                "person_exists",
                "Someone already signs in to switchboard with this e-mail: for their \
                 safety they cannot be added to another account. Use another e-mail.",
            ),
            StoreError::NotYours => ApiError::new(
                StatusCode::FORBIDDEN,
                "belongs_to_user",
                "This person's name and password are theirs to change, in their profile: \
                 they have signed in or belong to another account too.",
            ),
            StoreError::Fenced(_) => ApiError::moving(),
            StoreError::Database(_) | StoreError::Corrupt(_) => ApiError::internal(err),
        }
    }
}

impl From<crate::secrets::Busy> for ApiError {
    fn from(_: crate::secrets::Busy) -> Self {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "The server is busy; nothing was changed. Retry shortly.",
            )
        }
    }
}

impl ApiError {
    /// Cluster mode: the account's owner changed under the request and the
    /// new one did not answer in time. Nothing was written; the client's
    /// answer is that of `busy` (retry shortly), so it keeps that code,
    /// which every client already translates.
    pub fn moving() -> Self {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "This account is moving to another server; nothing was changed. Retry shortly.",
            )
        }
    }

    /// A password that could not be hashed: the queue was full (503), or
    /// something broke (500).
    pub fn hashing(err: anyhow::Error) -> Self {
        match err.downcast::<crate::secrets::Busy>() {
            Ok(busy) => busy.into(),
            Err(other) => ApiError::internal(other),
        }
    }
}

impl From<HubError> for ApiError {
    fn from(err: HubError) -> Self {
        match err {
            HubError::NotFound => ApiError::not_found("Conversation"),
            HubError::Busy => ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "The server is busy; nothing was changed. Retry shortly.",
                )
            },
            HubError::Moved => ApiError::moving(),
            HubError::Unanswered => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "unanswered",
                "The server holding this account did not answer in time: the change may \
                 have been made. Reload before trying again (a retry with the same echo_id \
                 is never applied twice).",
            ),
            HubError::Write(_) => ApiError::internal(err),
            HubError::Store(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.error.to_string(),
            message: self.message,
            errors: self.errors,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;
