use std::sync::atomic::{AtomicUsize, Ordering};

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;

use super::*;
use crate::{ClusterClientExt, FakeCluster, ResourceType, conformance::object, fake::Verb};

const SEED: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";

fn fake() -> FakeCluster {
    FakeCluster::from_yaml(SEED).expect("seed")
}

fn registries() -> Registries {
    Registries::new(["registry.example.com"])
}

/// A small valid app: one named port and a Service in front of it.
fn base() -> AppSpec {
    AppSpec {
        namespace: "shop".into(),
        name: "web".into(),
        image: "registry.example.com/shop/web:1.0".into(),
        ports: vec![PortSpec {
            name: Some("http".into()),
            port: 8080,
            protocol: Protocol::Tcp,
        }],
        resources: ResourcesSpec {
            requests: CpuMemory {
                cpu: Some("100m".into()),
                memory: Some("128Mi".into()),
            },
            limits: CpuMemory {
                cpu: Some("500m".into()),
                memory: Some("256Mi".into()),
            },
        },
        service: Some(ServiceSpec {
            type_: ServiceType::ClusterIP,
            ports: vec![ServicePortSpec {
                port: 80,
                target_port: Some(IntOrString::String("http".into())),
                ..Default::default()
            }],
        }),
        ..Default::default()
    }
}

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Everything the wizard offers, as the console or the CLI would send it.
const FULL: &str = r#"
namespace: shop
name: shop-api
description: The shop's API
image: registry.example.com/shop/api:2.1
imagePullPolicy: IfNotPresent
ports:
  - {name: http, port: 8080}
  - {name: metrics, port: 9090}
  - {name: dns, port: 5353, protocol: UDP}
resources:
  requests: {cpu: 250m, memory: 256Mi}
  limits: {cpu: "1", memory: 512Mi}
probes:
  liveness: {httpGet: {path: /healthz, port: http}, initialDelaySeconds: 5, periodSeconds: 10}
  readiness: {tcpSocket: {port: 8080}, failureThreshold: 3, successThreshold: 2}
  startup: {exec: {command: [cat, /tmp/started]}, failureThreshold: 30}
env:
  - {name: MODE, value: production}
  - name: DB_HOST
    configMapKey: {name: db, key: host}
  - name: DB_PASSWORD
    secretKey: {name: db, key: password, optional: true}
command: [/bin/api]
args: [--port, "8080"]
replicas: 3
rollingUpdate: {maxUnavailable: 0, maxSurge: 25%}
scheduling:
  nodeSelector: {disk: ssd}
  affinity:
    requiredNodeTerms:
      - matchExpressions:
          - {key: kubernetes.io/os, operator: In, values: [linux]}
    spread: preferred
  tolerations:
    - {key: dedicated, operator: Equal, value: shop, effect: NoSchedule}
    - {operator: Exists, effect: NoExecute, tolerationSeconds: 60}
