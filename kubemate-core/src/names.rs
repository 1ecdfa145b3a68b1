//! Validation of Kubernetes object names, as the apiserver validates them.

use crate::{Cause, Error, Result};

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/// True for an RFC 1123 label: at most 63 of `[a-z0-9-]`, alphanumeric at both ends.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// True for an RFC 1123 subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

/// True for the name part of a qualified name or a non-empty label value: at most 63 of
/// alphanumerics, `-`, `_` or `.`, alphanumeric at both ends.
fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// True for a qualified name (label and annotation keys): `[prefix/]name`, the prefix a DNS
/// subdomain and the name a name part.
pub fn is_qualified_name(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => is_dns1123_subdomain(prefix) && is_name_part(name),
        None => is_name_part(s),
    }
}

/// True for a label value: empty, or a name part as in [`is_qualified_name`].
pub fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_name_part(s)
}

fn invalid_name(kind: &str, field: &str, value: &str, msg: &str) -> Error {
    Error::invalid(
        format!("{kind} \"{value}\" is invalid: {field}: Invalid value: \"{value}\": {msg}"),
        vec![Cause {
            field: field.to_owned(),
            reason: "FieldValueInvalid".to_owned(),
            message: format!("Invalid value: \"{value}\": {msg}"),
        }],
    )
}

/// Validates an RFC 1123 label (namespace names, container names, ...); the error names `field`.
pub fn validate_dns1123_label(kind: &str, field: &str, value: &str) -> Result<()> {
    if is_dns1123_label(value) {
        Ok(())
    } else {
        Err(invalid_name(kind, field, value, DNS1123_LABEL_MSG))
    }
}

/// Validates an RFC 1123 subdomain (most object names); the error names `field`.
pub fn validate_dns1123_subdomain(kind: &str, field: &str, value: &str) -> Result<()> {
    if is_dns1123_subdomain(value) {
        Ok(())
    } else {
        Err(invalid_name(kind, field, value, DNS1123_SUBDOMAIN_MSG))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn names_follow_rfc1123() {
        assert!(is_dns1123_label("web-1"));
        assert!(!is_dns1123_label("Web"));
        assert!(!is_dns1123_label("-web"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(is_dns1123_subdomain("a.b-c.d"));
        assert!(!is_dns1123_subdomain("a..b"));
        let err = validate_dns1123_subdomain("ConfigMap", "metadata.name", "Bad_Name")
            .expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.causes()[0].field, "metadata.name");
    }
}
