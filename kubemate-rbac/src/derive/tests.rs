use k8s_openapi::api::rbac::v1::PolicyRule;
use proptest::prelude::*;

use super::*;
use crate::{
    Policy, Request, Rule,
    testing::{mk_role, mk_user, rule},
};

const NS: &str = "kubemate-system";

fn names<K: Resource>(objs: &[K]) -> Vec<String> {
    objs.iter()
        .map(|o| {
            let m = o.meta();
            match &m.namespace {
                Some(ns) => format!("{ns}/{}", m.name.clone().unwrap_or_default()),
                None => m.name.clone().unwrap_or_default(),
            }
        })
        .collect()
}

#[test]
fn one_namespace_gives_a_role_several_a_cluster_role_all_a_cluster_role_binding() {
    let mut one = mk_role(
        "one",
        vec![rule(&["get"], &[""], &["pods"])],
        &["shop"],
        &[],
    );
    one.metadata.uid = Some("uid-one".into());
    let two = mk_role(
        "two",
        vec![rule(&["get"], &[""], &["pods"])],
        &["shop", "pay"],
        &[],
    );
    let all = mk_role("all", vec![rule(&["list"], &["*"], &["*"])], &["*"], &[]);
    let mut alice = mk_user("alice", &["one", "two", "all", "ghost"]);
    alice.metadata.uid = Some("uid-alice".into());
    let mut bob = mk_user("bob", &["one"]);
    bob.spec.disabled = true;
    let d = derive(&[alice, bob], &[one, two, all], NS);

    assert_eq!(
        names(&d.service_accounts),
        [
            "kubemate-system/kubemate-user-alice",
            "kubemate-system/kubemate-user-bob"
        ]
    );
    assert_eq!(names(&d.roles), ["shop/kubemate.one"]);
    assert_eq!(names(&d.cluster_roles), ["kubemate.two", "kubemate.all"]);
    assert_eq!(
        names(&d.role_bindings),
        [
            "shop/kubemate.one.alice",
            "pay/kubemate.two.alice",
            "shop/kubemate.two.alice"
        ]
    );
    assert_eq!(names(&d.cluster_role_bindings), ["kubemate.all.alice"]);

    let rb = &d.role_bindings[0];
    assert_eq!(rb.role_ref.kind, "Role");
    assert_eq!(d.role_bindings[1].role_ref.kind, "ClusterRole");
    let subject = &rb.subjects.as_ref().expect("subjects")[0];
    assert_eq!(
        (subject.kind.as_str(), subject.name.as_str()),
        ("ServiceAccount", "kubemate-user-alice")
    );
    assert_eq!(subject.namespace.as_deref(), Some(NS));
    let labels = rb.metadata.labels.clone().expect("labels");
    assert_eq!(labels[MANAGED_BY], MANAGED_BY_VALUE);
    assert_eq!(labels[INSTANCE], NS);
    assert_eq!(labels[USER_LABEL], "alice");
    assert_eq!(labels[ROLE_LABEL], "one");
    let owner = &rb.metadata.owner_references.as_ref().expect("owned")[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("User", "uid-alice")
    );
    let role_owner = &d.roles[0]
        .metadata
        .owner_references
        .as_ref()
        .expect("owned")[0];
    assert_eq!(
        (role_owner.kind.as_str(), role_owner.api_version.as_str()),
        ("Role", "kubemate.io/v1alpha1")
    );
    assert!(
        d.cluster_roles[0].metadata.owner_references.is_none(),
        "no uid, no owner"
    );
    assert_eq!(
        d.roles[0].rules,
        Some(vec![PolicyRule {
            verbs: vec!["get".into()],
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["pods".into()]),
            ..Default::default()
        }])
    );
}

