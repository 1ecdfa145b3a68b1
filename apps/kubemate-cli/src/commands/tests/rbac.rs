//! `crds`, `user`, `role`, `bind` and `unbind`.

use k8s_openapi::api::{core::v1::Namespace, rbac::v1::RoleBinding};
use kubemate_audit::{Outcome, Stage};
use kubemate_core::{ClusterClient, ClusterClientExt, FakeCluster, ListOptions};
use kubemate_rbac::{Password, User, password};
use serde_json::{Value, json};

use crate::commands::{
    Io, execute,
    testing::{OPERATOR, harness, with_cluster},
};

const PASSWORD: &str = "correct-horse-battery-1";

/// The CRDs as a cluster that serves them has them: with the Established condition.
fn served_crds() -> String {
    let mut yaml = String::new();
    for crd in kubemate_rbac::crds() {
        let mut v = serde_json::to_value(&crd).expect("crd");
        v["status"] = json!({
            "acceptedNames": v["spec"]["names"].clone(),
            "storedVersions": ["v1alpha1"],
            "conditions": [{"type": "Established", "status": "True"}],
        });
        yaml.push_str("---\n");
        yaml.push_str(&serde_yaml::to_string(&v).expect("yaml"));
    }
    yaml
}

#[tokio::test]
async fn crds_prints_the_yaml_without_a_cluster_call() {
    let h = harness().await;
    let before = h.fake.actions().len();
    let out = h.run(&["crds"], "").await.ok();
    assert_eq!(out, kubemate_rbac::crd_yaml().expect("yaml"));
    assert!(out.contains("name: users.kubemate.io") && out.contains("name: roles.kubemate.io"));
    assert_eq!(h.fake.actions().len(), before);
    assert!(h.records().await.is_empty());
}

#[tokio::test]
async fn crds_install_applies_them_and_creates_kubemates_namespace() {
    let h = with_cluster(FakeCluster::from_yaml(&served_crds()).expect("seed"));
    let out = h.run(&["crds", "install", "--timeout", "5"], "").await.ok();
    assert_eq!(
        out,
        "customresourcedefinition.apiextensions.k8s.io/users.kubemate.io installed\n\
         customresourcedefinition.apiextensions.k8s.io/roles.kubemate.io installed\n\
         namespace/kubemate-system created\n"
    );
    let ns: Option<Namespace> = h.fake.get_opt_as("", "kubemate-system").await.expect("get");
    assert!(ns.is_some());
    let verbs: Vec<(String, String, Stage)> = h
        .records()
        .await
        .into_iter()
        .map(|r| (r.verb, r.kind, r.stage))
        .collect();
    assert_eq!(
        verbs,
        [
            (
                "install".into(),
                "customresourcedefinitions".into(),
                Stage::Request
            ),
            (
                "install".into(),
                "customresourcedefinitions".into(),
                Stage::Response
            ),
            ("create".into(), "namespaces".into(), Stage::Request),
            ("create".into(), "namespaces".into(), Stage::Response),
        ]
    );
    // A second install leaves the namespace alone.
    let out = h.run(&["crds", "install"], "").await.ok();
    assert!(!out.contains("namespace/"), "{out}");
}

async fn user(h: &crate::commands::testing::Harness, name: &str) -> User {
    h.fake.get_as("", name).await.expect("user")
}

#[tokio::test]
async fn users_get_their_password_from_stdin_and_are_listed_without_it() {
    let h = harness().await;
    let out = h
        .run(
            &[
                "user",
                "create",
                "alice",
                "--password-stdin",
                "--display-name",
                "Alice A.",
                "--email",
                "alice@example.com",
            ],
            &format!("{PASSWORD}\n"),
        )
        .await
        .ok();
    assert_eq!(out, "user/alice created\n");
    let alice = user(&h, "alice").await;
    assert_eq!(alice.spec.display_name, "Alice A.");
    // The final line break of `echo` is not part of the password.
    assert!(password::verify(
        &Password::new(PASSWORD),
        &alice.spec.password_hash
    ));

    let table = h.run(&["user", "list"], "").await.ok();
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some("NAME    DISPLAY-NAME   EMAIL               ROLES    DISABLED   AGE")
    );
    assert!(lines.next().is_some_and(|l| {
        l.starts_with("alice   Alice A.       alice@example.com   <none>   false      ")
    }));
    for format in ["json", "yaml"] {
        let out = h.run(&["user", "list", "-o", format], "").await.ok();
        assert!(out.contains("alice@example.com"), "{out}");
        assert!(
            !out.contains("passwordHash") && !out.contains("argon2"),
            "{out}"
        );
    }
    let json: Value =
        serde_json::from_str(&h.run(&["user", "list", "-o", "json"], "").await.ok()).expect("json");
    assert_eq!(json[0]["name"], "alice");
    assert_eq!(json[0]["serviceAccount"], "kubemate-user-alice");

    // Neither the password nor its hash reaches the audit log.
    let log = std::fs::read_to_string(&h.audit_log).expect("log");
    assert!(!log.contains(PASSWORD) && !log.contains("argon2"));
    let create = h.records().await;
    assert_eq!(create[0].user, OPERATOR);
    assert_eq!(create[0].source.as_deref(), Some("cli"));
    assert_eq!(
        (create[1].verb.as_str(), create[1].kind.as_str()),
        ("create", "users")
    );
    assert_eq!(create[1].name.as_deref(), Some("alice"));
    assert_eq!(create[1].outcome, Outcome::Success);
}

