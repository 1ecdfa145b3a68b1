//! What the OpenAPI description says beyond each handler's own attribute: the statuses every
//! operation shares, and the rules of the path parameters, so that neither can be forgotten
//! on a new route. Applied to the assembled document ([`Shared`]), after the routes are in.
//!
//! The patterns are the server's own rules written as regular expressions (the tests below
//! check them against [`kubemate_core::names`] and kubemate-rbac's validation).

use utoipa::{
    Modify,
    openapi::{
        ArrayBuilder, ContentBuilder, ObjectBuilder, OneOfBuilder, Ref, RefOr, ResponseBuilder,
        schema::{Schema, Type},
    },
};

/// An RFC 1123 label: namespaces, resource plurals, user and role names, Service names.
pub const DNS1123_LABEL: &str = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";
/// Longest RFC 1123 label.
pub const DNS1123_LABEL_MAX: usize = 63;
/// An RFC 1123 subdomain: the names of most Kubernetes objects.
pub const DNS1123_SUBDOMAIN: &str =
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// Longest object name ([`kubemate_core::names::MAX_NAME_LENGTH`]).
pub const NAME_MAX: usize = kubemate_core::names::MAX_NAME_LENGTH;

/// Verbs a role's rule may name ([`kubemate_rbac::resources::validate_role_spec`]).
pub const ROLE_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "*",
];

/// A string matching `pattern`, at most `max` characters.
pub fn string(pattern: &str, max: usize, description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .min_length(Some(1))
        .max_length(Some(max))
        .description(Some(description))
        .into()
}

/// An RFC 1123 label.
pub fn label(description: &str) -> Schema {
    string(DNS1123_LABEL, DNS1123_LABEL_MAX, description)
}

/// A user or role name (schema of a body field).
pub fn account_name() -> Schema {
    label("A lowercase RFC 1123 label (at most 63 of a-z, 0-9 and '-')")
}

/// A password: its length rules ([`kubemate_rbac::password`]).
pub fn password() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(kubemate_rbac::password::MIN_LENGTH))
        .max_length(Some(kubemate_rbac::password::MAX_LENGTH))
        .description(Some("At least 10 and at most 256 characters"))
        .into()
}

/// The role names a user is bound to.
pub fn role_names() -> Schema {
    ArrayBuilder::new()
        .items(RefOr::T(account_name()))
        .description(Some("Roles to bind, by name; each must exist"))
        .into()
}

/// A role's rules: at least one, each naming verbs, API groups and resources.
pub fn role_rules() -> Schema {
    let strings = |items: Schema, what: &str| -> Schema {
        ArrayBuilder::new()
            .items(RefOr::T(items))
            .min_items(Some(1))
            .description(Some(what))
            .into()
    };
    let verbs = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ROLE_VERBS.iter().copied()))
        .into();
    let resource = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .into();
    let rule = ObjectBuilder::new()
        .property("verbs", strings(verbs, "Verbs, or `*`"))
        .required("verbs")
        .property(
            "apiGroups",
            strings(
                ObjectBuilder::new().schema_type(Type::String).into(),
                "API groups: `\"\"` (core), `apps`, ..., or `*`",
            ),
        )
        .required("apiGroups")
        .property(
            "resources",
            strings(resource, "Resources (plural, lowercase), or `*`"),
        )
        .required("resources");
    ArrayBuilder::new()
        .items(rule)
        .min_items(Some(1))
        .description(Some(
            "Rules: `{verbs, apiGroups, resources}` as in Kubernetes PolicyRules; at least one",
        ))
        .into()
}

/// A role's namespaces: `["*"]` alone, or one or more namespace names.
pub fn role_namespaces() -> Schema {
    let all = ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["*"])),
        )
        .min_items(Some(1))
        .max_items(Some(1));
    let some = ArrayBuilder::new()
        .items(RefOr::T(label("A namespace")))
        .min_items(Some(1));
    OneOfBuilder::new()
        .item(all)
        .item(some)
        .description(Some(
            "One or several namespaces, or `[\"*\"]` for all (and cluster-scoped resources)",
        ))
        .into()
}

/// A role's menu codes.
pub fn role_menus() -> Schema {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1)),
        )
        .description(Some("Menu codes (`audit`, `cicd`, ...; `*` for all)"))
        .into()
}

