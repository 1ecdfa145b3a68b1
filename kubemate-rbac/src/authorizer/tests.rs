use super::*;
use crate::{
    RoleSpec,
    testing::{mk_role, mk_user, rule},
};

/// Kubemate's namespace in these tests.
const KM: &str = "kubemate-system";

/// Users and roles of the tables:
/// - `viewer` reads pods and deployments in `shop`;
/// - `editor` writes deployments and configmaps in `shop` and `pay`, with menus cicd and audit;
/// - `ops` reads everything everywhere (cluster-scoped resources too);
/// - alice: viewer; bob: editor + viewer; carol: ops; dave: admin; erin: editor, disabled;
///   frank: a role that does not exist.
fn policy() -> Policy {
    let roles = [
        mk_role(
            "viewer",
            vec![rule(
                &["get", "list", "watch"],
                &["", "apps"],
                &["pods", "deployments"],
            )],
            &["shop"],
            &[],
        ),
        mk_role(
            "editor",
            vec![
                rule(&["*"], &["apps"], &["deployments", "*/scale"]),
                rule(
                    &["get", "create", "update"],
                    &[""],
                    &["configmaps", "pods/log"],
                ),
            ],
            &["shop", "pay"],
            &["cicd", "audit"],
        ),
        mk_role(
            "ops",
            vec![rule(&["get", "list", "watch"], &["*"], &["*"])],
            &["*"],
            &["audit"],
        ),
        Role::admin(),
    ];
    let mut erin = mk_user("erin", &["editor"]);
    erin.spec.disabled = true;
    let users = [
        mk_user("alice", &["viewer"]),
        mk_user("bob", &["editor", "viewer"]),
        mk_user("carol", &["ops"]),
        mk_user("dave", &["admin"]),
        erin,
        mk_user("frank", &["ghost"]),
    ];
    Policy::new(&users, &roles, KM)
}

/// user, verb, group, resource, namespace, allowed.
type Case<'a> = (&'a str, &'a str, &'a str, &'a str, Option<&'a str>, bool);

#[test]
fn decisions_follow_the_table() {
    let p = policy();
    #[rustfmt::skip]
    let table: &[Case<'_>] = &[
        // user     verb      group   resource             namespace     allowed
        ("alice", "get",    "",     "pods",              Some("shop"), true),
        ("alice", "list",   "apps", "deployments",       Some("shop"), true),
        ("alice", "get",    "",     "pods",              Some("pay"),  false),
        ("alice", "delete", "",     "pods",              Some("shop"), false),
        ("alice", "get",    "",     "pods",              None,         false),
        ("alice", "get",    "",     "pods/log",          Some("shop"), false),
        ("alice", "get",    "",     "secrets",           Some("shop"), false),
        ("alice", "get",    "apps", "pods",              Some("shop"), true),
        ("bob",   "delete", "apps", "deployments",       Some("pay"),  true),
        ("bob",   "update", "apps", "statefulsets/scale", Some("pay"), true),
        ("bob",   "update", "apps", "statefulsets",      Some("pay"),  false),
        ("bob",   "create", "",     "configmaps",        Some("shop"), true),
        ("bob",   "delete", "",     "configmaps",        Some("shop"), false),
        ("bob",   "get",    "",     "pods/log",          Some("pay"),  true),
        ("bob",   "get",    "",     "pods",              Some("pay"),  false),
        ("bob",   "get",    "",     "pods",              Some("shop"), true),
        ("bob",   "list",   "apps", "deployments",       None,         false),
        ("bob",   "get",    "apps", "deployments",       Some("dev"),  false),
        ("carol", "list",   "",     "pods",              None,         true),
        ("carol", "get",    "",     "nodes",             None,         true),
        ("carol", "watch",  "x.io", "things",            Some("any"),  true),
        ("carol", "create", "",     "pods",              Some("shop"), false),
        ("dave",  "delete", "apiextensions.k8s.io", "customresourcedefinitions", None, true),
        ("dave",  "create", "",     "pods/exec",         Some("shop"), true),
        ("erin",  "get",    "apps", "deployments",       Some("shop"), false),
        ("frank", "get",    "",     "pods",              Some("shop"), false),
        ("zoe",   "get",    "",     "pods",              Some("shop"), false),
    ];
    for &(user, verb, group, resource, namespace, allowed) in table {
        let req = Request {
            verb,
            group,
            resource,
            namespace,
        };
        assert_eq!(
            p.authorize(user, &req).is_allowed(),
            allowed,
            "{user} {verb} {group}/{resource} in {namespace:?}"
        );
    }
}

