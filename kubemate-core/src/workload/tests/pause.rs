//! `pause` and `resume`.

use super::*;

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
    let count = fake.writes().len();
    assert_eq!(
        pause(&fake, Deployment, "shop", "web")
            .await
            .expect("again"),
        Outcome::Unchanged
    );
    assert_eq!(
        fake.writes().len(),
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
