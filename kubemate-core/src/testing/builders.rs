//! Builders of the test objects that the unit, conformance and integration tests share
//! (`mk_*`, after the policy-controller's style): one description of "a small Deployment"
//! instead of one per test file, varied through the object's fields or [`with_requests`].

use kube::core::DynamicObject;
use serde_json::{Value, json};

/// A workload of `kind` in `apps/v1` named `name`: its pods are labelled and selected by
/// `app: <name>` and run one container `main` with `image`. A StatefulSet gets the service
/// name it requires (`name`).
pub fn mk_workload(kind: &str, name: &str, replicas: i32, image: &str) -> DynamicObject {
    let mut value = json!({
        "apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image}]}
            }
        }
    });
    if kind == "StatefulSet" {
        value["spec"]["serviceName"] = json!(name);
    }
    crate::conformance::object(value)
}

/// A Deployment: see [`mk_workload`].
pub fn mk_deployment(name: &str, replicas: i32, image: &str) -> DynamicObject {
    mk_workload("Deployment", name, replicas, image)
}

/// A StatefulSet: see [`mk_workload`].
pub fn mk_statefulset(name: &str, replicas: i32, image: &str) -> DynamicObject {
    mk_workload("StatefulSet", name, replicas, image)
}

/// `obj` (a workload) with every container of its pod template requesting `cpu` and `memory`.
pub fn with_requests(obj: DynamicObject, cpu: &str, memory: &str) -> DynamicObject {
    let mut value = serde_json::to_value(obj).expect("test objects serialize");
    if let Some(containers) = value
        .pointer_mut("/spec/template/spec/containers")
        .and_then(Value::as_array_mut)
    {
        for c in containers {
            c["resources"] = json!({"requests": {"cpu": cpu, "memory": memory}});
        }
    }
    crate::conformance::object(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_make_the_objects_the_tests_expect() {
        let web = with_requests(mk_deployment("web", 2, "app:1"), "100m", "64Mi");
        assert_eq!(
            serde_json::to_value(&web).expect("serialize"),
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "main", "image": "app:1",
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}
                    }
                }
            })
        );
        let db = mk_statefulset("db", 1, "db:1");
        assert_eq!(db.data["spec"]["serviceName"], "db");
        assert_eq!(db.data["spec"]["replicas"], 1);
        assert!(
            mk_deployment("web", 1, "app:1").data["spec"]
                .get("serviceName")
                .is_none()
        );
    }
}
