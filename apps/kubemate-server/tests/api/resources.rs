//! Namespaced and cluster-scoped objects: visibility, authorization before any cluster call,
//! impersonated writes, optimistic concurrency and input errors.

use std::sync::Arc;

use axum::http::StatusCode;
use kubemate_audit::{Decision, Outcome, Stage};
use kubemate_core::{ErrorKind, Identity, MockClusterClient, catalog, fake::Verb};
use kubemate_rbac::derive::service_account_name;
use serde_json::{Value, json};

use crate::support::{EDITOR, Options, only_policy_reads, world, world_with};

fn configmap(name: &str, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": value}})
}

#[tokio::test]
async fn lists_in_a_visible_namespace_as_objects_or_rows() {
    let w = world().await;
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/deployments",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|d| d["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["cart", "web"]);
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/deployments?view=summary&labelSelector=app%3Dweb",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"][0]["name"], "web");
    assert_eq!(body["items"][0]["ready"], "3/3");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn every_namespaced_kind_of_the_catalog_lists_and_reads() {
    let w = world().await;
    for kind in catalog::KINDS.iter().filter(|k| k.namespaced) {
        let (status, body) = w
            .call(
                "GET",
                &format!("/api/v1/namespaces/shop/{}", kind.plural),
                Some(&w.admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", kind.plural);
        if let Some(name) = body["items"][0]["metadata"]["name"].as_str() {
            let (status, obj) = w
                .call(
                    "GET",
                    &format!("/api/v1/namespaces/shop/{}/{name}", kind.plural),
                    Some(&w.admin),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{}/{name}", kind.plural);
            assert_eq!(obj["metadata"]["name"], name);
        }
    }
}

#[tokio::test]
async fn listing_a_namespace_the_caller_cannot_see_is_403_whether_or_not_it_exists() {
    let w = world().await;
    let mark = w.mark();
    for ns in ["payments", "does-not-exist"] {
        let (status, body) = w
            .call(
                "GET",
                &format!("/api/v1/namespaces/{ns}/deployments"),
                Some(&w.viewer),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{ns}");
        assert_eq!(body["code"], "Forbidden");
        assert!(body["message"].as_str().is_some_and(|m| m.contains(ns)));
    }
    assert!(only_policy_reads(&w.actions_since(mark)));
    for r in w.records() {
        assert_eq!(
            (r.decision, r.outcome),
            (Decision::Denied, Outcome::Failure)
        );
        assert_eq!(r.error_code.as_deref(), Some("Forbidden"));
    }
}

#[tokio::test]
async fn a_missing_object_and_one_in_an_invisible_namespace_are_the_same_404() {
    let w = world().await;
    let mark = w.mark();
    // `api` exists in payments (hidden from the viewer), not in shop, and `nowhere` does not
    // exist at all.
    let hidden = w
        .call(
            "GET",
            "/api/v1/namespaces/payments/deployments/api",
            Some(&w.viewer),
            None,
        )
        .await;
    let nowhere = w
        .call(
            "GET",
            "/api/v1/namespaces/nowhere/deployments/api",
            Some(&w.viewer),
            None,
        )
        .await;
    let missing = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/deployments/api",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
    assert_eq!(hidden, missing);
    assert_eq!(nowhere, missing);
    assert_eq!(
        missing.1,
        json!({"code": "NotFound", "message": "deployments.apps \"api\" not found"})
    );
    // Writes and workload verbs on hidden objects answer the same way.
    let scale = w
        .call(
            "PUT",
            "/api/v1/namespaces/payments/deployments/api/scale",
            Some(&w.viewer),
            Some(json!({"replicas": 0})),
        )
        .await;
    assert_eq!(scale, missing);
    let calls = w.actions_since(mark);
    assert!(
        calls
            .iter()
            .all(|a| a.namespace != "payments" && a.namespace != "nowhere"),
        "no cluster call for an invisible namespace: {calls:?}"
    );
}

#[tokio::test]
async fn a_denied_write_makes_no_cluster_call() {
    let w = world().await;
    let mark = w.mark();
    let (status, body) = w
        .call(
            "DELETE",
            "/api/v1/namespaces/shop/configmaps/web-config",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("may not delete configmaps in namespace \"shop\"")),
        "{body}"
    );
    assert!(only_policy_reads(&w.actions_since(mark)));
    let records = w.records();
    assert_eq!(records.len(), 1, "no pending record for a denied mutation");
    assert_eq!(records[0].decision, Decision::Denied);
    assert_eq!(records[0].verb, "delete");
    assert_eq!(records[0].name.as_deref(), Some("web-config"));
}

#[tokio::test]
async fn a_denied_read_makes_no_call_on_a_mock_cluster() {
    // A mock with no expectations panics (a 500) on any call: the 403 proves none was made.
    let w = world_with(Options {
        cluster: Some(Arc::new(MockClusterClient::new())),
        ..Options::default()
    })
    .await;
    for uri in [
        "/api/v1/namespaces/payments/secrets",
        "/api/v1/namespaces/shop/secrets?labelSelector=a%3Db",
    ] {
        let token = if uri.contains("payments") {
            &w.editor
        } else {
            &w.viewer
        };
        let (status, body) = w.call("GET", uri, Some(token), None).await;
        if uri.contains("payments") {
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        } else {
            // The viewer may list secrets in shop: the mock is reached, and panics.
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
            assert_eq!(body["code"], "InternalError");
        }
    }
    let (status, _) = w.call("GET", "/api/v1/nodes", Some(&w.viewer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn writes_run_as_the_callers_service_account_with_a_pending_record_first() {
    let w = world().await;
    let mark = w.mark();
    let (status, created) = w
        .call(
            "POST",
            "/api/v1/namespaces/shop/configmaps",
            Some(&w.editor),
            Some(configmap("settings", "one")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["metadata"]["namespace"], "shop");
    let mut obj = created.clone();
    obj["data"]["k"] = json!("two");
    let (status, updated) = w
        .call(
            "PUT",
            "/api/v1/namespaces/shop/configmaps/settings",
            Some(&w.editor),
            Some(obj),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["data"]["k"], "two");
    let (status, body) = w
        .call(
            "DELETE",
            "/api/v1/namespaces/shop/configmaps/settings",
            Some(&w.editor),
            None,
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"status": "Deleted"}))
    );

    let editor_sa = Identity::service_account("kubemate-system", &service_account_name(EDITOR));
    let writes: Vec<_> = w
        .actions_since(mark)
        .into_iter()
        .filter(|a| a.verb.is_write())
        .collect();
    assert_eq!(writes.len(), 3, "{writes:?}");
    for a in &writes {
        assert_eq!(a.identity.as_ref(), Some(&editor_sa), "{a:?}");
    }
    let records = w.records();
    let stages: Vec<_> = records
        .iter()
        .map(|r| (r.verb.as_str(), r.stage, r.outcome))
        .collect();
    assert_eq!(
        stages,
        [
            ("create", Stage::Request, Outcome::Pending),
            ("create", Stage::Response, Outcome::Success),
            ("update", Stage::Request, Outcome::Pending),
            ("update", Stage::Response, Outcome::Success),
            ("delete", Stage::Request, Outcome::Pending),
            ("delete", Stage::Response, Outcome::Success),
        ]
    );
    assert_eq!(records[0].request_id, records[1].request_id);
    assert_eq!(records[0].name.as_deref(), Some("settings"));
}

#[tokio::test]
async fn a_stale_resource_version_is_409_and_a_missing_one_400() {
    let w = world().await;
    let uri = "/api/v1/namespaces/shop/configmaps/web-config";
    let (_, read) = w.call("GET", uri, Some(&w.editor), None).await;
    let mut first = read.clone();
    first["data"] = json!({"a": "1"});
    let (status, _) = w.call("PUT", uri, Some(&w.editor), Some(first)).await;
    assert_eq!(status, StatusCode::OK);
    let mut stale = read.clone();
    stale["data"] = json!({"a": "2"});
    let (status, body) = w.call("PUT", uri, Some(&w.editor), Some(stale)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "Conflict");
    assert_eq!(
        w.records().last().map(|r| r.outcome),
        Some(Outcome::Failure)
    );

    let mut unversioned = read;
    unversioned["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("resourceVersion");
    let (status, body) = w.call("PUT", uri, Some(&w.editor), Some(unversioned)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "Invalid");
    assert_eq!(body["causes"][0]["field"], "metadata.resourceVersion");

    let (status, body) = w
        .call(
            "PUT",
            uri,
            Some(&w.editor),
            Some(configmap("another-name", "x")),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["causes"][0]["field"], "metadata.name");
}

#[tokio::test]
async fn bad_input_is_400_before_any_cluster_call() {
    let w = world().await;
    let mark = w.mark();
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/pods?labelSelector=app%3D%3D%3D",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "BadRequest");
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/pods?limit=many",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(only_policy_reads(&w.actions_since(mark)));

    let response = w
        .send(
            axum::http::Request::builder()
                .method("POST")
                .uri("/api/v1/namespaces/shop/configmaps")
                .header("authorization", format!("Bearer {}", w.editor))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{\"metadata\": "))
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, body) = w
        .call(
            "POST",
            "/api/v1/namespaces/shop/configmaps",
            Some(&w.editor),
            Some(json!({"metadata": {"name": 7}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "Invalid");
    assert_eq!(body["causes"][0]["field"], "metadata.name");
}

#[tokio::test]
async fn unknown_kinds_are_404_and_unsupported_verbs_422() {
    let w = world().await;
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/gadgets",
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
    let (status, body) = w
        .call(
            "POST",
            "/api/v1/namespaces/shop/events",
            Some(&w.admin),
            Some(json!({"metadata": {"name": "e"}})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("Unsupported"))
    );
    let (status, _) = w
        .call("DELETE", "/api/v1/nodes/x", Some(&w.admin), None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = w
        .call("GET", "/api/v1/nowhere/x/y", Some(&w.admin), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
}

#[tokio::test]
async fn cluster_scoped_kinds_need_cluster_wide_roles_and_crds_an_administrator() {
    let w = world().await;
    let (status, nodes) = w.call("GET", "/api/v1/nodes", Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::OK);
    let first = nodes["items"][0]["name"]
        .as_str()
        .expect("a node")
        .to_owned();
    assert!(nodes["totals"].is_object());
    let (status, node) = w
        .call(
            "GET",
            &format!("/api/v1/nodes/{first}"),
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{node}");
    for plural in [
        "persistentvolumes",
        "storageclasses",
        "customresourcedefinitions",
    ] {
        let (status, body) = w
            .call("GET", &format!("/api/v1/{plural}"), Some(&w.admin), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{plural}: {body}");
    }
    let (status, _) = w.call("GET", "/api/v1/nodes", Some(&w.editor), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/customresourcedefinitions",
            Some(&w.editor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("administrators only"))
    );
    let (status, body) = w
        .call("GET", "/api/v1/nodes/no-such-node", Some(&w.admin), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "nodes \"no-such-node\" not found");
}

#[tokio::test]
async fn an_unreachable_cluster_is_503_without_details() {
    let w = world().await;
    w.fake.fail(
        Some(Verb::List),
        Some("deployments"),
        ErrorKind::Unavailable,
        1,
    );
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/deployments",
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "Unavailable");
    assert_eq!(
        body["message"],
        "the cluster is unavailable; try again later"
    );
}