volumes:
  - name: config
    mountPath: /etc/api
    configMap: {name: api-config, items: [{key: app.yaml, path: app.yaml}]}
  - {name: tls, mountPath: /etc/tls, readOnly: true, secret: {secretName: api-tls}}
  - {name: data, mountPath: /var/lib/api, persistentVolumeClaim: {claimName: api-data}}
  - {name: cache, mountPath: /var/cache/api, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
  - {name: logs, mountPath: /var/log/host, hostPath: {path: /var/log, type: Directory}}
labels: {tier: backend}
service:
  type: NodePort
  ports:
    - {port: 80, targetPort: http, nodePort: 30080}
    - {port: 9090}
"#;

fn full() -> AppSpec {
    serde_yaml::from_str(FULL).expect("the full spec parses")
}

#[tokio::test]
async fn a_full_spec_becomes_a_deployment_and_a_service_that_selects_its_pods() {
    let fake = fake();
    let spec = full();
    let outcome = create_app(&fake, &registries(), &spec, &CreateOptions::default())
        .await
        .expect("created");
    assert!(outcome.is_complete());
    assert!(!outcome.dry_run);

    let d: Deployment = fake.get_as("shop", "shop-api").await.expect("deployment");
    assert_eq!(
        d.metadata.annotations.as_ref().expect("annotations")[DESCRIPTION_ANNOTATION],
        "The shop's API"
    );
    let labels = d.metadata.labels.as_ref().expect("labels");
    assert_eq!(labels[APP_NAME_LABEL], "shop-api");
    assert_eq!(labels["tier"], "backend");
    assert_eq!(labels[MANAGED_BY_LABEL], "kubemate");
    let ds = d.spec.as_ref().expect("spec");
    assert_eq!(ds.replicas, Some(3));
    let ru = ds
        .strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref())
        .expect("rolling update");
    assert_eq!(ru.max_unavailable, Some(IntOrString::Int(0)));
    assert_eq!(ru.max_surge, Some(IntOrString::String("25%".into())));
    let template_labels = ds
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .expect("template labels");
    let selector = ds.selector.match_labels.clone().expect("selector");
    assert!(
        selector
            .iter()
            .all(|(k, v)| template_labels.get(k) == Some(v))
    );

    let pod = ds.template.spec.as_ref().expect("pod spec");
    let c = &pod.containers[0];
    assert_eq!(c.name, "shop-api");
    assert_eq!(
        c.image.as_deref(),
        Some("registry.example.com/shop/api:2.1")
    );
    assert_eq!(c.command.as_deref(), Some(&["/bin/api".to_owned()][..]));
    let ports: Vec<_> = c
        .ports
        .iter()
        .flatten()
        .map(|p| {
            (
                p.name.clone().unwrap_or_default(),
                p.container_port,
                p.protocol.clone(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            ("http".into(), 8080, Some("TCP".into())),
            ("metrics".into(), 9090, Some("TCP".into())),
            ("dns".into(), 5353, Some("UDP".into()))
        ]
    );
    let resources = c.resources.as_ref().expect("resources");
    assert_eq!(resources.limits.as_ref().expect("limits")["cpu"].0, "1");
    assert_eq!(
        resources.requests.as_ref().expect("requests")["memory"].0,
        "256Mi"
    );
    let liveness = c.liveness_probe.as_ref().expect("liveness");
    assert_eq!(
        liveness.http_get.as_ref().map(|h| h.port.clone()),
        Some(IntOrString::String("http".into()))
    );
    assert_eq!(liveness.initial_delay_seconds, Some(5));
    assert!(
        c.readiness_probe
            .as_ref()
            .expect("readiness")
            .tcp_socket
            .is_some()
    );
    assert!(c.startup_probe.as_ref().expect("startup").exec.is_some());
    let env = c.env.as_ref().expect("env");
    assert_eq!(env[0].value.as_deref(), Some("production"));
    let db_host = env[1]
        .value_from
        .as_ref()
        .and_then(|v| v.config_map_key_ref.as_ref());
    assert_eq!(
        db_host.map(|r| (r.name.as_str(), r.key.as_str())),
        Some(("db", "host"))
    );
    let password = env[2]
        .value_from
        .as_ref()
        .and_then(|v| v.secret_key_ref.as_ref());
    assert_eq!(password.and_then(|r| r.optional), Some(true));
    let mounts: Vec<_> = c
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| (m.name.as_str(), m.mount_path.as_str()))
        .collect();
    assert_eq!(mounts[1], ("tls", "/etc/tls"));
    assert_eq!(mounts.len(), 5);
    let volumes = pod.volumes.as_ref().expect("volumes");
    assert_eq!(
        volumes[0]
            .config_map
            .as_ref()
            .and_then(|c| c.items.clone())
            .map(|i| i.len()),
        Some(1)
    );
    assert_eq!(
        volumes[1]
            .secret
            .as_ref()
            .and_then(|s| s.secret_name.as_deref()),
        Some("api-tls")
    );
    assert_eq!(
        volumes[2]
            .persistent_volume_claim
            .as_ref()
            .map(|c| c.claim_name.as_str()),
        Some("api-data")
    );
    assert_eq!(
        volumes[3]
            .empty_dir
            .as_ref()
            .and_then(|e| e.size_limit.clone())
            .map(|q| q.0),
        Some("64Mi".into())
    );
    assert_eq!(
        volumes[4]
            .host_path
            .as_ref()
            .and_then(|h| h.type_.as_deref()),
        Some("Directory")
    );
    assert_eq!(
        pod.node_selector.as_ref().expect("node selector")["disk"],
        "ssd"
    );
    let affinity = pod.affinity.as_ref().expect("affinity");
    let required = affinity
        .node_affinity
        .as_ref()
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .expect("required node affinity");
    assert_eq!(required.node_selector_terms.len(), 1);
    let spread = affinity
        .pod_anti_affinity
        .as_ref()
        .and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .expect("spread");
    assert_eq!(
        spread[0].pod_affinity_term.topology_key,
        "kubernetes.io/hostname"
    );
    assert_eq!(pod.tolerations.as_ref().map(Vec::len), Some(2));

    let svc: Service = fake.get_as("shop", "shop-api").await.expect("service");
    let ss = svc.spec.as_ref().expect("service spec");
    assert_eq!(ss.type_.as_deref(), Some("NodePort"));
    assert_eq!(ss.selector.as_ref(), Some(&selector));
    let sports: Vec<_> = ss
        .ports
        .iter()
        .flatten()
        .map(|p| {
            (
                p.name.clone().unwrap_or_default(),
                p.port,
                p.target_port.clone(),
                p.node_port,
            )
        })
        .collect();
    assert_eq!(
        sports,
        [
            (
                "http".into(),
                80,
                Some(IntOrString::String("http".into())),
                Some(30080)
            ),
            ("metrics".into(), 9090, Some(IntOrString::Int(9090)), None)
        ]
    );
    let report = outcome.report();
    let steps: Vec<_> = report.iter().map(|r| (r.step.as_str(), r.status)).collect();
    assert_eq!(
        steps,
        [
            ("deployment", StepStatus::Done),
            ("service", StepStatus::Done)
        ]
    );
}

#[tokio::test]
async fn an_app_without_a_service_creates_only_the_deployment() {
    let fake = fake();
    let spec = AppSpec {
        service: None,
        ..base()
    };
    let outcome = create_app(&fake, &registries(), &spec, &CreateOptions::default())
        .await
        .expect("created");
    assert!(matches!(outcome.service, Step::NotRequested));
    assert!(outcome.is_complete());
    let created: Vec<_> = fake.writes().into_iter().map(|a| a.resource).collect();
    assert_eq!(created, ["deployments"]);
}

type Mutation = fn(&mut AppSpec);

/// One broken spec per row: the field its single cause names.
fn invalid_specs() -> Vec<(&'static str, Mutation)> {
    vec![
        ("name", |s| s.name = "Web_1".into()),
        ("name", |s| s.name = String::new()),
        ("namespace", |s| s.namespace = "Shop".into()),
        ("image", |s| s.image = "evil.example.org/web:1".into()),
        ("image", |s| s.image = "nginx".into()),
        ("image", |s| s.image = String::new()),
        ("imagePullPolicy", |s| {
            s.image_pull_policy = Some("Sometimes".into())
        }),
        ("ports[0].name", |s| {
            s.ports[0].name = Some("a-very-long-port-name".into());
            s.service = None;
        }),
        ("ports[0].port", |s| s.ports[0].port = 70000),
        ("ports[0].port", |s| s.ports[0].port = 0),
        ("ports[1].port", |s| {
            s.ports.push(PortSpec {
                name: Some("alt".into()),
                port: 8080,
                protocol: Protocol::Tcp,
            })
        }),
        ("ports[1].name", |s| {
            s.ports.push(PortSpec {
                name: Some("http".into()),
                port: 8081,
                protocol: Protocol::Tcp,
            })
        }),
        ("resources.requests.cpu", |s| {
            s.resources.requests.cpu = Some("lots".into())
        }),
        ("resources.limits.memory", |s| {
            s.resources.limits.memory = Some("1 GB".into())
        }),
        ("resources.requests.memory", |s| {
            s.resources.requests.memory = Some("1Gi".into())
        }),
        ("resources.requests.cpu", |s| {
            s.resources.requests.cpu = Some("2".into())
        }),
        ("replicas", |s| s.replicas = Some(-1)),
        ("rollingUpdate.maxUnavailable", |s| {
            s.rolling_update = Some(RollingUpdateSpec {
                max_unavailable: Some(IntOrString::String("0%".into())),
                max_surge: Some(IntOrString::Int(0)),
            })
        }),
        ("rollingUpdate.maxSurge", |s| {
            s.rolling_update = Some(RollingUpdateSpec {
                max_unavailable: None,
                max_surge: Some(IntOrString::String("150%".into())),
            })
        }),
        ("probes.liveness", |s| {
            s.probes.liveness = Some(ProbeSpec {
                period_seconds: Some(5),
                ..Default::default()
            })
        }),
        ("probes.readiness.httpGet.port", |s| {
            s.probes.readiness = Some(ProbeSpec {
                http_get: Some(HttpGetProbe {
                    path: "/ready".into(),
                    port: IntOrString::String("admin".into()),
                    scheme: None,
                }),
                ..Default::default()
            })
        }),
        ("probes.readiness.httpGet.path", |s| {
            s.probes.readiness = Some(ProbeSpec {
                http_get: Some(HttpGetProbe {
                    path: "ready".into(),
                    port: IntOrString::Int(8080),
                    scheme: None,
                }),
                ..Default::default()
            })
        }),
        ("probes.startup.successThreshold", |s| {
            s.probes.startup = Some(ProbeSpec {
                tcp_socket: Some(TcpSocketProbe {
                    port: IntOrString::Int(8080),
                }),
                success_threshold: Some(2),
                ..Default::default()
            })
        }),
        ("probes.liveness.periodSeconds", |s| {
            s.probes.liveness = Some(ProbeSpec {
                exec: Some(ExecProbe {
                    command: vec!["true".into()],
                }),
                period_seconds: Some(0),
                ..Default::default()
            })
        }),
        ("env[0].name", |s| {
            s.env = vec![EnvVarSpec {
                name: "1BAD".into(),
                value: Some("x".into()),
                ..Default::default()
            }]
        }),
        ("env[1].name", |s| {
            let var = EnvVarSpec {
                name: "MODE".into(),
                value: Some("x".into()),
                ..Default::default()
            };
            s.env = vec![var.clone(), var];
        }),
        ("env[0]", |s| {
            s.env = vec![EnvVarSpec {
                name: "TOKEN".into(),
                value: Some("x".into()),
                secret_key: Some(KeyRef {
                    name: "api".into(),
                    key: "token".into(),
                    optional: false,
                }),
                ..Default::default()
            }]
        }),
        ("env[0].configMapKey.key", |s| {
            s.env = vec![EnvVarSpec {
                name: "HOST".into(),
                config_map_key: Some(KeyRef {
                    name: "db".into(),
                    key: "no/slash".into(),
                    optional: false,
                }),
                ..Default::default()
            }]
        }),
        ("volumes[0].name", |s| {
            s.volumes = vec![empty_dir("Data", "/data")]
        }),
        ("volumes[1].name", |s| {
            s.volumes = vec![empty_dir("data", "/data"), empty_dir("data", "/cache")]
        }),
        ("volumes[0].mountPath", |s| {
            s.volumes = vec![empty_dir("data", "data")]
        }),
        ("volumes[0].mountPath", |s| {
            s.volumes = vec![empty_dir("data", "/data/../etc")]
        }),
        ("volumes[1].mountPath", |s| {
            s.volumes = vec![empty_dir("data", "/data"), empty_dir("cache", "/data/")]
        }),
        ("volumes[0]", |s| {
            s.volumes = vec![VolumeSpec {
                name: "data".into(),
                mount_path: "/data".into(),
                ..Default::default()
            }]
        }),
        ("volumes[0]", |s| {
            let mut v = empty_dir("data", "/data");
            v.host_path = Some(HostPathVolume {
                path: "/srv".into(),
                type_: None,
            });
            s.volumes = vec![v];
        }),
        ("volumes[0].emptyDir.sizeLimit", |s| {
            let mut v = empty_dir("data", "/data");
            v.empty_dir = Some(EmptyDirVolume {
                medium: None,
                size_limit: Some("big".into()),
            });
            s.volumes = vec![v];
        }),
        ("volumes[0].hostPath.path", |s| {
            s.volumes = vec![VolumeSpec {
                name: "host".into(),
                mount_path: "/host".into(),
                host_path: Some(HostPathVolume {
                    path: "var/log".into(),
                    type_: None,
                }),
                ..Default::default()
            }]
        }),
        ("volumes[0].hostPath.type", |s| {
            s.volumes = vec![VolumeSpec {
                name: "host".into(),
                mount_path: "/host".into(),
                host_path: Some(HostPathVolume {
                    path: "/var/log".into(),
                    type_: Some("Folder".into()),
                }),
                ..Default::default()
            }]
        }),
        ("volumes[0].configMap.items[0].path", |s| {
            s.volumes = vec![VolumeSpec {
                name: "config".into(),
                mount_path: "/etc/app".into(),
                config_map: Some(ConfigMapVolume {
                    name: "app".into(),
                    items: vec![KeyToPathSpec {
                        key: "app.yaml".into(),
                        path: "../app.yaml".into(),
                    }],
                    optional: false,
                }),
                ..Default::default()
            }]
        }),
        ("volumes[0].persistentVolumeClaim.claimName", |s| {
            s.volumes = vec![VolumeSpec {
                name: "data".into(),
                mount_path: "/data".into(),
                persistent_volume_claim: Some(ClaimVolume {
                    claim_name: "Data!".into(),
                    read_only: false,
                }),
                ..Default::default()
            }]
        }),
        ("service.ports[0].targetPort", |s| {
            if let Some(svc) = s.service.as_mut() {
                svc.ports[0].target_port = Some(IntOrString::Int(9999));
            }
        }),
        ("service.ports[0].targetPort", |s| {
            if let Some(svc) = s.service.as_mut() {
                svc.ports[0].target_port = Some(IntOrString::String("grpc".into()));
            }
        }),
        ("service.ports[0].port", |s| {
            if let Some(svc) = s.service.as_mut() {
                svc.ports[0].target_port = None;
            }
        }),
        ("service.ports", |s| {
            if let Some(svc) = s.service.as_mut() {
                svc.ports.clear();
            }
        }),
        ("service.ports[1].port", |s| {
            if let Some(svc) = s.service.as_mut() {
                let mut again = svc.ports[0].clone();
                again.name = Some("again".into());
                svc.ports.push(again);
            }
        }),
        ("service.ports[0].nodePort", |s| {
            if let Some(svc) = s.service.as_mut() {
                svc.type_ = ServiceType::NodePort;
                svc.ports[0].node_port = Some(80);
            }
        }),
        ("service.ports[0].nodePort", |s| {
            if let Some(svc) = s.service.as_mut() {
                svc.ports[0].node_port = Some(30080);
            }
        }),
        ("labels[app.kubernetes.io/name]", |s| {
            s.labels.insert(APP_NAME_LABEL.into(), "other".into());
        }),
        ("labels[tier]", |s| {
            s.labels.insert("tier".into(), "back end".into());
        }),
        ("scheduling.nodeName", |s| {
            s.scheduling.node_name = Some("Node_1".into())
        }),
        ("scheduling.nodeSelector[disk type]", |s| {
            s.scheduling
                .node_selector
                .insert("disk type".into(), "ssd".into());
        }),
        ("scheduling.tolerations[0].value", |s| {
            s.scheduling.tolerations = vec![TolerationSpec {
                key: Some("dedicated".into()),
                operator: Some("Exists".into()),
                value: Some("shop".into()),
                ..Default::default()
            }]
        }),
        ("scheduling.tolerations[0].tolerationSeconds", |s| {
            s.scheduling.tolerations = vec![TolerationSpec {
                key: Some("dedicated".into()),
                value: Some("shop".into()),
                effect: Some("NoSchedule".into()),
                toleration_seconds: Some(30),
                ..Default::default()
            }]
        }),
        (
            "scheduling.affinity.requiredNodeTerms[0].matchExpressions[0].values",
            |s| {
                s.scheduling.affinity = Some(AffinitySpec {
                    required_node_terms: vec![NodeTermSpec {
                        match_expressions: vec![NodeRequirementSpec {
                            key: "zone".into(),
                            operator: "In".into(),
                            values: vec![],
                        }],
                    }],
                    spread: None,
                })
            },
        ),
        (
            "scheduling.affinity.requiredNodeTerms[0].matchExpressions[0].operator",
            |s| {
                s.scheduling.affinity = Some(AffinitySpec {
                    required_node_terms: vec![NodeTermSpec {
                        match_expressions: vec![NodeRequirementSpec {
                            key: "zone".into(),
                            operator: "Near".into(),
                            values: vec!["a".into()],
                        }],
                    }],
                    spread: None,
                })
            },
        ),
    ]
}

fn empty_dir(name: &str, mount_path: &str) -> VolumeSpec {
    VolumeSpec {
        name: name.into(),
        mount_path: mount_path.into(),
        empty_dir: Some(EmptyDirVolume::default()),
        ..Default::default()
    }
}

#[tokio::test]
async fn every_invalid_spec_is_refused_with_its_field_and_nothing_is_sent() {
    assert!(
        validate(&base(), &registries()).is_ok(),
        "the base spec is valid"
    );
    assert!(
        validate(&full(), &registries()).is_ok(),
        "the full spec is valid"
    );
    for (i, (field, mutate)) in invalid_specs().into_iter().enumerate() {
        let fake = fake();
        let mut spec = base();
        mutate(&mut spec);
        let err = create_app(&fake, &registries(), &spec, &CreateOptions::default())
            .await
            .expect_err(&format!("row {i} ({field}) is invalid"));
        assert_eq!(err.kind(), ErrorKind::Invalid, "row {i}: {err}");
        let fields: Vec<_> = err.causes().iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, [field], "row {i}: {err}");
        assert!(fake.actions().is_empty(), "row {i}: nothing is sent");
        let err = create_app(
            &fake,
            &registries(),
            &spec,
            &CreateOptions { dry_run: true },
        )
        .await
        .expect_err("a dry run validates first too");
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert!(fake.actions().is_empty(), "row {i}: not even a dry run");
    }
}

