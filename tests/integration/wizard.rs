//! The app wizard, tenants and autoscalers on the real control plane: what the wizard builds is
//! accepted by the apiserver, runs on the kwok nodes, and is reachable through its Service.

use std::collections::BTreeSet;

use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{Pod, Service},
    discovery::v1::EndpointSlice,
};
use kubemate_core::{
    ClusterClient, ClusterClientExt, ErrorKind, ListOptions, WriteOptions,
    conformance::{drop_namespace, eventually, fresh_namespace, suffix},
    hpa::{self, HpaSpec, ScaleTarget, TargetKind},
    tenant::{self, LimitsSpec, QuotaSpec, TenantDefaults, TenantSpec},
    wizard::{self, AppSpec, CpuMemory, CreateOptions, Registries, StepStatus},
};
use serde_json::json;

fn registries() -> Registries {
    Registries::new(["registry.example.com"])
}

fn spec(value: serde_json::Value) -> AppSpec {
    serde_json::from_value(value).expect("a valid AppSpec document")
}

async fn running_pods(client: &dyn ClusterClient, ns: &str, selector: &str) -> Vec<Pod> {
    client
        .list_all_as::<Pod>(ns, &ListOptions::labels(selector))
        .await
        .expect("list pods")
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .collect()
}

#[tokio::test]
async fn the_wizard_runs_pods_on_the_kwok_nodes_behind_a_service_that_selects_them() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "wizard").await;
    let app = spec(json!({
        "namespace": ns, "name": "web", "description": "storefront",
        "image": "registry.example.com/shop/web:1.0",
        "ports": [{"name": "http", "port": 8080}],
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                      "limits": {"cpu": "200m", "memory": "128Mi"}},
        "env": [{"name": "MODE", "value": "test"}],
        "replicas": 2,
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        "volumes": [{"name": "scratch", "mountPath": "/scratch", "emptyDir": {"sizeLimit": "64Mi"}}],
        "labels": {"tier": "frontend"},
        "service": {"ports": [{"port": 80, "targetPort": "http"}]}
    }));
    let outcome = wizard::create_app(client, &registries(), &app, &CreateOptions::default())
        .await
        .expect("the wizard creates the app");
    assert!(outcome.is_complete(), "{:?}", outcome.report());

    let selector = format!("{}=web", wizard::APP_NAME_LABEL);
    let pods = eventually("2 running pods of the app", || async {
        let pods = running_pods(client, &ns, &selector).await;
        (pods.len() == 2).then_some(pods)
    })
    .await;
    let svc: Service = client.get_as(&ns, "web").await.expect("the Service");
    let svc_selector = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .expect("the Service has a selector");
    for pod in &pods {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        assert!(
            svc_selector.iter().all(|(k, v)| labels.get(k) == Some(v)),
            "the Service selects the running Pod {:?}",
            pod.metadata.name
        );
        assert_eq!(labels.get("tier").map(String::as_str), Some("frontend"));
    }

    let pod_ips: BTreeSet<String> = pods
        .iter()
        .filter_map(|p| p.status.as_ref().and_then(|s| s.pod_ip.clone()))
        .collect();
    assert_eq!(pod_ips.len(), 2, "kwok gives the Pods IPs");
    eventually("the EndpointSlice lists the Pods' IPs", || async {
        let slices = client
            .list_all_as::<EndpointSlice>(
                &ns,
                &ListOptions::labels("kubernetes.io/service-name=web"),
            )
            .await
            .expect("list endpointslices");
        let addresses: BTreeSet<String> = slices
            .iter()
            .flat_map(|s| s.endpoints.iter().flatten())
            .flat_map(|e| e.addresses.iter().cloned())
            .collect();
        (addresses == pod_ips).then_some(())
    })
    .await;
    drop_namespace(client, &ns).await;
}

