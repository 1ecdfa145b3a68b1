//! Namespaces as tenants: a namespace with its labels and description, and the ResourceQuota
//! and LimitRange that bound what it may use.
//!
//! The quota and limits come from the installation's [`TenantDefaults`], which a request may
//! override field by field (or switch off). Everything is validated before the first call.
//!
//! Creation is all or nothing: if the ResourceQuota or the LimitRange cannot be created, the
//! namespace — brand new and still empty — is deleted again, because a tenant without its quota
//! would run unbounded, which is exactly what the quota was asked for to prevent. (This differs
//! from the app wizard, whose Deployment is useful without its Service.)

use std::collections::BTreeMap;

use k8s_openapi::{
    api::core::v1::{
        LimitRange, LimitRangeItem, LimitRangeSpec, Namespace, ResourceQuota, ResourceQuotaSpec,
    },
    apimachinery::pkg::api::resource::Quantity,
};
use serde::{Deserialize, Serialize};

use crate::{
    ClusterClient, ClusterClientExt, DeleteOutcome, Error, ErrorKind, ListOptions, ObjectMeta,
    Result,
    access::{Access, Operation, Target},
    typed,
    validation::Problems,
    wizard::{CpuMemory, DESCRIPTION_ANNOTATION},
};

/// The label that marks namespaces created as tenants.
pub const TENANT_LABEL: &str = "kubemate.io/tenant";
/// The name of the tenant's ResourceQuota.
pub const QUOTA_NAME: &str = "tenant-quota";
/// The name of the tenant's LimitRange.
pub const LIMIT_RANGE_NAME: &str = "tenant-limits";
/// Namespaces the cluster itself needs; never deleted through the tenant API.
pub const PROTECTED_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The hard limits of a tenant's ResourceQuota. Quantities are Kubernetes quantities; counts
/// are object counts. Absent fields are not limited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaSpec {
    /// Sum of CPU requests (`requests.cpu`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_cpu: Option<String>,
    /// Sum of memory requests (`requests.memory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_memory: Option<String>,
    /// Sum of CPU limits (`limits.cpu`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits_cpu: Option<String>,
    /// Sum of memory limits (`limits.memory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits_memory: Option<String>,
    /// Sum of storage requested by PersistentVolumeClaims (`requests.storage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_storage: Option<String>,
    /// Pods that are not terminated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<i64>,
    /// Services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<i64>,
    /// PersistentVolumeClaims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claims: Option<i64>,
    /// ConfigMaps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_maps: Option<i64>,
    /// Secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<i64>,
}

impl QuotaSpec {
    /// `self` with every field `over` sets replaced.
    pub fn overlay(&self, over: &QuotaSpec) -> QuotaSpec {
        QuotaSpec {
            requests_cpu: over
                .requests_cpu
                .clone()
                .or_else(|| self.requests_cpu.clone()),
            requests_memory: over
                .requests_memory
                .clone()
                .or_else(|| self.requests_memory.clone()),
            limits_cpu: over.limits_cpu.clone().or_else(|| self.limits_cpu.clone()),
            limits_memory: over
                .limits_memory
                .clone()
                .or_else(|| self.limits_memory.clone()),
            requests_storage: over
                .requests_storage
                .clone()
                .or_else(|| self.requests_storage.clone()),
            pods: over.pods.or(self.pods),
            services: over.services.or(self.services),
            persistent_volume_claims: over
                .persistent_volume_claims
                .or(self.persistent_volume_claims),
            config_maps: over.config_maps.or(self.config_maps),
            secrets: over.secrets.or(self.secrets),
        }
    }

    fn quantities(&self) -> [(&'static str, &'static str, Option<&String>); 5] {
        [
            ("requestsCpu", "requests.cpu", self.requests_cpu.as_ref()),
            (
                "requestsMemory",
                "requests.memory",
                self.requests_memory.as_ref(),
            ),
            ("limitsCpu", "limits.cpu", self.limits_cpu.as_ref()),
            ("limitsMemory", "limits.memory", self.limits_memory.as_ref()),
            (
                "requestsStorage",
                "requests.storage",
                self.requests_storage.as_ref(),
            ),
        ]
    }

