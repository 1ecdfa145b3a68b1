//! The workload verbs on the real control plane: the controllers, the scheduler and kwok's
//! nodes act on what they write, and rollout history is what kubectl would show.

use std::{collections::BTreeSet, time::Duration};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kubemate_core::{
    ClusterClient, ClusterClientExt, DynamicObject, ErrorKind, ListOptions, LogOptions,
    WriteOptions,
    conformance::{drop_namespace, eventually, fresh_namespace},
    testing::{mk_deployment, mk_statefulset},
    workload::{self, Outcome, RollbackOutcome, WorkloadKind},
};
use serde_json::{Value, json};

use WorkloadKind::{Deployment, StatefulSet};

fn deployment(name: &str, replicas: i32, image: &str, cause: &str) -> DynamicObject {
    let mut d = mk_deployment(name, replicas, image);
    d.metadata.annotations =
        Some([("kubernetes.io/change-cause".to_owned(), cause.to_owned())].into());
    d
}

async fn create(client: &dyn ClusterClient, kind: WorkloadKind, ns: &str, obj: &DynamicObject) {
    client
        .create(&kind.resource_type(), ns, obj, &WriteOptions::default())
        .await
        .unwrap_or_else(|e| panic!("create {kind}: {e}"));
}

/// Changes the image (and the change-cause) as `kubectl set image` + `annotate` would.
async fn set_image(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
    image: &str,
) {
    client
        .merge_patch(
            &kind.resource_type(),
            ns,
            name,
            &json!({
                "metadata": {"annotations": {"kubernetes.io/change-cause": format!("set image {image}")}},
                "spec": {"template": {"spec": {"containers": [{"name": "main", "image": image}]}}}
            }),
            &WriteOptions::default(),
        )
        .await
        .expect("set image");
}

