//! Owner references and cascading deletion.

use super::*;

/// Deleting an owner removes its dependents, unless they are orphaned.
pub async fn owner_cascade(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "gc").await;
    let mut owners = Vec::new();
    for name in ["owner-a", "owner-b"] {
        let owner = client
            .create(
                &configmaps(),
                &ns,
                &configmap(name, json!({}), json!({})),
                &WriteOptions::default(),
            )
            .await
            .expect("owner");
        let mut dep = configmap(&format!("{name}-dep"), json!({}), json!({}));
        dep.metadata.owner_references = Some(vec![
            k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name: name.into(),
                uid: owner.metadata.uid.clone().unwrap_or_default(),
                ..Default::default()
            },
        ]);
        client
            .create(&configmaps(), &ns, &dep, &WriteOptions::default())
            .await
            .expect("dependent");
        owners.push(name);
    }
    client
        .delete(
            &configmaps(),
            &ns,
            "owner-a",
            &DeleteOptions {
                propagation: Some(Propagation::Background),
                ..Default::default()
            },
        )
        .await
        .expect("delete owner-a");
    client
        .delete(
            &configmaps(),
            &ns,
            "owner-b",
            &DeleteOptions {
                propagation: Some(Propagation::Orphan),
                ..Default::default()
            },
        )
        .await
        .expect("delete owner-b");
    eventually("the dependent of owner-a to be collected", || async {
        match client.get(&configmaps(), &ns, "owner-a-dep").await {
            Err(e) if e.is(ErrorKind::NotFound) => Some(()),
            _ => None,
        }
    })
    .await;
    let orphan = eventually("owner-b to be gone", || async {
        match client.get(&configmaps(), &ns, "owner-b").await {
            Err(e) if e.is(ErrorKind::NotFound) => {
                client.get(&configmaps(), &ns, "owner-b-dep").await.ok()
            }
            _ => None,
        }
    })
    .await;
    assert_eq!(orphan.metadata.name.as_deref(), Some("owner-b-dep"));
    drop_namespace(client, &ns).await;
}
