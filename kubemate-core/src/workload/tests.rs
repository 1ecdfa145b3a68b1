//! Unit tests of the workload verbs on the fake cluster (and on the mock, for what must not
//! happen). The fake runs no controllers, so the ReplicaSets, ControllerRevisions and Pods a
//! real cluster would create are seeded.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures::StreamExt;
use serde_json::{Value, json};

use super::*;
use crate::{
    DeleteOptions, FakeCluster, LogOptions, WriteOptions,
    fake::{Action, Verb},
};

const SHOP: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  uid: d-web
  annotations: {deployment.kubernetes.io/revision: "2", kubernetes.io/change-cause: "image 2", team: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: main, image: "app:2"}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-h1
  namespace: shop
  uid: rs-1
  creationTimestamp: "2026-11-28T10:00:00Z"
  labels: {app: web, pod-template-hash: h1}
  annotations: {deployment.kubernetes.io/revision: "1", kubernetes.io/change-cause: "image 1", team: shop}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-web, controller: true}]
spec:
  replicas: 0
  selector: {matchLabels: {app: web, pod-template-hash: h1}}
  template:
    metadata: {labels: {app: web, pod-template-hash: h1}}
    spec: {containers: [{name: main, image: "app:1"}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-h2
  namespace: shop
  uid: rs-2
  creationTimestamp: "2026-11-28T11:00:00Z"
  labels: {app: web, pod-template-hash: h2}
  annotations: {deployment.kubernetes.io/revision: "2", kubernetes.io/change-cause: "image 2", team: shop}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-web, controller: true}]
spec:
  replicas: 2
  selector: {matchLabels: {app: web, pod-template-hash: h2}}
  template:
    metadata: {labels: {app: web, pod-template-hash: h2}}
    spec: {containers: [{name: main, image: "app:2"}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: stray
  namespace: shop
  uid: rs-x
  labels: {app: web}
  annotations: {deployment.kubernetes.io/revision: "9"}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: other, uid: d-other, controller: true}]
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: main, image: "stray:1"}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-h2-a
  namespace: shop
  labels: {app: web, pod-template-hash: h2}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-h2, uid: rs-2, controller: true}]
spec:
  nodeName: node-1
  containers: [{name: main, image: "app:2"}]
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
  containerStatuses:
  - {name: main, ready: true, restartCount: 0, image: "app:2", imageID: "", state: {running: {}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-h2-b
  namespace: shop
  labels: {app: web, pod-template-hash: h2}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-h2, uid: rs-2, controller: true}]
spec:
  nodeName: node-2
  containers: [{name: main, image: "app:2"}, {name: proxy, image: "proxy:1"}]
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - {name: main, ready: false, restartCount: 5, image: "app:2", imageID: "", state: {waiting: {reason: CrashLoopBackOff}}}
  - {name: proxy, ready: true, restartCount: 1, image: "proxy:1", imageID: "", state: {running: {}}}
---
apiVersion: v1
kind: Pod
metadata: {name: lonely, namespace: shop, labels: {app: web}}
spec: {containers: [{name: main, image: "app:2"}]}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata:
  name: stray-a
  namespace: shop
  labels: {app: web}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: stray, uid: rs-x, controller: true}]
spec: {containers: [{name: main, image: "stray:1"}]}
status: {phase: Running}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop, uid: s-db}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "db:2"}]}
---
apiVersion: apps/v1
kind: ControllerRevision
metadata:
  name: db-r1
  namespace: shop
  labels: {app: db}
  annotations: {kubernetes.io/change-cause: "db 1"}
  creationTimestamp: "2026-11-28T09:00:00Z"
  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: s-db, controller: true}]
revision: 1
data: {spec: {template: {$patch: replace, metadata: {labels: {app: db}, creationTimestamp: null}, spec: {containers: [{name: db, image: "db:1"}]}}}}
---
apiVersion: apps/v1
kind: ControllerRevision
metadata:
  name: db-r2
  namespace: shop
  labels: {app: db}
  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: s-db, controller: true}]
