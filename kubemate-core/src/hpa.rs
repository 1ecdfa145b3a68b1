//! HorizontalPodAutoscalers (`autoscaling/v2`) that scale a Deployment, StatefulSet or
//! ReplicaSet on average CPU and/or memory utilization.
//!
//! Specs are validated before anything is sent (field paths are the [`HpaSpec`]'s camelCase
//! fields; "no metric at all" is reported on `metrics`). Creating or updating also checks that
//! the target workload exists, so a typo in its name is a `NotFound` now rather than an
//! autoscaler that silently never scales.

use std::collections::BTreeMap;

use k8s_openapi::api::{
    apps::v1::{Deployment, ReplicaSet, StatefulSet},
    autoscaling::v2::{
        CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec,
        MetricSpec, MetricTarget, ResourceMetricSource,
    },
};
use serde::{Deserialize, Serialize};

use crate::{
    ClusterClient, ClusterClientExt, DeleteOutcome, ListOptions, ObjectMeta, ResourceType, Result,
    WriteOptions, names, typed, validation::Problems,
};

/// The kinds of workload an autoscaler may scale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetKind {
    /// An `apps/v1` Deployment.
    #[default]
    Deployment,
    /// An `apps/v1` StatefulSet.
    StatefulSet,
    /// An `apps/v1` ReplicaSet.
    ReplicaSet,
}

impl TargetKind {
    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Deployment => "Deployment",
            TargetKind::StatefulSet => "StatefulSet",
            TargetKind::ReplicaSet => "ReplicaSet",
        }
    }

    fn resource_type(self) -> ResourceType {
        match self {
            TargetKind::Deployment => ResourceType::of::<Deployment>(),
            TargetKind::StatefulSet => ResourceType::of::<StatefulSet>(),
            TargetKind::ReplicaSet => ResourceType::of::<ReplicaSet>(),
        }
    }
}

/// The workload an autoscaler scales.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleTarget {
    /// Its kind.
    pub kind: TargetKind,
    /// Its name, in the autoscaler's namespace.
    pub name: String,
}

/// An autoscaler.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaSpec {
    /// The namespace of the autoscaler and its target.
    pub namespace: String,
    /// The autoscaler's name; the target's name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What it scales.
    pub target: ScaleTarget,
    /// The fewest replicas (≥ 1; 1 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i32>,
    /// The most replicas (≥ minReplicas).
    pub max_replicas: i32,
    /// Target average CPU use, in percent of the Pods' CPU requests (may exceed 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_utilization: Option<i32>,
    /// Target average memory use, in percent of the Pods' memory requests (may exceed 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_utilization: Option<i32>,
    /// Labels of the autoscaler.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl HpaSpec {
    /// The autoscaler's name.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.target.name)
    }
}

/// An autoscaler as the list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaSummary {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The target's kind.
    pub target_kind: String,
    /// The target's name.
    pub target_name: String,
    /// The fewest replicas.
    pub min_replicas: i32,
    /// The most replicas.
    pub max_replicas: i32,
    /// Replicas now, as the autoscaler last saw them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_replicas: Option<i32>,
    /// Replicas the autoscaler wants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_replicas: Option<i32>,
    /// Target CPU utilization, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_target: Option<i32>,
    /// Current CPU utilization, in percent, once metrics arrive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_current: Option<i32>,
    /// Target memory utilization, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_target: Option<i32>,
    /// Current memory utilization, in percent, once metrics arrive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_current: Option<i32>,
    /// When it last scaled (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scale_time: Option<String>,
}

impl From<HorizontalPodAutoscaler> for HpaSummary {
    fn from(hpa: HorizontalPodAutoscaler) -> Self {
        let spec = hpa.spec;
        let target = |resource: &str| {
            spec.metrics.iter().flatten().find_map(|m| {
                m.resource
                    .as_ref()
                    .filter(|r| r.name == resource)
                    .and_then(|r| r.target.average_utilization)
            })
        };
        let current = |resource: &str| {
            hpa.status
                .as_ref()
                .and_then(|s| s.current_metrics.as_ref())
                .into_iter()
                .flatten()
                .find_map(|m| {
                    m.resource
                        .as_ref()
                        .filter(|r| r.name == resource)
                        .and_then(|r| r.current.average_utilization)
                })
        };
        HpaSummary {
            cpu_target: target("cpu"),
            memory_target: target("memory"),
            cpu_current: current("cpu"),
            memory_current: current("memory"),
            current_replicas: hpa.status.as_ref().and_then(|s| s.current_replicas),
            desired_replicas: hpa.status.as_ref().map(|s| s.desired_replicas),
            last_scale_time: hpa
                .status
                .as_ref()
                .and_then(|s| s.last_scale_time.as_ref())
                .map(|t| t.0.to_string()),
            namespace: hpa.metadata.namespace.unwrap_or_default(),
            name: hpa.metadata.name.unwrap_or_default(),
            target_kind: spec.scale_target_ref.kind,
            target_name: spec.scale_target_ref.name,
            min_replicas: spec.min_replicas.unwrap_or(1),
            max_replicas: spec.max_replicas,
        }
    }
}