async fn template_image(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> String {
    client
        .get(&kind.resource_type(), ns, name)
        .await
        .expect("get workload")
        .data
        .pointer("/spec/template/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The Running, not terminating, Pods of a workload, as (name, image).
async fn running(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> Vec<(String, String)> {
    let running: BTreeSet<String> = workload::pods(client, kind, ns, name)
        .await
        .expect("pods")
        .into_iter()
        .filter(|p| p.status == "Running")
        .map(|p| p.name)
        .collect();
    client
        .list_all_as::<Pod>(ns, &ListOptions::labels(format!("app={name}")))
        .await
        .expect("list pods")
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| {
            let pod_name = p.metadata.name.clone()?;
            let image = p.spec?.containers.first()?.image.clone()?;
            running.contains(&pod_name).then_some((pod_name, image))
        })
        .collect()
}

/// Waits until exactly `count` Pods run, all with `image`; returns their names.
async fn wait_running(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
    count: usize,
    image: &str,
) -> BTreeSet<String> {
    eventually(
        &format!("{count} running pods of {name} with {image}"),
        || async {
            let pods = running(client, kind, ns, name).await;
            (pods.len() == count && pods.iter().all(|(_, i)| i == image))
                .then(|| pods.into_iter().map(|(n, _)| n).collect())
        },
    )
    .await
}

/// The history as kubectl prints it: (revision, change-cause, images, current).
async fn history(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> Vec<(i64, Option<String>, Vec<String>, bool)> {
    workload::history(client, kind, ns, name)
        .await
        .expect("history")
        .into_iter()
        .map(|r| (r.revision, r.change_cause, r.images, r.current))
        .collect()
}

#[tokio::test]
async fn scaling_up_and_down_changes_the_running_pod_count() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "wl-scale").await;
    create(
        client,
        Deployment,
        &ns,
        &deployment("web", 1, "app:1", "v1"),
    )
    .await;
    wait_running(client, Deployment, &ns, "web", 1, "app:1").await;

    let scale = workload::scale(client, Deployment, &ns, "web", 3)
        .await
        .expect("scale up");
    assert_eq!(scale.replicas, 3);
    wait_running(client, Deployment, &ns, "web", 3, "app:1").await;
    workload::scale(client, Deployment, &ns, "web", 1)
        .await
        .expect("scale down");
    wait_running(client, Deployment, &ns, "web", 1, "app:1").await;

    create(client, StatefulSet, &ns, &mk_statefulset("db", 1, "db:1")).await;
    wait_running(client, StatefulSet, &ns, "db", 1, "db:1").await;
    workload::scale(client, StatefulSet, &ns, "db", 2)
        .await
        .expect("scale statefulset");
    let pods = wait_running(client, StatefulSet, &ns, "db", 2, "db:1").await;
    assert_eq!(pods, BTreeSet::from(["db-0".to_owned(), "db-1".to_owned()]));

    let err = workload::scale(client, Deployment, &ns, "web", -1)
        .await
        .expect_err("negative");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    let err = workload::scale(client, Deployment, &ns, "ghost", 1)
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}

#[tokio::test]
async fn undo_after_an_image_change_restores_the_image_and_history_shows_revisions_2_and_3() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "wl-undo").await;
    create(
        client,
        Deployment,
        &ns,
        &deployment("web", 2, "app:1", "v1"),
    )
    .await;
    wait_running(client, Deployment, &ns, "web", 2, "app:1").await;
    set_image(client, Deployment, &ns, "web", "app:2").await;
    wait_running(client, Deployment, &ns, "web", 2, "app:2").await;
    let before = eventually("two revisions", || async {
        let h = history(client, Deployment, &ns, "web").await;
        (h.len() == 2 && h[1].3).then_some(h)
    })
    .await;
    assert_eq!(
        before,
        [
            (1, Some("v1".to_owned()), vec!["app:1".to_owned()], false),
            (
                2,
                Some("set image app:2".to_owned()),
                vec!["app:2".to_owned()],
                true
            ),
        ]
    );

    let outcome = workload::rollback(client, Deployment, &ns, "web", None)
        .await
        .expect("undo");
    assert_eq!(outcome, RollbackOutcome::RolledBack { revision: 1 });
    assert_eq!(
        template_image(client, Deployment, &ns, "web").await,
        "app:1"
    );
    wait_running(client, Deployment, &ns, "web", 2, "app:1").await;
    let after = eventually("revisions 2 and 3", || async {
        let h = history(client, Deployment, &ns, "web").await;
        (h.iter().map(|r| r.0).collect::<Vec<_>>() == [2, 3] && h[1].3).then_some(h)
    })
    .await;
    assert_eq!(
        after,
        [
            (
                2,
                Some("set image app:2".to_owned()),
                vec!["app:2".to_owned()],
                false
            ),
            (3, Some("v1".to_owned()), vec!["app:1".to_owned()], true),
        ]
    );

    let again = workload::rollback(client, Deployment, &ns, "web", Some(3))
        .await
        .expect("to the current revision");
    assert_eq!(again, RollbackOutcome::Skipped { revision: 3 });
    let err = workload::rollback(client, Deployment, &ns, "web", Some(1))
        .await
        .expect_err("revision 1 became 3");
    assert_eq!(err.kind(), ErrorKind::RevisionNotFound);
    assert_eq!(
        err.message(),
        "unable to find specified revision 1 in history"
    );
    drop_namespace(client, &ns).await;
}

#[tokio::test]
async fn restart_rolls_the_pods_through_a_new_replicaset() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "wl-restart").await;
    create(
        client,
        Deployment,
        &ns,
        &deployment("web", 2, "app:1", "v1"),
    )
    .await;
    let before = wait_running(client, Deployment, &ns, "web", 2, "app:1").await;

    let at = workload::restart(client, Deployment, &ns, "web")
        .await
        .expect("restart");
    assert!(!at.is_empty());
    eventually("two revisions after the restart", || async {
        (history(client, Deployment, &ns, "web").await.len() == 2).then_some(())
    })
    .await;
    let after = eventually("the pods to be replaced", || async {
        let now = wait_running(client, Deployment, &ns, "web", 2, "app:1").await;
        now.is_disjoint(&before).then_some(now)
    })
    .await;
    assert_eq!(after.len(), 2);
    drop_namespace(client, &ns).await;
}

