//! The `kubemate` binary on the real control plane, as an operator runs it: with the admin
//! kubeconfig, its own audit log, and a Kubemate namespace of its own (so it shares the
//! cluster with the other tests). It installs the CRDs, creates a user (password on standard
//! input) and a role and binds them, reads and scales a Deployment, shows its rollout history
//! and the nodes — then the audit log holds every one of these operations, verifies, and stops
//! verifying once one line of it is edited.
//!
//! The binary is the one `cargo test --workspace` builds next to this test executable
//! (`target/debug/kubemate`).

use k8s_openapi::api::{apps::v1::Deployment, rbac::v1::RoleBinding};
use kubemate_core::{
    ClusterClientExt, ListOptions, ResourceType, WriteOptions,
    conformance::{drop_namespace, eventually, fresh_namespace, suffix},
    testing::mk_deployment,
};
use kubemate_rbac::{Password, Role, User, password};
use serde_json::Value;

use kubemate_tests::Operator;

#[tokio::test]
async fn cli_operates_the_real_cluster_and_audits_every_operation() {
    let admin = kubemate_tests::cluster().await;
    let id = suffix();
    let home = format!("cli-km-{id}");
    let tenant = fresh_namespace(&*admin, "cli").await;
    let (user, role) = (format!("cli-alice-{id}"), format!("cli-viewer-{id}"));
    let op = Operator::new(home.clone());

    // Install: the CRDs, and Kubemate's namespace since this one does not exist yet.
    let out = op.ok(&["crds", "install"], "");
    assert!(
        out.contains("customresourcedefinition.apiextensions.k8s.io/users.kubemate.io installed"),
        "{out}"
    );
    assert!(out.contains(&format!("namespace/{home} created")), "{out}");

    // A user whose password comes on standard input, never on the command line.
    let secret = format!("pw-{id}-correct-horse");
    let out = op.ok(
        &[
            "user",
            "create",
            &user,
            "--password-stdin",
            "--display-name",
            "Alice",
        ],
        &format!("{secret}\n"),
    );
    assert_eq!(out, format!("user/{user} created\n"));
    let stored: User = admin.get_as("", &user).await.expect("the user");
    assert!(password::verify(
        &Password::new(secret.as_str()),
        &stored.spec.password_hash
    ));

    // A read-only role over the tenant namespace, bound to the user: Kubernetes RBAC follows.
    let out = op.ok(
        &[
            "role",
            "create",
            &role,
            "--namespaces",
            &tenant,
            "--rule",
            "get,list:deployments,pods",
        ],
        "",
    );
    assert_eq!(out, format!("role/{role} created\n"));
    let out = op.ok(&["bind", &user, &role], "");
    assert_eq!(out, format!("role/{role} bound to user/{user}\n"));
    let bindings: Vec<RoleBinding> = admin
        .list_all_as(&tenant, &ListOptions::default())
        .await
        .expect("bindings");
    assert!(
        bindings.iter().any(|b| b
            .subjects
            .iter()
            .flatten()
            .any(|s| s.name == format!("kubemate-user-{user}")
                && s.namespace.as_deref() == Some(home.as_str()))),
        "{bindings:?}"
    );

    // A Deployment read as JSON, scaled, and its rollout history.
    let deployments = ResourceType::of::<Deployment>();
    admin
        .create(
            &deployments,
            &tenant,
            &mk_deployment("web", 1, "registry.example.com/web:1.0"),
            &WriteOptions::default(),
        )
        .await
        .expect("deployment");
    let listed: Value =
        serde_json::from_str(&op.ok(&["get", "deployments", "-n", &tenant, "-o", "json"], ""))
            .expect("json");
    assert_eq!(listed["kind"], "List");
    assert_eq!(listed["items"][0]["metadata"]["name"], "web");
    assert_eq!(listed["items"][0]["kind"], "Deployment");
    let out = op.ok(
        &[
            "scale",
            "deployment",
            "web",
            "--replicas",
            "3",
            "-n",
            &tenant,
        ],
        "",
    );
    assert_eq!(out, "deployment.apps/web scaled\n");
    let scaled: Deployment = admin.get_as(&tenant, "web").await.expect("web");
    assert_eq!(scaled.spec.and_then(|s| s.replicas), Some(3));
    let history = eventually("the first revision of web", || async {
        let out = op.ok(
            &["rollout", "history", "deployment", "web", "-n", &tenant],
            "",
        );
        out.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("1 "))
            .then_some(out)
    })
    .await;
    assert!(
        history.starts_with("REVISION   CURRENT   CHANGE-CAUSE"),
        "{history}"
    );

    let nodes = op.ok(&["nodes"], "");
    assert!(nodes.starts_with("NAME "), "{nodes}");
    assert!(nodes.lines().count() >= 2, "{nodes}");

    // Every operation is in the audit log, in the name of the kubeconfig's user.
    let records: Value =
        serde_json::from_str(&op.ok(&["audit", "query", "-o", "json"], "")).expect("json");
    let records = records.as_array().expect("records");
    let done: Vec<String> = records
        .iter()
        .filter(|r| r["stage"] == "response" && r["outcome"] == "success")
        .map(|r| {
            format!(
                "{} {}",
                r["verb"].as_str().unwrap_or_default(),
                r["kind"].as_str().unwrap_or_default()
            )
        })
        .collect();
    for expected in [
        "install customresourcedefinitions",
        "create namespaces",
        "create users",
        "create roles",
        "bind users/roles",
        "list deployments",
        "scale deployments",
        "history deployments",
        "list nodes",
    ] {
        assert!(
            done.iter().any(|d| d == expected),
            "{expected} not in {done:?}"
        );
    }
    assert!(
        records
            .iter()
            .all(|r| r["source"] == "cli" && r["user"] == "admin"),
        "{records:?}"
    );
    let scale: Value = serde_json::from_str(&op.ok(
        &[
            "audit",
            "query",
            "--verb",
            "scale",
            "--namespace",
            &tenant,
            "-o",
            "json",
        ],
        "",
    ))
    .expect("json");
    assert_eq!(
        scale.as_array().map(Vec::len),
        Some(2),
        "request and response: {scale}"
    );
    let log = std::fs::read_to_string(&op.audit_log).expect("audit log");
    assert!(
        !log.contains(&secret),
        "the password is not in the audit log"
    );

    // The chain verifies, and stops verifying once one line is edited.
    let out = op.ok(&["audit", "verify"], "");
    assert!(out.contains("hash chain intact"), "{out}");
    let edited: Vec<String> = log
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 4 {
                l.replace("\"admin\"", "\"mallory\"")
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert_ne!(edited.join("\n") + "\n", log, "line 5 names the user");
    std::fs::write(&op.audit_log, edited.join("\n") + "\n").expect("edit the log");
    let out = op.run(&["audit", "verify"], "");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: AuditChainBroken: "), "{stderr}");
    assert!(stderr.contains("line 5"), "{stderr}");

    // Clean up through the CLI too (a fresh log: the edited one no longer chains).
    let cleanup = Operator::new(home.clone());
    cleanup.ok(&["unbind", &user, &role], "");
    assert_eq!(
        cleanup.ok(&["user", "delete", &user], ""),
        format!("user/{user} deleted\n")
    );
    assert_eq!(
        cleanup.ok(&["role", "delete", &role], ""),
        format!("role/{role} deleted\n")
    );
    assert!(
        admin
            .get_opt_as::<User>("", &user)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        admin
            .get_opt_as::<Role>("", &role)
            .await
            .expect("get")
            .is_none()
    );
    drop_namespace(&*admin, &tenant).await;
    drop_namespace(&*admin, &home).await;
}
