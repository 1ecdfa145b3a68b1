//! Turns a validated [`AppSpec`] into the Deployment and Service it stands for.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::{
        apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment},
        core::v1::{
            Affinity, ConfigMapKeySelector, ConfigMapVolumeSource, Container, ContainerPort,
            EmptyDirVolumeSource, EnvVar, EnvVarSource, ExecAction, HTTPGetAction,
            HostPathVolumeSource, KeyToPath, NodeAffinity, NodeSelector, NodeSelectorRequirement,
            NodeSelectorTerm, PersistentVolumeClaimVolumeSource, PodAffinityTerm, PodAntiAffinity,
            PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SecretKeySelector,
            SecretVolumeSource, Service, ServicePort, ServiceSpec as K8sServiceSpec,
            TCPSocketAction, Toleration, Volume, VolumeMount, WeightedPodAffinityTerm,
        },
    },
    apimachinery::pkg::{
        api::resource::Quantity,
        apis::meta::v1::{LabelSelector, ObjectMeta},
        util::intstr::IntOrString,
    },
};

use super::{
    APP_NAME_LABEL, AppSpec, CpuMemory, DESCRIPTION_ANNOTATION, KeyToPathSpec, MANAGED_BY_LABEL,
    PortSpec, ProbeSpec, ServicePortSpec, Spread, VolumeSpec,
};

/// The label that selects the app's Pods.
pub fn selector(spec: &AppSpec) -> BTreeMap<String, String> {
    BTreeMap::from([(APP_NAME_LABEL.to_owned(), spec.name.clone())])
}

fn labels(spec: &AppSpec) -> BTreeMap<String, String> {
    let mut labels = spec.labels.clone();
    labels.extend(selector(spec));
    labels
}

fn metadata(spec: &AppSpec) -> ObjectMeta {
    let mut labels = labels(spec);
    labels.insert(MANAGED_BY_LABEL.to_owned(), "kubemate".to_owned());
    ObjectMeta {
        name: Some(spec.name.clone()),
        namespace: Some(spec.namespace.clone()),
        labels: Some(labels),
        annotations: spec
            .description
            .as_ref()
            .map(|d| BTreeMap::from([(DESCRIPTION_ANNOTATION.to_owned(), d.clone())])),
        ..Default::default()
    }
}

fn some_vec<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

fn some_map<V>(m: BTreeMap<String, V>) -> Option<BTreeMap<String, V>> {
    (!m.is_empty()).then_some(m)
}

fn quantities(side: &CpuMemory) -> Option<BTreeMap<String, Quantity>> {
    let mut out = BTreeMap::new();
    if let Some(cpu) = &side.cpu {
        out.insert("cpu".to_owned(), Quantity(cpu.clone()));
    }
    if let Some(memory) = &side.memory {
        out.insert("memory".to_owned(), Quantity(memory.clone()));
    }
    some_map(out)
}

fn probe(p: &ProbeSpec) -> Probe {
    Probe {
        http_get: p.http_get.as_ref().map(|h| HTTPGetAction {
            path: Some(h.path.clone()),
            port: h.port.clone(),
            scheme: h.scheme.clone(),
            ..Default::default()
        }),
        tcp_socket: p.tcp_socket.as_ref().map(|t| TCPSocketAction {
            port: t.port.clone(),
            ..Default::default()
        }),
        exec: p.exec.as_ref().map(|e| ExecAction {
            command: Some(e.command.clone()),
        }),
        initial_delay_seconds: p.initial_delay_seconds,
        period_seconds: p.period_seconds,
        timeout_seconds: p.timeout_seconds,
        success_threshold: p.success_threshold,
        failure_threshold: p.failure_threshold,
        ..Default::default()
    }
}

fn env(spec: &AppSpec) -> Vec<EnvVar> {
    spec.env
        .iter()
        .map(|e| EnvVar {
            name: e.name.clone(),
            value: e.value.clone(),
            value_from: match (&e.config_map_key, &e.secret_key) {
                (Some(r), _) => Some(EnvVarSource {
                    config_map_key_ref: Some(ConfigMapKeySelector {
                        name: r.name.clone(),
                        key: r.key.clone(),
                        optional: r.optional.then_some(true),
                    }),
                    ..Default::default()
                }),
                (None, Some(r)) => Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: r.name.clone(),
                        key: r.key.clone(),
                        optional: r.optional.then_some(true),
                    }),
                    ..Default::default()
                }),
                (None, None) => None,
            },
        })
        .collect()
}

