//! The wizard's input: what a user fills in, in the shape the console form and the CLI's YAML
//! take (camelCase JSON, Kubernetes' own field names where one exists).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

/// An application: one Deployment, optionally a Service in front of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSpec {
    /// The namespace (tenant) the app goes into; it must exist.
    pub namespace: String,
    /// The app's name: the Deployment's, the container's and the Service's name (an RFC 1123
    /// label, since Service names are labels).
    pub name: String,
    /// Free text, stored in the `kubemate.io/description` annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The container image; its registry must be one of the configured
    /// [`Registries`](super::Registries).
    pub image: String,
    /// `Always`, `IfNotPresent` or `Never`; Kubernetes' default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<String>,
    /// Ports the container listens on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortSpec>,
    /// CPU and memory requests and limits.
    #[serde(default)]
    pub resources: ResourcesSpec,
    /// Liveness, readiness and startup probes.
    #[serde(default)]
    pub probes: ProbesSpec,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVarSpec>,
    /// Replaces the image's entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Arguments to the entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Desired Pods; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Rolling-update pacing; Kubernetes' defaults (25% / 25%) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdateSpec>,
    /// Where the Pods may run.
    #[serde(default)]
    pub scheduling: SchedulingSpec,
    /// Volumes and where the container mounts them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumeSpec>,
    /// Extra labels on the Deployment, its Pods and the Service (the selector stays
    /// `app.kubernetes.io/name`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The Service to create after the Deployment; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceSpec>,
}

/// A transport protocol of a port.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Protocol {
    /// TCP (the default).
    #[default]
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
    /// SCTP.
    #[serde(rename = "SCTP")]
    Sctp,
}

impl Protocol {
    /// Kubernetes' spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// A port the container listens on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortSpec {
    /// An IANA service name (at most 15 characters), for probes and Services to refer to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The port number (1-65535).
    pub port: i32,
    /// TCP when absent.
    #[serde(default)]
    pub protocol: Protocol,
}

/// CPU and memory, as Kubernetes quantities (`250m`, `1`, `512Mi`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CpuMemory {
    /// CPU, e.g. `250m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Memory, e.g. `256Mi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
}

/// Requests and limits of the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesSpec {
    /// What the scheduler reserves.
    #[serde(default)]
    pub requests: CpuMemory,
    /// The most the container may use.
    #[serde(default)]
    pub limits: CpuMemory,
}

/// The container's probes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbesSpec {
    /// Restarts the container when it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<ProbeSpec>,
    /// Takes the Pod out of Service endpoints when it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<ProbeSpec>,
    /// Holds the other probes back until it succeeds once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<ProbeSpec>,
}

/// One probe: exactly one handler (`httpGet`, `tcpSocket` or `exec`) and its timing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeSpec {
    /// An HTTP GET that must answer 200-399.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGetProbe>,
    /// A TCP connection that must open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocketProbe>,
    /// A command that must exit 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecProbe>,
    /// Seconds after start before the first probe (≥ 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<i32>,
    /// Seconds between probes (≥ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<i32>,
    /// Seconds before a probe times out (≥ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i32>,
    /// Successes in a row to count as passing (≥ 1; exactly 1 for liveness and startup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_threshold: Option<i32>,
    /// Failures in a row to count as failing (≥ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<i32>,
}

/// An HTTP GET probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpGetProbe {
    /// The path, starting with `/`.
    pub path: String,
    /// A port number or the name of one of the app's ports.
    pub port: IntOrString,
    /// `HTTP` (default) or `HTTPS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
}

/// A TCP probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TcpSocketProbe {
    /// A port number or the name of one of the app's ports.
    pub port: IntOrString,
}

/// A command probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecProbe {
    /// The command and its arguments (not run in a shell).
    pub command: Vec<String>,
}

/// An environment variable: a plain `value`, or a key of a ConfigMap or Secret (at most one
/// of the three; none means the empty string).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarSpec {
    /// The variable's name.
    pub name: String,
    /// A literal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// A key of a ConfigMap in the app's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key: Option<KeyRef>,
    /// A key of a Secret in the app's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<KeyRef>,
}

/// A key of a ConfigMap or Secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRef {
    /// The ConfigMap's or Secret's name.
    pub name: String,
    /// The key.
    pub key: String,
    /// Start the container even when the object or key is missing.
    #[serde(default)]
    pub optional: bool,
}

/// Rolling-update pacing: each a number of Pods or a percentage (`"25%"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdateSpec {
    /// Pods that may be unavailable during an update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrString>,
    /// Pods that may exist above the desired count during an update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_surge: Option<IntOrString>,
}

