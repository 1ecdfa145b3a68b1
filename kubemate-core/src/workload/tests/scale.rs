//! `scale`: the kinds that scale, and refusals that make no call.

use super::*;

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
    assert_eq!(err.causes()[0].field, "replicas");
    assert!(err.message().contains("-1"));
    assert!(fake.actions().is_empty(), "{:?}", fake.actions());
}

#[cfg(feature = "mocks")]
#[tokio::test]
async fn a_refused_scale_makes_no_call_at_all() {
    let mut mock = crate::MockClusterClient::new();
    mock.expect_set_scale().times(0);
    mock.expect_get().times(0);
    let err = scale(&mock, DaemonSet, "shop", "agent", 3)
        .await
        .expect_err("daemonsets do not scale");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}
