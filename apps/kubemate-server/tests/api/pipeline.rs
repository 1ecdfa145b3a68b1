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