#[tokio::test]
async fn workload_events_include_its_replicaset_and_pod_events() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "wl-events").await;
    create(
        client,
        Deployment,
        &ns,
        &deployment("web", 2, "app:1", "v1"),
    )
    .await;
    wait_running(client, Deployment, &ns, "web", 2, "app:1").await;
    let events = eventually("deployment, replicaset and pod events", || async {
        let events = workload::events(client, Deployment, &ns, "web")
            .await
            .expect("events");
        let seen: BTreeSet<(String, String)> = events
            .iter()
            .map(|e| (e.involved.kind.clone(), e.reason.clone()))
            .collect();
        [
            ("Deployment", "ScalingReplicaSet"),
            ("ReplicaSet", "SuccessfulCreate"),
            ("Pod", "Scheduled"),
        ]
        .iter()
        .all(|(k, r)| seen.contains(&((*k).to_owned(), (*r).to_owned())))
        .then_some(events)
    })
    .await;
    let scheduled: BTreeSet<&str> = events
        .iter()
        .filter(|e| e.reason == "Scheduled")
        .map(|e| e.involved.name.as_str())
        .collect();
    let pods: BTreeSet<String> = workload::pods(client, Deployment, &ns, "web")
        .await
        .expect("pods")
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(
        pods.iter().all(|p| scheduled.contains(p.as_str())),
        "every pod's Scheduled event: {scheduled:?} vs {pods:?}"
    );
    drop_namespace(client, &ns).await;
}

#[tokio::test]
async fn statefulset_history_and_undo_use_controller_revisions() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "wl-sts").await;
    create(client, StatefulSet, &ns, &mk_statefulset("db", 1, "db:1")).await;
    wait_running(client, StatefulSet, &ns, "db", 1, "db:1").await;
    set_image(client, StatefulSet, &ns, "db", "db:2").await;
    wait_running(client, StatefulSet, &ns, "db", 1, "db:2").await;
    let before = eventually("two controller revisions", || async {
        let h = history(client, StatefulSet, &ns, "db").await;
        (h.len() == 2).then_some(h)
    })
    .await;
    let summary: Vec<_> = before.iter().map(|r| (r.0, r.2.clone(), r.3)).collect();
    assert_eq!(
        summary,
        [
            (1, vec!["db:1".to_owned()], false),
            (2, vec!["db:2".to_owned()], true)
        ]
    );

    let outcome = workload::rollback(client, StatefulSet, &ns, "db", None)
        .await
        .expect("undo");
    assert_eq!(outcome, RollbackOutcome::RolledBack { revision: 1 });
    assert_eq!(template_image(client, StatefulSet, &ns, "db").await, "db:1");
    wait_running(client, StatefulSet, &ns, "db", 1, "db:1").await;
    let after = eventually("revisions 2 and 3", || async {
        let h = history(client, StatefulSet, &ns, "db").await;
        (h.iter().map(|r| r.0).collect::<Vec<_>>() == [2, 3]).then_some(h)
    })
    .await;
    let summary: Vec<_> = after.iter().map(|r| (r.0, r.2.clone(), r.3)).collect();
    assert_eq!(
        summary,
        [
            (2, vec!["db:2".to_owned()], false),
            (3, vec!["db:1".to_owned()], true)
        ]
    );
    assert_eq!(
        workload::rollback(client, StatefulSet, &ns, "db", Some(3))
            .await
            .expect("to current"),
        RollbackOutcome::Skipped { revision: 3 }
    );
    drop_namespace(client, &ns).await;
}

