//! Reconcile, bind, unbind and deletions: exactly what is derived, nothing more.

use super::*;

#[tokio::test]
async fn reconciling_twice_changes_nothing() {
    let w = world().await;
    w.role("one", vec![rule(&["get"], &[""], &["pods"])], &["shop"])
        .await;
    w.role(
        "two",
        vec![rule(&["list"], &["apps"], &["deployments"])],
        &["shop", "pay"],
    )
    .await;
    w.role("all", vec![rule(&["get"], &["*"], &["*"])], &["*"])
        .await;
    w.user("alice", &["one", "two"]).await;
    w.user("bob", &["all"]).await;
    let before = w.managed().await;
    // ServiceAccounts (admin, alice, bob), Role, ClusterRoles (admin, two, all), RoleBindings, ClusterRoleBindings.
    assert_eq!(before.len(), 3 + 1 + 3 + 3 + 2, "{before:#?}");
    let writes = w.fake.writes().len();
    for scope in [
        Scope::All,
        Scope::User("alice".into()),
        Scope::Role("two".into()),
    ] {
        let report = w.rbac.reconcile(&scope).await.expect("reconcile");
        assert!(report.is_unchanged(), "{scope:?}: {report:?}");
    }
    assert_eq!(
        w.managed().await,
        before,
        "same objects, same resourceVersions"
    );
    assert_eq!(w.fake.writes().len(), writes, "not a single write");
}

#[tokio::test]
async fn reconcile_repairs_drift_and_removes_strays() {
    let w = world().await;
    w.role("one", vec![rule(&["get"], &[""], &["pods"])], &["shop"])
        .await;
    w.user("alice", &["one"]).await;
    // Someone edits the derived Role and deletes the binding.
    let mut role: RbacRole = w.fake.get_as("shop", "kubemate.one").await.expect("role");
    role.rules = Some(vec![]);
    w.fake.replace_as("shop", &role).await.expect("edit");
    w.fake
        .delete_as::<RoleBinding>("shop", "kubemate.one.alice")
        .await
        .expect("delete");
    // And a stray managed binding of this install appears.
    let stray = RoleBinding {
        metadata: ObjectMeta {
            name: Some("kubemate.gone.alice".into()),
            labels: Some(
                [
                    (MANAGED_BY.to_owned(), "kubemate".to_owned()),
                    (
                        "kubemate.io/instance".to_owned(),
                        "kubemate-system".to_owned(),
                    ),
                    ("kubemate.io/user".to_owned(), "alice".to_owned()),
                    ("kubemate.io/role".to_owned(), "gone".to_owned()),
                ]
                .into(),
            ),
            ..Default::default()
        },
        role_ref: k8s_openapi::api::rbac::v1::RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Role".into(),
            name: "kubemate.gone".into(),
        },
        subjects: None,
    };
    w.fake.create_as("dev", &stray).await.expect("stray");
    let report = w.rbac.reconcile(&Scope::All).await.expect("reconcile");
    let mut done: Vec<_> = report
        .changes
        .iter()
        .map(|c| format!("{:?} {} {}/{}", c.action, c.kind, c.namespace, c.name))
        .collect();
    done.sort();
    assert_eq!(
        done,
        [
            "Created RoleBinding shop/kubemate.one.alice",
            "Deleted RoleBinding dev/kubemate.gone.alice",
            "Updated Role shop/kubemate.one",
        ]
    );
    let role: RbacRole = w.fake.get_as("shop", "kubemate.one").await.expect("role");
    assert_eq!(role.rules.expect("rules")[0].verbs, ["get"]);
}

#[tokio::test]
async fn bind_and_unbind_touch_exactly_the_derived_bindings() {
    let w = world().await;
    w.role(
        "multi",
        vec![rule(&["get"], &[""], &["pods"])],
        &["shop", "pay"],
    )
    .await;
    w.user("alice", &[]).await;
    w.user("bob", &["multi"]).await;
    // A binding Kubemate did not derive, in the same namespace.
    let foreign = RoleBinding {
        metadata: ObjectMeta {
            name: Some("hand-made".into()),
            ..Default::default()
        },
        role_ref: k8s_openapi::api::rbac::v1::RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "ClusterRole".into(),
            name: "view".into(),
        },
        subjects: None,
    };
    w.fake.create_as("shop", &foreign).await.expect("foreign");
    let before = w.managed().await;

    let report = w.rbac.bind("admin", "alice", "multi").await.expect("bind");
    assert_eq!(report.changes.len(), 2, "{report:?}");
    let after_bind = w.managed().await;
    let added: Vec<_> = after_bind
        .keys()
        .filter(|k| !before.contains_key(*k))
        .collect();
    assert_eq!(
        added,
        [
            "RoleBinding pay/kubemate.multi.alice",
            "RoleBinding shop/kubemate.multi.alice"
        ]
    );
    assert_eq!(
        w.rbac.user("alice").await.expect("alice").spec.roles,
        ["multi"]
    );

    w.rbac
        .unbind("admin", "alice", "multi")
        .await
        .expect("unbind");
    assert_eq!(w.managed().await, before, "back to exactly where it was");
    w.fake
        .get_as::<RoleBinding>("shop", "hand-made")
        .await
        .expect("foreign kept");
    assert!(
        w.rbac
            .user("alice")
            .await
            .expect("alice")
            .spec
            .roles
            .is_empty()
    );
}

