//! Custom resources served from a CustomResourceDefinition.

use super::*;

/// A CustomResourceDefinition makes its resource served: CRUD, generation, the status
/// subresource, and updates that must carry a resourceVersion.
pub async fn custom_resources(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "crd").await;
    let group = format!("c{}.conformance.kubemate.io", suffix());
    let crd_name = format!("widgets.{group}");
    let schema = json!({"type": "object", "properties": {
        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}});
    client
        .create(
            &crds(),
            "",
            &object(json!({
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": crd_name},
                "spec": {
                    "group": group,
                    "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                    "scope": "Namespaced",
                    "versions": [{"name": "v1", "served": true, "storage": true,
                                  "subresources": {"status": {}},
                                  "schema": {"openAPIV3Schema": schema}}]
                }
            })),
            &WriteOptions::default(),
        )
        .await
        .expect("create CRD");
    let widgets = eventually("the custom resource to be discovered", || async {
        client
            .discover()
            .await
            .ok()?
            .into_iter()
            .find(|d| d.resource.group == group && d.resource.plural == "widgets")
            .map(|d| d.resource)
    })
    .await;
    assert!(widgets.namespaced);
    assert_eq!(widgets.kind, "Widget");

    let widget = object(
        json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
        "metadata": {"name": "w1"}, "spec": {"size": 3}, "status": {"phase": "Ignored"}}),
    );
    let created = eventually("the custom resource to accept writes", || async {
        client
            .create(&widgets, &ns, &widget, &WriteOptions::default())
            .await
            .ok()
    })
    .await;
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(
        created.data.get("status"),
        None,
        "status is not set on create"
    );

    let patched = client
        .merge_patch_status(&widgets, &ns, "w1", &json!({"status": {"phase": "Ready"}}))
        .await
        .expect("status patch");
    assert_eq!(patched.data.pointer("/status/phase"), Some(&json!("Ready")));
    assert_eq!(
        patched.metadata.generation,
        Some(1),
        "status does not bump generation"
    );

    let mut edit = patched.clone();
    edit.data["spec"] = json!({"size": 5});
    edit.data["status"] = json!({"phase": "Overwritten"});
    let replaced = client
        .replace(&widgets, &ns, &edit, &WriteOptions::default())
        .await
        .expect("replace");
    assert_eq!(replaced.data.pointer("/spec/size"), Some(&json!(5)));
    assert_eq!(
        replaced.data.pointer("/status/phase"),
        Some(&json!("Ready"))
    );
    assert_eq!(replaced.metadata.generation, Some(2));

    let mut unversioned = replaced.clone();
    unversioned.metadata.resource_version = None;
    unversioned.data["spec"] = json!({"size": 6});
    let err = client
        .replace(&widgets, &ns, &unversioned, &WriteOptions::default())
        .await
        .expect_err("custom resources need a resourceVersion to update");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");

    let listed = client
        .list(&widgets, &ns, &ListOptions::default())
        .await
        .expect("list widgets");
    assert_eq!(names(&listed.items), ["w1"]);
    client
        .delete(&crds(), "", &crd_name, &DeleteOptions::default())
        .await
        .expect("delete CRD");
    drop_namespace(client, &ns).await;
}
