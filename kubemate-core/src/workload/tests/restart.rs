//! `restart`: a new pod-template stamp, refused where it would not roll.

use super::*;

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
    let writes_before = fake.writes().len();
    let err = restart(&fake, Deployment, "shop", "web")
        .await
        .expect_err("paused");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.message().contains("can't restart paused deployment"));
    assert_eq!(fake.writes().len(), writes_before);
    let err = restart(&fake, ReplicaSet, "shop", "web-h2")
        .await
        .expect_err("not restartable");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}