/// Where the Pods may run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulingSpec {
    /// Only nodes with all these labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Bypass the scheduler and run on this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// Node affinity and spreading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<AffinitySpec>,
    /// Taints the Pods tolerate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<TolerationSpec>,
}

/// Node affinity and Pod anti-affinity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AffinitySpec {
    /// The Pods run only on nodes matching one of these terms (terms are ORed, the
    /// expressions inside a term ANDed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_node_terms: Vec<NodeTermSpec>,
    /// Spread the app's Pods over nodes (anti-affinity on `kubernetes.io/hostname`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<Spread>,
}

/// How strictly the app's Pods are spread over nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Spread {
    /// Prefer different nodes; share a node when there are more Pods than nodes.
    Preferred,
    /// Never two Pods on one node; extra Pods stay Pending.
    Required,
}

/// One node selector term.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeTermSpec {
    /// Requirements on node labels, all of which must hold.
    pub match_expressions: Vec<NodeRequirementSpec>,
}

/// A requirement on a node label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRequirementSpec {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt` or `Lt`.
    pub operator: String,
    /// The values (none for `Exists`/`DoesNotExist`, one integer for `Gt`/`Lt`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A toleration of a node taint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TolerationSpec {
    /// The taint key; empty with `Exists` tolerates every taint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `Equal` (default) or `Exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// The taint value (`Equal` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`; all effects when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
    /// How long a `NoExecute` taint is tolerated before eviction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}

/// A volume and where the container mounts it: exactly one source (`configMap`, `secret`,
/// `persistentVolumeClaim`, `emptyDir` or `hostPath`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSpec {
    /// The volume's name (an RFC 1123 label), unique in the app.
    pub name: String,
    /// Absolute path in the container.
    pub mount_path: String,
    /// Mount read-only.
    #[serde(default)]
    pub read_only: bool,
    /// Mount only this path inside the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    /// Files from a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapVolume>,
    /// Files from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretVolume>,
    /// A PersistentVolumeClaim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<ClaimVolume>,
    /// Scratch space that lives as long as the Pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDirVolume>,
    /// A directory or file of the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<HostPathVolume>,
}

/// A ConfigMap as files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapVolume {
    /// The ConfigMap's name.
    pub name: String,
    /// Only these keys, at these paths; every key as a file of its name when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<KeyToPathSpec>,
    /// Start the Pod even when the ConfigMap is missing.
    #[serde(default)]
    pub optional: bool,
}

/// A Secret as files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretVolume {
    /// The Secret's name.
    pub secret_name: String,
    /// Only these keys, at these paths; every key as a file of its name when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<KeyToPathSpec>,
    /// Start the Pod even when the Secret is missing.
    #[serde(default)]
    pub optional: bool,
}

/// One key projected to a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyToPathSpec {
    /// The key.
    pub key: String,
    /// The file's path, relative to the mount path.
    pub path: String,
}

/// A PersistentVolumeClaim volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimVolume {
    /// The claim's name, in the app's namespace.
    pub claim_name: String,
    /// Attach read-only.
    #[serde(default)]
    pub read_only: bool,
}

/// An emptyDir volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyDirVolume {
    /// `""` (node disk, the default) or `Memory` (tmpfs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    /// Most the volume may hold, e.g. `1Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_limit: Option<String>,
}

/// A hostPath volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostPathVolume {
    /// Absolute path on the node.
    pub path: String,
    /// What must be there: `DirectoryOrCreate`, `Directory`, `FileOrCreate`, `File`, `Socket`,
    /// `CharDevice`, `BlockDevice`; no check when absent.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

/// The Service in front of the app.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// `ClusterIP` (default) or `NodePort`.
    #[serde(default, rename = "type")]
    pub type_: ServiceType,
    /// The ports it exposes; at least one.
    pub ports: Vec<ServicePortSpec>,
}

/// How a Service is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceType {
    /// A virtual IP inside the cluster.
    #[default]
    ClusterIP,
    /// The cluster IP plus a port on every node.
    NodePort,
}

impl ServiceType {
    /// Kubernetes' spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
        }
    }
}

/// One Service port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePortSpec {
    /// The port's name; defaults to the target container port's name, or `<protocol>-<port>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The port the Service listens on.
    pub port: i32,
    /// The container port it forwards to, by number or name; `port` when absent. It must be
    /// one of the app's ports, whose protocol the Service port takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
    /// A fixed node port (30000-32767), `NodePort` Services only; allocated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_port: Option<i32>,
}
