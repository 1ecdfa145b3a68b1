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

/// Deserializes an integer body field that JSON may spell `3` or `3.0` (JSON Schema, and
/// JavaScript, do not tell the two apart); `3.5` or one out of range is refused.
pub fn integer<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::{Deserialize, de::Error};
    let n = serde_json::Number::deserialize(d)?;
    let whole = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Some(i),
        // Exact for every whole f64 in i64's range (-2^63 included, 2^63 not).
        (None, Some(f))
            if f.fract() == 0.0
                && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) =>
        {
            Some(f as i64)
        }
        _ => None,
    };
    whole.and_then(|i| T::try_from(i).ok()).ok_or_else(|| {
        D::Error::custom(format!("invalid value: {n}, expected an integer in range"))
    })
}

/// [`integer`] for an optional field.
pub fn optional_integer<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::Deserialize;
    #[derive(Deserialize)]
    struct Wrap<T: TryFrom<i64>>(#[serde(deserialize_with = "integer")] T);
    Ok(Option::<Wrap<T>>::deserialize(d)?.map(|Wrap(t)| t))
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

    #[derive(Debug, serde::Deserialize)]
    struct Counts {
        #[serde(deserialize_with = "integer")]
        replicas: i32,
        #[serde(default, deserialize_with = "optional_integer")]
        revision: Option<i64>,
    }

    #[test]
    fn integers_may_be_written_as_whole_numbers() {
        let ok = parse::<Counts>(br#"{"replicas": 3.0, "revision": 2}"#).expect("whole");
        assert_eq!((ok.replicas, ok.revision), (3, Some(2)));
        let ok = parse::<Counts>(br#"{"replicas": -1, "revision": null}"#).expect("null");
        assert_eq!((ok.replicas, ok.revision), (-1, None));
        let ok = parse::<Counts>(br#"{"replicas": 1}"#).expect("absent");
        assert_eq!(ok.revision, None);
        for bad in [
            r#"{"replicas": 3.5}"#,
            r#"{"replicas": 3000000000}"#,
            r#"{"replicas": 1e300}"#,
            r#"{"replicas": "3"}"#,
        ] {
            let e = parse::<Counts>(bad.as_bytes()).expect_err(bad);
            assert_eq!(e.code(), "Invalid", "{bad}");
            assert!(e.message().starts_with("replicas:"), "{}", e.message());
        }
    }
}
