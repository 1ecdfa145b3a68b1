//! What a spec becomes: the Deployment and the Service.

use super::*;

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
