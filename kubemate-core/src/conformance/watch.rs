//! Watches.

use super::*;

async fn next_event(stream: &mut crate::WatchStream) -> WatchEvent {
    loop {
        let event = tokio::time::timeout(PATIENCE, stream.next())
            .await
            .expect("watch event in time")
            .expect("watch stream open")
            .expect("watch event ok");
        if !matches!(event, WatchEvent::Bookmark(_)) {
            return event;
        }
    }
}

fn event_name(event: &WatchEvent) -> (&'static str, String) {
    match event {
        WatchEvent::Added(o) => ("ADDED", o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Modified(o) => ("MODIFIED", o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Deleted(o) => ("DELETED", o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Bookmark(_) => ("BOOKMARK", String::new()),
    }
}

/// A watch from a list's resourceVersion sees later changes in order; a watch without one
/// starts with the current objects.
pub async fn watch(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "watch").await;
    client
        .create(
            &configmaps(),
            &ns,
            &configmap("before", json!({"w": "1"}), json!({})),
            &WriteOptions::default(),
        )
        .await
        .expect("create before");
    let listed = client
        .list(&configmaps(), &ns, &ListOptions::labels("w=1"))
        .await
        .expect("list");
    let mut from_rv = client
        .watch(
            &configmaps(),
            &ns,
            &WatchOptions {
                resource_version: Some(listed.resource_version.clone()),
                label_selector: Some("w=1".into()),
                timeout_seconds: Some(120),
                ..Default::default()
            },
        )
        .await
        .expect("watch from rv");
    client
        .create(
            &configmaps(),
            &ns,
            &configmap("after", json!({"w": "1"}), json!({})),
            &WriteOptions::default(),
        )
        .await
        .expect("create after");
    client
        .create(
            &configmaps(),
            &ns,
            &configmap("unrelated", json!({"w": "2"}), json!({})),
            &WriteOptions::default(),
        )
        .await
        .expect("create unrelated");
    client
        .merge_patch(
            &configmaps(),
            &ns,
            "after",
            &json!({"data": {"k": "v"}}),
            &WriteOptions::default(),
        )
        .await
        .expect("patch");
    client
        .delete(&configmaps(), &ns, "after", &DeleteOptions::default())
        .await
        .expect("delete");
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(event_name(&next_event(&mut from_rv).await));
    }
    assert_eq!(
        seen,
        [
            ("ADDED", "after".to_owned()),
            ("MODIFIED", "after".to_owned()),
            ("DELETED", "after".to_owned())
        ]
    );

    let mut fresh = client
        .watch(
            &configmaps(),
            &ns,
            &WatchOptions {
                label_selector: Some("w=1".into()),
                timeout_seconds: Some(120),
                ..Default::default()
            },
        )
        .await
        .expect("watch without rv");
    assert_eq!(
        event_name(&next_event(&mut fresh).await),
        ("ADDED", "before".to_owned())
    );
    drop_namespace(client, &ns).await;
}
