//! Server-side apply.

use super::*;

/// Server-side apply creates, then updates; dry-run changes nothing.
pub async fn server_side_apply(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "apply").await;
    let desired = configmap("applied", json!({"by": "apply"}), json!({"k": "1"}));
    let created = client
        .apply(&configmaps(), &ns, &desired, &ApplyOptions::default())
        .await
        .expect("apply creates");
    assert_eq!(data(&created), json!({"k": "1"}));
    let again = client
        .apply(&configmaps(), &ns, &desired, &ApplyOptions::default())
        .await
        .expect("apply again");
    assert_eq!(
        again.metadata.resource_version, created.metadata.resource_version,
        "an unchanged apply is a no-op"
    );
    let changed = configmap("applied", json!({"by": "apply"}), json!({"k": "2"}));
    let dry = client
        .apply(
            &configmaps(),
            &ns,
            &changed,
            &ApplyOptions {
                dry_run: true,
                force: false,
            },
        )
        .await
        .expect("dry-run apply");
    assert_eq!(data(&dry), json!({"k": "2"}));
    let got = client
        .get(&configmaps(), &ns, "applied")
        .await
        .expect("get");
    assert_eq!(data(&got), json!({"k": "1"}), "dry run persisted nothing");
    let updated = client
        .apply(&configmaps(), &ns, &changed, &ApplyOptions::default())
        .await
        .expect("apply update");
    assert_eq!(data(&updated), json!({"k": "2"}));
    let missing = format!("conf-missing-{}", suffix());
    let err = client
        .apply(&configmaps(), &missing, &desired, &ApplyOptions::default())
        .await
        .expect_err("apply into a missing namespace");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    drop_namespace(client, &ns).await;
}
