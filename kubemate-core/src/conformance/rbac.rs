//! RBAC objects: names with colons, status preconditions.

use super::*;

/// RBAC objects accept names with colons; a status patch honours a resourceVersion in it.
pub async fn rbac_names_and_status_preconditions(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "rbacname").await;
    let roles = ResourceType::new("rbac.authorization.k8s.io", "v1", "Role", "roles", true);
    let created = client
        .create(
            &roles,
            &ns,
            &object(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": "kubemate:reader"},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
            ),
            &WriteOptions::default(),
        )
        .await
        .expect("a colon is fine in RBAC names");
    assert_eq!(created.metadata.name.as_deref(), Some("kubemate:reader"));
    let err = client
        .create(
            &roles,
            &ns,
            &object(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": "a/b"}, "rules": []}),
            ),
            &WriteOptions::default(),
        )
        .await
        .expect_err("a slash is not");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Invalid | ErrorKind::BadRequest | ErrorKind::NotFound
        ),
        "{err}"
    );

    let d = client
        .create(
            &deployments(),
            &ns,
            &mk_deployment("st", 0, IMAGE),
            &WriteOptions::default(),
        )
        .await
        .expect("deployment");
    client
        .merge_patch(
            &deployments(),
            &ns,
            "st",
            &json!({"metadata": {"labels": {"x": "y"}}}),
            &WriteOptions::default(),
        )
        .await
        .expect("bump rv");
    let err = client
        .merge_patch_status(
            &deployments(),
            &ns,
            "st",
            &json!({"metadata": {"resourceVersion": d.metadata.resource_version},
                    "status": {"observedGeneration": 1}}),
        )
        .await
        .expect_err("stale rv in a status patch");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    drop_namespace(client, &ns).await;
}