    fn counts(&self) -> [(&'static str, &'static str, Option<i64>); 5] {
        [
            ("pods", "pods", self.pods),
            ("services", "services", self.services),
            (
                "persistentVolumeClaims",
                "persistentvolumeclaims",
                self.persistent_volume_claims,
            ),
            ("configMaps", "configmaps", self.config_maps),
            ("secrets", "secrets", self.secrets),
        ]
    }

    /// The quota's `spec.hard`.
    pub fn hard(&self) -> BTreeMap<String, Quantity> {
        let quantities = self
            .quantities()
            .into_iter()
            .filter_map(|(_, key, v)| Some((key.to_owned(), Quantity(v?.clone()))));
        let counts = self
            .counts()
            .into_iter()
            .filter_map(|(_, key, v)| Some((key.to_owned(), Quantity(v?.to_string()))));
        quantities.chain(counts).collect()
    }

    fn check(&self, field: &str, problems: &mut Problems) {
        for (name, _, value) in self.quantities() {
            if let Some(v) = value {
                let f = format!("{field}.{name}");
                if problems.bytes(&f, v).is_some_and(|b| b < 0) {
                    problems.invalid(f, v, "must be greater than or equal to 0");
                }
            }
        }
        for (name, _, value) in self.counts() {
            if let Some(v) = value
                && v < 0
            {
                problems.invalid(
                    format!("{field}.{name}"),
                    v,
                    "must be greater than or equal to 0",
                );
            }
        }
    }
}

/// The per-container bounds and defaults of a tenant's LimitRange.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitsSpec {
    /// Requests given to containers that set none.
    #[serde(default)]
    pub default_request: CpuMemory,
    /// Limits given to containers that set none.
    #[serde(default)]
    pub default_limit: CpuMemory,
    /// The least a container may request.
    #[serde(default)]
    pub min: CpuMemory,
    /// The most a container may be limited to.
    #[serde(default)]
    pub max: CpuMemory,
}

fn overlay_cm(base: &CpuMemory, over: &CpuMemory) -> CpuMemory {
    CpuMemory {
        cpu: over.cpu.clone().or_else(|| base.cpu.clone()),
        memory: over.memory.clone().or_else(|| base.memory.clone()),
    }
}

fn quantities(cm: &CpuMemory) -> Option<BTreeMap<String, Quantity>> {
    let map: BTreeMap<String, Quantity> = [("cpu", &cm.cpu), ("memory", &cm.memory)]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), Quantity(v.clone()?))))
        .collect();
    (!map.is_empty()).then_some(map)
}

impl LimitsSpec {
    /// `self` with every field `over` sets replaced.
    pub fn overlay(&self, over: &LimitsSpec) -> LimitsSpec {
        LimitsSpec {
            default_request: overlay_cm(&self.default_request, &over.default_request),
            default_limit: overlay_cm(&self.default_limit, &over.default_limit),
            min: overlay_cm(&self.min, &over.min),
            max: overlay_cm(&self.max, &over.max),
        }
    }

    fn is_empty(&self) -> bool {
        *self == LimitsSpec::default()
    }

    fn sides(&self) -> [(&'static str, &CpuMemory); 4] {
        [
            ("min", &self.min),
            ("defaultRequest", &self.default_request),
            ("defaultLimit", &self.default_limit),
            ("max", &self.max),
        ]
    }

    /// Checks the quantities and that min ≤ defaultRequest ≤ defaultLimit ≤ max for each
    /// resource, as the apiserver would.
    fn check(&self, field: &str, problems: &mut Problems) {
        for resource in ["cpu", "memory"] {
            let mut parsed: Vec<(&str, &str, i64)> = Vec::new();
            for (side, cm) in self.sides() {
                let value = if resource == "cpu" {
                    &cm.cpu
                } else {
                    &cm.memory
                };
                let Some(value) = value else { continue };
                let f = format!("{field}.{side}.{resource}");
                let n = if resource == "cpu" {
                    problems.millis(&f, value)
                } else {
                    problems.bytes(&f, value)
                };
                if let Some(n) = n {
                    parsed.push((side, value, n));
                }
            }
            // Each bound must not exceed any later one in the order min, request, limit, max.
            for (i, (side, value, n)) in parsed.iter().enumerate() {
                if let Some((other, other_value, _)) =
                    parsed[i + 1..].iter().find(|(_, _, m)| n > m)
                {
                    problems.invalid(
                        format!("{field}.{side}.{resource}"),
                        value,
                        &format!(
                            "must be less than or equal to {other} {resource} ({other_value})"
                        ),
                    );
                }
            }
        }
    }
}

/// The installation's defaults for new tenants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantDefaults {
    /// The quota every new tenant gets; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaSpec>,
    /// The container limits every new tenant gets; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsSpec>,
}

