//! `get`, `events`, `nodes`, `ns create` and `app create`.

use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{LimitRange, Namespace, ResourceQuota, Service},
};
use kubemate_audit::Stage;
use kubemate_core::{ClusterClientExt, ErrorKind, fake::Verb};
use serde_json::Value;

use crate::commands::testing::harness;

#[tokio::test]
async fn get_lists_a_namespace_as_a_kubectl_table() {
    let h = harness().await;
    let out = h.run(&["get", "deployments", "-n", "shop"], "").await.ok();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("NAME   READY   STATUS        AGE"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with("web    3/3     Available     26d")),
        "{out}"
    );
    assert!(rows.iter().any(|r| r.starts_with("cart   ")), "{out}");
    // Without -n: the kubeconfig context's namespace (the harness's is shop).
    assert_eq!(h.run(&["get", "deploy"], "").await.ok(), out);
    let record = h.records().await.pop().expect("record");
    assert_eq!(
        (
            record.verb.as_str(),
            record.kind.as_str(),
            record.namespace.as_deref()
        ),
        ("list", "deployments", Some("shop"))
    );
    assert_eq!(record.stage, Stage::Response);
}

#[tokio::test]
async fn get_across_namespaces_adds_the_namespace_column_and_filters_by_label() {
    let h = harness().await;
    let out = h
        .run(&["get", "pods", "-A", "-l", "app=web"], "")
        .await
        .ok();
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("NAMESPACE   NAME                   READY   STATUS    AGE")
    );
    assert_eq!(lines.clone().count(), 3, "{out}");
    assert!(
        lines.all(|l| l.starts_with("shop        web-7c9f8d6b54-")),
        "{out}"
    );
    // Cluster-scoped kinds ignore the namespace.
    let nodes = h.run(&["get", "nodes"], "").await.ok();
    assert!(nodes.starts_with("NAME "), "{nodes}");
    let empty = h
        .run(&["get", "pods", "-n", "shop", "-l", "app=nothing"], "")
        .await
        .ok();
    assert_eq!(empty, "No resources found in shop namespace.\n");
}

#[tokio::test]
async fn get_shows_one_object_as_yaml_or_json_and_lists_as_a_list() {
    let h = harness().await;
    let json: Value = serde_json::from_str(
        &h.run(&["get", "deploy", "web", "-n", "shop", "-o", "json"], "")
            .await
            .ok(),
    )
    .expect("json");
    assert_eq!(json["kind"], "Deployment");
    assert_eq!(json["apiVersion"], "apps/v1");
    assert_eq!(json["metadata"]["name"], "web");
    assert!(json["metadata"].get("managedFields").is_none());
    let yaml: Value = serde_yaml::from_str(
        &h.run(&["get", "deploy", "web", "-n", "shop", "-o", "yaml"], "")
            .await
            .ok(),
    )
    .expect("yaml");
    assert_eq!(yaml, json);
    let table = h
        .run(&["get", "deploy", "web", "-n", "shop"], "")
        .await
        .ok();
    assert_eq!(table.lines().count(), 2, "{table}");

    let list: Value = serde_json::from_str(
        &h.run(&["get", "svc", "-n", "shop", "-o", "json"], "")
            .await
            .ok(),
    )
    .expect("json");
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().expect("items");
    assert!(items.iter().all(|i| i["kind"] == "Service"), "{list}");
    assert!(items.iter().any(|i| i["metadata"]["name"] == "web"));
    let record = h.records().await.pop().expect("record");
    assert_eq!(
        (record.verb.as_str(), record.kind.as_str()),
        ("list", "services")
    );
}

#[tokio::test]
async fn get_reaches_custom_resources_and_names_unknown_kinds() {
    let h = harness().await;
    h.fake
        .seed_yaml(
            r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: sprocket, namespace: shop, creationTimestamp: "2026-11-30T12:00:00Z"}
spec: {size: 3}
"#,
        )
        .expect("seed");
    let out = h.run(&["get", "widgets", "-n", "shop"], "").await.ok();
    assert_eq!(out, "NAME       AGE\nsprocket   24h\n");
    let json: Value = serde_json::from_str(
        &h.run(
            &["get", "widget", "sprocket", "-n", "shop", "-o", "json"],
            "",
        )
        .await
        .ok(),
    )
    .expect("json");
    assert_eq!(json["spec"]["size"], 3);
    let err = h.run(&["get", "gadgets"], "").await.err();
    assert_eq!(
        err.to_string(),
        "NotFound: the server doesn't have a resource type \"gadgets\""
    );
    let err = h
        .run(&["get", "deploy", "nope", "-n", "shop"], "")
        .await
        .err();
    assert_eq!(err.code(), "NotFound");
}