/// Checks an autoscaler spec without sending anything.
pub fn validate_hpa(spec: &HpaSpec) -> Result<()> {
    let mut p = Problems::new();
    p.dns_label("namespace", &spec.namespace);
    if let Some(name) = &spec.name {
        p.dns_subdomain("name", name);
    }
    p.dns_subdomain("target.name", &spec.target.name);
    let min = spec.min_replicas.unwrap_or(1);
    if min < 1 {
        p.invalid("minReplicas", min, "must be greater than or equal to 1");
    }
    if spec.max_replicas < 1 {
        p.invalid(
            "maxReplicas",
            spec.max_replicas,
            "must be greater than or equal to 1",
        );
    } else if spec.max_replicas < min {
        p.invalid(
            "maxReplicas",
            spec.max_replicas,
            &format!("must be greater than or equal to minReplicas ({min})"),
        );
    }
    for (field, value) in [
        ("cpuUtilization", spec.cpu_utilization),
        ("memoryUtilization", spec.memory_utilization),
    ] {
        if let Some(v) = value
            && v < 1
        {
            p.invalid(field, v, "must be a percentage greater than or equal to 1");
        }
    }
    if spec.cpu_utilization.is_none() && spec.memory_utilization.is_none() {
        p.push(
            "metrics",
            crate::validation::REQUIRED,
            "must target at least one of cpuUtilization or memoryUtilization",
        );
    }
    p.labels("labels", &spec.labels);
    p.finish(&format!(
        "HorizontalPodAutoscaler \"{}/{}\"",
        spec.namespace,
        spec.name()
    ))
}

fn utilization(resource: &str, percent: i32) -> MetricSpec {
    MetricSpec {
        type_: "Resource".to_owned(),
        resource: Some(ResourceMetricSource {
            name: resource.to_owned(),
            target: MetricTarget {
                type_: "Utilization".to_owned(),
                average_utilization: Some(percent),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

/// Writes what `spec` says into an autoscaler's spec, keeping what it does not cover (the
/// scaling `behavior` someone may have tuned with kubectl).
fn fill(spec: &HpaSpec, into: &mut HorizontalPodAutoscalerSpec) {
    into.scale_target_ref = CrossVersionObjectReference {
        api_version: Some("apps/v1".to_owned()),
        kind: spec.target.kind.as_str().to_owned(),
        name: spec.target.name.clone(),
    };
    into.min_replicas = Some(spec.min_replicas.unwrap_or(1));
    into.max_replicas = spec.max_replicas;
    into.metrics = Some(
        [
            ("cpu", spec.cpu_utilization),
            ("memory", spec.memory_utilization),
        ]
        .into_iter()
        .filter_map(|(resource, percent)| Some(utilization(resource, percent?)))
        .collect(),
    );
}

async fn require_target(client: &dyn ClusterClient, spec: &HpaSpec) -> Result<()> {
    client
        .get(
            &spec.target.kind.resource_type(),
            &spec.namespace,
            &spec.target.name,
        )
        .await
        .map(|_| ())
}

/// Validates and creates an autoscaler for an existing workload (or dry-runs it).
///
/// Errors: `Invalid` before any call; `NotFound` when the target (or namespace) is missing;
/// `AlreadyExists`.
pub async fn create_hpa(
    client: &dyn ClusterClient,
    spec: &HpaSpec,
    opts: &WriteOptions,
) -> Result<HorizontalPodAutoscaler> {
    validate_hpa(spec)?;
    require_target(client, spec).await?;
    let mut hpa_spec = HorizontalPodAutoscalerSpec::default();
    fill(spec, &mut hpa_spec);
    let hpa = HorizontalPodAutoscaler {
        metadata: ObjectMeta {
            name: Some(spec.name().to_owned()),
            namespace: Some(spec.namespace.clone()),
            labels: (!spec.labels.is_empty()).then(|| spec.labels.clone()),
            ..Default::default()
        },
        spec: hpa_spec,
        status: None,
    };
    typed::create(client, &spec.namespace, &hpa, opts.dry_run).await
}

/// Changes an existing autoscaler to `spec` (target, bounds, metrics; labels `spec` sets are
/// added). A concurrent change makes this fail with `Conflict`.
pub async fn update_hpa(
    client: &dyn ClusterClient,
    spec: &HpaSpec,
    opts: &WriteOptions,
) -> Result<HorizontalPodAutoscaler> {
    validate_hpa(spec)?;
    let mut hpa: HorizontalPodAutoscaler = client.get_as(&spec.namespace, spec.name()).await?;
    require_target(client, spec).await?;
    fill(spec, &mut hpa.spec);
    if !spec.labels.is_empty() {
        hpa.metadata
            .labels
            .get_or_insert_with(Default::default)
            .extend(spec.labels.clone());
    }
    typed::replace(client, &spec.namespace, &hpa, opts.dry_run).await
}

fn check_name(name: &str) -> Result<()> {
    names::validate_dns1123_subdomain("HorizontalPodAutoscaler", "name", name)
}

/// One autoscaler.
pub async fn get_hpa(client: &dyn ClusterClient, ns: &str, name: &str) -> Result<HpaSummary> {
    check_name(name)?;
    Ok(client
        .get_as::<HorizontalPodAutoscaler>(ns, name)
        .await?
        .into())
}

/// The autoscalers of a namespace ("" for all namespaces).
pub async fn list_hpas(client: &dyn ClusterClient, ns: &str) -> Result<Vec<HpaSummary>> {
    let all: Vec<HorizontalPodAutoscaler> = client.list_all_as(ns, &ListOptions::default()).await?;
    Ok(all.into_iter().map(HpaSummary::from).collect())
}

/// Deletes an autoscaler (the workload keeps its current replicas).
pub async fn delete_hpa(client: &dyn ClusterClient, ns: &str, name: &str) -> Result<DeleteOutcome> {
    check_name(name)?;
    client.delete_as::<HorizontalPodAutoscaler>(ns, name).await
}

#[cfg(all(test, feature = "test-util"))]
mod tests;