fn items(items: &[KeyToPathSpec]) -> Option<Vec<KeyToPath>> {
    some_vec(
        items
            .iter()
            .map(|i| KeyToPath {
                key: i.key.clone(),
                path: i.path.clone(),
                mode: None,
            })
            .collect(),
    )
}

fn volume(v: &VolumeSpec) -> Volume {
    Volume {
        name: v.name.clone(),
        config_map: v.config_map.as_ref().map(|c| ConfigMapVolumeSource {
            name: c.name.clone(),
            items: items(&c.items),
            optional: c.optional.then_some(true),
            default_mode: None,
        }),
        secret: v.secret.as_ref().map(|s| SecretVolumeSource {
            secret_name: Some(s.secret_name.clone()),
            items: items(&s.items),
            optional: s.optional.then_some(true),
            default_mode: None,
        }),
        persistent_volume_claim: v.persistent_volume_claim.as_ref().map(|c| {
            PersistentVolumeClaimVolumeSource {
                claim_name: c.claim_name.clone(),
                read_only: c.read_only.then_some(true),
            }
        }),
        empty_dir: v.empty_dir.as_ref().map(|d| EmptyDirVolumeSource {
            medium: d.medium.clone(),
            size_limit: d.size_limit.clone().map(Quantity),
        }),
        host_path: v.host_path.as_ref().map(|h| HostPathVolumeSource {
            path: h.path.clone(),
            type_: h.type_.clone(),
        }),
        ..Default::default()
    }
}

fn mount(v: &VolumeSpec) -> VolumeMount {
    VolumeMount {
        name: v.name.clone(),
        mount_path: v.mount_path.clone(),
        read_only: v.read_only.then_some(true),
        sub_path: v.sub_path.clone(),
        ..Default::default()
    }
}

fn affinity(spec: &AppSpec) -> Option<Affinity> {
    let a = spec.scheduling.affinity.as_ref()?;
    let node_affinity = some_vec(
        a.required_node_terms
            .iter()
            .map(|t| NodeSelectorTerm {
                match_expressions: Some(
                    t.match_expressions
                        .iter()
                        .map(|r| NodeSelectorRequirement {
                            key: r.key.clone(),
                            operator: r.operator.clone(),
                            values: some_vec(r.values.clone()),
                        })
                        .collect(),
                ),
                match_fields: None,
            })
            .collect(),
    )
    .map(|terms| NodeAffinity {
        required_during_scheduling_ignored_during_execution: Some(NodeSelector {
            node_selector_terms: terms,
        }),
        ..Default::default()
    });
    let same_app = PodAffinityTerm {
        label_selector: Some(LabelSelector {
            match_labels: Some(selector(spec)),
            ..Default::default()
        }),
        topology_key: "kubernetes.io/hostname".to_owned(),
        ..Default::default()
    };
    let pod_anti_affinity = a.spread.map(|spread| match spread {
        Spread::Preferred => PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                WeightedPodAffinityTerm {
                    pod_affinity_term: same_app,
                    weight: 100,
                },
            ]),
            ..Default::default()
        },
        Spread::Required => PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![same_app]),
            ..Default::default()
        },
    });
    (node_affinity.is_some() || pod_anti_affinity.is_some()).then(|| Affinity {
        node_affinity,
        pod_anti_affinity,
        ..Default::default()
    })
}

fn container_port(p: &PortSpec) -> ContainerPort {
    ContainerPort {
        name: p.name.clone(),
        container_port: p.port,
        protocol: Some(p.protocol.as_str().to_owned()),
        ..Default::default()
    }
}