#[tokio::test]
async fn events_newest_first_warnings_and_all_namespaces() {
    let h = harness().await;
    let out = h.run(&["events", "-n", "shop"], "").await.ok();
    assert!(
        out.starts_with("LAST SEEN   TYPE      REASON"),
        "{}",
        out.lines().next().unwrap_or_default()
    );
    let warnings = h
        .run(&["events", "-n", "shop", "--warnings"], "")
        .await
        .ok();
    let rows: Vec<&str> = warnings.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.contains(" Warning ")), "{warnings}");
    let all = h.run(&["events", "--warnings"], "").await.ok();
    assert!(all.starts_with("NAMESPACE "), "{all}");
    assert!(all.lines().count() > rows.len());
    let json: Value = serde_json::from_str(
        &h.run(&["events", "-n", "shop", "-o", "json"], "")
            .await
            .ok(),
    )
    .expect("json");
    assert!(json[0]["reason"].is_string());
    let empty = h.run(&["events", "-n", "kube-public"], "").await.ok();
    assert_eq!(empty, "No events found\n");
}

#[tokio::test]
async fn nodes_show_requests_against_allocatable() {
    let h = harness().await;
    let out = h.run(&["nodes"], "").await.ok();
    let mut lines = out.lines();
    let header = lines.next().unwrap_or_default();
    assert!(
        header.starts_with("NAME")
            && header.contains("CPU REQUESTS")
            && header.ends_with("VERSION"),
        "{header}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(rows.iter().all(|r| r.contains('%')), "{out}");
    let json: Value =
        serde_json::from_str(&h.run(&["nodes", "-o", "json"], "").await.ok()).expect("json");
    assert_eq!(json["nodes"].as_array().map(Vec::len), Some(3));
    assert_eq!(json["totals"]["nodes"], 3);
    let yaml: Value =
        serde_yaml::from_str(&h.run(&["nodes", "-o", "yaml"], "").await.ok()).expect("yaml");
    assert_eq!(yaml, json);
}

#[tokio::test]
async fn ns_create_makes_a_tenant_with_its_quota_and_limits() {
    let h = harness().await;
    let out = h
        .run(
            &[
                "ns",
                "create",
                "team-a",
                "--quota",
                "cpu=4,memory=8Gi",
                "--quota",
                "pods=20",
                "--limits",
                "default-request.cpu=100m,default.memory=256Mi",
                "--description",
                "team A",
            ],
            "",
        )
        .await
        .ok();
    assert_eq!(
        out,
        "namespace/team-a created\nresourcequota/tenant-quota created\nlimitrange/tenant-limits created\n"
    );
    let quota: ResourceQuota = h
        .fake
        .get_as("team-a", "tenant-quota")
        .await
        .expect("quota");
    let hard = quota.spec.and_then(|s| s.hard).expect("hard");
    assert_eq!(hard["requests.cpu"].0, "4");
    assert_eq!(hard["requests.memory"].0, "8Gi");
    assert_eq!(hard["pods"].0, "20");
    let limits: LimitRange = h
        .fake
        .get_as("team-a", "tenant-limits")
        .await
        .expect("limits");
    let item = &limits.spec.expect("spec").limits[0];
    assert_eq!(
        item.default_request.as_ref().expect("request")["cpu"].0,
        "100m"
    );
    let record = h.records().await.pop().expect("record");
    assert_eq!(
        (
            record.verb.as_str(),
            record.kind.as_str(),
            record.namespace.as_deref()
        ),
        ("create", "namespaces", Some("team-a"))
    );

    // Without flags: a bare namespace.
    let out = h.run(&["ns", "create", "team-b"], "").await.ok();
    assert_eq!(out, "namespace/team-b created\n");

    // A quota the cluster refuses takes the new namespace with it.
    h.fake.fail(
        Some(Verb::Create),
        Some("resourcequotas"),
        ErrorKind::Forbidden,
        1,
    );
    let err = h
        .run(&["ns", "create", "team-c", "--quota", "pods=1"], "")
        .await
        .err();
    assert_eq!(err.code(), "Forbidden");
    assert!(err.message().contains("deleted again"), "{err}");
    let gone: Option<Namespace> = h.fake.get_opt_as("", "team-c").await.expect("get");
    assert!(gone.is_none());
}

const APP: &str = r#"
namespace: shop
name: api
image: registry.example.com/shop/api:1.0.0
replicas: 2
ports: [{port: 8080}]
service:
  type: ClusterIP
  ports: [{port: 80, targetPort: 8080}]
"#;

#[tokio::test]
async fn app_create_runs_the_wizard_from_a_file_or_stdin() {
    let h = harness().await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("app.yaml");
    std::fs::write(&file, APP).expect("write");
    let path = file.to_str().expect("path");
    let out = h
        .run(
            &[
                "app",
                "create",
                "-f",
                path,
                "--registry",
                "registry.example.com",
            ],
            "",
        )
        .await
        .ok();
    assert_eq!(
        out,
        "STEP         OBJECT           RESULT    MESSAGE\n\
         deployment   deployment/api   created\n\
         service      service/api      created\n"
    );
    let d: Deployment = h.fake.get_as("shop", "api").await.expect("deployment");
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(2));
    let _: Service = h.fake.get_as("shop", "api").await.expect("service");
    let record = h.records().await.pop().expect("record");
    assert_eq!(
        (
            record.verb.as_str(),
            record.kind.as_str(),
            record.name.as_deref()
        ),
        ("create", "apps", Some("api"))
    );

    // From standard input, as JSON, as a dry run.
    let spec = APP.replace("name: api", "name: api2");
    let out = h
        .run(
            &[
                "app",
                "create",
                "-f",
                "-",
                "--registry",
                "registry.example.com",
                "--dry-run",
                "-o",
                "json",
            ],
            &spec,
        )
        .await
        .ok();
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report[0]["status"], "done");
    assert!(
        h.fake
            .get_opt_as::<Deployment>("shop", "api2")
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn app_create_refuses_bad_specs_and_unlisted_registries() {
    let h = harness().await;
    let err = h.run(&["app", "create", "-f", "-"], APP).await.err();
    assert_eq!(err.code(), "Invalid");
    assert!(err.message().contains("--registry"), "{err}");
    let err = h
        .run(
            &["app", "create", "-f", "-", "--registry", "docker.io"],
            APP,
        )
        .await
        .err();
    assert_eq!(err.code(), "Invalid");
    assert!(
        err.message().contains("not from a configured registry"),
        "{err}"
    );
    let err = h
        .run(
            &["app", "create", "-f", "-", "--registry", "docker.io"],
            "name: [",
        )
        .await
        .err();
    assert!(
        err.message().contains("standard input is not an AppSpec"),
        "{err}"
    );
    let err = h
        .run(
            &[
                "app",
                "create",
                "-f",
                "/nonexistent/app.yaml",
                "--registry",
                "x.io",
            ],
            "",
        )
        .await
        .err();
    assert!(
        err.message().contains("cannot read /nonexistent/app.yaml"),
        "{err}"
    );

    // The Service step fails after the Deployment: the report shows it, the command fails.
    h.fake.fail(
        Some(Verb::Create),
        Some("services"),
        ErrorKind::Forbidden,
        1,
    );
    let run = h
        .run(
            &[
                "app",
                "create",
                "-f",
                "-",
                "--registry",
                "registry.example.com",
            ],
            APP,
        )
        .await;
    assert!(
        run.out
            .contains("service      service/api      failed    Forbidden"),
        "{}",
        run.out
    );
    let err = run.err();
    assert_eq!(err.code(), "Forbidden");
    assert!(err.message().contains("the service step failed"), "{err}");
    let record = h.records().await.pop().expect("record");
    assert_eq!(record.error_code.as_deref(), Some("Forbidden"));
}
