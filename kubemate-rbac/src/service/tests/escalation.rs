//! No escalation, and no change of one's own roles: refused before any write.

use kubemate_core::{MockClusterClient, ObjectList, client::to_dynamic};

use super::*;
use crate::Error;

/// `lead` manages users and roles (a role over all namespaces on Kubemate's resources) and
/// works on pods and deployments in `shop` only.
async fn with_lead() -> World {
    let w = world().await;
    w.role(
        "user-admin",
        vec![rule(&["*"], &["kubemate.io"], &["users", "roles"])],
        &["*"],
    )
    .await;
    w.role(
        "shop-dev",
        vec![rule(
            &["get", "list", "create"],
            &["", "apps"],
            &["pods", "deployments"],
        )],
        &["shop"],
    )
    .await;
    w.role("pay-dev", vec![rule(&["get"], &[""], &["pods"])], &["pay"])
        .await;
    w.user("lead", &["user-admin", "shop-dev"]).await;
    w.user("alice", &[]).await;
    w
}

fn assert_escalation<T: std::fmt::Debug>(result: crate::Result<T>, what: &str) {
    match result {
        Err(Error::Escalation(_)) => {}
        other => panic!("{what}: expected an escalation refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn escalation_is_refused_before_any_write() {
    let w = with_lead().await;
    let writes = w.fake.writes();
    let shop_pods = |verbs: &[&str]| rule(verbs, &[""], &["pods"]);
    assert_escalation(
        w.rbac
            .create_role(
                "lead",
                "wider",
                mk_role_spec(vec![shop_pods(&["delete"])], &["shop"]),
            )
            .await,
        "a verb lead lacks",
    );
    assert_escalation(
        w.rbac
            .create_role(
                "lead",
                "wider",
                mk_role_spec(vec![shop_pods(&["get"])], &["shop", "pay"]),
            )
            .await,
        "a namespace lead lacks",
    );
    assert_escalation(
        w.rbac
            .create_role(
                "lead",
                "wider",
                mk_role_spec(vec![shop_pods(&["get"])], &["*"]),
            )
            .await,
        "all namespaces",
    );
    assert_escalation(
        w.rbac
            .create_role(
                "lead",
                "wider",
                mk_role_spec(vec![rule(&["get"], &[""], &["secrets"])], &["shop"]),
            )
            .await,
        "a resource lead lacks",
    );
    assert_escalation(
        w.rbac
            .create_role(
                "lead",
                "wider",
                mk_role("x", vec![shop_pods(&["get"])], &["shop"], &["audit"]).spec,
            )
            .await,
        "a menu lead lacks",
    );
    assert_escalation(
        w.rbac.bind("lead", "alice", "pay-dev").await,
        "binding a wider role",
    );
    assert_escalation(w.rbac.bind("lead", "alice", "admin").await, "binding admin");
    assert_escalation(w.rbac.bind("lead", "lead", "shop-dev").await, "own roles");
    assert_escalation(w.rbac.unbind("lead", "lead", "shop-dev").await, "own roles");
    assert_escalation(
        w.rbac
            .set_password("lead", "admin", &Password::new("taken-over-123"))
            .await,
        "the admin's password",
    );
    assert_escalation(
        w.rbac.set_disabled("lead", "admin", true).await,
        "disabling admin",
    );
    assert_escalation(w.rbac.delete_user("lead", "admin").await, "deleting admin");
    assert_escalation(
        w.rbac
            .update_role(
                "lead",
                "pay-dev",
                mk_role_spec(vec![shop_pods(&["get"])], &["shop"]),
            )
            .await,
        "rewriting a role lead does not hold",
    );
    assert_escalation(
        w.rbac.delete_role("lead", "pay-dev").await,
        "deleting a role lead does not hold",
    );
    assert_escalation(
        w.rbac
            .create_user(
                "lead",
                NewUser {
                    name: "mallory".into(),
                    display_name: String::new(),
                    email: String::new(),
                    password: Password::new("mallory-password"),
                    roles: vec!["admin".into()],
                },
            )
            .await,
        "creating an admin",
    );
    assert_eq!(w.fake.writes(), writes, "no write at all");

    // Within what lead holds, everything works.
    w.rbac
        .create_role(
            "lead",
            "shop-reader",
            mk_role_spec(vec![shop_pods(&["get", "list"])], &["shop"]),
        )
        .await
        .expect("a narrower role");
    w.rbac
        .bind("lead", "alice", "shop-reader")
        .await
        .expect("bind it");
    w.rbac
        .bind("lead", "alice", "shop-dev")
        .await
        .expect("bind lead's own role to another");
}

#[tokio::test]
async fn users_without_the_right_verb_are_forbidden() {
    let w = with_lead().await;
    w.user("carol", &["shop-dev"]).await;
    let writes = w.fake.writes();
    let err = w
        .rbac
        .create_role(
            "carol",
            "x",
            mk_role_spec(vec![rule(&["get"], &[""], &["pods"])], &["shop"]),
        )
        .await
        .expect_err("carol manages no roles");
    assert_eq!(err.code(), "Forbidden");
    let err = w
        .rbac
        .bind("carol", "alice", "shop-dev")
        .await
        .expect_err("nor users");
    assert_eq!(err.code(), "Forbidden");
    assert_eq!(w.fake.writes(), writes);
}

#[tokio::test]
async fn admins_cannot_change_their_own_roles_nor_remove_the_last_admin() {
    let w = world().await;
    assert_escalation(w.rbac.unbind("admin", "admin", "admin").await, "own roles");
    assert_escalation(
        w.rbac.set_disabled("admin", "admin", true).await,
        "own account",
    );
    assert_escalation(w.rbac.delete_user("admin", "admin").await, "own account");
    w.user("root2", &["admin"]).await;
    w.rbac
        .set_disabled("admin", "root2", true)
        .await
        .expect("disable the other");
    let err = w
        .rbac
        .unbind("root2", "admin", "admin")
        .await
        .expect_err("disabled actor");
    assert_eq!(err.code(), "Forbidden");
    let err = w
        .rbac
        .create_role("admin", "admin", Role::admin().spec)
        .await
        .expect_err("built in");
    // Well-formed, but in conflict with what Kubemate defines: 409, not 400.
    assert_eq!(err.code(), "Conflict");
}

/// With a mock cluster: an escalation makes the two reads of the snapshot and no write.
#[tokio::test]
async fn a_refused_escalation_makes_no_write_call() {
    let mut lead = crate::testing::mk_user("lead", &["user-admin", "shop-dev"]);
    lead.metadata.uid = Some("u1".into());
    let users = vec![to_dynamic(&lead).expect("user")];
    let roles = vec![
        to_dynamic(&mk_role(
            "user-admin",
            vec![rule(&["*"], &["kubemate.io"], &["users", "roles"])],
            &["*"],
            &[],
        ))
        .expect("role"),
        to_dynamic(&mk_role(
            "shop-dev",
            vec![rule(&["get"], &[""], &["pods"])],
            &["shop"],
            &[],
        ))
        .expect("role"),
    ];
    let mut mock = MockClusterClient::new();
    mock.expect_list().times(2).returning(move |rt, _, _| {
        Ok(ObjectList {
            items: if rt.plural == "users" {
                users.clone()
            } else {
                roles.clone()
            },
            resource_version: "1".into(),
            continue_token: None,
        })
    });
    mock.expect_create().times(0);
    mock.expect_replace().times(0);
    mock.expect_apply().times(0);
    mock.expect_merge_patch().times(0);
    mock.expect_merge_patch_status().times(0);
    mock.expect_delete().times(0);
    let rbac = Rbac::new(Arc::new(mock), Config::default());
    let err = rbac
        .create_role(
            "lead",
            "wider",
            mk_role_spec(vec![rule(&["get"], &[""], &["pods"])], &["shop", "pay"]),
        )
        .await
        .expect_err("refused");
    assert_eq!(err.code(), "EscalationRefused");
    assert_eq!(
        err.to_string(),
        "escalation refused: \"lead\" cannot grant get on pods in namespace \"pay\": they do not hold it"
    );
}

#[tokio::test]
async fn the_operator_is_not_a_user_and_skips_only_kubemate_checks() {
    // No Kubemate user is needed: the operator's authority is their own Kubernetes identity.
    let fake = cluster_with_crds().await;
    let rbac = Rbac::new(
        Arc::new(fake.clone()),
        config(&Arc::new(AtomicI64::new(START))),
    );
    fake.create_as(
        "",
        &Namespace {
            metadata: ObjectMeta {
                name: Some(crate::derive::DEFAULT_NAMESPACE.into()),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .expect("kubemate namespace");
    let everything = mk_role_spec(vec![rule(&["*"], &["*"], &["*"])], &["*"]);
    rbac.create_role(Actor::Operator, "root", everything)
        .await
        .expect("the operator grants what no Kubemate user holds");
    rbac.create_user(
        Actor::Operator,
        NewUser {
            name: "ops".into(),
            display_name: String::new(),
            email: String::new(),
            password: Password::new("ops-password-1"),
            roles: vec!["root".into()],
        },
    )
    .await
    .expect("create user");
    rbac.bind(Actor::Operator, "ops", "admin")
        .await
        .expect("bind");
    rbac.set_disabled(Actor::Operator, "ops", true)
        .await
        .expect("disable");
    // The name "operator" is an ordinary account name: it gets no operator power.
    let denied = rbac
        .create_role("operator", "other", mk_role_spec(vec![], &["shop"]))
        .await;
    assert!(denied.is_err());
    let denied = rbac
        .create_role(
            "operator",
            "other",
            mk_role_spec(vec![rule(&["get"], &[""], &["pods"])], &["shop"]),
        )
        .await;
    assert!(matches!(denied, Err(Error::Forbidden(_))), "{denied:?}");
    assert_eq!(Actor::Operator.to_string(), "operator");
    assert_eq!(Actor::from("alice"), Actor::User("alice"));
}
