//! Reconciling the RBAC objects, and cleanup through owner references and the garbage
//! collector.

use super::*;

#[tokio::test]
async fn reconciling_twice_changes_nothing_on_the_real_cluster() {
    let env = env("rbacidem", 2, Config::default()).await;
    let [a, b] = [&env.tenants[0], &env.tenants[1]];
    let one = env
        .role("one", vec![rule(&["get"], &[""], &["pods"])], &[a])
        .await;
    let two = env
        .role(
            "two",
            vec![rule(&["get"], &["apps"], &["deployments"])],
            &[a, b],
        )
        .await;
    let all = env
        .role("all", vec![rule(&["list"], &[""], &["nodes"])], &["*"])
        .await;
    let user = env.user("alice", &[&one, &two, &all]).await;
    let snapshot = || async {
        let opts = ListOptions::labels(format!("kubemate.io/instance={}", env.home));
        let mut rvs = Vec::new();
        for o in env
            .admin
            .list_all_as::<RoleBinding>("", &opts)
            .await
            .expect("rb")
        {
            rvs.push((
                o.metadata.name,
                o.metadata.namespace,
                o.metadata.resource_version,
            ));
        }
        for o in env
            .admin
            .list_all_as::<ClusterRoleBinding>("", &opts)
            .await
            .expect("crb")
        {
            rvs.push((o.metadata.name, None, o.metadata.resource_version));
        }
        for o in env
            .admin
            .list_all_as::<ClusterRole>("", &opts)
            .await
            .expect("cr")
        {
            rvs.push((o.metadata.name, None, o.metadata.resource_version));
        }
        for o in env
            .admin
            .list_all_as::<RbacRole>("", &opts)
            .await
            .expect("role")
        {
            rvs.push((
                o.metadata.name,
                o.metadata.namespace,
                o.metadata.resource_version,
            ));
        }
        for o in env
            .admin
            .list_all_as::<ServiceAccount>(&env.home, &opts)
            .await
            .expect("sa")
        {
            rvs.push((
                o.metadata.name,
                o.metadata.namespace,
                o.metadata.resource_version,
            ));
        }
        rvs.sort();
        rvs
    };
    let before = snapshot().await;
    assert_eq!(before.len(), 1 + 1 + 2 + 3 + 1, "{before:#?}");
    for scope in [
        Scope::User(user.clone()),
        Scope::Role(one.clone()),
        Scope::Role(two.clone()),
        Scope::Role(all.clone()),
    ] {
        let report = env.rbac.reconcile(&scope).await.expect("reconcile");
        assert!(report.is_unchanged(), "{scope:?}: {report:?}");
    }
    assert_eq!(snapshot().await, before, "same resourceVersions");
    env.cleanup().await;
}

#[tokio::test]
async fn unbinding_and_deleting_leave_no_binding() {
    let env = env("rbacgc", 2, Config::default()).await;
    let [a, b] = [&env.tenants[0], &env.tenants[1]];
    let multi = env
        .role("multi", vec![rule(&["get"], &[""], &["pods"])], &[a, b])
        .await;
    let single = env
        .role("single", vec![rule(&["get"], &[""], &["configmaps"])], &[a])
        .await;
    let alice = env.user("alice", &[&multi, &single]).await;
    assert_eq!(env.derived(USER_LABEL, &alice).await.len(), 1 + 3);

    env.rbac
        .unbind(&env.root, &alice, &multi)
        .await
        .expect("unbind");
    let left = env.derived(USER_LABEL, &alice).await;
    assert_eq!(
        left,
        [
            format!("RoleBinding {a}/kubemate.{single}.{alice}"),
            format!("ServiceAccount {}/kubemate-user-{alice}", env.home),
        ]
    );
    env.rbac
        .delete_user(&env.root, &alice)
        .await
        .expect("delete");
    assert!(
        env.derived(USER_LABEL, &alice).await.is_empty(),
        "nothing of alice is left"
    );

    // Without Kubemate: deleting the User resource alone lets the cluster's garbage collector
    // remove its ServiceAccount and bindings through their owner references.
    let bob = env.user("bob", &[&multi, &single]).await;
    assert_eq!(env.derived(USER_LABEL, &bob).await.len(), 1 + 3);
    env.admin
        .delete(
            &ResourceType::of::<User>(),
            "",
            &bob,
            &DeleteOptions::default(),
        )
        .await
        .expect("delete the User directly");
    eventually("the garbage collector to remove bob's objects", || async {
        env.derived(USER_LABEL, &bob).await.is_empty().then_some(())
    })
    .await;
    // And deleting a Role resource alone removes its Role / ClusterRole.
    assert_eq!(
        env.derived(ROLE_LABEL, &single).await,
        [format!("Role {a}/kubemate.{single}")]
    );
    env.admin
        .delete(
            &ResourceType::of::<Role>(),
            "",
            &single,
            &DeleteOptions::default(),
        )
        .await
        .expect("delete the Role directly");
    eventually(
        "the garbage collector to remove the derived Role",
        || async {
            env.derived(ROLE_LABEL, &single)
                .await
                .is_empty()
                .then_some(())
        },
    )
    .await;
    // Through Kubemate, a role's deletion is immediate, bindings included.
    let carol = env.user("carol", &[&multi]).await;
    assert_eq!(env.derived(ROLE_LABEL, &multi).await.len(), 1 + 2);
    env.rbac
        .delete_role(&env.root, &multi)
        .await
        .expect("delete role");
    assert!(env.derived(ROLE_LABEL, &multi).await.is_empty());
    assert_eq!(
        env.derived(USER_LABEL, &carol).await.len(),
        1,
        "only carol's ServiceAccount"
    );
    env.cleanup().await;
}
