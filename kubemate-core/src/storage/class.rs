//! StorageClasses.

use std::collections::BTreeMap;

use k8s_openapi::api::storage::v1::StorageClass;
use serde::{Deserialize, Serialize};

use super::check_name;
use crate::{
    ClusterClient, ClusterClientExt, DeleteOutcome, ListOptions, ObjectMeta, Result, WriteOptions,
    typed,
    validation::{self, Problems},
};

/// The annotation that makes a class the cluster's default.
pub const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";
/// The pre-GA spelling of [`DEFAULT_CLASS_ANNOTATION`], which Kubernetes still honours.
pub const BETA_DEFAULT_CLASS_ANNOTATION: &str = "storageclass.beta.kubernetes.io/is-default-class";

const RECLAIM_POLICIES: &[&str] = &["Delete", "Retain"];
const BINDING_MODES: &[&str] = &["Immediate", "WaitForFirstConsumer"];

/// A StorageClass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageClassSpec {
    /// The class's name.
    pub name: String,
    /// The provisioner, e.g. `rancher.io/local-path`, or `kubernetes.io/no-provisioner` for
    /// classes of pre-created volumes.
    pub provisioner: String,
    /// What happens to provisioned volumes when their claim goes: `Delete` (the default) or
    /// `Retain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclaim_policy: Option<String>,
    /// `Immediate` (the default) or `WaitForFirstConsumer` (bind where the first Pod lands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_binding_mode: Option<String>,
    /// Whether claims of this class may grow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_volume_expansion: Option<bool>,
    /// Provisioner-specific parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    /// Mount options of provisioned volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mount_options: Vec<String>,
    /// Make this the cluster's default class (claims without a class get it).
    #[serde(default)]
    pub default_class: bool,
    /// Labels of the class.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A class as the storage list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageClassSummary {
    /// Its name.
    pub name: String,
    /// Its provisioner.
    pub provisioner: String,
    /// Its reclaim policy (`Delete` when unset).
    pub reclaim_policy: String,
    /// Its binding mode (`Immediate` when unset).
    pub volume_binding_mode: String,
    /// Whether claims may grow.
    pub allow_volume_expansion: bool,
    /// Whether it is the default class.
    pub default_class: bool,
    /// Its parameters.
    pub parameters: BTreeMap<String, String>,
}

fn is_default(meta: &ObjectMeta) -> bool {
    meta.annotations.as_ref().is_some_and(|a| {
        [DEFAULT_CLASS_ANNOTATION, BETA_DEFAULT_CLASS_ANNOTATION]
            .iter()
            .any(|k| a.get(*k).is_some_and(|v| v == "true"))
    })
}

impl From<StorageClass> for StorageClassSummary {
    fn from(sc: StorageClass) -> Self {
        StorageClassSummary {
            default_class: is_default(&sc.metadata),
            name: sc.metadata.name.unwrap_or_default(),
            provisioner: sc.provisioner,
            reclaim_policy: sc.reclaim_policy.unwrap_or_else(|| "Delete".to_owned()),
            volume_binding_mode: sc
                .volume_binding_mode
                .unwrap_or_else(|| "Immediate".to_owned()),
            allow_volume_expansion: sc.allow_volume_expansion.unwrap_or(false),
            parameters: sc.parameters.unwrap_or_default(),
        }
    }
}

fn check(spec: &StorageClassSpec, p: &mut Problems) {
    p.dns_subdomain("name", &spec.name);
    if spec.provisioner.is_empty() {
        p.required("provisioner");
    } else if !validation::is_qualified_name(&spec.provisioner) {
        p.invalid(
            "provisioner",
            &spec.provisioner,
            "must be a qualified name such as example.com/nfs",
        );
    }
    if let Some(policy) = &spec.reclaim_policy
        && !RECLAIM_POLICIES.contains(&policy.as_str())
    {
        p.not_supported("reclaimPolicy", policy, RECLAIM_POLICIES);
    }
    if let Some(mode) = &spec.volume_binding_mode
        && !BINDING_MODES.contains(&mode.as_str())
    {
        p.not_supported("volumeBindingMode", mode, BINDING_MODES);
    }
    if spec.parameters.contains_key("") {
        p.invalid("parameters", "", "keys must not be empty");
    }
    p.labels("labels", &spec.labels);
}

/// Checks a class spec without sending anything.
pub fn validate_storage_class(spec: &StorageClassSpec) -> Result<()> {
    let mut p = Problems::new();
    check(spec, &mut p);
    p.finish(&format!("StorageClass \"{}\"", spec.name))
}

