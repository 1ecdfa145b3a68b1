//! PersistentVolumes of the kinds Kubemate offers: NFS, local and hostPath.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::core::v1::{
        HostPathVolumeSource, LocalVolumeSource, NFSVolumeSource, NodeSelector,
        NodeSelectorRequirement, NodeSelectorTerm, PersistentVolume, PersistentVolumeSpec,
        VolumeNodeAffinity,
    },
    apimachinery::pkg::api::resource::Quantity,
};
use serde::{Deserialize, Serialize};

use super::{check_access_modes, check_capacity, check_class_ref, check_name, storage_of};
use crate::{
    ClusterClient, ClusterClientExt, DeleteOutcome, ListOptions, ObjectMeta, Result, WriteOptions,
    typed,
    validation::{self, Problems},
};

/// The reclaim policies of a PersistentVolume.
pub const RECLAIM_POLICIES: &[&str] = &["Retain", "Delete", "Recycle"];

/// The label of a node's name, which local volumes are pinned to.
const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// An NFS export.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NfsSource {
    /// The NFS server's host name or IP.
    pub server: String,
    /// The exported path (absolute).
    pub path: String,
    /// Mount the export read-only.
    #[serde(default)]
    pub read_only: bool,
}

/// A disk or directory of one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalSource {
    /// The path on the node (absolute).
    pub path: String,
    /// The node that has it; Pods using the volume are scheduled there.
    pub node: String,
}

/// A directory of whatever node the Pod runs on (single-node and test clusters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostPathSource {
    /// The path on the node (absolute).
    pub path: String,
    /// What must be there (`DirectoryOrCreate`, `Directory`, ...); no check when absent.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

/// A PersistentVolume: exactly one of `nfs`, `local` or `hostPath` (validation reports a
/// missing or doubled source on the field `source`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PvSpec {
    /// The volume's name.
    pub name: String,
    /// Its size, e.g. `100Gi`.
    pub capacity: String,
    /// How it may be mounted, e.g. `ReadWriteMany`.
    pub access_modes: Vec<String>,
    /// What happens when its claim goes: `Retain` (the default), `Delete` or `Recycle` (NFS
    /// and hostPath only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclaim_policy: Option<String>,
    /// Its StorageClass; absent or `""` for none (then only class-less claims bind to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// Mount options, e.g. `nfsvers=4.1`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mount_options: Vec<String>,
    /// An NFS export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfs: Option<NfsSource>,
    /// A local disk of one node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalSource>,
    /// A directory of the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<HostPathSource>,
    /// Labels of the volume (claims can select on them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A volume as the storage list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PvSummary {
    /// Its name.
    pub name: String,
    /// `Pending`, `Available`, `Bound`, `Released` or `Failed`.
    pub phase: String,
    /// Its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<String>,
    /// Its access modes.
    pub access_modes: Vec<String>,
    /// Its reclaim policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclaim_policy: Option<String>,
    /// Its StorageClass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// The claim bound to it, as `namespace/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// `nfs`, `local`, `hostPath`, `csi` or `other`.
    pub source: String,
    /// When it was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

impl From<PersistentVolume> for PvSummary {
    fn from(pv: PersistentVolume) -> Self {
        let spec = pv.spec.unwrap_or_default();
        let source = if spec.nfs.is_some() {
            "nfs"
        } else if spec.local.is_some() {
            "local"
        } else if spec.host_path.is_some() {
            "hostPath"
        } else if spec.csi.is_some() {
            "csi"
        } else {
            "other"
        };
        PvSummary {
            name: pv.metadata.name.unwrap_or_default(),
            phase: pv
                .status
                .and_then(|s| s.phase)
                .unwrap_or_else(|| "Pending".to_owned()),
            capacity: storage_of(spec.capacity.as_ref()),
            access_modes: spec.access_modes.unwrap_or_default(),
            reclaim_policy: spec.persistent_volume_reclaim_policy,
            storage_class: spec.storage_class_name,
            claim: spec.claim_ref.map(|c| {
                format!(
                    "{}/{}",
                    c.namespace.unwrap_or_default(),
                    c.name.unwrap_or_default()
                )
            }),
            source: source.to_owned(),
            created: pv.metadata.creation_timestamp.map(|t| t.0.to_string()),
        }
    }
}

fn check_path(field: &str, path: &str, p: &mut Problems) {
    if path.is_empty() {
        p.required(field);
    } else if !validation::is_clean_absolute_path(path) {
        p.invalid(field, path, "must be an absolute path without '..'");
    }
}