revision: 2
data: {spec: {template: {$patch: replace, metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: "db:2"}]}}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: db-0
  namespace: shop
  labels: {app: db}
  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: s-db, controller: true}]
spec: {containers: [{name: db, image: "db:2"}]}
status: {phase: Pending}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop, uid: ds-agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: "agent:1"}]}
---
apiVersion: apps/v1
kind: ControllerRevision
metadata:
  name: agent-r1
  namespace: shop
  labels: {app: agent}
  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: ds-agent, controller: true}]
revision: 1
data: {spec: {template: {$patch: replace, metadata: {labels: {app: agent}}, spec: {containers: [{name: agent, image: "agent:1"}]}}}}
---
apiVersion: v1
kind: Event
metadata: {name: e1, namespace: shop}
involvedObject: {kind: Deployment, name: web, namespace: shop}
reason: ScalingReplicaSet
message: Scaled up replica set web-h2 to 2
lastTimestamp: "2026-11-28T11:00:00Z"
---
apiVersion: v1
kind: Event
metadata: {name: e2, namespace: shop}
involvedObject: {kind: ReplicaSet, name: web-h2, namespace: shop}
reason: SuccessfulCreate
message: "Created pod: web-h2-a"
lastTimestamp: "2026-11-28T11:00:01Z"
---
apiVersion: v1
kind: Event
metadata: {name: e3, namespace: shop}
involvedObject: {kind: Pod, name: web-h2-a, namespace: shop}
reason: Scheduled
message: Successfully assigned shop/web-h2-a to node-1
lastTimestamp: "2026-11-28T11:00:02Z"
---
apiVersion: v1
kind: Event
metadata: {name: e4, namespace: shop}
involvedObject: {kind: Pod, name: stray-a, namespace: shop}
reason: Scheduled
message: Successfully assigned shop/stray-a to node-1
lastTimestamp: "2026-11-28T11:00:03Z"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
"#;

fn shop() -> FakeCluster {
    FakeCluster::from_yaml(SHOP).expect("seed")
}

use WorkloadKind::{DaemonSet, Deployment, Job, ReplicaSet, StatefulSet};

async fn template_of(fake: &FakeCluster, kind: WorkloadKind, name: &str) -> Value {
    fake.get(&kind.resource_type(), "shop", name)
        .await
        .expect("workload")
        .data
        .pointer("/spec/template")
        .cloned()
        .expect("template")
}

async fn image_of(fake: &FakeCluster, kind: WorkloadKind, name: &str) -> String {
    template_of(fake, kind, name)
        .await
        .pointer("/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn writes(fake: &FakeCluster) -> Vec<Action> {
    fake.actions()
        .into_iter()
        .filter(|a| a.verb.is_write() || a.verb == Verb::Scale)
        .collect()
}

#[test]
fn workload_kinds_parse_like_kubectl_and_anything_else_is_unsupported() {
    assert_eq!(WorkloadKind::parse("deploy").ok(), Some(Deployment));
    assert_eq!(
        WorkloadKind::parse("statefulsets.apps").ok(),
        Some(StatefulSet)
    );
    assert_eq!(WorkloadKind::parse("DaemonSet").ok(), Some(DaemonSet));
    assert_eq!(WorkloadKind::parse("rs").ok(), Some(ReplicaSet));
    assert_eq!(WorkloadKind::parse("jobs").ok(), Some(Job));
    for other in ["configmap", "pods", "gadgets", ""] {
        let err = WorkloadKind::parse(other).expect_err(other);
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{other}");
    }
    for kind in WorkloadKind::ALL {
        assert_eq!(WorkloadKind::of(&kind.resource_type()).ok(), Some(kind));
    }
    let cm = ResourceType::new("", "v1", "ConfigMap", "configmaps", true);
    assert_eq!(
        WorkloadKind::of(&cm).map_err(|e| e.kind()),
        Err(ErrorKind::Unsupported)
    );
    assert!(Deployment.supports(Operation::Pause));
    assert!(!StatefulSet.supports(Operation::Pause));
}

#[tokio::test]
async fn scale_sets_replicas_of_deployments_statefulsets_and_replicasets() {
    let fake = shop();
    for (kind, name) in [
        (Deployment, "web"),
        (StatefulSet, "db"),
        (ReplicaSet, "web-h2"),
    ] {
        let scale = scale(&fake, kind, "shop", name, 4).await.expect("scale");
        assert_eq!(scale.replicas, 4, "{kind}");
        let obj = fake
            .get(&kind.resource_type(), "shop", name)
            .await
            .expect("get");
        assert_eq!(obj.data.pointer("/spec/replicas"), Some(&json!(4)));
    }
    let down = scale(&fake, Deployment, "shop", "web", 0)
        .await
        .expect("to zero");
    assert_eq!(down.replicas, 0);
}

#[tokio::test]
async fn scale_refuses_other_kinds_and_negative_counts_without_a_call() {
    let fake = shop();
    for kind in [DaemonSet, Job] {
        let err = scale(&fake, kind, "shop", "agent", 2)
            .await
            .expect_err("not scalable");
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{kind}");
    }
    let err = scale(&fake, Deployment, "shop", "web", -1)
        .await
        .expect_err("negative");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.causes()[0].field, "spec.replicas");
    assert!(err.message().contains("-1"));
    assert!(fake.actions().is_empty(), "{:?}", fake.actions());
}