#[test]
fn bindings_in_kubemates_namespace_never_grant_its_secrets() {
    let only_here = mk_role(
        "here",
        vec![rule(&["get", "list"], &[""], &["secrets", "configmaps"])],
        &[NS],
        &[],
    );
    let two = mk_role(
        "two",
        vec![
            rule(&["*"], &["", "apps"], &["*"]),
            rule(&["get"], &[""], &["secrets"]),
        ],
        &[NS, "shop"],
        &[],
    );
    let harmless = mk_role(
        "pods",
        vec![rule(&["get"], &[""], &["pods"])],
        &[NS, "shop"],
        &[],
    );
    let all = mk_role(
        "all",
        vec![rule(&["get"], &[""], &["secrets"])],
        &["*"],
        &[],
    );
    let alice = mk_user("alice", &["here", "two", "pods"]);
    let bob = mk_user("bob", &["all"]);
    let d = derive(&[alice, bob], &[only_here, two, harmless, all], NS);
    assert_eq!(
        names(&d.roles),
        [format!("{NS}/kubemate.here"), format!("{NS}/kubemate.two")]
    );
    assert_eq!(
        names(&d.cluster_roles),
        ["kubemate.two", "kubemate.pods", "kubemate.all"]
    );
    let refs: Vec<String> = d
        .role_bindings
        .iter()
        .map(|b| {
            format!(
                "{}/{} -> {} {}",
                b.metadata.namespace.clone().unwrap_or_default(),
                b.metadata.name.clone().unwrap_or_default(),
                b.role_ref.kind,
                b.role_ref.name
            )
        })
        .collect();
    assert_eq!(
        refs,
        [
            format!("{NS}/kubemate.here.alice -> Role kubemate.here"),
            format!("{NS}/kubemate.pods.alice -> ClusterRole kubemate.pods"),
            "shop/kubemate.pods.alice -> ClusterRole kubemate.pods".to_owned(),
            format!("{NS}/kubemate.two.alice -> Role kubemate.two"),
            "shop/kubemate.two.alice -> ClusterRole kubemate.two".to_owned(),
        ]
    );
    let rules_of = |name: &str| -> Vec<PolicyRule> {
        d.roles
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(name))
            .and_then(|r| r.rules.clone())
            .unwrap_or_default()
    };
    let policy_rule = |verbs: &[&str], groups: &[&str], resources: &[&str]| PolicyRule {
        verbs: verbs.iter().map(|s| (*s).to_owned()).collect(),
        api_groups: Some(groups.iter().map(|s| (*s).to_owned()).collect()),
        resources: Some(resources.iter().map(|s| (*s).to_owned()).collect()),
        ..Default::default()
    };
    assert_eq!(
        rules_of("kubemate.here"),
        [policy_rule(&["get", "list"], &[""], &["configmaps"])]
    );
    // The core group's wildcard cannot be kept; the apps group's can.
    assert_eq!(
        rules_of("kubemate.two"),
        [policy_rule(&["*"], &["apps"], &["*"])]
    );
    let can = |user: &str, verb, group, resource, ns| {
        k8s_allows(&d, user, &Request::namespaced(verb, group, resource, ns))
    };
    assert!(!can("alice", "get", "", "secrets", NS));
    assert!(can("alice", "get", "", "configmaps", NS));
    assert!(can("alice", "delete", "apps", "deployments", NS));
    assert!(can("alice", "get", "", "pods", NS));
    assert!(can("alice", "get", "", "secrets", "shop"));
    // Over all namespaces, RBAC cannot except one: the authorizer refuses it.
    assert!(can("bob", "get", "", "secrets", NS));
    let policy = Policy::new(
        &[mk_user("bob", &["all"])],
        &[mk_role(
            "all",
            vec![rule(&["get"], &[""], &["secrets"])],
            &["*"],
            &[],
        )],
        NS,
    );
    assert!(
        !policy
            .authorize("bob", &Request::namespaced("get", "", "secrets", NS))
            .is_allowed()
    );
}

#[test]
fn without_secrets_removes_exactly_what_reaches_them() {
    let cases: Vec<(Rule, Vec<Rule>)> = vec![
        (
            rule(&["get"], &["apps"], &["*"]),
            vec![rule(&["get"], &["apps"], &["*"])],
        ),
        (
            rule(&["get"], &[""], &["pods"]),
            vec![rule(&["get"], &[""], &["pods"])],
        ),
        (rule(&["get"], &[""], &["secrets"]), vec![]),
        (
            rule(&["get"], &[""], &["pods", "secrets"]),
            vec![rule(&["get"], &[""], &["pods"])],
        ),
        (rule(&["get"], &["*"], &["*"]), vec![]),
        (
            rule(&["get"], &["*"], &["pods", "*/scale"]),
            vec![rule(&["get"], &["*"], &["pods"])],
        ),
        (
            rule(&["get"], &["", "batch"], &["*", "configmaps"]),
            vec![
                rule(&["get"], &["", "batch"], &["configmaps"]),
                rule(&["get"], &["batch"], &["*"]),
            ],
        ),
    ];
    for (given, expected) in cases {
        assert_eq!(
            without_secrets(std::slice::from_ref(&given)),
            expected,
            "{given:?}"
        );
    }
}