#[test]
fn denials_say_why() {
    let p = policy();
    let req = Request::namespaced("delete", "", "pods", "shop");
    assert_eq!(
        p.authorize("alice", &req),
        Decision::Deny(DenyReason::NotPermitted {
            user: "alice".into(),
            request: "delete pods in namespace \"shop\"".into()
        })
    );
    assert_eq!(
        p.authorize("erin", &req),
        Decision::Deny(DenyReason::UserDisabled("erin".into()))
    );
    assert_eq!(
        p.authorize("zoe", &req),
        Decision::Deny(DenyReason::UnknownUser("zoe".into()))
    );
    let err = p
        .authorize("alice", &Request::cluster("list", "apps", "deployments"))
        .into_result();
    assert_eq!(
        err.expect_err("denied").to_string(),
        "forbidden: user \"alice\" may not list apps/deployments cluster-wide"
    );
}

/// Every verb of the API on a resource.
const ALL_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

#[test]
fn kubemates_own_secrets_are_reserved_whatever_the_role() {
    let roles = [
        // Names Kubemate's namespace explicitly.
        mk_role(
            "keeper",
            vec![rule(ALL_VERBS, &[""], &["secrets", "configmaps"])],
            &[KM, "shop"],
            &[],
        ),
        // Covers it through `*`, with a wildcard resource.
        mk_role("everywhere", vec![rule(&["*"], &[""], &["*"])], &["*"], &[]),
        Role::admin(),
    ];
    let users = [
        mk_user("kim", &["keeper"]),
        mk_user("eve", &["everywhere"]),
        mk_user("dave", &["admin"]),
    ];
    let p = Policy::new(&users, &roles, KM);
    assert_eq!(p.reserved_namespace(), KM);
    for user in ["kim", "eve", "dave"] {
        for &verb in ALL_VERBS {
            for resource in ["secrets", "secrets/anything"] {
                let req = Request::namespaced(verb, "", resource, KM);
                assert_eq!(
                    p.authorize(user, &req),
                    Decision::Deny(DenyReason::Reserved {
                        user: user.into(),
                        request: format!("{verb} {resource} in namespace \"{KM}\""),
                    }),
                    "{user} {verb} {resource}"
                );
            }
            // Across all namespaces includes Kubemate's.
            let everywhere = Request::cluster(verb, "", "secrets");
            assert!(
                !p.authorize(user, &everywhere).is_allowed(),
                "{user} {verb}"
            );
            // Secrets elsewhere, and everything else in Kubemate's namespace, follow the role.
            let shop = Request::namespaced(verb, "", "secrets", "shop");
            assert!(p.authorize(user, &shop).is_allowed(), "{user} {verb} shop");
            let configmaps = Request::namespaced(verb, "", "configmaps", KM);
            assert!(
                p.authorize(user, &configmaps).is_allowed(),
                "{user} {verb} cm"
            );
        }
    }
    // Only the core group's Secrets are Kubemate's.
    let other_group = Request::namespaced("get", "example.com", "secrets", KM);
    assert!(p.authorize("dave", &other_group).is_allowed());
    assert!(
        !p.authorize("eve", &Request::namespaced("get", "apps", "secrets", KM))
            .is_allowed(),
        "eve's role is the core group only"
    );
    let denied = p
        .authorize("dave", &Request::namespaced("get", "", "secrets", KM))
        .into_result()
        .expect_err("reserved");
    assert_eq!(
        denied.to_string(),
        format!(
            "forbidden: user \"dave\" may not get secrets in namespace \"{KM}\": Kubemate's \
             own Secrets are reserved"
        )
    );
    // The reserved namespace is the install's, whatever its name.
    let other = Policy::new(&users, &roles, "shop");
    assert!(
        other
            .authorize("kim", &Request::namespaced("get", "", "secrets", KM))
            .is_allowed()
    );
    assert!(
        !other
            .authorize("kim", &Request::namespaced("get", "", "secrets", "shop"))
            .is_allowed()
    );
}