#[tokio::test]
async fn bad_coordinates_are_invalid_before_any_call() {
    let fake = shop();
    let err = scale(&fake, Deployment, "", "web", 1)
        .await
        .expect_err("empty namespace");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.causes()[0].field, "metadata.namespace");
    let err = history(&fake, Deployment, "shop", "Bad_Name")
        .await
        .expect_err("bad name");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.causes()[0].field, "metadata.name");
    let err = pod_logs(&fake, "shop", "", &LogOptions::default())
        .await
        .expect_err("no pod");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(fake.actions().is_empty(), "{:?}", fake.actions());
}

#[tokio::test]
async fn verbs_on_a_missing_workload_are_not_found() {
    let fake = shop();
    let err = scale(&fake, Deployment, "shop", "ghost", 1)
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = restart(&fake, StatefulSet, "shop", "ghost")
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = pause(&fake, Deployment, "shop", "ghost")
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = rollback(&fake, Deployment, "shop", "ghost", None)
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = pods(&fake, DaemonSet, "shop", "ghost")
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!fake.actions().iter().any(|a| a.verb.is_write()));
}

#[tokio::test]
async fn restart_stamps_the_pod_template_with_the_current_time() {
    let fake = shop();
    for (kind, name) in [
        (Deployment, "web"),
        (StatefulSet, "db"),
        (DaemonSet, "agent"),
    ] {
        let before = k8s_openapi::jiff::Timestamp::now();
        let at = restart(&fake, kind, "shop", name).await.expect("restart");
        let parsed: k8s_openapi::jiff::Timestamp = at.parse().expect("RFC 3339");
        assert!(
            parsed.duration_since(before).as_secs().abs() <= 1,
            "{at} is now"
        );
        let template = template_of(&fake, kind, name).await;
        assert_eq!(
            template
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(RESTARTED_AT_ANNOTATION)),
            Some(&json!(at)),
            "{kind}"
        );
    }
    // A second restart right away must still change the template, or nothing would roll.
    let first = template_of(&fake, Deployment, "web").await;
    restart(&fake, Deployment, "shop", "web")
        .await
        .expect("again");
    assert_ne!(template_of(&fake, Deployment, "web").await, first);
}

#[tokio::test]
async fn restart_refuses_a_paused_deployment_and_a_replicaset() {
    let fake = shop();
    pause(&fake, Deployment, "shop", "web")
        .await
        .expect("pause");
    let writes_before = writes(&fake).len();
    let err = restart(&fake, Deployment, "shop", "web")
        .await
        .expect_err("paused");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.message().contains("can't restart paused deployment"));
    assert_eq!(writes(&fake).len(), writes_before);
    let err = restart(&fake, ReplicaSet, "shop", "web-h2")
        .await
        .expect_err("not restartable");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[tokio::test]
