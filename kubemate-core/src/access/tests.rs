//! Every operation a frontend runs, run against the recording fake: each call it makes must be
//! covered by the access it declared, and each declared entry must be needed by some call, so
//! that a declaration can neither miss a request nor keep one the code no longer makes.

use futures::StreamExt;
use serde_json::json;

use super::*;
use crate::{
    DynamicObject, FakeCluster, ListOptions, LogOptions, WriteOptions,
    fake::{Action, Verb},
    nodes::{GetNode, ListNodes},
    resources,
    wizard::{AppSpec, CreateApp, CreateOptions, Registries},
    workload::{self, WorkloadKind, WorkloadRef},
};

/// The Kubernetes request behind a recorded call. A scale call is a `get` or a `patch` of the
/// scale subresource (the fake records both as one verb); discovery needs no resource access.
fn calls(action: &Action) -> Vec<Call> {
    let call = |verb, sub| Call {
        verb,
        resource: action.resource.clone(),
        subresource: sub,
        namespace: action.namespace.clone(),
        name: action.name.clone(),
    };
    match action.verb {
        Verb::Discover => vec![],
        Verb::Get => vec![call("get", None)],
        Verb::List => vec![call("list", None)],
        Verb::Watch => vec![call("watch", None)],
        Verb::Create => vec![call("create", None)],
        Verb::Replace => vec![call("update", None)],
        Verb::Patch | Verb::Apply => vec![call("patch", None)],
        Verb::Delete => vec![call("delete", None)],
        Verb::Status => vec![call("patch", Some("status"))],
        Verb::Logs => vec![call("get", Some("log"))],
        Verb::Scale => vec![call("get", Some("scale")), call("patch", Some("scale"))],
    }
}

/// A problem with a declaration: calls it does not cover, entries no call needed.
#[derive(Debug, Default, PartialEq)]
struct Drift {
    uncovered: Vec<Action>,
    unused: Vec<Access>,
}

/// Runs `op` on a fresh demo cluster and compares its calls with its declaration.
async fn drift<O: Operation>(op: &O) -> Drift {
    let fake = FakeCluster::demo().expect("demo cluster");
    let declared = op.access();
    if let Err(e) = op.run(&fake).await {
        panic!("{:?} failed: {e}", op.target());
    }
    let mut drift = Drift::default();
    let mut used = vec![false; declared.len()];
    for action in fake.actions() {
        let calls = calls(&action);
        let mut covered = calls.is_empty();
        for call in &calls {
            for (i, access) in declared.iter().enumerate() {
                if access.covers(call) {
                    used[i] = true;
                    covered = true;
                }
            }
        }
        if !covered {
            drift.uncovered.push(action);
        }
    }
    drift.unused = declared
        .into_iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|(a, _)| a)
        .collect();
    drift
}

async fn assert_exact<O: Operation>(op: O) {
    let d = drift(&op).await;
    assert_eq!(d, Drift::default(), "{:?}", op.target());
}

fn w(kind: WorkloadKind, ns: &str, name: &str) -> WorkloadRef {
    WorkloadRef::new(kind, ns, name)
}

fn deployments() -> crate::ResourceType {
    WorkloadKind::Deployment.resource_type()
}

fn node_type() -> crate::ResourceType {
    crate::ResourceType::new("", "v1", "Node", "nodes", false)
}

#[tokio::test]
async fn resource_operations_declare_what_they_call() {
    let rt = deployments();
    assert_exact(resources::Get {
        rt: rt.clone(),
        ns: "shop".into(),
        name: "web".into(),
    })
    .await;
    let list = resources::List {
        rt: rt.clone(),
        ns: "shop".into(),
        opts: ListOptions::default(),
    };
    assert_exact(list.clone()).await;
    assert_exact(resources::ListSummaries(list)).await;
    assert_exact(resources::List {
        rt: node_type(),
        ns: String::new(),
        opts: ListOptions::default(),
    })
    .await;
    let cm: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"}, "data": {"a": "b"},
    }))
    .expect("object");
    let cm_type = crate::ResourceType::new("", "v1", "ConfigMap", "configmaps", true);
    assert_exact(resources::Create {
        rt: cm_type.clone(),
        ns: "shop".into(),
        obj: cm,
        opts: WriteOptions::default(),
    })
    .await;
    let fake = FakeCluster::demo().expect("demo");
    let web = fake.get(&rt, "shop", "web").await.expect("web");
    assert_exact(resources::Update {
        rt: rt.clone(),
        ns: "shop".into(),
        name: "web".into(),
        obj: web,
        opts: WriteOptions::default(),
    })
    .await;
    assert_exact(resources::Delete {
        rt,
        ns: "shop".into(),
        name: "web".into(),
        orphan: false,
    })
    .await;
    assert_exact(resources::Namespaces::default()).await;
    // A user of some namespaces: one read each, a missing one included.
    assert_exact(resources::Namespaces {
        only: Some(vec!["shop".into(), "nowhere".into()]),
    })
    .await;
}