#[test]
fn a_token_is_accepted_only_by_the_account_it_was_issued_to() {
    let mut alice = mk_user("alice", &[]);
    alice.metadata.uid = Some("uid-1".into());
    alice.spec.token_generation = 2;
    let mut nouid = mk_user("nouid", &[]);
    nouid.metadata.uid = None;
    let p = Policy::new(&[alice, nouid], &[], KM);
    let claims = |sub: &str, uid: &str, generation| crate::Claims {
        sub: sub.into(),
        uid: uid.into(),
        generation,
        iat: 0,
        exp: 1,
        iss: crate::token::ISSUER.into(),
    };
    p.check_token(&claims("alice", "uid-1", 2))
        .expect("same account");
    let why = |c| p.check_token(&c).expect_err("refused").to_string();
    assert_eq!(
        why(claims("alice", "uid-0", 2)),
        "invalid token: issued to another account of that name"
    );
    assert_eq!(why(claims("alice", "uid-1", 1)), "invalid token: revoked");
    assert_eq!(
        why(claims("bob", "uid-1", 2)),
        "invalid token: the user does not exist or is disabled"
    );
    assert_eq!(
        why(claims("nouid", "", 0)),
        "invalid token: issued to another account of that name"
    );
}

#[test]
fn visible_namespaces_are_the_union_of_the_roles() {
    let p = policy();
    let only = |v: &[&str]| Namespaces::Only(v.iter().map(|s| (*s).to_owned()).collect());
    assert_eq!(p.namespaces("alice"), only(&["shop"]));
    assert_eq!(p.namespaces("bob"), only(&["pay", "shop"]));
    assert_eq!(p.namespaces("carol"), Namespaces::All);
    assert_eq!(p.namespaces("dave"), Namespaces::All);
    assert_eq!(p.namespaces("erin"), only(&[]));
    assert_eq!(p.namespaces("frank"), only(&[]));
    assert_eq!(p.namespaces("zoe"), only(&[]));
    let cluster = ["default", "pay", "shop", "kube-system"];
    assert_eq!(p.namespaces("bob").filter(cluster), ["pay", "shop"]);
    assert_eq!(p.namespaces("carol").filter(cluster).len(), 4);
}

#[test]
fn menus_and_admin_areas_are_enforced_per_user() {
    let p = policy();
    assert_eq!(
        p.menu_codes("bob"),
        ["audit".to_owned(), "cicd".to_owned()].into()
    );
    assert!(p.menu_allowed("bob", menu::CICD).is_allowed());
    assert!(!p.menu_allowed("alice", menu::CICD).is_allowed());
    assert!(!p.menu_allowed("carol", menu::CICD).is_allowed());
    assert!(p.menu_allowed("carol", menu::AUDIT).is_allowed());
    for code in menu::KNOWN {
        assert!(
            p.menu_allowed("dave", code).is_allowed(),
            "admin sees {code}"
        );
    }
    assert!(!p.menu_allowed("erin", menu::CICD).is_allowed(), "disabled");
    for area in AdminArea::ALL {
        assert!(p.area_allowed("dave", area).is_allowed());
        // Reading everything everywhere is not being an administrator.
        assert_eq!(
            p.area_allowed("carol", area),
            Decision::Deny(DenyReason::AdminOnly {
                user: "carol".into(),
                area: area.code()
            })
        );
    }
    assert!(p.is_admin("dave"));
    assert!(!p.is_admin("carol"));
}

#[test]
fn a_stored_admin_role_cannot_be_narrowed() {
    let narrowed = mk_role(
        "admin",
        vec![rule(&["get"], &[""], &["pods"])],
        &["shop"],
        &[],
    );
    let p = Policy::new(&[mk_user("dave", &["admin"])], &[narrowed], KM);
    assert!(
        p.authorize("dave", &Request::cluster("delete", "", "nodes"))
            .is_allowed()
    );
    // Not stored at all: grants nothing, as the (absent) derived ClusterRole would.
    let p = Policy::new(&[mk_user("dave", &["admin"])], &[], KM);
    assert!(
        !p.authorize("dave", &Request::cluster("get", "", "nodes"))
            .is_allowed()
    );
    assert!(!p.is_admin("dave"));
}

