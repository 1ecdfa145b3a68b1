//! PersistentVolumeClaims.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::core::v1::{PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements},
    apimachinery::pkg::api::resource::Quantity,
};
use serde::{Deserialize, Serialize};

use super::{check_access_modes, check_capacity, check_class_ref, check_name, storage_of};
use crate::{
    ClusterClient, ClusterClientExt, DeleteOutcome, ListOptions, ObjectMeta, Result, WriteOptions,
    typed, validation::Problems,
};

/// A claim for storage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PvcSpec {
    /// The claim's namespace.
    pub namespace: String,
    /// The claim's name.
    pub name: String,
    /// The StorageClass: absent for the cluster's default class, `""` for no class (only
    /// volumes without a class can bind), or a class name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// How the volume may be mounted, e.g. `ReadWriteOnce`.
    pub access_modes: Vec<String>,
    /// The size asked for, e.g. `10Gi`.
    pub capacity: String,
    /// Bind to this PersistentVolume instead of any matching one (or a provisioned one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_name: Option<String>,
    /// Labels of the claim.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A claim as the storage list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PvcSummary {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// `Pending`, `Bound` or `Lost`.
    pub phase: String,
    /// The bound volume's capacity, else what was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<String>,
    /// The access modes it has (once bound) or asks for.
    pub access_modes: Vec<String>,
    /// Its StorageClass (`""` for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// The volume it is bound (or asked) to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// When it was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

impl From<PersistentVolumeClaim> for PvcSummary {
    fn from(pvc: PersistentVolumeClaim) -> Self {
        let spec = pvc.spec.unwrap_or_default();
        let status = pvc.status.unwrap_or_default();
        PvcSummary {
            namespace: pvc.metadata.namespace.unwrap_or_default(),
            name: pvc.metadata.name.unwrap_or_default(),
            phase: status.phase.unwrap_or_else(|| "Pending".to_owned()),
            capacity: storage_of(status.capacity.as_ref())
                .or_else(|| storage_of(spec.resources.as_ref().and_then(|r| r.requests.as_ref()))),
            access_modes: status
                .access_modes
                .filter(|m| !m.is_empty())
                .or(spec.access_modes)
                .unwrap_or_default(),
            storage_class: spec.storage_class_name,
            volume: spec.volume_name,
            created: pvc.metadata.creation_timestamp.map(|t| t.0.to_string()),
        }
    }
}

/// Checks a claim spec without sending anything.
pub fn validate_pvc(spec: &PvcSpec) -> Result<()> {
    let mut p = Problems::new();
    p.dns_label("namespace", &spec.namespace);
    p.dns_subdomain("name", &spec.name);
    check_class_ref("storageClass", spec.storage_class.as_deref(), &mut p);
    check_access_modes("accessModes", &spec.access_modes, &mut p);
    check_capacity("capacity", &spec.capacity, &mut p);
    if let Some(volume) = &spec.volume_name {
        p.dns_subdomain("volumeName", volume);
    }
    p.labels("labels", &spec.labels);
    p.finish(&format!(
        "PersistentVolumeClaim \"{}/{}\"",
        spec.namespace, spec.name
    ))
}

fn claim(spec: &PvcSpec) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(spec.name.clone()),
            namespace: Some(spec.namespace.clone()),
            labels: (!spec.labels.is_empty()).then(|| spec.labels.clone()),
            ..Default::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(spec.access_modes.clone()),
            storage_class_name: spec.storage_class.clone(),
            volume_name: spec.volume_name.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity(spec.capacity.clone()),
                )])),
                limits: None,
            }),
            ..Default::default()
        }),
        status: None,
    }
}

/// Validates and creates a claim (or dry-runs it on the server).
pub async fn create_pvc(
    client: &dyn ClusterClient,
    spec: &PvcSpec,
    opts: &WriteOptions,
) -> Result<PersistentVolumeClaim> {
    validate_pvc(spec)?;
    typed::create(client, &spec.namespace, &claim(spec), opts.dry_run).await
}

/// One claim.
pub async fn get_pvc(client: &dyn ClusterClient, ns: &str, name: &str) -> Result<PvcSummary> {
    check_name("PersistentVolumeClaim", name)?;
    Ok(client
        .get_as::<PersistentVolumeClaim>(ns, name)
        .await?
        .into())
}

/// The claims of a namespace ("" for all namespaces).
pub async fn list_pvcs(client: &dyn ClusterClient, ns: &str) -> Result<Vec<PvcSummary>> {
    let claims: Vec<PersistentVolumeClaim> =
        client.list_all_as(ns, &ListOptions::default()).await?;
    Ok(claims.into_iter().map(PvcSummary::from).collect())
}

/// Deletes a claim (Kubernetes keeps it until no Pod uses it).
pub async fn delete_pvc(client: &dyn ClusterClient, ns: &str, name: &str) -> Result<DeleteOutcome> {
    check_name("PersistentVolumeClaim", name)?;
    client.delete_as::<PersistentVolumeClaim>(ns, name).await
}