#[tokio::test]
async fn all_problems_come_back_together_in_one_error() {
    let fake = fake();
    let mut spec = base();
    spec.name = "Web".into();
    spec.image = "evil.example.org/web:1".into();
    spec.replicas = Some(-2);
    spec.ports[0].port = 0;
    spec.volumes = vec![empty_dir("data", "relative")];
    let err = create_app(&fake, &registries(), &spec, &CreateOptions::default())
        .await
        .expect_err("invalid");
    let fields: Vec<_> = err.causes().iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "name",
            "image",
            "ports[0].port",
            "replicas",
            "volumes[0].mountPath"
        ]
    );
    let image = &err.causes()[1];
    assert_eq!(image.reason, "FieldValueForbidden");
    assert!(
        image.message.contains("registry.example.com"),
        "{}",
        image.message
    );
    assert!(
        err.message()
            .starts_with("AppSpec \"shop/Web\" is invalid: [name: ")
    );
    assert!(fake.actions().is_empty());
}

#[tokio::test]
async fn an_existing_app_is_already_exists_and_a_missing_namespace_not_found() {
    let fake = fake();
    let spec = base();
    let _ = create_app(&fake, &registries(), &spec, &CreateOptions::default())
        .await
        .expect("first");
    let before = fake.writes().len();
    let err = create_app(&fake, &registries(), &spec, &CreateOptions::default())
        .await
        .expect_err("second");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(
        fake.writes().len(),
        before + 1,
        "only the refused Deployment create; no Service attempt"
    );

    let elsewhere = AppSpec {
        namespace: "nowhere".into(),
        ..base()
    };
    let err = create_app(&fake, &registries(), &elsewhere, &CreateOptions::default())
        .await
        .expect_err("no namespace");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("nowhere"), "{err}");
}

