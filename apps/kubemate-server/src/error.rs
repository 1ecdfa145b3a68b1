//! The one error type of the API: a stable code, the HTTP status it maps to, a message safe to
//! show, and the field causes of invalid input.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use kubemate_core::{Cause, Code, ErrorKind};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `NotFound`, `Forbidden`, `Invalid`.
    pub code: String,
    /// Human-readable explanation (for 5xx, a generic one: details are in the server log).
    pub message: String,
    /// For invalid input, one entry per offending field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub causes: Vec<Cause>,
}

/// What the audit middleware needs to know about an error response, attached to it as an
/// extension: its code, and whether it is a refusal (authentication or authorization) rather
/// than a failure of an allowed operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorNote {
    /// The error code.
    pub code: Code,
    /// True for refusals: the request was denied, no cluster call was made for it.
    pub denied: bool,
}

/// An API error. Build it from a library error (`?` converts) or with the constructors.
#[derive(Debug)]
pub struct ApiError {
    code: Code,
    message: String,
    causes: Vec<Cause>,
    denied: bool,
    /// Shown in the server log, never to the client (5xx details).
    detail: Option<String>,
    /// Seconds the client should wait before trying again (the `Retry-After` header).
    retry_after: Option<u64>,
}

/// The HTTP status of an error code. Exhaustive on purpose: a new code must be given one.
pub fn status_of(code: Code) -> StatusCode {
    match code {
        Code::Invalid | Code::BadRequest | Code::InvalidPath | Code::InvalidArgument => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthorized | Code::InvalidToken | Code::InvalidCredentials => {
            StatusCode::UNAUTHORIZED
        }
        Code::Forbidden | Code::EscalationRefused | Code::AccountDisabled => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        Code::Conflict | Code::AlreadyExists => StatusCode::CONFLICT,
        Code::Gone => StatusCode::GONE,
        Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Code::Unsupported => StatusCode::UNPROCESSABLE_ENTITY,
        Code::TooManyStreams | Code::LoginThrottled => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable | Code::AuditUnavailable | Code::Busy => StatusCode::SERVICE_UNAVAILABLE,
        Code::Timeout => StatusCode::GATEWAY_TIMEOUT,
        Code::ConfigError
        | Code::InternalError
        | Code::AuditCorrupt
        | Code::AuditChainBroken
        | Code::IoError => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            causes: Vec::new(),
            denied: false,
            detail: None,
            retry_after: None,
        }
    }

    /// Marks the error as a refusal for the audit log.
    pub fn denied(mut self) -> Self {
        self.denied = true;
        self
    }

    /// 401: no usable credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(Code::Unauthorized, message).denied()
    }

    /// 403 with the authorizer's reason.
    pub fn forbidden(reason: impl std::fmt::Display) -> Self {
        ApiError::new(Code::Forbidden, format!("forbidden: {reason}")).denied()
    }

    /// 400 for a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(Code::BadRequest, message)
    }

    /// 400 naming the field that is wrong.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            causes: vec![Cause {
                field: field.to_owned(),
                reason: "FieldValueInvalid".to_owned(),
                message: message.clone(),
            }],
            ..ApiError::new(Code::Invalid, format!("{field}: {message}"))
        }
    }

    /// 404 worded as the apiserver words it for an object: `deployments.apps "web" not found`.
    /// Used alike for a missing object and for one in a namespace the caller cannot see, so
    /// the two cannot be told apart.
    pub fn not_found(qualified_plural: &str, name: &str) -> Self {
        ApiError::new(
            Code::NotFound,
            format!("{qualified_plural} \"{name}\" not found"),
        )
    }

    /// 413.
    pub fn too_large(limit: usize) -> Self {
        ApiError::new(
            Code::PayloadTooLarge,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    /// 503: the audit record of a mutation could not be written, so it was not performed.
    pub fn audit_unavailable(detail: impl std::fmt::Display) -> Self {
        ApiError {
            detail: Some(detail.to_string()),
            ..ApiError::new(Code::AuditUnavailable, "")
        }
    }

    /// 504: the request took longer than the server's limit.
    pub fn timeout() -> Self {
        ApiError::new(Code::Timeout, "")
    }

    /// Tells the client to wait this long before trying again (`Retry-After`, in whole seconds,
    /// at least one).
    pub fn with_retry_after(mut self, wait: std::time::Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        self.retry_after = Some(secs.max(1));
        self
    }

    /// Adds a detail for the server log (never shown).
    pub fn with_detail(mut self, detail: impl std::fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// 500 with a detail for the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        ApiError {
            detail: Some(detail.to_string()),
            ..ApiError::new(Code::InternalError, "")
        }
    }

    /// The stable code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        status_of(self.code)
    }

    /// The message shown to the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn public_message(&self) -> String {
        let status = self.status();
        if !status.is_server_error() {
            return self.message.clone();
        }
        match self.code {
            Code::Unavailable => "the cluster is unavailable; try again later",
            Code::AuditUnavailable => {
                "the audit log cannot be written; the operation was not performed"
            }
            Code::Timeout => "the request took too long and was abandoned",
            Code::Busy => "the server is busy; try again in a moment",
            _ => "internal error; the server log has the details",
        }
        .to_owned()
    }
}

impl From<kubemate_core::Error> for ApiError {
    fn from(e: kubemate_core::Error) -> Self {
        let code = match e.kind() {
            // The server's own credentials were refused: not the caller's fault.
            ErrorKind::Unauthorized => Code::InternalError,
            kind => kind.code(),
        };
        let mut err = ApiError::new(code, e.message());
        err.causes = e.causes().to_vec();
        if err.status().is_server_error() {
            err.detail = Some(e.to_string());
        }
        err
    }
}

