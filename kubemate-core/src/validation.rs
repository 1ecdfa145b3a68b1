//! Field-level validation shared by the operations that take user input (the app wizard,
//! tenants, storage, autoscalers): a [`Problems`] collector that gathers every problem of a
//! request into one [`ErrorKind::Invalid`](crate::ErrorKind::Invalid) error, and the name
//! checks Kubernetes applies to labels, port names and environment variables.
//!
//! Causes use the reasons the apiserver uses (`FieldValueInvalid`, `FieldValueRequired`, ...),
//! so a client handles Kubemate's and the apiserver's validation errors alike.

use crate::{Cause, Error, Result, names, quantity};

/// Reason of a value that is malformed or out of range.
pub const INVALID: &str = "FieldValueInvalid";
/// Reason of a missing value.
pub const REQUIRED: &str = "FieldValueRequired";
/// Reason of a value that repeats one given earlier in a list.
pub const DUPLICATE: &str = "FieldValueDuplicate";
/// Reason of a value outside a closed set.
pub const NOT_SUPPORTED: &str = "FieldValueNotSupported";
/// Reason of a value that is well-formed but not allowed here.
pub const FORBIDDEN: &str = "FieldValueForbidden";

/// The kinds of hostPath volume, as Kubernetes spells them (`""` checks nothing).
pub const HOST_PATH_TYPES: &[&str] = &[
    "",
    "DirectoryOrCreate",
    "Directory",
    "FileOrCreate",
    "File",
    "Socket",
    "CharDevice",
    "BlockDevice",
];

/// Collects the problems of one request, so that a caller sees all of them at once instead of
/// fixing them one round trip at a time.
#[derive(Debug, Default)]
pub struct Problems {
    causes: Vec<Cause>,
}

impl Problems {
    /// No problems yet.
    pub fn new() -> Self {
        Problems::default()
    }

    /// Records a problem.
    pub fn push(&mut self, field: impl Into<String>, reason: &str, message: impl Into<String>) {
        self.causes.push(Cause {
            field: field.into(),
            reason: reason.to_owned(),
            message: message.into(),
        });
    }

    /// Records a malformed or out-of-range value.
    pub fn invalid(&mut self, field: impl Into<String>, value: impl std::fmt::Display, why: &str) {
        self.push(field, INVALID, format!("Invalid value: \"{value}\": {why}"));
    }

    /// Records a missing value.
    pub fn required(&mut self, field: impl Into<String>) {
        self.push(field, REQUIRED, "Required value");
    }

    /// Records a repeated value.
    pub fn duplicate(&mut self, field: impl Into<String>, value: impl std::fmt::Display) {
        self.push(field, DUPLICATE, format!("Duplicate value: \"{value}\""));
    }

    /// Records a value outside the supported set.
    pub fn not_supported(
        &mut self,
        field: impl Into<String>,
        value: impl std::fmt::Display,
        supported: &[&str],
    ) {
        let supported = supported
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ");
        self.push(
            field,
            NOT_SUPPORTED,
            format!("Unsupported value: \"{value}\": supported values: {supported}"),
        );
    }

    /// Records a value that is not allowed in this position.
    pub fn forbidden(&mut self, field: impl Into<String>, why: impl Into<String>) {
        self.push(field, FORBIDDEN, format!("Forbidden: {}", why.into()));
    }