async fn pause_and_resume_toggle_spec_paused_and_report_no_ops_without_writing() {
    let fake = shop();
    let paused = |fake: FakeCluster| async move {
        fake.get(&Deployment.resource_type(), "shop", "web")
            .await
            .expect("get")
            .data
            .pointer("/spec/paused")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    assert_eq!(
        pause(&fake, Deployment, "shop", "web")
            .await
            .expect("pause"),
        Outcome::Changed
    );
    assert!(paused(fake.clone()).await);
    let count = writes(&fake).len();
    assert_eq!(
        pause(&fake, Deployment, "shop", "web")
            .await
            .expect("again"),
        Outcome::Unchanged
    );
    assert_eq!(
        writes(&fake).len(),
        count,
        "an idempotent pause writes nothing"
    );
    assert_eq!(
        resume(&fake, Deployment, "shop", "web")
            .await
            .expect("resume"),
        Outcome::Changed
    );
    assert!(!paused(fake.clone()).await);
    assert_eq!(
        resume(&fake, Deployment, "shop", "web")
            .await
            .expect("again"),
        Outcome::Unchanged
    );
    for kind in [StatefulSet, DaemonSet, ReplicaSet] {
        let err = pause(&fake, kind, "shop", "db")
            .await
            .expect_err("no pause");
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{kind}");
    }
}

#[tokio::test]
async fn deployment_history_lists_only_its_own_replicasets_like_kubectl() {
    let fake = shop();
    let revisions = history(&fake, Deployment, "shop", "web")
        .await
        .expect("history");
    let summary: Vec<_> = revisions
        .iter()
        .map(|r| {
            (
                r.revision,
                r.change_cause.as_deref(),
                r.images.clone(),
                r.current,
                r.source.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                1,
                Some("image 1"),
                vec!["app:1".to_owned()],
                false,
                "web-h1"
            ),
            (2, Some("image 2"), vec!["app:2".to_owned()], true, "web-h2"),
        ]
    );
    assert_eq!(
        revisions[0].created.as_deref(),
        Some("2026-11-28T10:00:00Z")
    );
    let err = history(&fake, ReplicaSet, "shop", "web-h2")
        .await
        .expect_err("no history");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[tokio::test]
async fn deployment_rollback_restores_the_previous_template_without_the_hash() {
    let fake = shop();
    let outcome = rollback(&fake, Deployment, "shop", "web", None)
        .await
        .expect("undo");
    assert_eq!(outcome, RollbackOutcome::RolledBack { revision: 1 });
    assert_eq!(outcome.to_string(), "rolled back");
    let template = template_of(&fake, Deployment, "web").await;
    assert_eq!(
        template,
        json!({"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "main", "image": "app:1"}]}})
    );
    let deployment = fake
        .get(&Deployment.resource_type(), "shop", "web")
        .await
        .expect("get");
    let annotations = deployment.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations.get(CHANGE_CAUSE).map(String::as_str),
        Some("image 1"),
        "the change-cause comes from the revision"
    );
    assert_eq!(
        annotations
            .get("deployment.kubernetes.io/revision")
            .map(String::as_str),
        Some("2"),
        "the controller's bookkeeping stays"
    );

    // Back to revision 2 by number, then again: the second is a reported no-op.
    let outcome = rollback(&fake, Deployment, "shop", "web", Some(2))
        .await
        .expect("to 2");
    assert_eq!(outcome, RollbackOutcome::RolledBack { revision: 2 });
    assert_eq!(image_of(&fake, Deployment, "web").await, "app:2");
    let count = writes(&fake).len();
    let outcome = rollback(&fake, Deployment, "shop", "web", Some(2))
        .await
        .expect("again");
    assert_eq!(outcome, RollbackOutcome::Skipped { revision: 2 });
    assert_eq!(
        outcome.to_string(),
        "skipped rollback (current template already matches revision 2)"
    );
    assert_eq!(writes(&fake).len(), count);
}

const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

#[tokio::test]
async fn rollback_to_an_unknown_or_negative_revision_or_of_a_paused_deployment_is_refused() {
    let fake = shop();
    let err = rollback(&fake, Deployment, "shop", "web", Some(7))
        .await
        .expect_err("unknown");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.message(),
        "unable to find specified revision 7 in history"
    );
    let err = rollback(&fake, Deployment, "shop", "web", Some(9))
        .await
        .expect_err("another deployment's revision");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = rollback(&fake, Deployment, "shop", "web", Some(-1))
        .await
        .expect_err("negative");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.causes()[0].field, "toRevision");

    pause(&fake, Deployment, "shop", "web")
        .await
        .expect("pause");
    let count = writes(&fake).len();
    let err = rollback(&fake, Deployment, "shop", "web", None)
        .await
        .expect_err("paused");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(
        err.message()
            .contains("cannot rollback a paused deployment")
    );
    assert_eq!(writes(&fake).len(), count);
    assert_eq!(image_of(&fake, Deployment, "web").await, "app:2");
}

#[tokio::test]
async fn a_deployment_with_one_revision_has_nothing_to_undo() {
    let fake = shop();
    fake.delete(
        &ReplicaSet.resource_type(),
        "shop",
        "web-h1",
        &DeleteOptions::default(),
    )
    .await
    .expect("delete old replicaset");
    let err = rollback(&fake, Deployment, "shop", "web", None)
        .await
        .expect_err("no previous");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.message(),
        "no rollout history found for deployment \"web\""
    );
}

