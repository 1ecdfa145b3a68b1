//! Validation of names and role specs, before anything is written.

use kubemate_core::names::is_dns1123_label;

use super::{RoleSpec, WILDCARD};
use crate::{Error, Result};

/// Verbs a rule may name (Kubernetes' resource verbs).
pub const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// Checks a user, role or namespace name: a lowercase RFC 1123 label, because it becomes a
/// label value and part of Kubernetes object names.
pub fn validate_name(what: &str, name: &str) -> Result<()> {
    if is_dns1123_label(name) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{what} name \"{name}\" must be a lowercase RFC 1123 label (at most 63 of a-z, 0-9 \
             and '-', starting and ending with a letter or digit)"
        )))
    }
}

/// Checks a role spec: at least one rule, each with verbs, groups and resources; known verbs;
/// namespaces that are names, or `*` alone.
pub fn validate_role_spec(spec: &RoleSpec) -> Result<()> {
    if spec.rules.is_empty() {
        return Err(Error::Invalid("a role needs at least one rule".into()));
    }
    for (i, rule) in spec.rules.iter().enumerate() {
        if rule.verbs.is_empty() || rule.api_groups.is_empty() || rule.resources.is_empty() {
            return Err(Error::Invalid(format!(
                "rule {}: verbs, apiGroups and resources must each name at least one entry",
                i + 1
            )));
        }
        if let Some(bad) = rule
            .verbs
            .iter()
            .find(|v| *v != WILDCARD && !VERBS.contains(&v.as_str()))
        {
            return Err(Error::Invalid(format!(
                "rule {}: unknown verb \"{bad}\" (expected one of {} or *)",
                i + 1,
                VERBS.join(", ")
            )));
        }
        if let Some(bad) = rule.resources.iter().find(|r| r.is_empty()) {
            return Err(Error::Invalid(format!(
                "rule {}: empty resource \"{bad}\"",
                i + 1
            )));
        }
    }
    if spec.namespaces.is_empty() {
        return Err(Error::Invalid(
            "a role needs at least one namespace, or * for all".into(),
        ));
    }
    if spec.namespaces.iter().any(|n| n == WILDCARD) {
        if spec.namespaces.len() > 1 {
            return Err(Error::Invalid(
                "namespaces: * (all namespaces) must stand alone".into(),
            ));
        }
    } else {
        for ns in &spec.namespaces {
            validate_name("namespace", ns)?;
        }
    }
    for menu in &spec.menus {
        if menu.is_empty() {
            return Err(Error::Invalid("menus: empty menu code".into()));
        }
    }
    Ok(())
}
