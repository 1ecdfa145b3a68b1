//! Request extractors with the API's errors: JSON bodies (413 past the size limit, 400 for
//! malformed JSON, 400 naming the field for a value of the wrong shape) and query strings.

use axum::{
    extract::{FromRequest, FromRequestParts, Query, Request},
    http::{StatusCode, header, request::Parts},
};
use bytes::Bytes;
use kubemate_core::Code;
use serde::de::DeserializeOwned;

use crate::{error::ApiError, state::AppState};

/// A JSON body (the extractor); responses use [`axum::Json`].
#[derive(Debug)]
pub struct Body<T>(pub T);

/// Parses a JSON document, naming the path of a misshapen value.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            ApiError::invalid_field(if path == "." { "body" } else { &path }, inner.to_string())
        } else {
            ApiError::bad_request(format!("malformed JSON: {inner}"))
        }
    })
}

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let json = ct
                .to_str()
                .ok()
                .and_then(|s| s.split(';').next())
                .is_some_and(|m| {
                    let m = m.trim();
                    m.eq_ignore_ascii_case("application/json") || m.ends_with("+json")
                });
            if !json {
                return Err(ApiError::new(
                    Code::UnsupportedMediaType,
                    "the request body must be application/json",
                ));
            }
        }
        let limit = state.settings.max_body_bytes;
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(limit)
            } else {
                ApiError::bad_request(format!("cannot read the request body: {e}"))
            }
        })?;
        parse(&bytes).map(Body)
    }
}

/// Query-string parameters; a malformed one is a 400 naming it.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Params(q))
            .map_err(|e| ApiError::bad_request(format!("invalid query string: {}", e.body_text())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Scale {
        replicas: i32,
    }

    #[test]
    fn errors_name_the_field_or_say_the_json_is_malformed() {
        let ok = parse::<Scale>(br#"{"replicas": 3}"#).expect("valid");
        assert_eq!(ok.replicas, 3);
        let e = parse::<Scale>(br#"{"replicas": "three"}"#).expect_err("wrong type");
        assert_eq!(e.code(), "Invalid");
        assert!(e.message().starts_with("replicas:"), "{}", e.message());
        let e = parse::<Scale>(b"{\"replicas\": ").expect_err("truncated");
        assert_eq!(e.code(), "BadRequest");
    }
}
