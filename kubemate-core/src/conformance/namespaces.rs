//! Namespaces.

use super::*;

/// Namespaces are created Active and can be selected by label.
pub async fn namespaces_lifecycle(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "ns").await;
    let got = client
        .get(&namespaces(), "", &ns)
        .await
        .expect("get namespace");
    assert_eq!(got.data.pointer("/status/phase"), Some(&json!("Active")));
    let listed = client
        .list(
            &namespaces(),
            "",
            &ListOptions::fields(format!("metadata.name={ns}")),
        )
        .await
        .expect("list namespaces");
    assert_eq!(names(&listed.items), std::slice::from_ref(&ns));
    let err = client
        .create(
            &namespaces(),
            "",
            &object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "conf.dotted"}})),
            &WriteOptions::default(),
        )
        .await
        .expect_err("namespace names are DNS labels");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    drop_namespace(client, &ns).await;
}
