//! The pipeline authorizes exactly what an operation declares: a role that lacks any one of
//! the declared requests is refused (403 naming it) before any cluster call, and a role with
//! all of them is served. Core's access tests prove the declarations cover the calls; these
//! prove the routes authorize the declarations.

use axum::http::StatusCode;
use kubemate_core::{
    LogOptions,
    access::{Access, Operation},
    workload::{self, WorkloadKind, WorkloadRef},
};
use kubemate_rbac::{NewUser, Password, Rule};

use crate::support::{World, only_policy_reads, role, world};

async fn user_with(w: &World, name: &str, rules: Vec<Rule>) -> String {
    let rbac = &w.state.rbac;
    rbac.create_role("admin", name, role(rules, &["shop"], &[]))
        .await
        .expect("role");
    let password = format!("{name}-password-1");
    rbac.create_user(
        "admin",
        NewUser {
            name: name.into(),
            display_name: name.into(),
            email: String::new(),
            password: Password::new(password.clone()),
            roles: vec![name.into()],
        },
    )
    .await
    .expect("user");
    w.state.invalidate_policy().await;
    let login = rbac
        .login(name, &Password::new(password))
        .await
        .expect("login");
    login.token.expose().to_owned()
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
async fn authorizes_the_declaration<O: Operation>(w: &World, prefix: &str, uri: &str, op: O) {
    let declared = op.access();
    assert!(declared.len() > 1, "{prefix}: {declared:?}");
    for skip in 0..declared.len() {
        let rules = declared
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, a)| rule(a))
            .collect();
        let token = user_with(w, &format!("{prefix}-without-{skip}"), rules).await;
        let mark = w.mark();
        let (status, body) = w.call("GET", uri, Some(&token), None).await;
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
    let token = user_with(
        w,
        &format!("{prefix}-with-all"),
        declared.iter().map(rule).collect(),
    )
    .await;
    let (status, body) = w.call("GET", uri, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{uri} with all: {body}");
}

#[tokio::test]
async fn workload_reads_are_authorized_exactly_as_declared() {
    let w = world().await;
    let web = || WorkloadRef::new(WorkloadKind::Deployment, "shop", "web");
    let redis = WorkloadRef::new(WorkloadKind::StatefulSet, "shop", "redis");
    const WEB: &str = "/api/v1/namespaces/shop/deployments/web";
    authorizes_the_declaration(&w, "pods", &format!("{WEB}/pods"), workload::Pods(web())).await;
    authorizes_the_declaration(
        &w,
        "events",
        &format!("{WEB}/events"),
        workload::Events(web()),
    )
    .await;
    authorizes_the_declaration(
        &w,
        "history",
        &format!("{WEB}/revisions"),
        workload::History(web()),
    )
    .await;
    authorizes_the_declaration(
        &w,
        "sts-history",
        "/api/v1/namespaces/shop/statefulsets/redis/revisions",
        workload::History(redis),
    )
    .await;
    authorizes_the_declaration(
        &w,
        "logs",
        &format!("{WEB}/logs"),
        workload::Logs {
            workload: web(),
            opts: LogOptions::default(),
        },
    )
    .await;
}