/// A request for a new tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSpec {
    /// The namespace's name (an RFC 1123 label).
    pub name: String,
    /// Free text, stored in the `kubemate.io/description` annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Labels of the namespace.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Overrides of the default quota, field by field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaSpec>,
    /// Overrides of the default limits, field by field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsSpec>,
    /// Create no ResourceQuota, whatever the defaults say.
    #[serde(default)]
    pub no_quota: bool,
    /// Create no LimitRange, whatever the defaults say.
    #[serde(default)]
    pub no_limits: bool,
}

impl TenantSpec {
    /// The quota this tenant gets: the defaults overlaid with the request's overrides.
    pub fn effective_quota(&self, defaults: &TenantDefaults) -> Option<QuotaSpec> {
        if self.no_quota {
            return None;
        }
        let base = defaults.quota.clone().unwrap_or_default();
        let quota = match &self.quota {
            Some(over) => base.overlay(over),
            None => base,
        };
        (quota != QuotaSpec::default()).then_some(quota)
    }

    /// The limits this tenant gets: the defaults overlaid with the request's overrides.
    pub fn effective_limits(&self, defaults: &TenantDefaults) -> Option<LimitsSpec> {
        if self.no_limits {
            return None;
        }
        let base = defaults.limits.clone().unwrap_or_default();
        let limits = match &self.limits {
            Some(over) => base.overlay(over),
            None => base,
        };
        (!limits.is_empty()).then_some(limits)
    }
}

/// What [`create_tenant`] created.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    /// The namespace.
    pub namespace: Namespace,
    /// Its ResourceQuota, if it has one.
    pub quota: Option<ResourceQuota>,
    /// Its LimitRange, if it has one.
    pub limit_range: Option<LimitRange>,
}

/// Checks a tenant request against the defaults it will be merged with, sending nothing.
///
/// Field paths name the TenantSpec's fields (`name`, `labels[team]`, `quota.requestsCpu`,
/// `limits.defaultRequest.memory`); a problem that comes from the defaults is reported on the
/// field that would override it.
pub fn validate(defaults: &TenantDefaults, spec: &TenantSpec) -> Result<()> {
    let mut problems = Problems::new();
    problems.dns_label("name", &spec.name);
    problems.labels("labels", &spec.labels);
    if let Some(quota) = spec.effective_quota(defaults) {
        quota.check("quota", &mut problems);
    }
    if let Some(limits) = spec.effective_limits(defaults) {
        limits.check("limits", &mut problems);
    }
    problems.finish(&format!("TenantSpec \"{}\"", spec.name))
}