#[tokio::test]
async fn a_password_is_not_read_from_a_terminal_nor_empty() {
    let h = harness().await;
    let before = h.fake.writes().len();
    let cli = <crate::Cli as clap::Parser>::try_parse_from([
        "kubemate",
        "user",
        "create",
        "bob",
        "--password-stdin",
    ])
    .expect("parses");
    let mut out = Vec::new();
    let mut stdin = PASSWORD.as_bytes();
    let mut io = Io {
        out: &mut out,
        stdin: &mut stdin,
        stdin_is_terminal: true,
    };
    let err = execute(cli.command, &h.env, &mut io)
        .await
        .expect_err("terminal");
    assert_eq!(err.code(), "Invalid");
    assert!(err.message().contains("not a terminal"), "{err}");
    let err = h
        .run(&["user", "create", "bob", "--password-stdin"], "\n")
        .await
        .err();
    assert!(err.message().contains("no password"), "{err}");
    let err = h
        .run(&["user", "create", "bob", "--password-stdin"], "short")
        .await
        .err();
    assert_eq!(err.code(), "Invalid");
    assert!(err.message().contains("too short"), "{err}");
    assert!(
        !err.to_string().contains("short\""),
        "the password is not echoed: {err}"
    );
    assert_eq!(h.fake.writes().len(), before);
}

#[tokio::test]
async fn roles_bindings_and_the_user_lifecycle() {
    let h = harness().await;
    let out = h
        .run(
            &[
                "role",
                "create",
                "viewer",
                "--namespaces",
                "shop",
                "--rule",
                "get,list:deployments,pods",
                "--rule",
                "get:pods/log",
                "--menu",
                "audit",
                "--description",
                "read shop",
            ],
            "",
        )
        .await
        .ok();
    assert_eq!(out, "role/viewer created\n");
    let roles = h.run(&["role", "list"], "").await.ok();
    assert_eq!(
        roles.lines().next(),
        Some(
            "NAME     NAMESPACES   RULES                                                  MENUS   AGE"
        )
    );
    assert!(
        roles.contains(
            "viewer   shop         get,list:apps/deployments get,list:pods get:pods/log   audit"
        ),
        "{roles}"
    );
    let json: Value =
        serde_json::from_str(&h.run(&["role", "list", "-o", "json"], "").await.ok()).expect("json");
    assert_eq!(json[0]["name"], "viewer");
    assert_eq!(json[0]["namespaces"], json!(["shop"]));
    assert_eq!(json[0]["rules"][0]["apiGroups"], json!(["apps"]));
    let yaml: Value =
        serde_yaml::from_str(&h.run(&["role", "list", "-o", "yaml"], "").await.ok()).expect("yaml");
    assert_eq!(yaml, json);

    h.run(&["user", "create", "alice", "--password-stdin"], PASSWORD)
        .await
        .ok();
    let out = h.run(&["bind", "alice", "viewer"], "").await.ok();
    assert_eq!(out, "role/viewer bound to user/alice\n");
    assert_eq!(user(&h, "alice").await.spec.roles, ["viewer"]);
    let bindings: Vec<RoleBinding> = h
        .fake
        .list_all_as("shop", &ListOptions::default())
        .await
        .expect("bindings");
    assert_eq!(bindings.len(), 1, "{bindings:?}");

    let out = h
        .run(
            &["user", "passwd", "alice", "--password-stdin"],
            "another-password-2",
        )
        .await
        .ok();
    assert_eq!(out, "user/alice password changed\n");
    let alice = user(&h, "alice").await;
    assert!(password::verify(
        &Password::new("another-password-2"),
        &alice.spec.password_hash
    ));
    assert_eq!(alice.spec.token_generation, 1);

    assert_eq!(
        h.run(&["user", "disable", "alice"], "").await.ok(),
        "user/alice disabled\n"
    );
    assert!(user(&h, "alice").await.spec.disabled);
    assert!(h.run(&["user", "list"], "").await.ok().contains("true"));
    assert_eq!(
        h.run(&["user", "enable", "alice"], "").await.ok(),
        "user/alice enabled\n"
    );
    assert!(!user(&h, "alice").await.spec.disabled);

    let out = h.run(&["unbind", "alice", "viewer"], "").await.ok();
    assert_eq!(out, "role/viewer unbound from user/alice\n");
    assert!(user(&h, "alice").await.spec.roles.is_empty());

    assert_eq!(
        h.run(&["role", "delete", "viewer"], "").await.ok(),
        "role/viewer deleted\n"
    );
    assert_eq!(
        h.run(&["user", "delete", "alice"], "").await.ok(),
        "user/alice deleted\n"
    );
    let gone: Option<User> = h.fake.get_opt_as("", "alice").await.expect("get");
    assert!(gone.is_none());

    let verbs: Vec<String> = h
        .records()
        .await
        .into_iter()
        .filter(|r| r.stage == Stage::Response)
        .map(|r| format!("{} {} {}", r.verb, r.kind, r.name.unwrap_or_default()))
        .collect();
    assert_eq!(
        verbs,
        [
            "create roles viewer",
            "list roles ",
            "list roles ",
            "list roles ",
            "create users alice",
            "bind users/roles alice/viewer",
            "set-password users alice",
            "disable users alice",
            "list users ",
            "enable users alice",
            "unbind users/roles alice/viewer",
            "delete roles viewer",
            "delete users alice",
        ]
    );
}