#[tokio::test]
async fn a_failed_service_is_reported_beside_the_created_deployment_and_can_be_retried() {
    let fake = fake();
    fake.fail(
        Some(Verb::Create),
        Some("services"),
        ErrorKind::Unavailable,
        1,
    );
    let spec = base();
    let outcome = create_app(&fake, &registries(), &spec, &CreateOptions::default())
        .await
        .expect("the Deployment step succeeded");
    assert!(!outcome.is_complete());
    assert_eq!(
        outcome.service.error().map(Error::kind),
        Some(ErrorKind::Unavailable)
    );
    let report = outcome.report();
    assert_eq!(report[0].status, StepStatus::Done);
    assert_eq!(report[0].name.as_deref(), Some("web"));
    assert_eq!(report[1].status, StepStatus::Failed);
    assert_eq!(report[1].code.as_deref(), Some("Unavailable"));
    assert!(
        fake.get_opt_as::<Deployment>("shop", "web")
            .await
            .expect("get")
            .is_some(),
        "the Deployment stays: no rollback"
    );
    assert!(
        fake.get_opt_as::<Service>("shop", "web")
            .await
            .expect("get")
            .is_none()
    );

    let svc = create_service(&fake, &registries(), &spec, &CreateOptions::default())
        .await
        .expect("retry");
    assert_eq!(svc.metadata.name.as_deref(), Some("web"));
    let err = create_service(
        &fake,
        &registries(),
        &AppSpec {
            service: None,
            ..base()
        },
        &CreateOptions::default(),
    )
    .await
    .expect_err("no service in the spec");
    assert_eq!(err.causes()[0].field, "service");
}