fn namespace_object(spec: &TenantSpec) -> Namespace {
    let mut labels = spec.labels.clone();
    labels.insert(TENANT_LABEL.to_owned(), "true".to_owned());
    Namespace {
        metadata: ObjectMeta {
            name: Some(spec.name.clone()),
            labels: Some(labels),
            annotations: spec
                .description
                .as_ref()
                .map(|d| BTreeMap::from([(DESCRIPTION_ANNOTATION.to_owned(), d.clone())])),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn owned_meta(name: &str, ns: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(ns.to_owned()),
        labels: Some(BTreeMap::from([(
            TENANT_LABEL.to_owned(),
            "true".to_owned(),
        )])),
        ..Default::default()
    }
}

/// The ResourceQuota of a tenant.
pub fn quota_object(ns: &str, quota: &QuotaSpec) -> ResourceQuota {
    ResourceQuota {
        metadata: owned_meta(QUOTA_NAME, ns),
        spec: Some(ResourceQuotaSpec {
            hard: Some(quota.hard()),
            ..Default::default()
        }),
        status: None,
    }
}

/// The LimitRange of a tenant (one `Container` item).
pub fn limit_range_object(ns: &str, limits: &LimitsSpec) -> LimitRange {
    LimitRange {
        metadata: owned_meta(LIMIT_RANGE_NAME, ns),
        spec: Some(LimitRangeSpec {
            limits: vec![LimitRangeItem {
                type_: "Container".to_owned(),
                default: quantities(&limits.default_limit),
                default_request: quantities(&limits.default_request),
                min: quantities(&limits.min),
                max: quantities(&limits.max),
                max_limit_request_ratio: None,
            }],
        }),
    }
}

/// Deletes the namespace of a tenant whose setup failed, and says in the error what happened.
async fn roll_back(client: &dyn ClusterClient, name: &str, step: &str, cause: Error) -> Error {
    let outcome = match client.delete_as::<Namespace>("", name).await {
        Ok(_) => "the namespace was deleted again".to_owned(),
        Err(e) => format!("deleting the namespace again failed too ({e}); delete it by hand"),
    };
    let message = format!(
        "tenant \"{name}\": creating its {step} failed: {}; {outcome}",
        cause.message()
    );
    let causes = cause.causes().to_vec();
    let err = if causes.is_empty() {
        Error::new(cause.kind(), message)
    } else {
        Error::invalid(message, causes)
    };
    err.with_source(cause)
}

/// Creates a tenant: its namespace, then its ResourceQuota and LimitRange (from `defaults`
/// overlaid with the request). Validation runs first and sends nothing when it fails.
///
/// Errors: `Invalid`; `AlreadyExists` when the namespace exists; a failure of the quota or the
/// limits, after which the namespace has been deleted again (the message says so).
pub async fn create_tenant(
    client: &dyn ClusterClient,
    defaults: &TenantDefaults,
    spec: &TenantSpec,
) -> Result<Tenant> {
    validate(defaults, spec)?;
    let namespace = typed::create(client, "", &namespace_object(spec), false).await?;
    let name = spec.name.as_str();
    let quota = match spec.effective_quota(defaults) {
        None => None,
        Some(q) => match typed::create(client, name, &quota_object(name, &q), false).await {
            Ok(q) => Some(q),
            Err(e) => return Err(roll_back(client, name, "ResourceQuota", e).await),
        },
    };
    let limit_range = match spec.effective_limits(defaults) {
        None => None,
        Some(l) => match typed::create(client, name, &limit_range_object(name, &l), false).await {
            Ok(l) => Some(l),
            Err(e) => return Err(roll_back(client, name, "LimitRange", e).await),
        },
    };
    Ok(Tenant {
        namespace,
        quota,
        limit_range,
    })
}

/// Creates a tenant ([`create_tenant`]).
#[derive(Debug, Clone)]
pub struct CreateTenant {
    /// The installation's defaults.
    pub defaults: TenantDefaults,
    /// The tenant.
    pub spec: TenantSpec,
}

impl Operation for CreateTenant {
    type Output = Tenant;

    fn target(&self) -> Target {
        Target::new("create", "namespaces")
            .ns(&self.spec.name)
            .name(&self.spec.name)
    }

    /// The namespace, its quota and limits as asked, and the namespace's deletion should the
    /// quota or the limits fail.
    fn access(&self) -> Vec<Access> {
        let name = self.spec.name.as_str();
        let mut access = vec![Access::core("create", "namespaces", "")];
        if self.spec.effective_quota(&self.defaults).is_some() {
            access.push(Access::core("create", "resourcequotas", name));
        }
        if self.spec.effective_limits(&self.defaults).is_some() {
            access.push(Access::core("create", "limitranges", name));
        }
        access.push(Access::core("delete", "namespaces", "").named(name));
        access
    }

    fn mutates(&self) -> bool {
        true
    }

    fn names_object(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<Tenant> {
        create_tenant(client, &self.defaults, &self.spec).await
    }
}

/// The hard limits and current use of one ResourceQuota, as quantity strings by resource name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaUsage {
    /// The quota's name.
    pub name: String,
    /// Its limits.
    pub hard: BTreeMap<String, String>,
    /// What the namespace uses now, as the quota controller last counted.
    pub used: BTreeMap<String, String>,
}

/// A namespace as the tenant list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSummary {
    /// The namespace's name.
    pub name: String,
    /// `Active` or `Terminating`.
    pub phase: String,
    /// The description annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The namespace's labels.
    pub labels: BTreeMap<String, String>,
    /// True when Kubemate created it as a tenant.
    pub managed: bool,
    /// When it was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Its ResourceQuotas with their use, if it has any.
    pub quotas: Vec<QuotaUsage>,
}

fn strings(map: Option<BTreeMap<String, Quantity>>) -> BTreeMap<String, String> {
    map.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect()
}

fn usage(q: ResourceQuota) -> QuotaUsage {
    let status = q.status.unwrap_or_default();
    QuotaUsage {
        name: q.metadata.name.unwrap_or_default(),
        // The status echoes spec.hard once the controller has seen the quota; before that
        // only the spec has it.
        hard: strings(status.hard.or_else(|| q.spec.and_then(|s| s.hard))),
        used: strings(status.used),
    }
}

fn summary(ns: Namespace, quotas: Vec<QuotaUsage>) -> TenantSummary {
    let labels = ns.metadata.labels.unwrap_or_default();
    TenantSummary {
        name: ns.metadata.name.unwrap_or_default(),
        phase: ns
            .status
            .and_then(|s| s.phase)
            .unwrap_or_else(|| "Active".to_owned()),
        description: ns
            .metadata
            .annotations
            .and_then(|mut a| a.remove(DESCRIPTION_ANNOTATION)),
        managed: labels.get(TENANT_LABEL).is_some_and(|v| v == "true"),
        labels,
        created: ns.metadata.creation_timestamp.map(|t| t.0.to_string()),
        quotas,
    }
}

/// Every namespace with its quota usage. One list of namespaces and one of quotas (across all
/// namespaces), however many namespaces there are.
pub async fn list_tenants(client: &dyn ClusterClient) -> Result<Vec<TenantSummary>> {
    let namespaces: Vec<Namespace> = client.list_all_as("", &ListOptions::default()).await?;
    let quotas: Vec<ResourceQuota> = client.list_all_as("", &ListOptions::default()).await?;
    let mut by_ns: BTreeMap<String, Vec<QuotaUsage>> = BTreeMap::new();
    for q in quotas {
        let ns = q.metadata.namespace.clone().unwrap_or_default();
        by_ns.entry(ns).or_default().push(usage(q));
    }
    Ok(namespaces
        .into_iter()
        .map(|ns| {
            let quotas = by_ns
                .remove(ns.metadata.name.as_deref().unwrap_or_default())
                .unwrap_or_default();
            summary(ns, quotas)
        })
        .collect())
}

/// One namespace with its quota usage.
pub async fn get_tenant(client: &dyn ClusterClient, name: &str) -> Result<TenantSummary> {
    check_name(name)?;
    let ns: Namespace = client.get_as("", name).await?;
    let quotas: Vec<ResourceQuota> = client.list_all_as(name, &ListOptions::default()).await?;
    Ok(summary(ns, quotas.into_iter().map(usage).collect()))
}

fn check_name(name: &str) -> Result<()> {
    let mut problems = Problems::new();
    problems.dns_label("name", name);
    problems.finish(&format!("namespace \"{name}\""))
}

/// Deletes a tenant's namespace and, with it, everything in it. The namespaces the cluster
/// itself needs ([`PROTECTED_NAMESPACES`]) are refused with `Forbidden` before any call.
pub async fn delete_tenant(client: &dyn ClusterClient, name: &str) -> Result<DeleteOutcome> {
    check_name(name)?;
    if PROTECTED_NAMESPACES.contains(&name) {
        return Err(Error::new(
            ErrorKind::Forbidden,
            format!(
                "namespace \"{name}\" belongs to the cluster and cannot be deleted as a tenant"
            ),
        ));
    }
    client.delete_as::<Namespace>("", name).await
}

#[cfg(all(test, feature = "test-util"))]
mod tests;