/// The Deployment of a validated spec.
pub fn deployment(spec: &AppSpec) -> Deployment {
    let container = Container {
        name: spec.name.clone(),
        image: Some(spec.image.clone()),
        image_pull_policy: spec.image_pull_policy.clone(),
        ports: some_vec(spec.ports.iter().map(container_port).collect()),
        resources: {
            let requests = quantities(&spec.resources.requests);
            let limits = quantities(&spec.resources.limits);
            (requests.is_some() || limits.is_some()).then(|| ResourceRequirements {
                requests,
                limits,
                ..Default::default()
            })
        },
        liveness_probe: spec.probes.liveness.as_ref().map(probe),
        readiness_probe: spec.probes.readiness.as_ref().map(probe),
        startup_probe: spec.probes.startup.as_ref().map(probe),
        env: some_vec(env(spec)),
        command: some_vec(spec.command.clone()),
        args: some_vec(spec.args.clone()),
        volume_mounts: some_vec(spec.volumes.iter().map(mount).collect()),
        ..Default::default()
    };
    let scheduling = &spec.scheduling;
    let pod = PodSpec {
        containers: vec![container],
        volumes: some_vec(spec.volumes.iter().map(volume).collect()),
        node_selector: some_map(scheduling.node_selector.clone()),
        node_name: scheduling.node_name.clone(),
        affinity: affinity(spec),
        tolerations: some_vec(
            scheduling
                .tolerations
                .iter()
                .map(|t| Toleration {
                    key: t.key.clone(),
                    operator: t.operator.clone(),
                    value: t.value.clone(),
                    effect: t.effect.clone(),
                    toleration_seconds: t.toleration_seconds,
                })
                .collect(),
        ),
        ..Default::default()
    };
    Deployment {
        metadata: metadata(spec),
        spec: Some(DeploymentSpec {
            replicas: Some(spec.replicas.unwrap_or(1)),
            selector: LabelSelector {
                match_labels: Some(selector(spec)),
                ..Default::default()
            },
            strategy: spec.rolling_update.as_ref().map(|ru| DeploymentStrategy {
                type_: Some("RollingUpdate".to_owned()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: ru.max_surge.clone(),
                    max_unavailable: ru.max_unavailable.clone(),
                }),
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(spec)),
                    annotations: None,
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            ..Default::default()
        }),
        status: None,
    }
}

/// The name a Service port gets: the one given, else its container port's, else
/// `<protocol>-<port>` (Services with several ports need every port named).
pub fn service_port_name(sp: &ServicePortSpec, target: Option<&PortSpec>) -> String {
    if let Some(name) = &sp.name {
        return name.clone();
    }
    match target {
        Some(PortSpec {
            name: Some(name), ..
        }) => name.clone(),
        _ => format!(
            "{}-{}",
            target
                .map(|p| p.protocol)
                .unwrap_or_default()
                .as_str()
                .to_ascii_lowercase(),
            sp.port
        ),
    }
}

fn target_of<'a>(sp: &ServicePortSpec, ports: &'a [PortSpec]) -> Option<&'a PortSpec> {
    match sp.target_port.as_ref() {
        None => ports.iter().find(|p| p.port == sp.port),
        Some(IntOrString::Int(n)) => ports.iter().find(|p| p.port == *n),
        Some(IntOrString::String(name)) => ports.iter().find(|p| p.name.as_deref() == Some(name)),
    }
}

/// The Service of a validated spec, if it asks for one.
pub fn service(spec: &AppSpec) -> Option<Service> {
    let svc = spec.service.as_ref()?;
    let ports = svc
        .ports
        .iter()
        .map(|sp| {
            let target = target_of(sp, &spec.ports);
            ServicePort {
                name: Some(service_port_name(sp, target)),
                port: sp.port,
                target_port: Some(sp.target_port.clone().unwrap_or(IntOrString::Int(sp.port))),
                protocol: Some(
                    target
                        .map(|p| p.protocol)
                        .unwrap_or_default()
                        .as_str()
                        .to_owned(),
                ),
                node_port: sp.node_port,
                ..Default::default()
            }
        })
        .collect();
    Some(Service {
        metadata: metadata(spec),
        spec: Some(K8sServiceSpec {
            type_: Some(svc.type_.as_str().to_owned()),
            selector: Some(selector(spec)),
            ports: Some(ports),
            ..Default::default()
        }),
        status: None,
    })
}
