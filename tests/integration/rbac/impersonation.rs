//! Impersonated writes the role does not allow, refused by the apiserver itself.

use super::*;

#[tokio::test]
async fn impersonated_writes_the_role_does_not_allow_are_forbidden_by_the_apiserver() {
    let env = env("rbacimp", 2, Config::default()).await;
    let [a, b] = [env.tenants[0].clone(), env.tenants[1].clone()];
    let writer = env
        .role(
            "writer",
            vec![rule(&["get", "list", "create"], &[""], &["configmaps"])],
            &[&a],
        )
        .await;
    let user = env.user("writer", &[&writer]).await;
    let client = env.rbac.client_for(&user).expect("impersonating client");
    let configmaps = ResourceType::new("", "v1", "ConfigMap", "configmaps", true);
    let secrets = ResourceType::new("", "v1", "Secret", "secrets", true);
    let cm = |name: &str| {
        object(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}),
        )
    };
    // The binding propagates to the apiserver's authorizer asynchronously.
    eventually("the user's binding to take effect", || async {
        client
            .create(&configmaps, &a, &cm("allowed"), &WriteOptions::default())
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    let policy = env.rbac.policy().await.expect("policy");
    let refused = [
        (
            "configmaps in another namespace",
            client
                .create(&configmaps, &b, &cm("x"), &WriteOptions::default())
                .await
                .err(),
            Request::namespaced("create", "", "configmaps", &b),
        ),
        (
            "a secret",
            client
                .create(
                    &secrets,
                    &a,
                    &object(
                        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}),
                    ),
                    &WriteOptions::default(),
                )
                .await
                .err(),
            Request::namespaced("create", "", "secrets", &a),
        ),
        (
            "a delete",
            client
                .delete(&configmaps, &a, "allowed", &DeleteOptions::default())
                .await
                .err(),
            Request::namespaced("delete", "", "configmaps", &a),
        ),
    ];
    for (what, err, req) in refused {
        let err = err.unwrap_or_else(|| panic!("{what} went through"));
        assert_eq!(err.kind(), ErrorKind::Forbidden, "{what}: {err}");
        assert!(
            !policy.authorize(&user, &req).is_allowed(),
            "the authorizer agrees on {what}"
        );
    }
    assert!(
        policy
            .authorize(&user, &Request::namespaced("create", "", "configmaps", &a))
            .is_allowed()
    );
    env.admin
        .get(&configmaps, &a, "allowed")
        .await
        .expect("the allowed write landed");
    env.cleanup().await;
}