// ---- The property: the authorizer and Kubernetes RBAC over the derived objects agree. ----

/// Kubernetes RBAC's rule matching, written again from its documentation, independently of
/// the authorizer's.
fn k8s_rule_allows(r: &PolicyRule, verb: &str, group: &str, resource: &str) -> bool {
    let has = |v: &[String], x: &str| v.iter().any(|e| e == "*" || e == x);
    let groups = r.api_groups.clone().unwrap_or_default();
    let resources = r.resources.clone().unwrap_or_default();
    let resource_ok = resources.iter().any(|rr| {
        rr == "*"
            || rr == resource
            || resource
                .split_once('/')
                .is_some_and(|(_, sub)| rr == &format!("*/{sub}"))
    });
    has(&r.verbs, verb) && has(&groups, group) && resource_ok
}

/// What the apiserver would answer for `user`'s ServiceAccount given only the derived objects.
fn k8s_allows(d: &Derived, user: &str, req: &Request<'_>) -> bool {
    k8s_allows_through(d, user, req, true)
}

/// The same through RoleBindings only, or also through ClusterRoleBindings.
fn k8s_allows_through(d: &Derived, user: &str, req: &Request<'_>, cluster_bindings: bool) -> bool {
    let sa = service_account_name(user);
    let is_subject = |subjects: &Option<Vec<Subject>>| {
        subjects.iter().flatten().any(|s| {
            s.kind == "ServiceAccount" && s.name == sa && s.namespace.as_deref() == Some(NS)
        })
    };
    let cluster_role_rules = |name: &str| -> Vec<PolicyRule> {
        d.cluster_roles
            .iter()
            .filter(|c| c.metadata.name.as_deref() == Some(name))
            .flat_map(|c| c.rules.clone().unwrap_or_default())
            .collect()
    };
    let matches = |rules: Vec<PolicyRule>| {
        rules
            .iter()
            .any(|r| k8s_rule_allows(r, req.verb, req.group, req.resource))
    };
    let by_cluster_binding = cluster_bindings
        && d.cluster_role_bindings
            .iter()
            .filter(|b| is_subject(&b.subjects))
            .any(|b| matches(cluster_role_rules(&b.role_ref.name)));
    let by_binding = req.namespace.is_some_and(|ns| {
        d.role_bindings
            .iter()
            .filter(|b| b.metadata.namespace.as_deref() == Some(ns) && is_subject(&b.subjects))
            .any(|b| {
                let rules = if b.role_ref.kind == "Role" {
                    d.roles
                        .iter()
                        .filter(|r| {
                            r.metadata.namespace.as_deref() == Some(ns)
                                && r.metadata.name.as_deref() == Some(b.role_ref.name.as_str())
                        })
                        .flat_map(|r| r.rules.clone().unwrap_or_default())
                        .collect()
                } else {
                    cluster_role_rules(&b.role_ref.name)
                };
                matches(rules)
            })
    });
    by_cluster_binding || by_binding
}

/// The namespaces the derived bindings of `user` cover.
fn covered(d: &Derived, user: &str) -> Namespaces {
    let mine = |labels: &Option<BTreeMap<String, String>>| {
        labels
            .as_ref()
            .and_then(|l| l.get(USER_LABEL))
            .map(String::as_str)
            == Some(user)
    };
    if d.cluster_role_bindings
        .iter()
        .any(|b| mine(&b.metadata.labels))
    {
        return Namespaces::All;
    }
    Namespaces::Only(
        d.role_bindings
            .iter()
            .filter(|b| mine(&b.metadata.labels))
            .filter_map(|b| b.metadata.namespace.clone())
            .collect(),
    )
}

