//! kubemate-rbac on the real control plane: the authorizer against the apiserver's own RBAC
//! decisions (SubjectAccessReview), cleanup through owner references and the garbage
//! collector, escalation refused before any write, and impersonated writes refused by the
//! apiserver itself.
//!
//! Each test runs its own Kubemate install (its own namespace, tenant namespaces, and users and
//! roles with a random suffix), so the tests can share the cluster and run concurrently. None
//! uses the cluster-wide `admin` names of bootstrap (the unit tests cover it); the acting user
//! is a `root-<suffix>` user with a role holding everything.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::{StreamExt, stream};
use k8s_openapi::api::{
    core::v1::ServiceAccount,
    rbac::v1::{ClusterRole, ClusterRoleBinding, Role as RbacRole, RoleBinding},
};
use kubemate_core::{
    ClusterClient, ClusterClientExt, DeleteOptions, ErrorKind, Identity, ListOptions, Propagation,
    ResourceType, WriteOptions,
    conformance::{eventually, fresh_namespace, object, suffix},
};
use kubemate_rbac::{
    Config, Error, NewUser, Password, Policy, Rbac, Request, Role, RoleSpec, Rule, Scope, User,
    UserSpec,
    derive::{ROLE_LABEL, USER_LABEL, service_account_name},
    password,
};
use serde_json::json;

/// One Kubemate install on the shared cluster (the token tests use it too).
pub(crate) struct Env {
    pub(crate) admin: Arc<dyn ClusterClient>,
    pub(crate) rbac: Rbac,
    pub(crate) home: String,
    pub(crate) tenants: Vec<String>,
    suffix: String,
    pub(crate) root: String,
    created: Mutex<Vec<(bool, String)>>,
}

pub(crate) fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> Rule {
    Rule::new(verbs, groups, resources)
}

pub(crate) fn spec(rules: Vec<Rule>, namespaces: &[&str]) -> RoleSpec {
    RoleSpec {
        description: String::new(),
        rules,
        namespaces: namespaces.iter().map(|s| (*s).to_owned()).collect(),
        menus: vec![],
    }
}

pub(crate) async fn env(prefix: &str, tenants: usize, config: Config) -> Env {
    let admin = kubemate_tests::cluster().await;
    kubemate_rbac::install_crds(&*admin, Duration::from_secs(60))
        .await
        .expect("install the CRDs");
    let home = fresh_namespace(&*admin, &format!("{prefix}-km")).await;
    let mut names = Vec::new();
    for i in 0..tenants {
        names.push(fresh_namespace(&*admin, &format!("{prefix}{i}")).await);
    }
    let suffix = suffix();
    let rbac = Rbac::new(
        Arc::clone(&admin),
        Config {
            namespace: home.clone(),
            ..config
        },
    );
    let root = format!("root-{suffix}");
    let env = Env {
        admin,
        rbac,
        home,
        tenants: names,
        suffix,
        root: root.clone(),
        created: Mutex::new(Vec::new()),
    };
    let everything = RoleSpec {
        menus: vec!["*".into()],
        ..spec(vec![rule(&["*"], &["*"], &["*"])], &["*"])
    };
    env.admin
        .create_as("", &Role::new(&root, everything))
        .await
        .expect("root role");
    env.remember(false, &root);
    let user = User::new(
        &root,
        UserSpec {
            display_name: String::new(),
            email: String::new(),
            password_hash: password::hash(&Password::random()).expect("hash"),
            disabled: false,
            roles: vec![root.clone()],
            token_generation: 0,
        },
    );
    env.admin.create_as("", &user).await.expect("root user");
    env.remember(true, &root);
    env
}

impl Env {
    pub(crate) fn name(&self, base: &str) -> String {
        format!("{base}-{}", self.suffix)
    }

    pub(crate) fn remember(&self, user: bool, name: &str) {
        self.created
            .lock()
            .expect("not poisoned")
            .push((user, name.to_owned()));
    }

    pub(crate) async fn role(&self, base: &str, rules: Vec<Rule>, namespaces: &[&str]) -> String {
        let name = self.name(base);
        self.rbac
            .create_role(&self.root, &name, spec(rules, namespaces))
            .await
            .expect("create role");
        self.remember(false, &name);
        name
    }