#[test]
fn grants_must_be_covered_by_what_the_actor_holds() {
    let p = policy();
    let spec = |rules, ns: &[&str], menus: &[&str]| mk_role("x", rules, ns, menus).spec;
    #[rustfmt::skip]
    let table: Vec<(&str, RoleSpec, bool)> = vec![
        ("alice", spec(vec![rule(&["get"], &[""], &["pods"])], &["shop"], &[]), true),
        ("alice", spec(vec![rule(&["get", "watch"], &["apps"], &["deployments"])], &["shop"], &[]), true),
        ("alice", spec(vec![rule(&["get"], &[""], &["pods"])], &["pay"], &[]), false),
        ("alice", spec(vec![rule(&["get"], &[""], &["pods"])], &["shop", "pay"], &[]), false),
        ("alice", spec(vec![rule(&["get"], &[""], &["pods"])], &["*"], &[]), false),
        ("alice", spec(vec![rule(&["delete"], &[""], &["pods"])], &["shop"], &[]), false),
        ("alice", spec(vec![rule(&["*"], &[""], &["pods"])], &["shop"], &[]), false),
        ("alice", spec(vec![rule(&["get"], &["*"], &["pods"])], &["shop"], &[]), false),
        ("alice", spec(vec![rule(&["get"], &[""], &["*"])], &["shop"], &[]), false),
        ("alice", spec(vec![rule(&["get"], &[""], &["pods"])], &["shop"], &["cicd"]), false),
        // bob's wildcard verb covers any verb on deployments, and */scale any scale.
        ("bob",   spec(vec![rule(&["delete", "patch"], &["apps"], &["deployments", "replicasets/scale"])], &["pay", "shop"], &["cicd"]), true),
        ("bob",   spec(vec![rule(&["*"], &["apps"], &["*/scale"])], &["pay"], &[]), true),
        ("bob",   spec(vec![rule(&["*"], &["apps"], &["*"])], &["pay"], &[]), false),
        // Combining two roles in one namespace: get pods from viewer, update configmaps from editor.
        ("bob",   spec(vec![rule(&["get"], &[""], &["pods", "configmaps"])], &["shop"], &[]), true),
        ("bob",   spec(vec![rule(&["get"], &[""], &["pods"])], &["pay"], &[]), false),
        // All-namespace grants need all-namespace holdings; namespaces are then implied.
        ("carol", spec(vec![rule(&["list"], &["*"], &["*"])], &["*"], &["audit"]), true),
        ("carol", spec(vec![rule(&["list"], &[""], &["nodes"])], &["shop", "any"], &[]), true),
        ("carol", spec(vec![rule(&["create"], &[""], &["pods"])], &["shop"], &[]), false),
        ("dave",  spec(vec![rule(&["*"], &["*"], &["*"])], &["*"], &["*"]), true),
        ("erin",  spec(vec![rule(&["get"], &["apps"], &["deployments"])], &["shop"], &[]), false),
        ("zoe",   spec(vec![rule(&["get"], &[""], &["pods"])], &["shop"], &[]), false),
    ];
    for (actor, spec, allowed) in table {
        let got = p.check_grant(actor, &spec);
        assert_eq!(got.is_ok(), allowed, "{actor} granting {spec:?}: {got:?}");
    }
    let why = p
        .check_grant(
            "alice",
            &spec(vec![rule(&["delete"], &[""], &["pods"])], &["shop"], &[]),
        )
        .expect_err("refused");
    assert_eq!(
        why,
        "\"alice\" cannot grant delete on pods in namespace \"shop\": they do not hold it"
    );
}

#[test]
fn deciding_is_fast() {
    let roles: Vec<_> = (0..20)
        .map(|i| {
            mk_role(
                &format!("r{i}"),
                vec![
                    rule(
                        &["get", "list", "watch"],
                        &["", "apps", "batch"],
                        &["pods", "deployments", "jobs", "configmaps"],
                    ),
                    rule(
                        &["create", "update", "patch", "delete"],
                        &["apps"],
                        &["deployments", "*/scale"],
                    ),
                ],
                &[&format!("ns{i}"), &format!("ns{}", i + 1), "common"],
                &["cicd"],
            )
        })
        .collect();
    let names: Vec<String> = (0..20).map(|i| format!("r{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let users: Vec<_> = (0..1000)
        .map(|i| mk_user(&format!("u{i}"), &refs))
        .collect();
    let p = Policy::new(&users, &roles, KM);
    let n = 200_000u32;
    let start = std::time::Instant::now();
    let mut allowed = 0u32;
    for i in 0..n {
        let ns = if i % 2 == 0 { "ns19" } else { "elsewhere" };
        let req = Request::namespaced("delete", "apps", "statefulsets/scale", ns);
        if p.authorize("u999", &req).is_allowed() {
            allowed += 1;
        }
    }
    let per = start.elapsed() / n;
    assert_eq!(allowed, n / 2);
    // Generous even unoptimised: the point is "no I/O, no allocation on the allow path".
    assert!(
        per < std::time::Duration::from_micros(50),
        "{per:?} per decision"
    );
    println!("authorize: {per:?} per decision (20 roles, half denied)");
}