#[tokio::test]
async fn statefulset_history_and_rollback_use_controller_revisions() {
    let fake = shop();
    let revisions = history(&fake, StatefulSet, "shop", "db")
        .await
        .expect("history");
    let summary: Vec<_> = revisions
        .iter()
        .map(|r| {
            (
                r.revision,
                r.change_cause.clone(),
                r.images.clone(),
                r.current,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, Some("db 1".to_owned()), vec!["db:1".to_owned()], false),
            (2, None, vec!["db:2".to_owned()], true),
        ]
    );
    let outcome = rollback(&fake, StatefulSet, "shop", "db", Some(2))
        .await
        .expect("to current");
    assert_eq!(outcome, RollbackOutcome::Skipped { revision: 2 });
    let outcome = rollback(&fake, StatefulSet, "shop", "db", None)
        .await
        .expect("undo");
    assert_eq!(outcome, RollbackOutcome::RolledBack { revision: 1 });
    let template = template_of(&fake, StatefulSet, "db").await;
    assert_eq!(
        template
            .pointer("/spec/containers/0/image")
            .and_then(Value::as_str),
        Some("db:1")
    );
    assert!(
        template.get("$patch").is_none(),
        "the patch directive is not data"
    );
    let err = rollback(&fake, StatefulSet, "shop", "db", Some(3))
        .await
        .expect_err("unknown");
    assert_eq!(
        err.message(),
        "unable to find specified revision 3 in history"
    );
}

#[tokio::test]
async fn a_daemonset_with_one_revision_has_no_last_revision() {
    let fake = shop();
    let revisions = history(&fake, DaemonSet, "shop", "agent")
        .await
        .expect("history");
    assert_eq!(revisions.len(), 1);
    assert!(revisions[0].current);
    let err = rollback(&fake, DaemonSet, "shop", "agent", None)
        .await
        .expect_err("nothing to undo");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.message(), "no last revision to roll back to");
    assert_eq!(
        rollback(&fake, DaemonSet, "shop", "agent", Some(1))
            .await
            .expect("to current"),
        RollbackOutcome::Skipped { revision: 1 }
    );
}

