//! The pipeline authorizes exactly what an operation declares: a role that lacks any one of
//! the declared requests is refused (403 naming it) before any cluster call, and a role with
//! all of them is served. Core's access tests prove the declarations cover the calls; these
//! prove the routes authorize the declarations.

use std::time::Duration;

use axum::http::StatusCode;
use kubemate_audit::{Decision, Stage};
use kubemate_core::{
    LogOptions,
    access::{Access, Operation},
    workload::{self, WorkloadKind, WorkloadRef},
};
use kubemate_rbac::{NewUser, Password, Rule};
use kubemate_server::Settings;
use serde_json::{Value, json};

use crate::support::{Options, VIEWER, World, only_policy_reads, role, world, world_with};

/// A user whose one role is rewritten for each case (one password hash for the whole test).
struct Probe {
    token: String,
}

const PROBE: &str = "probe";

impl Probe {
    async fn new(w: &World) -> Probe {
        let rbac = &w.state.rbac;
        let nothing = Rule::new(&["get"], &[""], &["configmaps"]);
        rbac.create_role("admin", PROBE, role(vec![nothing], &["shop"], &[]))
            .await
            .expect("role");
        let password = format!("{PROBE}-password-1");
        rbac.create_user(
            "admin",
            NewUser {
                name: PROBE.into(),
                display_name: PROBE.into(),
                email: String::new(),
                password: Password::new(password.clone()),
                roles: vec![PROBE.into()],
            },
        )
        .await
        .expect("user");
        let login = rbac
            .login(PROBE, &Password::new(password))
            .await
            .expect("login");
        Probe {
            token: login.token.expose().to_owned(),
        }
    }

    /// The role now grants exactly `rules`.
    async fn allow(&self, w: &World, rules: Vec<Rule>) -> &str {
        w.state
            .rbac
            .update_role("admin", PROBE, role(rules, &["shop"], &[]))
            .await
            .expect("update role");
        w.state.invalidate_policy().await;
        &self.token
    }
}

fn rule(a: &Access) -> Rule {
    Rule::new(
        &[a.verb],
        &[a.group.as_str()],
        &[a.resource_path().as_str()],
    )
}

/// `uri` is the route of `op`: refused without any one of its declared requests, served with
/// all of them.
async fn authorizes_the_declaration<O: Operation>(w: &World, probe: &Probe, uri: &str, op: O) {
    let declared = op.access();
    assert!(declared.len() > 1, "{uri}: {declared:?}");
    for skip in 0..declared.len() {
        let rules = declared
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, a)| rule(a))
            .collect();
        let token = probe.allow(w, rules).await;
        let mark = w.mark();
        let (status, body) = w.call("GET", uri, Some(token), None).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{uri} without {skip}: {body}"
        );
        let missing = &declared[skip];
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(missing.verb) && message.contains(&missing.resource_path()),
            "{uri} without {missing:?}: {message}"
        );
        assert!(only_policy_reads(&w.actions_since(mark)), "{uri}");
    }
    let token = probe.allow(w, declared.iter().map(rule).collect()).await;
    let (status, body) = w.call("GET", uri, Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{uri} with all: {body}");
}

#[tokio::test]
async fn workload_reads_are_authorized_exactly_as_declared() {
    let w = world().await;
    let probe = Probe::new(&w).await;
    let web = || WorkloadRef::new(WorkloadKind::Deployment, "shop", "web");
    let redis = WorkloadRef::new(WorkloadKind::StatefulSet, "shop", "redis");
    const WEB: &str = "/api/v1/namespaces/shop/deployments/web";
    authorizes_the_declaration(&w, &probe, &format!("{WEB}/pods"), workload::Pods(web())).await;
    authorizes_the_declaration(
        &w,
        &probe,
        &format!("{WEB}/events"),
        workload::Events(web()),
    )
    .await;
    authorizes_the_declaration(
        &w,
        &probe,
        &format!("{WEB}/revisions"),
        workload::History(web()),
    )
    .await;
    authorizes_the_declaration(
        &w,
        &probe,
        "/api/v1/namespaces/shop/statefulsets/redis/revisions",
        workload::History(redis),
    )
    .await;
    authorizes_the_declaration(
        &w,
        &probe,
        &format!("{WEB}/logs"),
        workload::Logs {
            workload: web(),
            opts: LogOptions::default(),
        },
    )
    .await;
}

