//! Validation: every problem named by its field, all of them at once, before any call.

use super::*;

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
