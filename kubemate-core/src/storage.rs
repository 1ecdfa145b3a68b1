//! Storage: PersistentVolumeClaims, PersistentVolumes and StorageClasses — created from small
//! validated specs, listed as summaries.
//!
//! Every create validates its spec first and sends nothing when it is invalid; the `Invalid`
//! error has a cause per problem, named by the spec's own camelCase fields (`capacity`,
//! `accessModes[1]`, `nfs.path`). Access modes and policies are spelled as Kubernetes spells
//! them (`ReadWriteOnce`, `Retain`, `WaitForFirstConsumer`).

use crate::{Result, names, validation::Problems};

mod claim;
mod class;
mod volume;

pub use claim::{PvcSpec, PvcSummary, create_pvc, delete_pvc, get_pvc, list_pvcs, validate_pvc};
pub use class::{
    BETA_DEFAULT_CLASS_ANNOTATION, DEFAULT_CLASS_ANNOTATION, StorageClassSpec, StorageClassSummary,
    create_storage_class, delete_storage_class, get_storage_class, list_storage_classes,
    update_storage_class, validate_storage_class,
};
pub use volume::{
    HostPathSource, LocalSource, NfsSource, PvSpec, PvSummary, RECLAIM_POLICIES, create_pv,
    delete_pv, get_pv, list_pvs, validate_pv,
};

/// The access modes of volumes and claims, as Kubernetes spells them.
pub const ACCESS_MODES: &[&str] = &[
    "ReadWriteOnce",
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOncePod",
];

/// Checks a list of access modes: at least one, each known, none twice, and
/// `ReadWriteOncePod` alone (Kubernetes refuses it beside other modes).
fn check_access_modes(field: &str, modes: &[String], problems: &mut Problems) {
    if modes.is_empty() {
        problems.required(field);
    }
    for (i, mode) in modes.iter().enumerate() {
        let f = format!("{field}[{i}]");
        if !ACCESS_MODES.contains(&mode.as_str()) {
            problems.not_supported(f, mode, ACCESS_MODES);
        } else if modes[..i].contains(mode) {
            problems.duplicate(f, mode);
        }
    }
    if modes.len() > 1 && modes.iter().any(|m| m == "ReadWriteOncePod") {
        problems.forbidden(
            field,
            "may not use ReadWriteOncePod with other access modes",
        );
    }
}

/// Checks a storage size: required, a quantity, above zero.
fn check_capacity(field: &str, value: &str, problems: &mut Problems) {
    if value.is_empty() {
        problems.required(field);
    } else if problems.bytes(field, value).is_some_and(|b| b <= 0) {
        problems.invalid(field, value, "must be greater than zero");
    }
}

/// Checks a storage class reference; the empty string (no class) is allowed.
fn check_class_ref(field: &str, class: Option<&str>, problems: &mut Problems) {
    if let Some(class) = class
        && !class.is_empty()
    {
        problems.dns_subdomain(field, class);
    }
}

/// Checks an object name given to a get or delete, so a malformed name never reaches the
/// cluster.
fn check_name(kind: &str, name: &str) -> Result<()> {
    names::validate_dns1123_subdomain(kind, "name", name)
}

fn storage_of(
    map: Option<
        &std::collections::BTreeMap<
            String,
            k8s_openapi::apimachinery::pkg::api::resource::Quantity,
        >,
    >,
) -> Option<String> {
    map.and_then(|m| m.get("storage")).map(|q| q.0.clone())
}

#[cfg(all(test, feature = "test-util"))]
mod tests;
