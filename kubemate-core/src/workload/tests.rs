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
use crate::{DeleteOptions, FakeCluster, LogOptions, WriteOptions, fake::Verb};
/// The shop: a Deployment with its ReplicaSets and Pods (and a stray ReplicaSet with a
/// matching selector owned by someone else), a StatefulSet and a DaemonSet with their
/// ControllerRevisions, events about them.
const SHOP: &str = include_str!("fixtures/shop.yaml");

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

mod history;
mod logs;
mod pause;
mod pods;
mod restart;
mod scale;

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
async fn a_controllers_status_write_in_between_does_not_fail_a_rollback() {
    let fake = shop();
    let other = fake.clone();
    let raced = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&raced);
    // The Deployment controller writes the status between the rollback's read and its write,
    // as it does all through a rollout on the real cluster.
    let client = crate::testing::BeforeWrite::new(Arc::new(fake.clone()), move |write| {
        let other = other.clone();
        let flag = Arc::clone(&flag);
        Box::pin(async move {
            if !flag.swap(true, Ordering::SeqCst) {
                other
                    .merge_patch_status(
                        &write.resource,
                        &write.namespace,
                        &write.name,
                        &json!({"status": {"observedGeneration": 7}}),
                    )
                    .await
                    .expect("status write");
            }
        })
    });
    let outcome = rollback(&client, Deployment, "shop", "web", None)
        .await
        .expect("rolled back despite the status write");
    assert!(
        matches!(outcome, RollbackOutcome::RolledBack { .. }),
        "{outcome:?}"
    );
    assert!(raced.load(Ordering::SeqCst), "the status write happened");
    assert_eq!(image_of(&fake, Deployment, "web").await, "app:1");
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