#[tokio::test]
async fn workload_verbs_declare_what_they_call() {
    use WorkloadKind::*;
    for (kind, ns, name) in [(Deployment, "shop", "web"), (StatefulSet, "shop", "redis")] {
        assert_exact(workload::SetReplicas {
            workload: w(kind, ns, name),
            replicas: 2,
        })
        .await;
        assert_exact(workload::Restart(w(kind, ns, name))).await;
        assert_exact(workload::History(w(kind, ns, name))).await;
    }
    assert_exact(workload::Restart(w(DaemonSet, "kube-system", "log-agent"))).await;
    assert_exact(workload::History(w(DaemonSet, "kube-system", "log-agent"))).await;
    for paused in [true, false] {
        // Resuming the running web changes nothing and writes nothing: its patch is not needed.
        let op = workload::SetPaused {
            workload: w(Deployment, "shop", "web"),
            paused,
        };
        let d = drift(&op).await;
        assert!(d.uncovered.is_empty(), "{d:?}");
        assert_eq!(d.unused.len(), usize::from(!paused), "{d:?}");
    }
    assert_exact(workload::Rollback {
        workload: w(Deployment, "shop", "web"),
        revision: None,
    })
    .await;
    for (kind, ns, name) in [
        (Deployment, "shop", "web"),
        (StatefulSet, "shop", "redis"),
        (DaemonSet, "kube-system", "log-agent"),
        (Job, "payments", "settle-2026-11-28"),
    ] {
        assert_exact(workload::Pods(w(kind, ns, name))).await;
        assert_exact(workload::Events(w(kind, ns, name))).await;
        let logs = workload::Logs {
            workload: w(kind, ns, name),
            opts: LogOptions::default(),
        };
        assert_exact(logs.clone()).await;
        assert_exact(workload::FollowLogs(logs)).await;
    }
}

#[tokio::test]
async fn pod_logs_declare_the_log_subresource() {
    let fake = FakeCluster::demo().expect("demo");
    let pods = fake
        .list(
            &crate::ResourceType::new("", "v1", "Pod", "pods", true),
            "shop",
            &ListOptions::default(),
        )
        .await
        .expect("pods");
    let pod = pods.items[0].metadata.name.clone().expect("named");
    let logs = workload::PodLogs {
        ns: "shop".into(),
        pod,
        opts: LogOptions::default(),
    };
    assert_exact(logs.clone()).await;
    assert_exact(workload::FollowPodLogs(logs)).await;
}

#[tokio::test]
async fn node_event_and_app_operations_declare_what_they_call() {
    assert_exact(ListNodes).await;
    for (ns, warnings) in [("shop", false), ("shop", true), ("", false), ("", true)] {
        assert_exact(crate::events::ListEvents {
            ns: ns.into(),
            warnings,
        })
        .await;
    }
    assert_exact(GetNode {
        name: "node-1".into(),
    })
    .await;
    let spec: AppSpec = serde_json::from_value(json!({
        "namespace": "shop", "name": "hello", "image": "registry.example.com/hello:1",
        "ports": [{"name": "http", "port": 8080}],
        "service": {"type": "ClusterIP", "ports": [{"port": 80, "targetPort": "http"}]},
    }))
    .expect("spec");
    let registries = Registries::new(["registry.example.com"]);
    let with_service = CreateApp {
        spec: spec.clone(),
        registries: registries.clone(),
        opts: CreateOptions::default(),
    };
    assert_exact(with_service).await;
    assert_exact(CreateApp {
        spec: AppSpec {
            service: None,
            ..spec
        },
        registries,
        opts: CreateOptions::default(),
    })
    .await;
}