/// A client that lets another writer change the object just before the first write, as a
/// concurrent user would between our read and our write.
fn racing(fake: &FakeCluster) -> crate::testing::BeforeWrite {
    let raced = Arc::new(AtomicBool::new(false));
    let other = fake.clone();
    crate::testing::BeforeWrite::new(Arc::new(fake.clone()), move |write| {
        let raced = Arc::clone(&raced);
        let other = other.clone();
        Box::pin(async move {
            if !raced.swap(true, Ordering::SeqCst) {
                other
                    .merge_patch(
                        &write.resource,
                        &write.namespace,
                        &write.name,
                        &json!({"metadata": {"labels": {"touched-by": crate::conformance::suffix()}}}),
                        &WriteOptions::default(),
                    )
                    .await
                    .expect("concurrent write");
            }
        })
    })
}

#[tokio::test]
async fn a_concurrent_change_makes_the_write_a_conflict_never_a_lost_update() {
    let fake = shop();
    let touched = |fake: FakeCluster, kind: WorkloadKind, name: &'static str| async move {
        fake.get(&kind.resource_type(), "shop", name)
            .await
            .expect("get")
            .metadata
            .labels
            .unwrap_or_default()
            .contains_key("touched-by")
    };

    let err = rollback(&racing(&fake), Deployment, "shop", "web", None)
        .await
        .expect_err("stale rollback");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(touched(fake.clone(), Deployment, "web").await);
    assert_eq!(image_of(&fake, Deployment, "web").await, "app:2");

    let err = rollback(&racing(&fake), StatefulSet, "shop", "db", None)
        .await
        .expect_err("stale rollback");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(image_of(&fake, StatefulSet, "db").await, "db:2");

    let err = restart(&racing(&fake), DaemonSet, "shop", "agent")
        .await
        .expect_err("stale restart");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(touched(fake.clone(), DaemonSet, "agent").await);

    let err = pause(&racing(&fake), Deployment, "shop", "web")
        .await
        .expect_err("stale pause");
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[tokio::test]
async fn an_unavailable_cluster_fails_every_verb_with_unavailable() {
    let fake = shop();
    fake.fail(
        Some(Verb::List),
        Some("replicasets"),
        ErrorKind::Unavailable,
        3,
    );
    for result in [
        history(&fake, Deployment, "shop", "web").await.map(|_| ()),
        rollback(&fake, Deployment, "shop", "web", None)
            .await
            .map(|_| ()),
        pods(&fake, Deployment, "shop", "web").await.map(|_| ()),
    ] {
        assert_eq!(result.map_err(|e| e.kind()), Err(ErrorKind::Unavailable));
    }
    fake.fail(Some(Verb::Scale), None, ErrorKind::Unavailable, 1);
    let err = scale(&fake, StatefulSet, "shop", "db", 3)
        .await
        .expect_err("scale");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    fake.fail(Some(Verb::Patch), None, ErrorKind::Unavailable, 2);
    let err = restart(&fake, Deployment, "shop", "web")
        .await
        .expect_err("restart");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let err = pause(&fake, Deployment, "shop", "web")
        .await
        .expect_err("pause");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    fake.fail(Some(Verb::List), Some("events"), ErrorKind::Unavailable, 1);
    let err = events(&fake, Deployment, "shop", "web")
        .await
        .expect_err("events");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    fake.fail(Some(Verb::Logs), None, ErrorKind::Unavailable, 1);
    let err = logs(&fake, Deployment, "shop", "web", &LogOptions::default())
        .await
        .expect_err("logs");
    assert_eq!(
        err.kind(),
        ErrorKind::Unavailable,
        "only per-pod conditions are reported per pod"
    );
    fake.fail(Some(Verb::Get), None, ErrorKind::Forbidden, 1);
    let err = pods(&fake, StatefulSet, "shop", "db")
        .await
        .expect_err("forbidden");
    assert_eq!(err.kind(), ErrorKind::Forbidden);
}

