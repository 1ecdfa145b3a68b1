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

/// True for an RFC 1123 subdomain as the apiserver checks it: at most 253 characters,
/// dot-separated parts of `[a-z0-9-]`, alphanumeric at both ends. Unlike a label, a part is
/// not limited to 63 characters (`kubemate-user-` and a 63-character user name is a valid
/// ServiceAccount name).
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
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

/// Longest name Kubemate accepts from outside (the apiserver's limit for object names).
pub const MAX_NAME_LENGTH: usize = 253;

/// Why a name from outside (a request path, a command-line argument) is refused: what it was
/// meant to be and what is wrong with it. The value itself is not repeated when it holds
/// characters that could garble a message or a log line.
fn refused(what: &str, value: &str, why: &str) -> Error {
    let shown = if value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        format!(" \"{value}\"")
    } else {
        String::new()
    };
    Error::invalid(
        format!("invalid {what}{shown}: {why}"),
        vec![Cause {
            field: what.to_owned(),
            reason: "FieldValueInvalid".to_owned(),
            message: why.to_owned(),
        }],
    )
}

/// Why `value` cannot stand as one segment of an apiserver URL path, if it cannot: empty, a
/// `/`, a `%`, a `\`, `?` or `#`, a control or whitespace character, `.` or `..`, a `..`
/// anywhere, or longer than [`MAX_NAME_LENGTH`]. This is the lock under every name that
/// reaches a URL: a name that passes it addresses one object and nothing else.
pub fn unsafe_segment(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        Some("must not be empty")
    } else if value.len() > MAX_NAME_LENGTH {
        Some("must be no more than 253 characters")
    } else if value.contains('/') {
        Some("must not contain '/'")
    } else if value.contains('%') {
        Some("must not contain '%'")
    } else if value.contains("..") || value == "." {
        Some("must not be '.' or contain '..'")
    } else if value
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '\\' | '?' | '#'))
    {
        Some("must not contain whitespace, control characters, '\\', '?' or '#'")
    } else {
        None
    }
}

/// Refuses (Invalid) a value that is not safe as one URL path segment ([`unsafe_segment`]).
pub fn check_segment(what: &str, value: &str) -> Result<()> {
    match unsafe_segment(value) {
        None => Ok(()),
        Some(why) => Err(refused(what, value, why)),
    }
}

/// The lock under both [`ClusterClient`](crate::ClusterClient) implementations: refuses
/// (BadRequest) a request whose resource type, namespace or object name could address
/// anything but the one collection or object it names ([`unsafe_segment`]). An empty
/// namespace means "all namespaces" (or a cluster-scoped kind); an empty name is refused where
/// the call addresses one object (`name_required`), since it would address the collection.
pub fn check_address(
    rt: &crate::ResourceType,
    ns: &str,
    name: &str,
    name_required: bool,
) -> Result<()> {
    let parts = [
        ("resource", rt.plural.as_str(), true),
        ("group", rt.group.as_str(), false),
        ("version", rt.version.as_str(), true),
        ("namespace", ns, false),
        ("name", name, name_required),
    ];
    for (what, value, required) in parts {
        if value.is_empty() && !required {
            continue;
        }
        if let Some(why) = unsafe_segment(value) {
            return Err(Error::new(
                crate::ErrorKind::BadRequest,
                format!("refused to address the cluster: the {what} {why}"),
            ));
        }
    }
    Ok(())
}

macro_rules! validated_name {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses a value from outside; refuses (Invalid) one that breaks the rule.
            pub fn parse(value: &str) -> Result<Self> {
                check_segment($what, value)?;
                let check: fn(&str) -> Option<&'static str> = $check;
                match check(value) {
                    None => Ok($name(value.to_owned())),
                    Some(why) => Err(refused($what, value, why)),
                }
            }

            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The name, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                $name::parse(s)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(|e| serde::de::Error::custom(e.message()))
            }
        }
    };
}

validated_name!(
    /// A namespace name from outside: an RFC 1123 label.
    NamespaceName,
    "namespace",
    |s| (!is_dns1123_label(s)).then_some(DNS1123_LABEL_MSG)
);

validated_name!(
    /// An object name from outside, before its kind is known: safe as one URL path segment
    /// ([`unsafe_segment`]) and made of the characters Kubernetes names use (letters, digits,
    /// `-`, `.`, `_`, `:` and `@`; RBAC objects may hold colons). The kind's own rule
    /// (a DNS-1123 subdomain for most kinds) is checked once the kind is known
    /// ([`crate::catalog::Kind::check_name`]).
    ObjectName,
    "name",
    |s| {
        (!s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':' | b'@')))
        .then_some("may contain only letters, digits, '-', '.', '_', ':' and '@'")
    }
);

validated_name!(
    /// A resource type's plural name from outside (`deployments`, `widgets`): an RFC 1123
    /// label, as the apiserver requires of resource names.
    ResourcePlural,
    "resource",
    |s| (!is_dns1123_label(s)).then_some(DNS1123_LABEL_MSG)
);

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
        // The apiserver limits a subdomain's length, not its parts'.
        assert!(is_dns1123_subdomain(&format!(
            "kubemate-user-{}",
            "a".repeat(63)
        )));
        assert!(!is_dns1123_subdomain(&"a".repeat(254)));
        let err = validate_dns1123_subdomain("ConfigMap", "metadata.name", "Bad_Name")
            .expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.causes()[0].field, "metadata.name");
    }

    #[test]
    fn names_from_outside_never_leave_their_url_segment() {
        let long = "a".repeat(MAX_NAME_LENGTH + 1);
        for bad in [
            "",
            "kubemate-system/secrets/kubemate-token-key",
            "x/proxy",
            "..",
            ".",
            "a..b",
            "a%2Fb",
            "a\u{7f}b",
            "a\u{0}b",
            "a b",
            "a\tb",
            "a?b",
            "a#b",
            "a\\b",
            long.as_str(),
        ] {
            assert!(unsafe_segment(bad).is_some(), "{bad:?} must be refused");
            assert!(ObjectName::parse(bad).is_err(), "{bad:?} as a name");
            assert!(NamespaceName::parse(bad).is_err(), "{bad:?} as a namespace");
            assert!(ResourcePlural::parse(bad).is_err(), "{bad:?} as a resource");
        }
        let err = NamespaceName::parse("kubemate-system/secrets").expect_err("slash");
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.causes()[0].field, "namespace");
        assert!(err.message().contains("'/'"), "{}", err.message());
        assert_eq!(
            NamespaceName::parse("shop").expect("label").as_str(),
            "shop"
        );
        assert!(NamespaceName::parse("Shop").is_err());
        assert!(
            NamespaceName::parse("a.b").is_err(),
            "namespaces are labels"
        );
        assert_eq!(
            ObjectName::parse("system:aggregate-to-admin")
                .expect("rbac name")
                .as_str(),
            "system:aggregate-to-admin"
        );
        assert!(ObjectName::parse("web-1.v2").is_ok());
        assert!(ObjectName::parse("a;b").is_err());
        assert!(ResourcePlural::parse("deployments").is_ok());
        assert!(ResourcePlural::parse("deployments.apps").is_err());
        let parsed: NamespaceName = serde_json::from_str("\"shop\"").expect("json");
        assert_eq!(parsed, "shop");
        assert!(serde_json::from_str::<NamespaceName>("\"a/b\"").is_err());
    }
}
