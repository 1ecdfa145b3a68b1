//! Names and namespaces that would leave their URL segment.

use super::*;

/// A name or namespace that would leave its URL segment (`a/b`, `..`, `%2F`, NUL) is refused
/// before any request is sent, by every call that takes one; the object beside it is intact,
/// so nothing was addressed instead.
pub async fn refuses_names_outside_their_segment(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "seg").await;
    let cm = object(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kept", "namespace": ns}, "data": {"k": "v"}}));
    client
        .create(&configmaps(), &ns, &cm, &WriteOptions::default())
        .await
        .expect("configmap");
    let traversals = [
        format!("{ns}/configmaps/kept"),
        "kept/status".to_owned(),
        "..".to_owned(),
        "kept%2Fx".to_owned(),
        "kept\u{0}".to_owned(),
        String::new(),
    ];
    for bad in &traversals {
        let refused = |what: &str, e: crate::Error| {
            assert_eq!(e.kind(), ErrorKind::BadRequest, "{what} {bad:?}: {e}");
            assert!(e.message().starts_with("refused to address"), "{what}: {e}");
        };
        if !bad.is_empty() {
            // As a namespace: `ns/configmaps/kept` would read the ConfigMap through a
            // namespace read.
            let e = client
                .get(&namespaces(), "", bad)
                .await
                .expect_err("namespace");
            refused("namespace get", e);
            let e = client
                .list(&configmaps(), bad, &ListOptions::default())
                .await
                .expect_err("list");
            refused("list", e);
        }
        let e = client.get(&configmaps(), &ns, bad).await.expect_err("get");
        refused("get", e);
        let e = client
            .merge_patch(
                &configmaps(),
                &ns,
                bad,
                &json!({"data": {"k": "x"}}),
                &WriteOptions::default(),
            )
            .await
            .expect_err("patch");
        refused("patch", e);
        let e = client
            .delete(&configmaps(), &ns, bad, &DeleteOptions::default())
            .await
            .expect_err("delete");
        refused("delete", e);
        let e = client
            .logs(&ns, bad, &crate::LogOptions::default())
            .await
            .expect_err("logs");
        refused("logs", e);
    }
    let kept = client
        .get(&configmaps(), &ns, "kept")
        .await
        .expect("intact");
    assert_eq!(kept.data["data"]["k"], "v");
    drop_namespace(client, &ns).await;
}
