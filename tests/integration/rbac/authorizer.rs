//! The authorizer against the apiserver's own RBAC decisions (SubjectAccessReview).

use super::*;

fn sar_type() -> ResourceType {
    ResourceType::new(
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        false,
    )
}

/// The apiserver's own answer for `user`'s ServiceAccount.
async fn apiserver_allows(
    admin: &dyn ClusterClient,
    home: &str,
    user: &str,
    req: &Request<'_>,
) -> bool {
    let identity = Identity::service_account(home, &service_account_name(user));
    let (resource, subresource) = req.resource.split_once('/').unwrap_or((req.resource, ""));
    let review = object(json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "metadata": {},
        "spec": {
            "user": identity.user,
            "groups": identity.groups,
            "resourceAttributes": {
                "namespace": req.namespace.unwrap_or_default(),
                "verb": req.verb,
                "group": req.group,
                "resource": resource,
                "subresource": subresource,
            }
        }
    }));
    let answer = admin
        .create(&sar_type(), "", &review, &WriteOptions::default())
        .await
        .expect("SubjectAccessReview");
    answer
        .data
        .pointer("/status/allowed")
        .and_then(|v| v.as_bool())
        == Some(true)
}

const VERBS: &[&str] = &["get", "list", "watch", "create", "update", "delete"];
const RESOURCES: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "configmaps"),
    ("", "secrets"),
    ("apps", "deployments"),
    ("", "nodes"),
    ("apps", "deployments/scale"),
    ("", "pods/log"),
];

#[tokio::test]
async fn the_authorizer_agrees_with_the_apiserver() {
    let env = env("rbacdiff", 3, Config::default()).await;
    let [a, b, _c] = [&env.tenants[0], &env.tenants[1], &env.tenants[2]];
    let one = env
        .role(
            "one",
            vec![
                rule(&["get", "list"], &[""], &["pods"]),
                rule(&["create"], &[""], &["configmaps"]),
            ],
            &[a],
        )
        .await;
    let several = env
        .role(
            "several",
            vec![
                rule(&["get", "list", "watch"], &["apps"], &["deployments"]),
                rule(&["delete"], &[""], &["pods"]),
                rule(&["get"], &[""], &["pods/log"]),
            ],
            &[a, b],
        )
        .await;
    let all = env
        .role(
            "all",
            vec![
                rule(&["get", "list"], &[""], &["configmaps", "nodes"]),
                rule(&["update"], &["apps"], &["*/scale"]),
            ],
            &["*"],
        )
        .await;
    // Kubemate's own namespace is reserved: no role grants its Secrets. `keeper` names it (its
    // derived RoleBinding there refers to a Role without Secrets: the apiserver agrees);
    // `secrets` covers it through `*` (a ClusterRoleBinding, which RBAC cannot narrow: only the
    // authorizer refuses, the expected difference below).
    let keeper = env
        .role(
            "keeper",
            vec![rule(
                &["get", "list", "create"],
                &[""],
                &["secrets", "configmaps"],
            )],
            &[env.home.as_str(), a],
        )
        .await;
    let secrets = env
        .role(
            "secrets",
            vec![rule(&["get", "list"], &[""], &["secrets"])],
            &["*"],
        )
        .await;
    let users = vec![
        env.user("u1", &[&one]).await,
        env.user("u2", &[&several]).await,
        env.user("u3", &[&all]).await,
        env.user("u4", &[&one, &several]).await,
        env.user("u5", &[&several, &all]).await,
        env.user("u6", &[]).await,
        env.user("u7", &[&keeper]).await,
        env.user("u8", &[&secrets]).await,
    ];
    env.rbac
        .set_disabled(&env.root, &users[4], true)
        .await
        .expect("disable u5");
    let policy: Policy = env.rbac.policy().await.expect("policy");

    let namespaces: Vec<Option<&str>> = env
        .tenants
        .iter()
        .chain([&env.home])
        .map(|n| Some(n.as_str()))
        .chain([None])
        .collect();
    let mut cases = Vec::new();
    for user in &users {
        for ns in &namespaces {
            for verb in VERBS {
                for (group, resource) in RESOURCES {
                    let req = Request {
                        verb,
                        group,
                        resource,
                        namespace: *ns,
                    };
                    cases.push((
                        user.as_str(),
                        req,
                        policy.authorize(user, &req).is_allowed(),
                    ));
                }
            }
        }
    }
    let allowed = cases.iter().filter(|c| c.2).count();
    assert!(
        allowed > 20 && allowed < cases.len() / 2,
        "a matrix with both answers: {allowed}"
    );

    // The apiserver's RBAC caches catch up with the new bindings asynchronously: poll.
    let admin = &*env.admin;
    let home = env.home.as_str();
    let policy = &policy;
    let expected_difference = |user: &str, req: &Request<'_>| {
        // Kubemate's Secrets through a role over all namespaces: the apiserver allows what the
        // authorizer refuses, and reads go through the authorizer first.
        user == users[7] && policy.is_reserved(req) && ["get", "list"].contains(&req.verb)
    };
    let expected_difference = &expected_difference;
    let differences = cases
        .iter()
        .filter(|(user, req, _)| expected_difference(user, req))
        .count();
    assert_eq!(
        differences, 4,
        "get and list, in Kubemate's namespace and everywhere"
    );
    let mut mismatches = Vec::new();
    for round in 0..40 {
        mismatches = stream::iter(cases.iter())
            .map(|(user, req, expected)| async move {
                let actual = apiserver_allows(admin, home, user, req).await;
                let agreed = if expected_difference(user, req) {
                    !*expected && actual
                } else {
                    actual == *expected
                };
                (!agreed)
                    .then(|| format!("{user} {req:?}: authorizer {expected}, apiserver {actual}"))
            })
            .buffer_unordered(16)
            .filter_map(|m| async move { m })
            .collect()
            .await;
        if mismatches.is_empty() {
            println!(
                "{} requests agree (round {round}, {allowed} allowed)",
                cases.len()
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    env.cleanup().await;
}
