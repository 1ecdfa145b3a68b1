//! History and rollback: ReplicaSets for Deployments, ControllerRevisions for StatefulSets
//! and DaemonSets.

use super::*;

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
    let count = fake.writes().len();
    let outcome = rollback(&fake, Deployment, "shop", "web", Some(2))
        .await
        .expect("again");
    assert_eq!(outcome, RollbackOutcome::Skipped { revision: 2 });
    assert_eq!(
        outcome.to_string(),
        "skipped rollback (current template already matches revision 2)"
    );
    assert_eq!(fake.writes().len(), count);
}

const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

#[tokio::test]
async fn rollback_to_an_unknown_or_negative_revision_or_of_a_paused_deployment_is_refused() {
    let fake = shop();
    let err = rollback(&fake, Deployment, "shop", "web", Some(7))
        .await
        .expect_err("unknown");
    assert_eq!(err.kind(), ErrorKind::RevisionNotFound);
    assert_eq!(
        err.message(),
        "unable to find specified revision 7 in history"
    );
    let err = rollback(&fake, Deployment, "shop", "web", Some(9))
        .await
        .expect_err("another deployment's revision");
    assert_eq!(err.kind(), ErrorKind::RevisionNotFound);
    let err = rollback(&fake, Deployment, "shop", "web", Some(-1))
        .await
        .expect_err("negative");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.causes()[0].field, "toRevision");

    pause(&fake, Deployment, "shop", "web")
        .await
        .expect("pause");
    let count = fake.writes().len();
    let err = rollback(&fake, Deployment, "shop", "web", None)
        .await
        .expect_err("paused");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(
        err.message()
            .contains("cannot rollback a paused deployment")
    );
    assert_eq!(fake.writes().len(), count);
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
    assert_eq!(err.kind(), ErrorKind::RevisionNotFound);
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
    assert_eq!(err.kind(), ErrorKind::RevisionNotFound);
    assert_eq!(err.message(), "no last revision to roll back to");
    assert_eq!(
        rollback(&fake, DaemonSet, "shop", "agent", Some(1))
            .await
            .expect("to current"),
        RollbackOutcome::Skipped { revision: 1 }
    );
}

#[cfg(feature = "mocks")]
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
    let mut mock = crate::MockClusterClient::new();
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
