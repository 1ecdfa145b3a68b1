//! Escalation refused before any write.

use super::*;

#[tokio::test]
async fn escalation_is_refused_before_any_write() {
    let env = env("rbacesc", 2, Config::default()).await;
    let [a, b] = [&env.tenants[0], &env.tenants[1]];
    let manage = env
        .role(
            "manage",
            vec![rule(&["*"], &["kubemate.io"], &["users", "roles"])],
            &["*"],
        )
        .await;
    let dev = env
        .role("dev", vec![rule(&["get", "list"], &[""], &["pods"])], &[a])
        .await;
    let wide = env
        .role("wide", vec![rule(&["*"], &[""], &["pods"])], &[a, b])
        .await;
    let lead = env.user("lead", &[&manage, &dev]).await;
    let alice = env.user("alice", &[]).await;

    let writes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&writes);
    let recording =
        kubemate_core::testing::BeforeWrite::new(Arc::clone(&env.admin), move |_write| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async {})
        });
    let guarded = Rbac::new(
        Arc::new(recording),
        Config {
            namespace: env.home.clone(),
            ..Config::default()
        },
    );
    let wider = env.name("wider");
    let attempts: Vec<(&str, kubemate_rbac::Result<()>)> = vec![
        (
            "a role over a namespace lead does not hold",
            guarded
                .create_role(
                    &lead,
                    &wider,
                    mk_role_spec(vec![rule(&["get"], &[""], &["pods"])], &[a, b]),
                )
                .await
                .map(|_| ()),
        ),
        (
            "a verb lead does not hold",
            guarded
                .create_role(
                    &lead,
                    &wider,
                    mk_role_spec(vec![rule(&["delete"], &[""], &["pods"])], &[a]),
                )
                .await
                .map(|_| ()),
        ),
        (
            "binding a wider role",
            guarded.bind(&lead, &alice, &wide).await.map(|_| ()),
        ),
        (
            "changing one's own roles",
            guarded.bind(&lead, &lead, &wide).await.map(|_| ()),
        ),
        (
            "dropping one's own roles",
            guarded.unbind(&lead, &lead, &dev).await.map(|_| ()),
        ),
    ];
    for (what, result) in attempts {
        assert!(
            matches!(result, Err(Error::Escalation(_))),
            "{what}: {result:?}"
        );
    }
    assert_eq!(
        writes.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no write reached the cluster"
    );
    assert!(
        env.admin
            .get_opt_as::<Role>("", &wider)
            .await
            .expect("get")
            .is_none()
    );
    assert_eq!(
        env.derived(USER_LABEL, &alice).await.len(),
        1,
        "alice has only her ServiceAccount"
    );

    // What lead holds, lead may grant: the same client now writes.
    guarded
        .bind(&lead, &alice, &dev)
        .await
        .expect("bind a role lead holds");
    assert!(writes.load(std::sync::atomic::Ordering::SeqCst) > 0);
    env.cleanup().await;
}