#[tokio::test]
async fn the_pods_of_a_deployment_are_those_of_its_replicasets() {
    let fake = shop();
    let pods = pods(&fake, Deployment, "shop", "web").await.expect("pods");
    let rows: Vec<_> = pods
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.status.as_str(),
                p.ready(),
                p.restarts,
                p.node.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("web-h2-a", "Running", "1/1".to_owned(), 0, Some("node-1")),
            (
                "web-h2-b",
                "CrashLoopBackOff",
                "1/2".to_owned(),
                6,
                Some("node-2")
            ),
        ]
    );
    assert_eq!(pods[1].containers, ["main", "proxy"]);
    assert!(pods[0].age.is_some());

    let db = super::pods(&fake, StatefulSet, "shop", "db")
        .await
        .expect("db pods");
    assert_eq!(db.len(), 1);
    assert_eq!(db[0].status, "Pending");
    let rs = super::pods(&fake, ReplicaSet, "shop", "stray")
        .await
        .expect("rs pods");
    assert_eq!(
        rs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["stray-a"]
    );
}

#[tokio::test]
async fn workload_events_include_its_replicasets_and_pods_in_one_request() {
    let fake = shop();
    let events = events(&fake, Deployment, "shop", "web")
        .await
        .expect("events");
    let reasons: Vec<_> = events
        .iter()
        .map(|e| (e.involved.kind.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("Pod", "Scheduled"),
            ("ReplicaSet", "SuccessfulCreate"),
            ("Deployment", "ScalingReplicaSet"),
        ]
    );
    let event_lists = fake
        .actions()
        .into_iter()
        .filter(|a| a.resource == "events")
        .count();
    assert_eq!(event_lists, 1);
}

fn opts(f: impl FnOnce(&mut LogOptions)) -> LogOptions {
    let mut o = LogOptions::default();
    f(&mut o);
    o
}

#[tokio::test]
async fn pod_logs_honour_tail_previous_and_container_choice() {
    let fake = shop();
    for i in 1..=3 {
        fake.push_log("shop", "web-h2-a", "main", &format!("line {i}"));
    }
    fake.push_previous_log("shop", "web-h2-b", "main", "panic: boom");
    fake.push_log("shop", "web-h2-b", "proxy", "proxy up");

    let tail = pod_logs(&fake, "shop", "web-h2-a", &opts(|o| o.tail_lines = Some(2)))
        .await
        .expect("tail");
    assert_eq!(tail, "line 2\nline 3\n");
    let previous = pod_logs(
        &fake,
        "shop",
        "web-h2-b",
        &opts(|o| {
            o.previous = true;
            o.container = Some("main".into());
        }),
    )
    .await
    .expect("previous");
    assert_eq!(previous, "panic: boom\n");
    let err = pod_logs(&fake, "shop", "web-h2-b", &LogOptions::default())
        .await
        .expect_err("two containers");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.message().contains("choose one of"));

    let calls = fake.actions().len();
    for (bad, field) in [
        (opts(|o| o.tail_lines = Some(-1)), "tailLines"),
        (opts(|o| o.since_seconds = Some(0)), "sinceSeconds"),
        (opts(|o| o.limit_bytes = Some(0)), "limitBytes"),
        (opts(|o| o.container = Some("No Such".into())), "container"),
    ] {
        let err = pod_logs(&fake, "shop", "web-h2-a", &bad)
            .await
            .expect_err(field);
        assert_eq!(err.kind(), ErrorKind::Invalid, "{field}");
        assert_eq!(err.causes()[0].field, field);
    }
    assert_eq!(fake.actions().len(), calls, "bad options make no call");

    let mut follow = follow_pod_logs(&fake, "shop", "web-h2-a", &opts(|o| o.tail_lines = Some(1)))
        .await
        .expect("follow");
    assert_eq!(
        follow.next().await.map(|l| l.expect("line")),
        Some("line 3".to_owned())
    );
    fake.push_log("shop", "web-h2-a", "main", "line 4");
    let next = tokio::time::timeout(Duration::from_secs(5), follow.next())
        .await
        .expect("a new line arrives");
    assert_eq!(next.map(|l| l.expect("line")), Some("line 4".to_owned()));
}