const POOL_NS: &[&str] = &["a", "b", "c", NS];
const POOL_VERBS: &[&str] = &["get", "list", "create", "delete", "*"];
const POOL_GROUPS: &[&str] = &["", "apps", "*"];
const POOL_RESOURCES: &[&str] = &[
    "pods",
    "deployments",
    "nodes",
    "pods/log",
    "*/scale",
    "*",
    "secrets",
];
const ROLE_NAMES: &[&str] = &["r0", "r1", "r2", "r3", "admin"];

fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(pool, 1..=pool.len().min(3))
}

fn arb_rule() -> impl Strategy<Value = Rule> {
    (pick(POOL_VERBS), pick(POOL_GROUPS), pick(POOL_RESOURCES))
        .prop_map(|(v, g, r)| rule(&v, &g, &r))
}

fn arb_role(name: &'static str) -> impl Strategy<Value = Role> {
    let scope = prop_oneof![
        Just(vec!["*"]).boxed(),
        proptest::sample::subsequence(POOL_NS, 1..=1).boxed(),
        proptest::sample::subsequence(POOL_NS, 2..=3).boxed(),
    ]
    .boxed();
    (proptest::collection::vec(arb_rule(), 1..3), scope)
        .prop_map(move |(rules, ns): (Vec<Rule>, Vec<&str>)| mk_role(name, rules, &ns, &[]))
}

fn arb_world() -> impl Strategy<Value = (Vec<User>, Vec<Role>)> {
    let roles = (
        arb_role("r0"),
        arb_role("r1"),
        arb_role("r2"),
        any::<[bool; 3]>(),
    )
        .prop_map(|(a, b, c, keep)| {
            let mut roles: Vec<Role> = [a, b, c]
                .into_iter()
                .zip(keep)
                .filter(|(_, k)| *k)
                .map(|(r, _)| r)
                .collect();
            roles.push(Role::admin());
            roles
        });
    let user = |name: &'static str| {
        (
            proptest::sample::subsequence(ROLE_NAMES, 0..=3),
            proptest::bool::weighted(0.2),
        )
            .prop_map(move |(roles, disabled)| {
                let mut u = mk_user(name, &roles);
                u.spec.disabled = disabled;
                u
            })
    };
    (roles, (user("u0"), user("u1"), user("u2")))
        .prop_map(|(roles, (a, b, c))| (vec![a, b, c], roles))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_authorizer_and_the_derived_rbac_agree((users, roles) in arb_world()) {
        let policy = Policy::new(&users, &roles, NS);
        let d = derive(&users, &roles, NS);
        for user in ["u0", "u1", "u2"] {
            prop_assert_eq!(policy.namespaces(user), covered(&d, user), "namespaces of {}", user);
            let namespaces = POOL_NS.iter().map(|n| Some(*n)).chain([None, Some("elsewhere")]);
            for namespace in namespaces {
                for verb in ["get", "list", "create", "delete", "patch"] {
                    for group in ["", "apps", "batch"] {
                        for resource in ["pods", "deployments", "nodes", "pods/log", "deployments/scale", "secrets"] {
                            let req = Request { verb, group, resource, namespace };
                            let authorizer = policy.authorize(user, &req).is_allowed();
                            let k8s = k8s_allows(&d, user, &req);
                            if policy.is_reserved(&req) {
                                // Kubemate's Secrets: the authorizer grants nothing, and no
                                // derived RoleBinding does (a ClusterRoleBinding cannot be
                                // narrowed: the authorizer is the lock there).
                                prop_assert!(!authorizer, "{} {:?}", user, req);
                                prop_assert!(!k8s_allows_through(&d, user, &req, false), "{} {:?}", user, req);
                            } else if namespace == Some(NS) {
                                // In Kubemate's namespace the RBAC may grant less (a wildcard
                                // that would reach Secrets), never more.
                                prop_assert!(!k8s || authorizer, "{} {:?}", user, req);
                            } else {
                                prop_assert_eq!(authorizer, k8s, "{} {:?}", user, req);
                            }
                        }
                    }
                }
            }
        }
    }
}