#[tokio::test]
async fn a_dry_run_sends_dry_runs_and_creates_nothing() {
    let fake = fake();
    let outcome = create_app(
        &fake,
        &registries(),
        &full(),
        &CreateOptions { dry_run: true },
    )
    .await
    .expect("dry run");
    assert!(outcome.dry_run && outcome.is_complete());
    assert_eq!(
        outcome.deployment.metadata.name.as_deref(),
        Some("shop-api")
    );
    assert!(outcome.service.done().is_some());
    assert!(
        fake.get_opt_as::<Deployment>("shop", "shop-api")
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        fake.get_opt_as::<Service>("shop", "shop-api")
            .await
            .expect("get")
            .is_none()
    );
}

/// A follow-up step that records a ConfigMap naming the Service it follows.
struct NoteStep {
    runs: AtomicUsize,
    refuse: bool,
}

#[async_trait]
impl FollowUpStep for NoteStep {
    fn name(&self) -> &str {
        "note"
    }

    fn validate(&self, _spec: &AppSpec, problems: &mut Problems) {
        if self.refuse {
            problems.required("note.text");
        }
    }

    async fn run(
        &self,
        client: &dyn ClusterClient,
        app: CreatedApp<'_>,
        opts: &CreateOptions,
    ) -> Result<DynamicObject> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let service = app
            .service
            .and_then(|s| s.metadata.name.clone())
            .unwrap_or_default();
        client
            .create(
                &ResourceType::of::<ConfigMap>(),
                &app.spec.namespace,
                &object(json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": format!("{}-note", app.spec.name)},
                    "data": {"service": service}})),
                &crate::WriteOptions {
                    dry_run: opts.dry_run,
                },
            )
            .await
    }
}