/// Writes the spec's mutable parts onto `sc`: labels, the default-class annotation (keeping
/// other annotations), expansion and mount options.
fn apply_mutable(spec: &StorageClassSpec, sc: &mut StorageClass) {
    sc.metadata.labels = (!spec.labels.is_empty()).then(|| spec.labels.clone());
    let mut annotations = sc.metadata.annotations.take().unwrap_or_default();
    annotations.remove(BETA_DEFAULT_CLASS_ANNOTATION);
    if spec.default_class {
        annotations.insert(DEFAULT_CLASS_ANNOTATION.to_owned(), "true".to_owned());
    } else {
        annotations.remove(DEFAULT_CLASS_ANNOTATION);
    }
    sc.metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    sc.allow_volume_expansion = spec.allow_volume_expansion;
    sc.mount_options = (!spec.mount_options.is_empty()).then(|| spec.mount_options.clone());
}

/// Validates and creates a class (or dry-runs it on the server). Making it the default does not
/// unmark another default class: Kubernetes then picks the newest, and the summaries show both.
pub async fn create_storage_class(
    client: &dyn ClusterClient,
    spec: &StorageClassSpec,
    opts: &WriteOptions,
) -> Result<StorageClass> {
    validate_storage_class(spec)?;
    let mut sc = StorageClass {
        metadata: ObjectMeta {
            name: Some(spec.name.clone()),
            ..Default::default()
        },
        provisioner: spec.provisioner.clone(),
        reclaim_policy: spec.reclaim_policy.clone(),
        volume_binding_mode: spec.volume_binding_mode.clone(),
        parameters: (!spec.parameters.is_empty()).then(|| spec.parameters.clone()),
        ..Default::default()
    };
    apply_mutable(spec, &mut sc);
    typed::create(client, "", &sc, opts.dry_run).await
}

/// Updates a class to `spec`. Kubernetes fixes a class's provisioner, parameters, reclaim
/// policy and binding mode at creation, so a change to any of them is refused as `Invalid`
/// (one cause per field) before anything is written; labels, the default flag, expansion and
/// mount options change. A concurrent change makes this fail with `Conflict`.
pub async fn update_storage_class(
    client: &dyn ClusterClient,
    spec: &StorageClassSpec,
    opts: &WriteOptions,
) -> Result<StorageClass> {
    validate_storage_class(spec)?;
    let mut current: StorageClass = client.get_as("", &spec.name).await?;
    let mut p = Problems::new();
    let reclaim = |v: &Option<String>| v.clone().unwrap_or_else(|| "Delete".to_owned());
    let binding = |v: &Option<String>| v.clone().unwrap_or_else(|| "Immediate".to_owned());
    if current.provisioner != spec.provisioner {
        p.invalid("provisioner", &spec.provisioner, "field is immutable");
    }
    if current.parameters.clone().unwrap_or_default() != spec.parameters {
        p.forbidden("parameters", "updates to parameters are forbidden");
    }
    if reclaim(&current.reclaim_policy) != reclaim(&spec.reclaim_policy) {
        p.invalid(
            "reclaimPolicy",
            reclaim(&spec.reclaim_policy),
            "field is immutable",
        );
    }
    if binding(&current.volume_binding_mode) != binding(&spec.volume_binding_mode) {
        p.invalid(
            "volumeBindingMode",
            binding(&spec.volume_binding_mode),
            "field is immutable",
        );
    }
    p.finish(&format!("StorageClass \"{}\"", spec.name))?;
    apply_mutable(spec, &mut current);
    typed::replace(client, "", &current, opts.dry_run).await
}

/// One class.
pub async fn get_storage_class(
    client: &dyn ClusterClient,
    name: &str,
) -> Result<StorageClassSummary> {
    check_name("StorageClass", name)?;
    Ok(client.get_as::<StorageClass>("", name).await?.into())
}

/// Every class.
pub async fn list_storage_classes(client: &dyn ClusterClient) -> Result<Vec<StorageClassSummary>> {
    let classes: Vec<StorageClass> = client.list_all_as("", &ListOptions::default()).await?;
    Ok(classes.into_iter().map(StorageClassSummary::from).collect())
}

/// Deletes a class (its volumes and claims stay).
pub async fn delete_storage_class(client: &dyn ClusterClient, name: &str) -> Result<DeleteOutcome> {
    check_name("StorageClass", name)?;
    client.delete_as::<StorageClass>("", name).await
}