    pub(crate) async fn user(&self, base: &str, roles: &[&str]) -> String {
        let name = self.name(base);
        self.rbac
            .create_user(
                &self.root,
                NewUser {
                    name: name.clone(),
                    display_name: String::new(),
                    email: String::new(),
                    password: Password::new(format!("{name}-password")),
                    roles: roles.iter().map(|s| (*s).to_owned()).collect(),
                },
            )
            .await
            .expect("create user");
        self.remember(true, &name);
        name
    }

    /// Names of this install's RBAC objects labelled for `label=value`.
    async fn derived(&self, label: &str, value: &str) -> Vec<String> {
        let opts = ListOptions::labels(format!(
            "kubemate.io/instance={},{label}={value}",
            self.home
        ));
        let mut out = Vec::new();
        let meta_name = |m: &kubemate_core::ObjectMeta, kind: &str| {
            format!(
                "{kind} {}/{}",
                m.namespace.clone().unwrap_or_default(),
                m.name.clone().unwrap_or_default()
            )
        };
        for o in self
            .admin
            .list_all_as::<ServiceAccount>(&self.home, &opts)
            .await
            .expect("sa")
        {
            out.push(meta_name(&o.metadata, "ServiceAccount"));
        }
        for o in self
            .admin
            .list_all_as::<RbacRole>("", &opts)
            .await
            .expect("roles")
        {
            out.push(meta_name(&o.metadata, "Role"));
        }
        for o in self
            .admin
            .list_all_as::<ClusterRole>("", &opts)
            .await
            .expect("cr")
        {
            out.push(meta_name(&o.metadata, "ClusterRole"));
        }
        for o in self
            .admin
            .list_all_as::<RoleBinding>("", &opts)
            .await
            .expect("rb")
        {
            out.push(meta_name(&o.metadata, "RoleBinding"));
        }
        for o in self
            .admin
            .list_all_as::<ClusterRoleBinding>("", &opts)
            .await
            .expect("crb")
        {
            out.push(meta_name(&o.metadata, "ClusterRoleBinding"));
        }
        out.sort();
        out
    }

    pub(crate) async fn cleanup(self) {
        let opts = DeleteOptions {
            propagation: Some(Propagation::Background),
            ..Default::default()
        };
        let created = self.created.lock().expect("not poisoned").clone();
        for (user, name) in created {
            let rt = if user {
                ResourceType::of::<User>()
            } else {
                ResourceType::of::<Role>()
            };
            let _ = self.admin.delete(&rt, "", &name, &opts).await;
        }
        let ns = ResourceType::new("", "v1", "Namespace", "namespaces", false);
        for name in self.tenants.iter().chain([&self.home]) {
            let _ = self
                .admin
                .delete(&ns, "", name, &DeleteOptions::default())
                .await;
        }
    }
}

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
                    spec(vec![rule(&["get"], &[""], &["pods"])], &[a, b]),
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
                    spec(vec![rule(&["delete"], &[""], &["pods"])], &[a]),
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

#[tokio::test]
async fn login_lockout_and_revocation_on_the_real_cluster() {
    let config = Config {
        max_failed_logins: 2,
        lockout: Duration::from_secs(300),
        ..Config::default()
    };
    let env = env("rbaclogin", 0, config).await;
    let alice = env.user("alice", &[]).await;
    let right = Password::new(format!("{alice}-password"));
    let login = env.rbac.login(&alice, &right).await.expect("login");
    let replica = Rbac::new(
        Arc::clone(&env.admin),
        Config {
            namespace: env.home.clone(),
            ..Config::default()
        },
    );
    assert_eq!(
        replica
            .authenticate(&login.token)
            .await
            .expect("a replica accepts it")
            .sub,
        alice
    );
    let user = env.rbac.user(&alice).await.expect("alice");
    assert!(
        user.status
            .as_ref()
            .and_then(|s| s.last_login.as_ref())
            .is_some()
    );

    let wrong = Password::new("wrong-password");
    for _ in 0..2 {
        assert_eq!(
            env.rbac
                .login(&alice, &wrong)
                .await
                .expect_err("wrong")
                .code(),
            "InvalidCredentials"
        );
    }
    // The second failure locked the address (here: no address) out of the account.
    assert_eq!(
        env.rbac
            .login(&alice, &right)
            .await
            .expect_err("locked")
            .code(),
        "LoginThrottled"
    );
    assert_eq!(
        env.rbac.user(&alice).await.expect("alice").failed_logins(),
        2,
        "counted on the account too"
    );

    let next = Password::new("a-new-password-2");
    env.rbac
        .set_password(&env.root, &alice, &next)
        .await
        .expect("reset");
    assert_eq!(
        replica
            .authenticate(&login.token)
            .await
            .expect_err("revoked")
            .to_string(),
        "invalid token: revoked"
    );
    let again = env
        .rbac
        .login(&alice, &next)
        .await
        .expect("unlocked by the reset");
    replica.authenticate(&again.token).await.expect("new token");
    env.cleanup().await;
}

