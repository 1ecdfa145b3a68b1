//! The scale subresource.

use super::*;

/// The scale subresource reads and sets a workload's replicas; spec changes bump generation.
pub async fn scale_subresource(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "scale").await;
    let created = client
        .create(
            &deployments(),
            &ns,
            &mk_deployment("web", 0, IMAGE),
            &WriteOptions::default(),
        )
        .await
        .expect("create deployment");
    assert_eq!(created.metadata.generation, Some(1));
    let scale = client
        .get_scale(&deployments(), &ns, "web")
        .await
        .expect("get scale");
    assert_eq!(scale.replicas, 0);
    assert_eq!(scale.selector.as_deref(), Some("app=web"));
    let scaled = client
        .set_scale(&deployments(), &ns, "web", 2)
        .await
        .expect("set scale");
    assert_eq!(scaled.replicas, 2);
    let got = client.get(&deployments(), &ns, "web").await.expect("get");
    assert_eq!(got.data.pointer("/spec/replicas"), Some(&json!(2)));
    assert_eq!(got.metadata.generation, Some(2));
    let err = client
        .set_scale(&deployments(), &ns, "web", -1)
        .await
        .expect_err("negative replicas");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    let err = client
        .get_scale(&deployments(), &ns, "absent")
        .await
        .expect_err("missing deployment");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}