#[tokio::test]
async fn changing_a_roles_namespaces_moves_its_objects() {
    let w = world().await;
    let r = vec![rule(&["get"], &[""], &["pods"])];
    w.role("moving", r.clone(), &["shop"]).await;
    w.user("alice", &["moving"]).await;
    let derived = |names: Vec<String>| -> Vec<String> {
        names.into_iter().filter(|n| n.contains("moving")).collect()
    };
    assert_eq!(
        derived(w.managed_names().await),
        [
            "Role shop/kubemate.moving",
            "RoleBinding shop/kubemate.moving.alice"
        ]
    );
    w.rbac
        .update_role("admin", "moving", mk_role_spec(r.clone(), &["shop", "pay"]))
        .await
        .expect("two");
    assert_eq!(
        derived(w.managed_names().await),
        [
            "ClusterRole /kubemate.moving",
            "RoleBinding pay/kubemate.moving.alice",
            "RoleBinding shop/kubemate.moving.alice"
        ]
    );
    let rb: RoleBinding = w
        .fake
        .get_as("shop", "kubemate.moving.alice")
        .await
        .expect("rb");
    assert_eq!(
        rb.role_ref.kind, "ClusterRole",
        "recreated with the new reference"
    );
    w.rbac
        .update_role(
            "admin",
            "moving",
            mk_role_spec(r.clone(), &["shop", "pay", "dev"]),
        )
        .await
        .expect("three");
    let (_, report) = w
        .rbac
        .update_role("admin", "moving", mk_role_spec(r.clone(), &["shop", "dev"]))
        .await
        .expect("drop pay");
    assert_eq!(
        report.changes.len(),
        1,
        "only pay's binding goes: {report:?}"
    );
    assert_eq!(report.changes[0].namespace, "pay");
    w.rbac
        .update_role("admin", "moving", mk_role_spec(r.clone(), &["*"]))
        .await
        .expect("all");
    assert_eq!(
        derived(w.managed_names().await),
        [
            "ClusterRole /kubemate.moving",
            "ClusterRoleBinding /kubemate.moving.alice"
        ]
    );
}

#[tokio::test]
async fn deleting_a_user_or_a_role_removes_what_was_derived() {
    let w = world().await;
    w.role("one", vec![rule(&["get"], &[""], &["pods"])], &["shop"])
        .await;
    w.role("all", vec![rule(&["get"], &["*"], &["*"])], &["*"])
        .await;
    let baseline = w.managed_names().await;
    w.user("alice", &["one", "all"]).await;
    w.user("bob", &["one"]).await;

    w.rbac
        .delete_user("admin", "alice")
        .await
        .expect("delete alice");
    let left = w.managed_names().await;
    assert!(!left.iter().any(|n| n.contains("alice")), "{left:?}");
    assert!(left.contains(&"RoleBinding shop/kubemate.one.bob".to_owned()));

    w.rbac
        .delete_role("admin", "one")
        .await
        .expect("delete one");
    let left = w.managed_names().await;
    assert!(!left.iter().any(|n| n.contains(".one")), "{left:?}");
    assert!(
        w.rbac.user("bob").await.expect("bob").spec.roles.is_empty(),
        "unbound"
    );
    w.rbac
        .delete_user("admin", "bob")
        .await
        .expect("delete bob");
    w.rbac
        .delete_role("admin", "all")
        .await
        .expect("delete all");
    let mut expected = baseline;
    expected.retain(|n| !n.contains(".one") && !n.contains(".all"));
    assert_eq!(w.managed_names().await, expected, "nothing orphaned");
}

#[tokio::test]
async fn disabled_users_hold_no_binding_until_enabled() {
    let w = world().await;
    w.role("one", vec![rule(&["get"], &[""], &["pods"])], &["shop"])
        .await;
    w.user("alice", &["one"]).await;
    w.rbac
        .set_disabled("admin", "alice", true)
        .await
        .expect("disable");
    let names = w.managed_names().await;
    assert!(!names.contains(&"RoleBinding shop/kubemate.one.alice".to_owned()));
    assert!(names.contains(&"ServiceAccount kubemate-system/kubemate-user-alice".to_owned()));
    w.rbac
        .set_disabled("admin", "alice", false)
        .await
        .expect("enable");
    assert!(
        w.managed_names()
            .await
            .contains(&"RoleBinding shop/kubemate.one.alice".to_owned())
    );
}

#[tokio::test]
async fn a_missing_namespace_is_reported_and_filled_in_later() {
    let w = world().await;
    w.role(
        "later",
        vec![rule(&["get"], &[""], &["pods"])],
        &["shop", "later"],
    )
    .await;
    w.user("alice", &["later"]).await;
    let report = w
        .rbac
        .reconcile(&Scope::User("alice".into()))
        .await
        .expect("reconcile");
    assert_eq!(report.missing_namespaces, ["later"]);
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some("later".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    w.fake.create_as("", &ns).await.expect("namespace");
    let report = w.rbac.reconcile(&Scope::All).await.expect("reconcile");
    assert!(report.missing_namespaces.is_empty());
    assert!(
        w.managed_names()
            .await
            .contains(&"RoleBinding later/kubemate.later.alice".to_owned())
    );
}