/// Checks a volume spec without sending anything.
pub fn validate_pv(spec: &PvSpec) -> Result<()> {
    let mut p = Problems::new();
    p.dns_subdomain("name", &spec.name);
    check_capacity("capacity", &spec.capacity, &mut p);
    check_access_modes("accessModes", &spec.access_modes, &mut p);
    check_class_ref("storageClass", spec.storage_class.as_deref(), &mut p);
    p.labels("labels", &spec.labels);
    let sources = [
        spec.nfs.is_some(),
        spec.local.is_some(),
        spec.host_path.is_some(),
    ]
    .into_iter()
    .filter(|s| *s)
    .count();
    match sources {
        0 => p.push(
            "source",
            validation::REQUIRED,
            "must specify a volume source: one of nfs, local or hostPath",
        ),
        1 => {}
        _ => p.forbidden("source", "may not specify more than one volume source"),
    }
    if let Some(nfs) = &spec.nfs {
        if nfs.server.trim().is_empty() {
            p.required("nfs.server");
        }
        check_path("nfs.path", &nfs.path, &mut p);
    }
    if let Some(local) = &spec.local {
        check_path("local.path", &local.path, &mut p);
        p.dns_subdomain("local.node", &local.node);
    }
    if let Some(host) = &spec.host_path {
        check_path("hostPath.path", &host.path, &mut p);
        if let Some(t) = &host.type_
            && !validation::HOST_PATH_TYPES.contains(&t.as_str())
        {
            p.not_supported("hostPath.type", t, validation::HOST_PATH_TYPES);
        }
    }
    if let Some(policy) = &spec.reclaim_policy {
        if !RECLAIM_POLICIES.contains(&policy.as_str()) {
            p.not_supported("reclaimPolicy", policy, RECLAIM_POLICIES);
        } else if policy == "Recycle" && spec.local.is_some() {
            p.forbidden(
                "reclaimPolicy",
                "Recycle is supported only by NFS and hostPath volumes",
            );
        }
    }
    p.finish(&format!("PersistentVolume \"{}\"", spec.name))
}

fn volume(spec: &PvSpec) -> PersistentVolume {
    PersistentVolume {
        metadata: ObjectMeta {
            name: Some(spec.name.clone()),
            labels: (!spec.labels.is_empty()).then(|| spec.labels.clone()),
            ..Default::default()
        },
        spec: Some(PersistentVolumeSpec {
            capacity: Some(BTreeMap::from([(
                "storage".to_owned(),
                Quantity(spec.capacity.clone()),
            )])),
            access_modes: Some(spec.access_modes.clone()),
            persistent_volume_reclaim_policy: Some(
                spec.reclaim_policy
                    .clone()
                    .unwrap_or_else(|| "Retain".to_owned()),
            ),
            storage_class_name: spec.storage_class.clone().filter(|c| !c.is_empty()),
            mount_options: (!spec.mount_options.is_empty()).then(|| spec.mount_options.clone()),
            nfs: spec.nfs.as_ref().map(|n| NFSVolumeSource {
                server: n.server.clone(),
                path: n.path.clone(),
                read_only: n.read_only.then_some(true),
            }),
            local: spec.local.as_ref().map(|l| LocalVolumeSource {
                path: l.path.clone(),
                fs_type: None,
            }),
            // The apiserver requires a local volume to name its node; the scheduler then
            // places the volume's Pods there.
            node_affinity: spec.local.as_ref().map(|l| VolumeNodeAffinity {
                required: Some(NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: Some(vec![NodeSelectorRequirement {
                            key: HOSTNAME_LABEL.to_owned(),
                            operator: "In".to_owned(),
                            values: Some(vec![l.node.clone()]),
                        }]),
                        match_fields: None,
                    }],
                }),
            }),
            host_path: spec.host_path.as_ref().map(|h| HostPathVolumeSource {
                path: h.path.clone(),
                type_: h.type_.clone(),
            }),
            ..Default::default()
        }),
        status: None,
    }
}

/// Validates and creates a volume (or dry-runs it on the server).
pub async fn create_pv(
    client: &dyn ClusterClient,
    spec: &PvSpec,
    opts: &WriteOptions,
) -> Result<PersistentVolume> {
    validate_pv(spec)?;
    typed::create(client, "", &volume(spec), opts.dry_run).await
}

/// One volume.
pub async fn get_pv(client: &dyn ClusterClient, name: &str) -> Result<PvSummary> {
    check_name("PersistentVolume", name)?;
    Ok(client.get_as::<PersistentVolume>("", name).await?.into())
}

/// Every volume.
pub async fn list_pvs(client: &dyn ClusterClient) -> Result<Vec<PvSummary>> {
    let volumes: Vec<PersistentVolume> = client.list_all_as("", &ListOptions::default()).await?;
    Ok(volumes.into_iter().map(PvSummary::from).collect())
}

/// Deletes a volume (Kubernetes keeps it while a claim is bound to it).
pub async fn delete_pv(client: &dyn ClusterClient, name: &str) -> Result<DeleteOutcome> {
    check_name("PersistentVolume", name)?;
    client.delete_as::<PersistentVolume>("", name).await
}