#[tokio::test]
async fn pause_holds_a_rollout_back_and_resume_lets_it_proceed() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "wl-pause").await;
    create(
        client,
        Deployment,
        &ns,
        &deployment("web", 2, "app:1", "v1"),
    )
    .await;
    wait_running(client, Deployment, &ns, "web", 2, "app:1").await;

    assert_eq!(
        workload::pause(client, Deployment, &ns, "web")
            .await
            .expect("pause"),
        Outcome::Changed
    );
    assert_eq!(
        workload::pause(client, Deployment, &ns, "web")
            .await
            .expect("pause again"),
        Outcome::Unchanged
    );
    set_image(client, Deployment, &ns, "web", "app:2").await;
    // Long enough for the controllers to have acted on an unpaused Deployment.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(history(client, Deployment, &ns, "web").await.len(), 1);
    let pods = running(client, Deployment, &ns, "web").await;
    assert!(
        pods.len() == 2 && pods.iter().all(|(_, image)| image == "app:1"),
        "paused: {pods:?}"
    );
    let err = workload::rollback(client, Deployment, &ns, "web", Some(1))
        .await
        .expect_err("paused rollback");
    assert_eq!(err.kind(), ErrorKind::BadRequest, "{err}");
    let err = workload::restart(client, Deployment, &ns, "web")
        .await
        .expect_err("paused restart");
    assert_eq!(err.kind(), ErrorKind::BadRequest);

    assert_eq!(
        workload::resume(client, Deployment, &ns, "web")
            .await
            .expect("resume"),
        Outcome::Changed
    );
    wait_running(client, Deployment, &ns, "web", 2, "app:2").await;
    eventually("a second revision", || async {
        (history(client, Deployment, &ns, "web").await.len() == 2).then_some(())
    })
    .await;
    drop_namespace(client, &ns).await;
}

#[tokio::test]
async fn logs_of_a_workload_come_from_each_of_its_pods() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "wl-logs").await;
    create(
        client,
        Deployment,
        &ns,
        &deployment("web", 2, "app:1", "v1"),
    )
    .await;
    let pods = wait_running(client, Deployment, &ns, "web", 2, "app:1").await;

    // kwok serves the same known lines for every container of the test cluster.
    let logs = eventually("both pods' logs", || async {
        let logs = workload::logs(client, Deployment, &ns, "web", &LogOptions::default())
            .await
            .expect("workload logs");
        logs.pods
            .iter()
            .all(|p| p.error.is_none() && !p.lines.is_empty())
            .then_some(logs)
    })
    .await;
    assert_eq!(
        logs.pods
            .iter()
            .map(|p| p.pod.clone())
            .collect::<BTreeSet<_>>(),
        pods
    );
    for pod in &logs.pods {
        assert_eq!(pod.container, "main");
        assert!(
            pod.lines
                .iter()
                .any(|l| l.contains("kubemate-test-log line 1")),
            "{:?}",
            pod.lines
        );
    }
    let text = logs.text();
    for pod in &pods {
        assert!(
            text.contains(&format!("[pod/{pod}/main] ")),
            "{pod} in {text}"
        );
    }

    let pod = pods.iter().next().expect("a pod");
    let tail = workload::pod_logs(
        client,
        &ns,
        pod,
        &LogOptions {
            tail_lines: Some(1),
            ..Default::default()
        },
    )
    .await
    .expect("tail");
    assert_eq!(tail.lines().count(), 1, "{tail}");
    assert!(tail.contains("line 3"), "{tail}");
    let previous = workload::pod_logs(
        client,
        &ns,
        pod,
        &LogOptions {
            previous: true,
            ..Default::default()
        },
    )
    .await
    .expect("previous");
    assert!(previous.contains("previous line"), "{previous}");

    let mut follow = workload::follow_pod_logs(client, &ns, pod, &LogOptions::default())
        .await
        .expect("follow");
    let first = tokio::time::timeout(Duration::from_secs(20), follow.next())
        .await
        .expect("a line within 20s")
        .expect("stream open")
        .expect("line");
    assert!(first.contains("kubemate-test-log"), "{first}");
    drop(follow);
    let err = workload::pod_logs(client, &ns, "ghost", &LogOptions::default())
        .await
        .expect_err("missing pod");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}