#[tokio::test]
async fn workload_logs_give_each_pods_tail_prefixed_with_the_pod() {
    let fake = shop();
    for i in 1..=12 {
        fake.push_log("shop", "web-h2-a", "main", &format!("a{i}"));
    }
    fake.push_log("shop", "web-h2-b", "main", "b1");
    let logs = logs(&fake, Deployment, "shop", "web", &LogOptions::default())
        .await
        .expect("logs");
    assert_eq!(logs.pods.len(), 2);
    assert_eq!(logs.pods[0].lines.len(), DEFAULT_WORKLOAD_TAIL as usize);
    assert_eq!(logs.pods[0].lines.first().map(String::as_str), Some("a3"));
    let text = logs.text();
    assert!(text.starts_with("[pod/web-h2-a/main] a3\n"), "{text}");
    assert!(text.ends_with("[pod/web-h2-b/main] b1\n"), "{text}");

    // Only one Pod has a previous instance: the other reports why it has no log.
    fake.push_previous_log("shop", "web-h2-b", "main", "panic: boom");
    let previous = super::logs(
        &fake,
        Deployment,
        "shop",
        "web",
        &opts(|o| o.previous = true),
    )
    .await
    .expect("previous logs");
    assert!(previous.pods[0].error.is_some());
    assert_eq!(previous.pods[1].lines, ["panic: boom"]);
    assert_eq!(previous.text(), "[pod/web-h2-b/main] panic: boom\n");
}

#[tokio::test]
async fn following_a_workload_merges_its_pods_lines() {
    let fake = shop();
    let mut lines = follow_logs(&fake, Deployment, "shop", "web", &LogOptions::default())
        .await
        .expect("follow");
    fake.push_log("shop", "web-h2-a", "main", "from a");
    fake.push_log("shop", "web-h2-b", "main", "from b");
    let mut got = Vec::new();
    for _ in 0..2 {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next())
            .await
            .expect("a line arrives")
            .expect("stream open")
            .expect("line");
        got.push(line);
    }
    got.sort();
    assert_eq!(
        got,
        ["[pod/web-h2-a/main] from a", "[pod/web-h2-b/main] from b"]
    );
}

#[cfg(feature = "mocks")]
mod mocked {
    use super::*;
    use crate::MockClusterClient;

    #[tokio::test]
    async fn a_refused_scale_makes_no_call_at_all() {
        let mut mock = MockClusterClient::new();
        mock.expect_set_scale().times(0);
        mock.expect_get().times(0);
        let err = scale(&mock, DaemonSet, "shop", "agent", 3)
            .await
            .expect_err("daemonsets do not scale");
        assert_eq!(err.kind(), ErrorKind::Unsupported);
    }

    #[tokio::test]
    async fn rolling_back_a_paused_deployment_reads_but_never_writes() {
        let fake = shop();
        pause(&fake, Deployment, "shop", "web")
            .await
            .expect("pause");
        let deployment = fake
            .get(&Deployment.resource_type(), "shop", "web")
            .await
            .expect("deployment");
        let replica_sets = fake
            .list(&ReplicaSet.resource_type(), "shop", &ListOptions::default())
            .await
            .expect("replicasets");
        let mut mock = MockClusterClient::new();
        mock.expect_get()
            .times(1)
            .returning(move |_, _, _| Ok(deployment.clone()));
        mock.expect_list()
            .withf(|rt, ns, opts| {
                rt.plural == "replicasets"
                    && ns == "shop"
                    && opts.label_selector.as_deref() == Some("app=web")
            })
            .times(1)
            .returning(move |_, _, _| Ok(replica_sets.clone()));
        mock.expect_replace().times(0);
        mock.expect_merge_patch().times(0);
        mock.expect_apply().times(0);
        let err = rollback(&mock, Deployment, "shop", "web", Some(1))
            .await
            .expect_err("paused");
        assert_eq!(err.kind(), ErrorKind::BadRequest);
    }
}