#[tokio::test]
async fn a_wizard_dry_run_passes_the_apiserver_and_creates_nothing() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "wizard-dry").await;
    // Every field the wizard offers, so the apiserver validates everything it builds.
    let app = spec(json!({
        "namespace": ns, "name": "api", "description": "everything at once",
        "image": "registry.example.com/shop/api:2.1", "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "port": 8080}, {"name": "metrics", "port": 9090},
                  {"name": "dns", "port": 5353, "protocol": "UDP"}],
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                      "limits": {"cpu": "1", "memory": "512Mi"}},
        "probes": {
            "liveness": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 5},
            "readiness": {"tcpSocket": {"port": 8080}, "successThreshold": 2},
            "startup": {"exec": {"command": ["cat", "/tmp/started"]}, "failureThreshold": 30}
        },
        "env": [{"name": "MODE", "value": "production"},
                {"name": "DB_HOST", "configMapKey": {"name": "db", "key": "host"}},
                {"name": "DB_PASSWORD", "secretKey": {"name": "db", "key": "password", "optional": true}}],
        "command": ["/bin/api"], "args": ["--port", "8080"],
        "replicas": 3,
        "rollingUpdate": {"maxUnavailable": "10%", "maxSurge": "25%"},
        "scheduling": {
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "affinity": {"requiredNodeTerms": [{"matchExpressions": [
                {"key": "type", "operator": "In", "values": ["kwok"]}]}], "spread": "required"},
            "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"},
                            {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}]
        },
        "volumes": [
            {"name": "config", "mountPath": "/etc/api",
             "configMap": {"name": "api-config", "items": [{"key": "app.yaml", "path": "app.yaml"}]}},
            {"name": "tls", "mountPath": "/etc/tls", "readOnly": true, "secret": {"secretName": "api-tls"}},
            {"name": "data", "mountPath": "/var/lib/api", "persistentVolumeClaim": {"claimName": "api-data"}},
            {"name": "cache", "mountPath": "/var/cache/api", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
            {"name": "logs", "mountPath": "/var/log/host", "hostPath": {"path": "/var/log", "type": "Directory"}}
        ],
        "labels": {"tier": "backend"},
        "service": {"type": "NodePort", "ports": [{"port": 80, "targetPort": "http"}, {"port": 9090}]}
    }));
    let outcome = wizard::create_app(
        client,
        &registries(),
        &app,
        &CreateOptions { dry_run: true },
    )
    .await
    .expect("the apiserver accepts the whole app");
    assert!(
        outcome.dry_run && outcome.is_complete(),
        "{:?}",
        outcome.report()
    );
    assert_eq!(
        outcome.deployment.metadata.namespace.as_deref(),
        Some(ns.as_str())
    );
    let deployments = client
        .list_all_as::<Deployment>(&ns, &ListOptions::default())
        .await
        .expect("list deployments");
    let services = client
        .list_all_as::<Service>(&ns, &ListOptions::default())
        .await
        .expect("list services");
    assert!(
        deployments.is_empty() && services.is_empty(),
        "a dry run creates nothing"
    );
    drop_namespace(client, &ns).await;
}

#[tokio::test]
async fn a_service_the_apiserver_refuses_is_reported_beside_the_created_deployment() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "wizard-partial").await;
    // A node port that only the apiserver knows is taken: the first app takes it.
    let node_port = 30000 + i32::from_str_radix(&suffix()[..4], 16).expect("hex") % 2700;
    let app = |name: &str| {
        spec(json!({
            "namespace": ns, "name": name, "image": "registry.example.com/shop/web:1.0",
            "ports": [{"name": "http", "port": 8080}], "replicas": 0,
            "service": {"type": "NodePort", "ports": [{"port": 80, "targetPort": "http", "nodePort": node_port}]}
        }))
    };
    let first = wizard::create_app(
        client,
        &registries(),
        &app("first"),
        &CreateOptions::default(),
    )
    .await
    .expect("the first app");
    if !first.is_complete() {
        // Another test run holds this node port; the rest of the test needs it free.
        drop_namespace(client, &ns).await;
        panic!("node port {node_port} already taken: {:?}", first.report());
    }
    let second = wizard::create_app(
        client,
        &registries(),
        &app("second"),
        &CreateOptions::default(),
    )
    .await
    .expect("the second app's Deployment is created");
    assert!(!second.is_complete());
    let err = second.service.error().expect("the Service step failed");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    let report = second.report();
    assert_eq!(report[0].status, StepStatus::Done);
    assert_eq!(report[1].status, StepStatus::Failed);
    assert!(
        client
            .get_opt_as::<Deployment>(&ns, "second")
            .await
            .expect("get")
            .is_some(),
        "the Deployment stays, as reported"
    );
    drop_namespace(client, &ns).await;
}

fn pod(name: &str, cpu: Option<&str>) -> Pod {
    let resources = cpu.map(|cpu| {
        json!({"requests": {"cpu": cpu, "memory": "64Mi"}, "limits": {"cpu": cpu, "memory": "64Mi"}})
    });
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": "registry.example.com/app:1",
            "resources": resources.unwrap_or(json!({}))}]}
    }))
    .expect("a valid Pod")
}

