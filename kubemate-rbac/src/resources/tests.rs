use kube::{CustomResourceExt, Resource};
use serde_json::Value;

use super::*;
use crate::testing::{mk_role, rule};

#[test]
fn crds_are_cluster_scoped_structural_and_print_useful_columns() {
    let user = User::crd();
    assert_eq!(user.metadata.name.as_deref(), Some("users.kubemate.io"));
    assert_eq!(user.spec.scope, "Cluster");
    assert_eq!(user.spec.group, GROUP);
    let version = &user.spec.versions[0];
    assert_eq!(version.name, VERSION);
    assert!(
        version
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some()
    );
    let columns: Vec<&str> = version
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        columns,
        ["Display Name", "Roles", "Disabled", "Last Login", "Age"]
    );
    let schema = serde_json::to_value(&version.schema).expect("schema");
    let spec = &schema["openAPIV3Schema"]["properties"]["spec"];
    assert_eq!(spec["properties"]["passwordHash"]["type"], "string");
    assert_eq!(spec["properties"]["roles"]["items"]["type"], "string");
    assert_eq!(spec["required"], serde_json::json!(["passwordHash"]));
    let status = &schema["openAPIV3Schema"]["properties"]["status"]["properties"];
    assert_eq!(status["lockedUntil"]["format"], "date-time");

    let role = Role::crd();
    assert_eq!(role.metadata.name.as_deref(), Some("roles.kubemate.io"));
    assert_eq!(role.spec.scope, "Cluster");
    let schema = serde_json::to_value(&role.spec.versions[0].schema).expect("schema");
    let spec = &schema["openAPIV3Schema"]["properties"]["spec"];
    assert_eq!(spec["properties"]["rules"]["minItems"], 1);
    assert_eq!(
        spec["properties"]["rules"]["items"]["properties"]["apiGroups"]["items"]["type"],
        "string"
    );
    // Structural: every property has a type, nothing is left open.
    fn typed(v: &Value, path: &str) {
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            for (k, p) in props {
                assert!(p.get("type").is_some(), "{path}.{k} has no type");
                typed(p, &format!("{path}.{k}"));
                if let Some(items) = p.get("items") {
                    typed(items, &format!("{path}.{k}[]"));
                }
            }
        }
    }
    typed(&schema["openAPIV3Schema"], "");
}

#[test]
fn crd_yaml_holds_both_definitions() {
    let yaml = crate::crd_yaml().expect("yaml");
    let docs: Vec<Value> = serde_yaml::Deserializer::from_str(&yaml)
        .map(|d| serde::Deserialize::deserialize(d).expect("document"))
        .collect();
    assert_eq!(docs.len(), 2);
    assert!(docs.iter().all(|d| d["kind"] == "CustomResourceDefinition"));
    assert_eq!(docs[1]["spec"]["names"]["kind"], "Role");
}

#[test]
fn users_never_show_their_password_hash() {
    let mut user = crate::testing::mk_user("alice", &["dev"]);
    user.spec.password_hash = PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
    let shown = format!("{user:?}");
    assert!(!shown.contains("argon2id"), "{shown}");
    assert!(shown.contains("<redacted>"));
    assert_eq!(User::kind(&()), "User");
}

#[test]
fn rules_match_like_kubernetes_policy_rules() {
    let r = rule(
        &["get", "list"],
        &["", "apps"],
        &["pods", "deployments", "*/scale"],
    );
    assert!(r.allows("get", "", "pods"));
    assert!(r.allows("list", "apps", "deployments"));
    assert!(
        r.allows("get", "apps", "deployments/scale"),
        "*/scale matches any scale"
    );
    assert!(
        !r.allows("get", "", "pods/log"),
        "subresources are not implied"
    );
    assert!(!r.allows("delete", "", "pods"));
    assert!(!r.allows("get", "batch", "jobs"));
    let all = rule(&["*"], &["*"], &["*"]);
    assert!(all.allows("deletecollection", "whatever.io", "things/status"));
}

#[test]
fn role_specs_are_validated_before_anything_is_written() {
    let ok = mk_role(
        "dev",
        vec![rule(&["get"], &[""], &["pods"])],
        &["shop"],
        &["cicd"],
    );
    assert!(validate_role_spec(&ok.spec).is_ok());
    assert_eq!(
        ok.spec.scope(),
        Namespaces::Only(["shop".to_owned()].into())
    );
    let all = mk_role("ops", vec![rule(&["*"], &["*"], &["*"])], &["*"], &[]);
    assert_eq!(all.spec.scope(), Namespaces::All);
    let cases = [
        mk_role("x", vec![], &["shop"], &[]),
        mk_role("x", vec![rule(&[], &[""], &["pods"])], &["shop"], &[]),
        mk_role(
            "x",
            vec![rule(&["steal"], &[""], &["pods"])],
            &["shop"],
            &[],
        ),
        mk_role("x", vec![rule(&["get"], &[""], &["pods"])], &[], &[]),
        mk_role(
            "x",
            vec![rule(&["get"], &[""], &["pods"])],
            &["*", "shop"],
            &[],
        ),
        mk_role("x", vec![rule(&["get"], &[""], &["pods"])], &["Shop"], &[]),
    ];
    for bad in cases {
        let err = validate_role_spec(&bad.spec).expect_err("invalid");
        assert_eq!(err.code(), "Invalid", "{err}");
    }
    assert!(validate_name("user", "alice-1").is_ok());
    assert!(validate_name("user", "Alice").is_err());
    assert!(validate_name("user", "a.b").is_err());
}

#[test]
fn the_admin_role_is_everything_everywhere() {
    let admin = Role::admin();
    assert_eq!(admin.metadata.name.as_deref(), Some(ADMIN_ROLE));
    assert_eq!(admin.spec.scope(), Namespaces::All);
    assert!(admin.spec.rules[0].allows(
        "delete",
        "apiextensions.k8s.io",
        "customresourcedefinitions"
    ));
}