/// The check itself: a declaration without one of its entries is caught, for every entry of
/// a verb that makes several kinds of request.
#[tokio::test]
async fn a_shrunk_declaration_is_caught() {
    struct Shrunk<O>(O, usize);
    impl<O: Operation> Operation for Shrunk<O> {
        type Output = O::Output;
        fn target(&self) -> Target {
            self.0.target()
        }
        fn access(&self) -> Vec<Access> {
            let mut a = self.0.access();
            a.remove(self.1);
            a
        }
        fn mutates(&self) -> bool {
            self.0.mutates()
        }
        async fn run(&self, client: &dyn ClusterClient) -> Result<Self::Output> {
            self.0.run(client).await
        }
    }
    let rollback = || workload::Rollback {
        workload: w(WorkloadKind::Deployment, "shop", "web"),
        revision: None,
    };
    let n = rollback().access().len();
    assert_eq!(n, 3);
    for i in 0..n {
        let d = drift(&Shrunk(rollback(), i)).await;
        assert!(!d.uncovered.is_empty(), "without entry {i}: {d:?}");
    }
}

/// A followed log is declared like a read of the log, and its stream yields what was pushed.
#[tokio::test]
async fn a_followed_pod_log_streams() {
    let fake = FakeCluster::demo().expect("demo");
    let pods = fake
        .list(
            &crate::ResourceType::new("", "v1", "Pod", "pods", true),
            "shop",
            &ListOptions::default(),
        )
        .await
        .expect("pods");
    let pod = &pods.items[0];
    let name = pod.metadata.name.clone().expect("named");
    let container = pod.data["spec"]["containers"][0]["name"]
        .as_str()
        .expect("container")
        .to_owned();
    let op = workload::FollowPodLogs(workload::PodLogs {
        ns: "shop".into(),
        pod: name.clone(),
        opts: LogOptions {
            container: Some(container.clone()),
            ..Default::default()
        },
    });
    let mut lines = op.run(&fake).await.expect("follow");
    fake.push_log("shop", &name, &container, "hello");
    let mut got = Vec::new();
    while let Some(line) = lines.next().await {
        let line = line.expect("line");
        let done = line.contains("hello");
        got.push(line);
        if done {
            break;
        }
    }
    assert!(got.iter().any(|l| l.contains("hello")), "{got:?}");
}

/// A tenant's namespace is deleted again when its limits fail: that deletion is declared too,
/// and needed only then.
#[tokio::test]
async fn a_tenant_declares_its_namespace_quota_limits_and_the_roll_back() {
    use crate::{
        ErrorKind,
        tenant::{CreateTenant, LimitsSpec, QuotaSpec, TenantDefaults, TenantSpec},
        wizard::CpuMemory,
    };
    let op = CreateTenant {
        defaults: TenantDefaults::default(),
        spec: TenantSpec {
            name: "team-a".into(),
            quota: Some(QuotaSpec {
                requests_cpu: Some("2".into()),
                ..Default::default()
            }),
            limits: Some(LimitsSpec {
                default_request: CpuMemory {
                    cpu: Some("100m".into()),
                    memory: None,
                },
                ..Default::default()
            }),
            ..Default::default()
        },
    };
    let declared = op.access();
    let d = drift(&op).await;
    assert!(d.uncovered.is_empty(), "{d:?}");
    assert_eq!(
        d.unused,
        vec![declared[3].clone()],
        "only the roll back is unused"
    );

    let fake = FakeCluster::demo().expect("demo");
    fake.fail(
        Some(Verb::Create),
        Some("limitranges"),
        ErrorKind::Forbidden,
        1,
    );
    op.run(&fake).await.expect_err("the limits fail");
    for action in fake.actions() {
        assert!(
            calls(&action)
                .iter()
                .any(|c| declared.iter().any(|a| a.covers(c))),
            "{action:?} is not declared"
        );
    }
    assert!(
        fake.actions()
            .iter()
            .any(|a| a.verb == Verb::Delete && a.resource == "namespaces"),
        "rolled back"
    );
}