#[tokio::test]
async fn a_tenant_gets_a_quota_the_apiserver_enforces_and_limit_defaults() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let defaults = TenantDefaults {
        quota: Some(QuotaSpec {
            requests_cpu: Some("500m".into()),
            limits_cpu: Some("1".into()),
            requests_memory: Some("1Gi".into()),
            limits_memory: Some("1Gi".into()),
            pods: Some(10),
            ..Default::default()
        }),
        limits: Some(LimitsSpec {
            default_request: CpuMemory {
                cpu: Some("100m".into()),
                memory: Some("64Mi".into()),
            },
            default_limit: CpuMemory {
                cpu: Some("200m".into()),
                memory: Some("128Mi".into()),
            },
            ..Default::default()
        }),
    };
    let name = format!("conf-tenant-{}", suffix());
    let request = TenantSpec {
        name: name.clone(),
        description: Some("integration tenant".into()),
        // The mark of test namespaces, so a sweep can find one a failed run left behind.
        labels: [("kubemate.io/conformance".to_owned(), "true".to_owned())].into(),
        quota: Some(QuotaSpec {
            pods: Some(5),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = tenant::create_tenant(client, &defaults, &request)
        .await
        .expect("the tenant is created");
    assert!(created.quota.is_some() && created.limit_range.is_some());

    let summary = eventually("the quota controller counts the tenant", || async {
        let t = tenant::get_tenant(client, &name).await.expect("get tenant");
        t.quotas
            .first()
            .is_some_and(|q| q.used.contains_key("pods"))
            .then_some(t)
    })
    .await;
    assert!(summary.managed);
    assert_eq!(summary.description.as_deref(), Some("integration tenant"));
    assert_eq!(summary.quotas[0].hard["pods"], "5");

    let err = client
        .create_as(&name, &pod("greedy", Some("2")))
        .await
        .expect_err("over the quota");
    assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    assert!(err.message().contains("exceeded quota"), "{err}");

    // No resources: the LimitRange fills in its defaults, which fit the quota.
    let modest: Pod = client
        .create_as(&name, &pod("modest", None))
        .await
        .expect("within the quota");
    let requests = modest.spec.expect("spec").containers[0]
        .resources
        .as_ref()
        .and_then(|r| r.requests.clone())
        .expect("defaulted requests");
    assert_eq!(requests["cpu"].0, "100m");

    let listed = tenant::list_tenants(client).await.expect("list tenants");
    assert!(listed.iter().any(|t| t.name == name && t.managed));
    tenant::delete_tenant(client, &name)
        .await
        .expect("delete the tenant");
}

#[tokio::test]
async fn an_autoscaler_for_a_wizard_app_reads_back_updates_and_goes() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "wizard-hpa").await;
    let app = spec(json!({
        "namespace": ns, "name": "api", "image": "registry.example.com/shop/api:1",
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
        "replicas": 1
    }));
    let _ = wizard::create_app(client, &registries(), &app, &CreateOptions::default())
        .await
        .expect("the app");
    let scaler = HpaSpec {
        namespace: ns.clone(),
        name: None,
        target: ScaleTarget {
            kind: TargetKind::Deployment,
            name: "api".into(),
        },
        min_replicas: Some(1),
        max_replicas: 5,
        cpu_utilization: Some(80),
        memory_utilization: Some(150),
        labels: Default::default(),
    };
    let _ = hpa::create_hpa(client, &scaler, &WriteOptions::default())
        .await
        .expect("create the autoscaler");
    let read = hpa::get_hpa(client, &ns, "api").await.expect("read back");
    assert_eq!(
        (read.target_kind.as_str(), read.target_name.as_str()),
        ("Deployment", "api")
    );
    assert_eq!((read.min_replicas, read.max_replicas), (1, 5));
    assert_eq!((read.cpu_target, read.memory_target), (Some(80), Some(150)));

    let updated = hpa::update_hpa(
        client,
        &HpaSpec {
            max_replicas: 8,
            memory_utilization: None,
            ..scaler.clone()
        },
        &WriteOptions::default(),
    )
    .await
    .expect("update the autoscaler");
    assert_eq!(updated.spec.max_replicas, 8);
    let listed = hpa::list_hpas(client, &ns).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].max_replicas, listed[0].memory_target), (8, None));

    let err = hpa::create_hpa(
        client,
        &HpaSpec {
            target: ScaleTarget {
                kind: TargetKind::StatefulSet,
                name: "api".into(),
            },
            name: Some("api-sts".into()),
            ..scaler
        },
        &WriteOptions::default(),
    )
    .await
    .expect_err("there is no StatefulSet api");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    hpa::delete_hpa(client, &ns, "api").await.expect("delete");
    assert_eq!(
        hpa::get_hpa(client, &ns, "api")
            .await
            .expect_err("gone")
            .kind(),
        ErrorKind::NotFound
    );
    drop_namespace(client, &ns).await;
}