impl From<kubemate_rbac::Error> for ApiError {
    fn from(e: kubemate_rbac::Error) -> Self {
        use kubemate_rbac::Error as E;
        match e {
            E::Cluster { source, step } => {
                let mut err = ApiError::from(source);
                if err.status().is_server_error() {
                    err.detail = Some(format!("{step}: {}", err.detail.unwrap_or_default()));
                }
                err
            }
            E::Forbidden(reason) => ApiError::forbidden(reason),
            E::Escalation(_) | E::InvalidCredentials | E::InvalidToken(_) => {
                ApiError::new(e.code(), e.to_string()).denied()
            }
            E::AccountDisabled => ApiError::new(e.code(), e.to_string()).denied(),
            E::LoginThrottled { retry_after } => ApiError::new(e.code(), e.to_string())
                .denied()
                .with_retry_after(retry_after),
            E::Busy { retry_after } => {
                ApiError::new(e.code(), e.to_string()).with_retry_after(retry_after)
            }
            E::Crypto { .. } => ApiError::internal(&e),
            other => {
                let mut err = ApiError::new(other.code(), other.to_string());
                if err.status().is_server_error() {
                    err.detail = Some(other.to_string());
                }
                err
            }
        }
    }
}

impl From<kubemate_audit::Error> for ApiError {
    fn from(e: kubemate_audit::Error) -> Self {
        match e {
            kubemate_audit::Error::InvalidQuery(ref why) => ApiError::bad_request(why.clone()),
            other => ApiError {
                detail: Some(other.to_string()),
                ..ApiError::new(other.code(), "")
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // Busy is load shed on purpose, by the thousand under a flood of logins: the request
        // log line and the audit record say enough.
        if status.is_server_error() && self.code != Code::Busy {
            tracing::error!(code = %self.code, detail = self.detail.as_deref().unwrap_or(&self.message),
                "request failed");
        }
        let body = ErrorBody {
            code: self.code.as_str().to_owned(),
            message: self.public_message(),
            causes: self.causes,
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kubemate\""),
            );
        }
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(ErrorNote {
            code: self.code,
            denied: self.denied,
        });
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_statuses() {
        for (code, status) in [
            ("Invalid", 400),
            ("BadRequest", 400),
            ("InvalidPath", 400),
            ("Unauthorized", 401),
            ("InvalidToken", 401),
            ("InvalidCredentials", 401),
            ("Forbidden", 403),
            ("EscalationRefused", 403),
            ("AccountDisabled", 403),
            ("NotFound", 404),
            ("Conflict", 409),
            ("AlreadyExists", 409),
            ("Gone", 410),
            ("PayloadTooLarge", 413),
            ("Unsupported", 422),
            ("TooManyStreams", 429),
            ("LoginThrottled", 429),
            ("Unavailable", 503),
            ("Busy", 503),
            ("AuditUnavailable", 503),
            ("Timeout", 504),
            ("InternalError", 500),
            ("ConfigError", 500),
        ] {
            let code: Code = code.parse().expect("a code");
            assert_eq!(status_of(code).as_u16(), status, "{code}");
        }
    }

    #[test]
    fn every_code_has_an_error_status_and_keeps_its_string_in_the_body() {
        for &code in Code::ALL {
            let status = status_of(code);
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code}: {status}"
            );
            let response = ApiError::new(code, "m").into_response();
            assert_eq!(response.status(), status, "{code}");
            let note = response.extensions().get::<ErrorNote>().expect("note");
            assert_eq!(note.code, code);
        }
        assert_eq!(
            status_of(Code::MethodNotAllowed),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            status_of(Code::UnsupportedMediaType),
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        assert_eq!(
            status_of(Code::AuditCorrupt),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn a_missing_revision_is_a_plain_404() {
        let e = ApiError::from(kubemate_core::Error::new(
            ErrorKind::RevisionNotFound,
            "unable to find specified revision 4 in history",
        ));
        assert_eq!(
            (e.code(), e.status()),
            (Code::NotFound, StatusCode::NOT_FOUND)
        );
        assert_eq!(
            e.message(),
            "unable to find specified revision 4 in history"
        );
    }

    #[test]
    fn server_errors_hide_their_details() {
        let e = ApiError::from(kubemate_core::Error::new(
            ErrorKind::Unavailable,
            "dial tcp 10.0.0.1:6443: connection refused",
        ));
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!e.public_message().contains("10.0.0.1"));
        let e = ApiError::from(kubemate_core::Error::new(ErrorKind::Unauthorized, "x"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn refusals_to_retry_say_when() {
        use std::time::Duration;
        let busy = ApiError::from(kubemate_rbac::Error::Busy {
            retry_after: Duration::from_millis(200),
        })
        .into_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[header::RETRY_AFTER], "1");
        let throttled = ApiError::from(kubemate_rbac::Error::LoginThrottled {
            retry_after: Duration::from_secs(90),
        })
        .into_response();
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.headers()[header::RETRY_AFTER], "90");
        assert!(
            throttled
                .extensions()
                .get::<ErrorNote>()
                .is_some_and(|n| n.denied)
        );
    }

    #[test]
    fn invalid_errors_keep_their_causes() {
        let e = ApiError::from(kubemate_core::Error::invalid(
            "bad",
            vec![Cause {
                field: "ports[0].port".into(),
                reason: "FieldValueInvalid".into(),
                message: "must be 1-65535".into(),
            }],
        ));
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.causes[0].field, "ports[0].port");
    }
}