#[tokio::test]
async fn user_unlock_lifts_a_lockout() {
    let h = harness().await;
    h.run(&["user", "create", "alice", "--password-stdin"], PASSWORD)
        .await
        .ok();
    h.fake
        .merge_patch_status(
            &kubemate_core::ResourceType::of::<User>(),
            "",
            "alice",
            &json!({"status": {"failedLogins": 50, "lockedUntil": "2099-01-01T00:00:00Z"}}),
        )
        .await
        .expect("lock alice");
    let json: Value =
        serde_json::from_str(&h.run(&["user", "list", "-o", "json"], "").await.ok()).expect("json");
    assert_eq!(json[0]["lockedUntil"], "2099-01-01T00:00:00Z");
    assert_eq!(
        h.run(&["user", "unlock", "alice"], "").await.ok(),
        "user/alice unlocked\n"
    );
    let alice = user(&h, "alice").await;
    assert_eq!(
        (alice.failed_logins(), alice.locked_until()),
        (0, None),
        "{:?}",
        alice.status
    );
    let rbac = h.env.rbac();
    rbac.login("alice", &Password::new(PASSWORD))
        .await
        .expect("alice logs in");
    assert_eq!(
        h.run(&["user", "unlock", "nobody"], "").await.err().code(),
        "NotFound"
    );
    let unlocks: Vec<(String, Option<String>, Outcome)> = h
        .records()
        .await
        .into_iter()
        .filter(|r| r.verb == "unlock" && r.stage == Stage::Response)
        .map(|r| (r.user, r.name, r.outcome))
        .collect();
    assert_eq!(
        unlocks,
        [
            (
                OPERATOR.to_owned(),
                Some("alice".to_owned()),
                Outcome::Success
            ),
            (
                OPERATOR.to_owned(),
                Some("nobody".to_owned()),
                Outcome::Failure
            ),
        ]
    );
}

#[tokio::test]
async fn rbac_refusals_keep_their_codes() {
    let h = harness().await;
    let err = h.run(&["bind", "nobody", "admin"], "").await.err();
    assert_eq!(err.code(), "NotFound");
    assert_eq!(err.to_string(), "NotFound: user \"nobody\" not found");
    let err = h
        .run(
            &[
                "role",
                "create",
                "Bad_Name",
                "--namespaces",
                "shop",
                "--rule",
                "get:pods",
            ],
            "",
        )
        .await
        .err();
    assert_eq!(err.code(), "Invalid");
    let failed = h.records().await.pop().expect("a record");
    assert_eq!(
        (failed.outcome, failed.error_code.as_deref()),
        (Outcome::Failure, Some("Invalid"))
    );
}