/// Every user and role route that changes something, with the target its operation records
/// (in an order an administrator can run them all).
fn admin_changes() -> Vec<(&'static str, &'static str, Option<Value>, [&'static str; 3])> {
    let read = json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]);
    let role = json!({"name": "pay-reader", "rules": read, "namespaces": ["pay"], "menus": []});
    vec![
        (
            "POST",
            "/api/v1/users",
            Some(json!({"name": "dana", "password": "dana-password-1"})),
            ["create", "users", "dana"],
        ),
        (
            "PUT",
            "/api/v1/users/viewer/roles/shop-editor",
            None,
            ["bind", "users/roles", "viewer/shop-editor"],
        ),
        (
            "DELETE",
            "/api/v1/users/viewer/roles/shop-viewer",
            None,
            ["unbind", "users/roles", "viewer/shop-viewer"],
        ),
        (
            "PUT",
            "/api/v1/users/viewer/password",
            Some(json!({"password": "another-password-1"})),
            ["set-password", "users", "viewer"],
        ),
        (
            "PUT",
            "/api/v1/users/viewer/disabled",
            Some(json!({"disabled": false})),
            ["enable", "users", "viewer"],
        ),
        (
            "POST",
            "/api/v1/users/viewer/unlock",
            None,
            ["unlock", "users", "viewer"],
        ),
        (
            "POST",
            "/api/v1/roles",
            Some(role),
            ["create", "roles", "pay-reader"],
        ),
        (
            "PUT",
            "/api/v1/roles/shop-viewer",
            Some(json!({"name": "shop-viewer", "rules": read, "namespaces": ["shop"]})),
            ["update", "roles", "shop-viewer"],
        ),
        (
            "DELETE",
            "/api/v1/roles/shop-viewer",
            None,
            ["delete", "roles", "shop-viewer"],
        ),
        (
            "DELETE",
            "/api/v1/users/viewer",
            None,
            ["delete", "users", "viewer"],
        ),
    ]
}

#[tokio::test]
async fn a_refused_user_or_role_change_writes_nothing_and_is_recorded_as_its_operation() {
    let w = world().await;
    for (method, uri, body, [verb, kind, name]) in admin_changes() {
        let mark = w.mark();
        let before = w.fake.writes().len();
        let seen = w.records().len();
        let (status, answer) = w.call(method, uri, Some(&w.editor), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}: {answer}");
        assert_eq!(w.fake.writes().len(), before, "{method} {uri} wrote");
        assert!(only_policy_reads(&w.actions_since(mark)), "{method} {uri}");
        let records = w.records().split_off(seen);
        let described: Vec<_> = records
            .iter()
            .map(|r| {
                (
                    r.verb.as_str(),
                    r.kind.as_str(),
                    r.name.as_deref(),
                    r.decision,
                    r.stage,
                )
            })
            .collect();
        assert_eq!(
            described,
            [(verb, kind, Some(name), Decision::Denied, Stage::Response)],
            "{method} {uri}: no pending record, and the operation's target"
        );
    }
}

#[tokio::test]
async fn an_allowed_user_or_role_change_is_recorded_as_its_operation_before_and_after() {
    let w = world().await;
    for (method, uri, body, [verb, kind, name]) in admin_changes() {
        let seen = w.records().len();
        let (status, answer) = w.call(method, uri, Some(&w.admin), body).await;
        assert!(status.is_success(), "{method} {uri}: {status} {answer}");
        let records = w.records().split_off(seen);
        let described: Vec<_> = records
            .iter()
            .map(|r| (r.verb.as_str(), r.kind.as_str(), r.name.as_deref(), r.stage))
            .collect();
        assert_eq!(
            described,
            [
                (verb, kind, Some(name), Stage::Request),
                (verb, kind, Some(name), Stage::Response),
            ],
            "{method} {uri}"
        );
    }
}

#[tokio::test]
async fn a_change_of_roles_takes_effect_at_once_though_the_policy_is_cached() {
    let defaults = Options::default();
    let w = world_with(Options {
        settings: Settings {
            policy_ttl: Duration::from_secs(3600),
            ..defaults.settings
        },
        ..defaults
    })
    .await;
    const SCALE: &str = "/api/v1/namespaces/shop/deployments/web/scale";
    let replicas = || Some(json!({"replicas": 2}));
    let (status, _) = w.call("PUT", SCALE, Some(&w.viewer), replicas()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = w
        .call(
            "PUT",
            "/api/v1/users/viewer/roles/shop-editor",
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The pipeline refreshed the policy: no restart, no wait.
    let (status, body) = w.call("PUT", SCALE, Some(&w.viewer), replicas()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn namespace_reads_are_recorded_as_their_operation() {
    let w = world().await;
    for (uri, status) in [
        ("/api/v1/namespaces", StatusCode::OK),
        ("/api/v1/namespaces/shop", StatusCode::OK),
        ("/api/v1/namespaces/kube-system", StatusCode::NOT_FOUND),
    ] {
        let (got, body) = w.call("GET", uri, Some(&w.viewer), None).await;
        assert_eq!(got, status, "{uri}: {body}");
    }
    let described: Vec<_> = w
        .records()
        .into_iter()
        .filter(|r| r.user == VIEWER && r.kind == "namespaces")
        .map(|r| (r.verb, r.namespace, r.name, r.decision))
        .collect();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        described,
        [
            ("list".to_owned(), None, None, Decision::Allowed),
            ("get".to_owned(), s("shop"), s("shop"), Decision::Allowed),
            (
                "get".to_owned(),
                s("kube-system"),
                s("kube-system"),
                Decision::Denied
            ),
        ]
    );
}
