//! Lists: selectors and paging.

use super::*;

/// Label and field selectors filter; pages follow continue tokens in a stable order; bad
/// selectors are BadRequest.
pub async fn list_selectors_and_paging(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "list").await;
    for (i, tier) in ["a", "b", "a", "", "c"].iter().enumerate() {
        let labels = if tier.is_empty() {
            json!({"suite": "list"})
        } else {
            json!({"suite": "list", "tier": tier})
        };
        client
            .create(
                &configmaps(),
                &ns,
                &configmap(&format!("cm-{i}"), labels, json!({})),
                &WriteOptions::default(),
            )
            .await
            .expect("create");
    }
    let list = |sel: &str| {
        let opts = ListOptions::labels(sel);
        let ns = ns.clone();
        async move {
            names(
                &client
                    .list(&configmaps(), &ns, &opts)
                    .await
                    .expect("list")
                    .items,
            )
        }
    };
    assert_eq!(
        list("suite=list").await,
        ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]
    );
    assert_eq!(list("suite=list,tier in (a)").await, ["cm-0", "cm-2"]);
    assert_eq!(list("suite=list,!tier").await, ["cm-3"]);
    assert_eq!(list("suite=list,tier notin (a,b)").await, ["cm-3", "cm-4"]);
    assert_eq!(list("suite=list,tier!=a,tier").await, ["cm-1", "cm-4"]);

    let by_name = client
        .list(
            &configmaps(),
            &ns,
            &ListOptions::fields("metadata.name=cm-2"),
        )
        .await
        .expect("field selector");
    assert_eq!(names(&by_name.items), ["cm-2"]);
    assert!(!by_name.resource_version.is_empty());

    let mut opts = ListOptions {
        label_selector: Some("suite=list".into()),
        limit: Some(2),
        ..Default::default()
    };
    let mut pages = Vec::new();
    loop {
        let page = client.list(&configmaps(), &ns, &opts).await.expect("page");
        pages.push(names(&page.items));
        match page.continue_token {
            Some(token) => opts.continue_token = Some(token),
            None => break,
        }
        assert!(pages.len() < 10, "paging terminates");
    }
    assert_eq!(pages[0], ["cm-0", "cm-1"]);
    assert_eq!(pages.concat(), ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]);

    for bad in ["suite in (", "tier=a b", "=x"] {
        let err = client
            .list(&configmaps(), &ns, &ListOptions::labels(bad))
            .await
            .expect_err(bad);
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{bad}: {err}");
    }
    let err = client
        .list(&configmaps(), &ns, &ListOptions::fields("spec.nothing=x"))
        .await
        .expect_err("unknown field");
    assert_eq!(err.kind(), ErrorKind::BadRequest, "{err}");
    drop_namespace(client, &ns).await;
}