/// A login through `app` from `from`, as a server with the connection's information sees it.
async fn login_from(app: &axum::Router, from: [u8; 4], account: &str, password: &str) -> String {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"account": account, "password": password}).to_string(),
        ))
        .expect("request");
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            from, 40000,
        ))));
    let response = app.clone().oneshot(req).await.expect("infallible");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    body["code"].as_str().unwrap_or("Ok").to_owned()
}

#[tokio::test]
async fn concurrent_wrong_logins_are_counted_by_compare_and_swap_on_the_real_apiserver() {
    let config = Config {
        max_failed_logins_per_account: 5,
        // Eight logins of each replica reach the apiserver at once, and none is refused as
        // busy: every one races to count itself on the account.
        hash_concurrency: 8,
        hash_wait: Duration::from_secs(120),
        ..Config::default()
    };
    let env = env("rbaccas", 0, config.clone()).await;
    let alice = env.user("alice", &[]).await;
    let right = format!("{alice}-password");
    let dir = tempfile::tempdir().expect("tempdir");
    let replicas: Vec<(Arc<Rbac>, axum::Router)> = (0..2)
        .map(|i| {
            let rbac = Arc::new(Rbac::new(
                Arc::clone(&env.admin),
                Config {
                    namespace: env.home.clone(),
                    ..config.clone()
                },
            ));
            let sink = kubemate_audit::FileSink::open(dir.path().join(format!("{i}.jsonl")), false)
                .expect("audit log");
            let state = kubemate_server::AppState::new(
                Arc::clone(&env.admin),
                Arc::clone(&rbac),
                Arc::new(sink),
                kubemate_server::Settings::default(),
            );
            (rbac, kubemate_server::router(state))
        })
        .collect();
    let checked = || -> u64 { replicas.iter().map(|r| r.0.hasher().verifications()).sum() };

    // Twenty wrong guesses at once, from twenty addresses, through two replicas.
    let answers = futures::future::join_all((0..20u8).map(|i| {
        let app = &replicas[usize::from(i % 2)].1;
        let alice = &alice;
        async move { login_from(app, [10, 9, 0, i], alice, "a-wrong-guess").await }
    }))
    .await;
    assert!(
        answers.iter().all(|a| a == "InvalidCredentials"),
        "{answers:?}"
    );
    let user = env.rbac.user(&alice).await.expect("alice");
    assert_eq!(checked(), 5, "no more passwords checked than the limit");
    assert_eq!(
        user.failed_logins(),
        5,
        "every check counted: {:?}",
        user.status
    );
    assert!(user.locked_until().is_some(), "{:?}", user.status);

    // Locked: the right password, from a new address, answers as a wrong one, unchecked.
    assert_eq!(
        login_from(&replicas[0].1, [10, 9, 1, 1], &alice, &right).await,
        "InvalidCredentials"
    );
    assert_eq!(checked(), 5);
    let unlocked = env
        .rbac
        .unlock_user(&env.root, &alice)
        .await
        .expect("unlock");
    assert_eq!(
        (unlocked.failed_logins(), unlocked.locked_until()),
        (0, None)
    );
    assert_eq!(
        login_from(&replicas[1].1, [10, 9, 1, 1], &alice, &right).await,
        "Ok"
    );
    env.cleanup().await;
}
