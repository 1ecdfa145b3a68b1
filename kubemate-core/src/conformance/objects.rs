//! Single objects: create, get, replace, merge patch and delete, with their errors.

use super::*;

/// Create assigns identity; get returns what was stored; dry-run stores nothing.
pub async fn create_and_get(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "get").await;
    let cm = configmap(
        "app-config",
        json!({"app": "web"}),
        json!({"a.txt": "one\ntwo\n"}),
    );
    let created = client
        .create(&configmaps(), &ns, &cm, &WriteOptions::default())
        .await
        .expect("create");
    let uid = created.metadata.uid.clone().expect("uid assigned");
    let rv = created
        .metadata
        .resource_version
        .clone()
        .expect("rv assigned");
    assert!(!uid.is_empty() && !rv.is_empty());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(created.metadata.namespace.as_deref(), Some(ns.as_str()));
    assert_eq!(data(&created), json!({"a.txt": "one\ntwo\n"}));
    let types = created.types.clone().expect("type metadata");
    assert_eq!(
        (types.api_version.as_str(), types.kind.as_str()),
        ("v1", "ConfigMap")
    );

    let got = client
        .get(&configmaps(), &ns, "app-config")
        .await
        .expect("get");
    assert_eq!(got.metadata.uid.as_deref(), Some(uid.as_str()));
    assert_eq!(got.metadata.resource_version.as_deref(), Some(rv.as_str()));
    assert_eq!(data(&got), data(&created));

    let dry = client
        .create(
            &configmaps(),
            &ns,
            &configmap("dry", json!({}), json!({})),
            &WriteOptions { dry_run: true },
        )
        .await
        .expect("dry-run create");
    assert_eq!(dry.metadata.name.as_deref(), Some("dry"));
    let err = client
        .get(&configmaps(), &ns, "dry")
        .await
        .expect_err("not stored");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}

/// Bad input fails with the apiserver's error kinds.
pub async fn create_errors(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "err").await;
    let cm = configmap("dup", json!({}), json!({}));
    client
        .create(&configmaps(), &ns, &cm, &WriteOptions::default())
        .await
        .expect("first create");
    let err = client
        .create(&configmaps(), &ns, &cm, &WriteOptions::default())
        .await
        .expect_err("duplicate");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");

    let missing = format!("conf-missing-{}", suffix());
    let err = client
        .create(&configmaps(), &missing, &cm, &WriteOptions::default())
        .await
        .expect_err("missing namespace");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    let err = client
        .create(
            &configmaps(),
            &ns,
            &configmap("Bad_Name", json!({}), json!({})),
            &WriteOptions::default(),
        )
        .await
        .expect_err("invalid name");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(
        err.causes().iter().any(|c| c.field == "metadata.name"),
        "causes name the field: {:?}",
        err.causes()
    );

    let err = client
        .get(&configmaps(), &ns, "nope")
        .await
        .expect_err("missing object");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}

/// Replace honours resourceVersion: a stale one is a Conflict, never a lost update.
pub async fn replace_conflicts(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "put").await;
    let created = client
        .create(
            &configmaps(),
            &ns,
            &configmap("cfg", json!({}), json!({"k": "v1"})),
            &WriteOptions::default(),
        )
        .await
        .expect("create");
    let mut first = created.clone();
    first.data["data"] = json!({"k": "v2"});
    let updated = client
        .replace(&configmaps(), &ns, &first, &WriteOptions::default())
        .await
        .expect("replace with current rv");
    assert_ne!(
        updated.metadata.resource_version,
        created.metadata.resource_version
    );
    assert_eq!(updated.metadata.uid, created.metadata.uid);

    let mut stale = created.clone();
    stale.data["data"] = json!({"k": "lost"});
    let err = client
        .replace(&configmaps(), &ns, &stale, &WriteOptions::default())
        .await
        .expect_err("stale rv");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let got = client.get(&configmaps(), &ns, "cfg").await.expect("get");
    assert_eq!(data(&got), json!({"k": "v2"}));

    let mut missing = created.clone();
    missing.metadata.name = Some("absent".into());
    missing.metadata.resource_version = None;
    let err = client
        .replace(&configmaps(), &ns, &missing, &WriteOptions::default())
        .await
        .expect_err("replace of a missing object");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    drop_namespace(client, &ns).await;
}

/// JSON merge patches add, change and remove keys, and honour a resourceVersion in the patch.
pub async fn merge_patch(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "patch").await;
    let created = client
        .create(
            &configmaps(),
            &ns,
            &configmap("cfg", json!({"a": "1"}), json!({"keep": "x", "drop": "y"})),
            &WriteOptions::default(),
        )
        .await
        .expect("create");
    let patched = client
        .merge_patch(
            &configmaps(),
            &ns,
            "cfg",
            &json!({"metadata": {"labels": {"b": "2"}}, "data": {"drop": null, "new": "z"}}),
            &WriteOptions::default(),
        )
        .await
        .expect("patch");
    assert_eq!(data(&patched), json!({"keep": "x", "new": "z"}));
    let labels = patched.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("a").map(String::as_str), Some("1"));
    assert_eq!(labels.get("b").map(String::as_str), Some("2"));
    assert_ne!(
        patched.metadata.resource_version,
        created.metadata.resource_version
    );

    let err = client
        .merge_patch(
            &configmaps(),
            &ns,
            "cfg",
            &json!({"metadata": {"resourceVersion": created.metadata.resource_version},
                    "data": {"keep": "lost"}}),
            &WriteOptions::default(),
        )
        .await
        .expect_err("stale rv in patch");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");

    let err = client
        .merge_patch(
            &configmaps(),
            &ns,
            "absent",
            &json!({"data": {}}),
            &WriteOptions::default(),
        )
        .await
        .expect_err("patch of a missing object");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}

/// Delete removes; a second delete is NotFound; a stale precondition is a Conflict.
pub async fn delete(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "del").await;
    let created = client
        .create(
            &configmaps(),
            &ns,
            &configmap("gone", json!({}), json!({})),
            &WriteOptions::default(),
        )
        .await
        .expect("create");
    client
        .merge_patch(
            &configmaps(),
            &ns,
            "gone",
            &json!({"data": {"x": "y"}}),
            &WriteOptions::default(),
        )
        .await
        .expect("patch");
    let err = client
        .delete(
            &configmaps(),
            &ns,
            "gone",
            &DeleteOptions {
                resource_version: created.metadata.resource_version.clone(),
                ..Default::default()
            },
        )
        .await
        .expect_err("stale precondition");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let outcome = client
        .delete(&configmaps(), &ns, "gone", &DeleteOptions::default())
        .await
        .expect("delete");
    assert_eq!(outcome, DeleteOutcome::Deleted);
    let err = client
        .get(&configmaps(), &ns, "gone")
        .await
        .expect_err("gone");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = client
        .delete(&configmaps(), &ns, "gone", &DeleteOptions::default())
        .await
        .expect_err("second delete");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}