#[tokio::test]
async fn follow_up_steps_validate_up_front_and_run_only_after_the_service() {
    let fake = fake();
    let refusing = NoteStep {
        runs: AtomicUsize::new(0),
        refuse: true,
    };
    let err = create_app_with(
        &fake,
        &registries(),
        &base(),
        &CreateOptions::default(),
        &[&refusing],
    )
    .await
    .expect_err("the step's input is invalid");
    assert_eq!(err.causes()[0].field, "note.text");
    assert!(fake.actions().is_empty());

    let step = NoteStep {
        runs: AtomicUsize::new(0),
        refuse: false,
    };
    let outcome = create_app_with(
        &fake,
        &registries(),
        &base(),
        &CreateOptions::default(),
        &[&step],
    )
    .await
    .expect("created");
    assert!(outcome.is_complete());
    let note: ConfigMap = fake.get_as("shop", "web-note").await.expect("note");
    assert_eq!(note.data.expect("data")["service"], "web");
    assert_eq!(outcome.report()[2].kind.as_deref(), Some("ConfigMap"));

    let fake = self::fake();
    fake.fail(
        Some(Verb::Create),
        Some("services"),
        ErrorKind::Forbidden,
        1,
    );
    let step = NoteStep {
        runs: AtomicUsize::new(0),
        refuse: false,
    };
    let outcome = create_app_with(
        &fake,
        &registries(),
        &base(),
        &CreateOptions::default(),
        &[&step],
    )
    .await
    .expect("the Deployment was created");
    assert!(matches!(outcome.follow_ups[0].result, Step::Skipped));
    assert_eq!(step.runs.load(Ordering::SeqCst), 0);
    assert_eq!(outcome.report()[2].status, StepStatus::Skipped);
}

#[test]
fn specs_round_trip_through_json_in_camel_case() {
    let spec = full();
    let value = serde_json::to_value(&spec).expect("serialize");
    assert_eq!(value["rollingUpdate"]["maxSurge"], "25%");
    assert_eq!(value["service"]["type"], "NodePort");
    assert_eq!(value["volumes"][4]["hostPath"]["type"], "Directory");
    let back: AppSpec = serde_json::from_value(value).expect("deserialize");
    assert_eq!(back, spec);
}