    /// Keeps the value of `result`, or records its causes (or its message, for an error without
    /// causes, under `field`) and returns `None`.
    pub fn take<T>(&mut self, field: &str, result: Result<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) if e.causes().is_empty() => {
                self.push(field, INVALID, e.message());
                None
            }
            Err(e) => {
                self.causes.extend(e.causes().iter().cloned());
                None
            }
        }
    }

    /// Checks a required RFC 1123 label (namespace, Service and container names).
    pub fn dns_label(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            self.required(field);
        } else {
            self.take(field, names::validate_dns1123_label("", field, value));
        }
    }

    /// Checks a required RFC 1123 subdomain (most object names).
    pub fn dns_subdomain(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            self.required(field);
        } else {
            self.take(field, names::validate_dns1123_subdomain("", field, value));
        }
    }

    /// Parses a quantity in base units (bytes); `None` (and a problem) when malformed.
    pub fn bytes(&mut self, field: &str, value: &str) -> Option<i64> {
        self.take(field, quantity::base(field, value))
    }

    /// Parses a quantity in thousandths (CPU millicores); `None` (and a problem) when malformed.
    pub fn millis(&mut self, field: &str, value: &str) -> Option<i64> {
        self.take(field, quantity::milli(field, value))
    }

    /// Checks label keys and values as Kubernetes does.
    pub fn labels<'a>(
        &mut self,
        field: &str,
        labels: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) {
        for (key, value) in labels {
            if !is_qualified_name(key) {
                self.invalid(
                    format!("{field}[{key}]"),
                    key,
                    "a label key must be a name of at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character, with an optional DNS subdomain prefix and '/'",
                );
            }
            if !is_label_value(value) {
                self.invalid(
                    format!("{field}[{key}]"),
                    value,
                    "a label value must be empty or at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character",
                );
            }
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.causes.is_empty()
    }

    /// The causes recorded so far.
    pub fn causes(&self) -> &[Cause] {
        &self.causes
    }

    /// `Ok` when nothing was recorded, else one Invalid error about `what` (e.g.
    /// `AppSpec "shop/web"`) carrying every cause.
    pub fn finish(self, what: &str) -> Result<()> {
        if self.causes.is_empty() {
            return Ok(());
        }
        let summary = self
            .causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect::<Vec<_>>()
            .join(", ");
        Err(Error::invalid(
            format!("{what} is invalid: [{summary}]"),
            self.causes,
        ))
    }
}

pub use crate::names::{is_label_value, is_qualified_name};

/// True for an IANA service name (named ports): at most 15 lowercase alphanumerics or `-`,
/// at least one letter, no `-` at either end and no `--`.
pub fn is_iana_svc_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 15
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.iter().any(u8::is_ascii_lowercase)
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !s.contains("--")
}

/// True for an environment variable name that every shell can use: letters, digits, `_`, `-`
/// and `.`, not starting with a digit (Kubernetes' historical `C_IDENTIFIER`-like rule).
pub fn is_env_var_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && !b[0].is_ascii_digit()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

/// True for a ConfigMap or Secret key: at most 253 alphanumerics, `-`, `_` or `.`, and not
/// `.` or `..`.
pub fn is_config_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// True for an absolute path without `..` elements (mount paths, host paths).
pub fn is_clean_absolute_path(s: &str) -> bool {
    s.starts_with('/') && !s.split('/').any(|part| part == "..")
}

/// True for a relative path without `..` elements (keys projected into a volume, subPaths).
pub fn is_clean_relative_path(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('/') && !s.split('/').any(|part| part == "..")
}

/// Checks a port number (1-65535).
pub fn check_port(problems: &mut Problems, field: &str, port: i32) {
    if !(1..=65535).contains(&port) {
        problems.invalid(field, port, "must be between 1 and 65535, inclusive");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn name_rules_follow_kubernetes() {
        assert!(is_qualified_name("app.kubernetes.io/name"));
        assert!(is_qualified_name("tier"));
        assert!(!is_qualified_name("bad key"));
        assert!(!is_qualified_name("Bad.Prefix/x"));
        assert!(is_label_value(""));
        assert!(!is_label_value("-x"));
        assert!(is_iana_svc_name("http"));
        assert!(is_iana_svc_name("http-2"));
        assert!(!is_iana_svc_name("8080"));
        assert!(!is_iana_svc_name("a--b"));
        assert!(!is_iana_svc_name("a-very-long-port-name"));
        assert!(is_env_var_name("JAVA_OPTS"));
        assert!(is_env_var_name("my.var-1"));
        assert!(!is_env_var_name("1ABC"));
        assert!(!is_env_var_name("A=B"));
        assert!(is_clean_absolute_path("/etc/app"));
        assert!(!is_clean_absolute_path("etc/app"));
        assert!(!is_clean_absolute_path("/etc/../root"));
        assert!(is_clean_relative_path("conf/app.yaml"));
        assert!(!is_clean_relative_path("../x"));
    }

    #[test]
    fn problems_collect_every_cause_into_one_invalid_error() {
        let mut p = Problems::new();
        p.dns_label("name", "Web");
        p.required("image");
        assert_eq!(p.bytes("resources.limits.memory", "lots"), None);
        assert_eq!(p.millis("resources.limits.cpu", "500m"), Some(500));
        let err = p.finish("AppSpec \"shop/Web\"").expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Invalid);
        let fields: Vec<_> = err.causes().iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["name", "image", "resources.limits.memory"]);
        assert!(
            err.message()
                .starts_with("AppSpec \"shop/Web\" is invalid: [name: ")
        );
        assert!(Problems::new().finish("x").is_ok());
    }
}