/// One of `values`.
fn one_of(values: &[&'static str], description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .into()
}

/// A log query's container: an RFC 1123 label.
pub fn container_name() -> Schema {
    label("The container (required when a Pod has several)")
}

/// A list's `view`.
pub fn list_view() -> Schema {
    one_of(
        &["summary", "full"],
        "`summary` for table rows instead of whole objects",
    )
}

/// An audit query's `outcome`.
pub fn audit_outcome() -> Schema {
    one_of(
        &["allowed", "denied", "success", "failure", "pending"],
        "The outcome of the records",
    )
}

/// The schema of a path parameter, by its name and the route's path: what
/// [`crate::params::ValidPath`] and the handler behind it accept. Anything else is a 400
/// (`InvalidPath`) or, for a name that no object of its kind could have, a 404.
fn path_parameter(path: &str, name: &str) -> Option<Schema> {
    let accounts = path.starts_with("/api/v1/users") || path.starts_with("/api/v1/roles");
    Some(match name {
        "ns" => label("A namespace: a lowercase RFC 1123 label"),
        "plural" => label(
            "A resource type's plural (`deployments`, `pods`, ...): an RFC 1123 label; \
             one the server does not know is a 404",
        ),
        "name" | "role" if accounts => account_name(),
        "name" => string(
            DNS1123_SUBDOMAIN,
            NAME_MAX,
            "The object's name: an RFC 1123 subdomain (Services and Namespaces: a label)",
        ),
        _ => return None,
    })
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// Adds what every operation shares: 401 when it needs a token, 400 when it takes parameters
/// or a body, 413 and 415 when it takes a body, 503 (the cluster or the audit log is
/// unavailable, or the server is busy) and 504 (the request took too long) everywhere; and the
/// path parameters' rules.
pub struct Shared;

impl Modify for Shared {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for (path, item) in doc.paths.paths.iter_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error_response(description));
                };
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let has_body = op.request_body.is_some();
                if secured {
                    add(
                        "401",
                        "No token, or one that is invalid, expired or revoked (Unauthorized, InvalidToken)",
                    );
                }
                if has_params || has_body {
                    add(
                        "400",
                        "Malformed input: a path parameter (InvalidPath), the query (BadRequest) \
                         or the body (BadRequest, Invalid with a cause per field)",
                    );
                }
                if has_body {
                    add(
                        "413",
                        "The body is larger than the server's limit (PayloadTooLarge)",
                    );
                    add("415", "The body is not JSON (UnsupportedMediaType)");
                }
                if path != "/healthz" {
                    add(
                        "503",
                        "The cluster or the audit log is unavailable (Unavailable, \
                         AuditUnavailable: a mutation is not performed unaudited), or the server \
                         is busy (Busy, with Retry-After)",
                    );
                }
                add(
                    "504",
                    "The request took longer than the server's limit (Timeout)",
                );
                for param in op.parameters.iter_mut().flatten() {
                    if param.parameter_in == utoipa::openapi::path::ParameterIn::Path
                        && let Some(schema) = path_parameter(path, &param.name)
                    {
                        param.schema = Some(schema.into());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubemate_core::names::{ObjectName, is_dns1123_label, is_dns1123_subdomain};
    use regex::Regex;

    const SAMPLES: &[&str] = &[
        "web",
        "web-1",
        "a",
        "0",
        "a.b",
        "a..b",
        ".a",
        "a.",
        "-a",
        "a-",
        "A",
        "a_b",
        "a:b",
        "a@b",
        "a/b",
        "a b",
        "a%2Fb",
        "",
        "kube-system",
        "x.y-z.example.com",
    ];

    #[test]
    fn the_patterns_are_the_servers_rules() {
        let label = Regex::new(DNS1123_LABEL).expect("label pattern");
        let subdomain = Regex::new(DNS1123_SUBDOMAIN).expect("subdomain pattern");
        let long_label = "a".repeat(DNS1123_LABEL_MAX + 1);
        let long_name = format!("{}.b", "a".repeat(NAME_MAX));
        let samples = SAMPLES
            .iter()
            .copied()
            .chain([long_label.as_str(), long_name.as_str()]);
        for s in samples {
            assert_eq!(
                label.is_match(s) && s.len() <= DNS1123_LABEL_MAX,
                is_dns1123_label(s),
                "label {s:?}"
            );
            let sub = subdomain.is_match(s) && s.len() <= NAME_MAX;
            assert_eq!(sub, is_dns1123_subdomain(s), "subdomain {s:?}");
            // What the description accepts, the path extractor accepts.
            if sub {
                assert!(ObjectName::parse(s).is_ok(), "{s:?}");
            }
            let name = kubemate_rbac::resources::validate_name("user", s).is_ok();
            assert_eq!(name, is_dns1123_label(s), "account name {s:?}");
        }
    }

    #[test]
    fn the_role_verbs_are_the_ones_roles_accept() {
        let role = |verbs: &[&str]| kubemate_rbac::RoleSpec {
            rules: vec![kubemate_rbac::Rule::new(verbs, &[""], &["pods"])],
            namespaces: vec!["*".into()],
            description: String::new(),
            menus: Vec::new(),
        };
        for verb in ROLE_VERBS {
            assert!(
                kubemate_rbac::resources::validate_role_spec(&role(&[verb])).is_ok(),
                "{verb}"
            );
        }
        assert!(kubemate_rbac::resources::validate_role_spec(&role(&["escalate"])).is_err());
    }
}
