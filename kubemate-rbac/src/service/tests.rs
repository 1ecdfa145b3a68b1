//! The operations on the in-memory cluster: the state of the world after each of them.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use jiff::Timestamp;
use k8s_openapi::api::{
    core::v1::{Namespace, Secret, ServiceAccount},
    rbac::v1::{ClusterRole, ClusterRoleBinding, Role as RbacRole, RoleBinding},
};
use kubemate_core::{
    ApplyOptions, ClusterClientExt, FakeCluster, ListOptions, ObjectMeta, fake::Verb,
};

use super::*;
use crate::{
    Password,
    crd::crds,
    derive::MANAGED_BY,
    testing::{mk_role, mk_role_spec, rule},
};

mod escalation;
mod keyring;
mod lockout;
mod login;
mod ops;
mod reconcile;

const START: i64 = 1_700_000_000;

/// An in-memory cluster with the CRDs, namespaces `shop`, `pay` and `dev`, and a bootstrapped
/// Kubemate whose clock the test moves.
struct World {
    fake: FakeCluster,
    rbac: Arc<Rbac>,
    clock: Arc<AtomicI64>,
    admin_password: Password,
}

fn config(clock: &Arc<AtomicI64>) -> Config {
    let clock = Arc::clone(clock);
    Config {
        max_failed_logins: 3,
        lockout: Duration::from_secs(60),
        token_ttl: Duration::from_secs(3600),
        clock: Arc::new(move || {
            Timestamp::from_second(clock.load(Ordering::SeqCst)).expect("valid time")
        }),
        ..Config::default()
    }
}

async fn cluster_with_crds() -> FakeCluster {
    let fake = FakeCluster::new();
    for crd in crds() {
        fake.apply_as("", &crd, &ApplyOptions::default())
            .await
            .expect("crd");
    }
    for ns in ["shop", "pay", "dev"] {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(ns.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        fake.create_as("", &ns).await.expect("namespace");
    }
    fake
}

async fn world() -> World {
    world_with(|_| {}).await
}

/// A world whose configuration `tune` changes.
async fn world_with(tune: impl Fn(&mut Config)) -> World {
    let fake = cluster_with_crds().await;
    let clock = Arc::new(AtomicI64::new(START));
    let mut config = config(&clock);
    tune(&mut config);
    let rbac = Arc::new(Rbac::new(Arc::new(fake.clone()), config));
    let boot = rbac.bootstrap().await.expect("bootstrap");
    World {
        fake,
        rbac,
        clock,
        admin_password: boot.admin_password.expect("generated"),
    }
}

impl World {
    /// Another replica on the same cluster (its own memory), configured like this one but for
    /// `tune`.
    fn replica(&self, tune: impl Fn(&mut Config)) -> Arc<Rbac> {
        let mut config = config(&self.clock);
        tune(&mut config);
        Arc::new(Rbac::new(Arc::new(self.fake.clone()), config))
    }

    fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }

    async fn role(&self, name: &str, rules: Vec<crate::Rule>, namespaces: &[&str]) {
        let spec = mk_role(name, rules, namespaces, &[]).spec;
        self.rbac
            .create_role("admin", name, spec)
            .await
            .expect("create role");
    }

    async fn user(&self, name: &str, roles: &[&str]) {
        self.rbac
            .create_user(
                "admin",
                NewUser {
                    name: name.into(),
                    display_name: name.to_uppercase(),
                    email: format!("{name}@example.com"),
                    password: Password::new(format!("{name}-password-1")),
                    roles: roles.iter().map(|s| (*s).to_owned()).collect(),
                },
            )
            .await
            .expect("create user");
    }

    /// Every Kubemate-managed RBAC object as `Kind ns/name` → resourceVersion.
    async fn managed(&self) -> BTreeMap<String, String> {
        let opts = ListOptions::labels(format!("{MANAGED_BY}=kubemate"));
        let mut out = BTreeMap::new();
        let mut add = |kind: &str, meta: &ObjectMeta| {
            out.insert(
                format!(
                    "{kind} {}/{}",
                    meta.namespace.clone().unwrap_or_default(),
                    meta.name.clone().unwrap_or_default()
                ),
                meta.resource_version.clone().unwrap_or_default(),
            );
        };
        for o in self
            .fake
            .list_all_as::<ServiceAccount>("", &opts)
            .await
            .expect("sa")
        {
            add("ServiceAccount", &o.metadata);
        }
        for o in self
            .fake
            .list_all_as::<RbacRole>("", &opts)
            .await
            .expect("roles")
        {
            add("Role", &o.metadata);
        }
        for o in self
            .fake
            .list_all_as::<ClusterRole>("", &opts)
            .await
            .expect("cr")
        {
            add("ClusterRole", &o.metadata);
        }
        for o in self
            .fake
            .list_all_as::<RoleBinding>("", &opts)
            .await
            .expect("rb")
        {
            add("RoleBinding", &o.metadata);
        }
        for o in self
            .fake
            .list_all_as::<ClusterRoleBinding>("", &opts)
            .await
            .expect("crb")
        {
            add("ClusterRoleBinding", &o.metadata);
        }
        out
    }

    /// The names of the managed objects (without resourceVersions).
    async fn managed_names(&self) -> Vec<String> {
        self.managed().await.into_keys().collect()
    }
}

#[tokio::test]
async fn bootstrap_creates_the_admin_once_and_shows_its_password_once() {
    let w = world().await;
    assert_eq!(w.admin_password.expose().len(), 24);
    let names = w.managed_names().await;
    assert!(
        names.contains(&"ClusterRole /kubemate.admin".to_owned()),
        "{names:?}"
    );
    assert!(names.contains(&"ClusterRoleBinding /kubemate.admin.admin".to_owned()));
    assert!(names.contains(&"ServiceAccount kubemate-system/kubemate-user-admin".to_owned()));
    let key: Secret = w
        .fake
        .get_as("kubemate-system", "kubemate-token-key")
        .await
        .expect("key");
    let ring = crate::service::keyring::ring_from_secret(&key).expect("a key ring");
    assert!(ring.retired().is_empty());
    let data = key.data.expect("data");
    assert_eq!(data[&format!("key.{}", ring.active_kid())].0.len(), 64);
    assert!(!data.contains_key("hs256"));
    let admin = w.rbac.user("admin").await.expect("admin");
    assert_eq!(admin.spec.roles, ["admin"]);
    assert_eq!(
        admin.status.and_then(|s| s.service_account).as_deref(),
        Some("kubemate-user-admin")
    );
    w.rbac
        .login("admin", &w.admin_password)
        .await
        .expect("login");

    let again = w.rbac.bootstrap().await.expect("second start");
    assert!(!again.created_admin);
    assert!(again.admin_password.is_none(), "the password is shown once");
    let replica = Rbac::new(Arc::new(w.fake.clone()), config(&w.clock));
    assert!(
        replica
            .bootstrap()
            .await
            .expect("replica")
            .admin_password
            .is_none()
    );
}

/// A cluster whose operator created the admin password Secret before the first start, and a
/// Kubemate bootstrapped on it.
async fn bootstrapped_from_the_admin_secret() -> (FakeCluster, Rbac) {
    let fake = cluster_with_crds().await;
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some("kubemate-system".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    fake.create_as("", &ns).await.expect("namespace");
    // The fake does not fold stringData into data as the apiserver does: give data.
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("kubemate-admin-password".into()),
            ..Default::default()
        },
        data: Some(
            [(
                "password".to_owned(),
                k8s_openapi::ByteString(b"from-the-operator-1\n".to_vec()),
            )]
            .into(),
        ),
        ..Default::default()
    };
    fake.create_as("kubemate-system", &secret)
        .await
        .expect("secret");
    let clock = Arc::new(AtomicI64::new(START));
    let rbac = Rbac::new(Arc::new(fake.clone()), config(&clock));
    let boot = rbac.bootstrap().await.expect("bootstrap");
    assert!(boot.created_admin);
    assert!(boot.admin_password.is_none(), "the operator knows it");
    (fake, rbac)
}

async fn admin_secret_exists(fake: &FakeCluster) -> bool {
    fake.get_opt_as::<Secret>("kubemate-system", "kubemate-admin-password")
        .await
        .expect("get")
        .is_some()
}

#[tokio::test]
async fn bootstrap_takes_the_admin_password_from_its_secret() {
    let (_, rbac) = bootstrapped_from_the_admin_secret().await;
    rbac.login("admin", &Password::new("from-the-operator-1"))
        .await
        .expect("login with the Secret's password");
}

#[tokio::test]
async fn the_admin_password_secret_is_deleted_once_the_admin_has_logged_in() {
    let (fake, rbac) = bootstrapped_from_the_admin_secret().await;
    let right = Password::new("from-the-operator-1");
    rbac.login("admin", &Password::new("not-the-password"))
        .await
        .expect_err("wrong password");
    assert!(admin_secret_exists(&fake).await, "a failed login keeps it");
    rbac.create_user(
        Actor::Operator,
        NewUser {
            name: "alice".into(),
            display_name: String::new(),
            email: String::new(),
            password: Password::new("alice-password-1"),
            roles: vec![],
        },
    )
    .await
    .expect("alice");
    rbac.login("alice", &Password::new("alice-password-1"))
        .await
        .expect("alice logs in");
    assert!(
        admin_secret_exists(&fake).await,
        "another user's login keeps it"
    );
    // The delete fails: the login still succeeds, and the next one deletes it.
    fake.fail(
        Some(Verb::Delete),
        Some("secrets"),
        kubemate_core::ErrorKind::Unavailable,
        1,
    );
    rbac.login("admin", &right).await.expect("login");
    assert!(
        admin_secret_exists(&fake).await,
        "the failed delete left it"
    );
    rbac.login("admin", &right).await.expect("login again");
    assert!(!admin_secret_exists(&fake).await, "deleted after the login");
    // Gone already: later logins do not mind.
    rbac.login("admin", &right).await.expect("and again");
}

#[tokio::test]
async fn the_admin_password_secret_is_deleted_once_the_admins_password_changed() {
    let (fake, rbac) = bootstrapped_from_the_admin_secret().await;
    rbac.change_password(
        "admin",
        &Password::new("from-the-operator-1"),
        &Password::new("the-admins-own-1"),
    )
    .await
    .expect("change");
    assert!(
        !admin_secret_exists(&fake).await,
        "deleted after the change"
    );

    let (fake, rbac) = bootstrapped_from_the_admin_secret().await;
    rbac.set_password(Actor::Operator, "admin", &Password::new("reset-by-ops-1"))
        .await
        .expect("reset");
    assert!(!admin_secret_exists(&fake).await, "deleted after the reset");
    rbac.login("admin", &Password::new("reset-by-ops-1"))
        .await
        .expect("the new password");
}

#[tokio::test]
async fn client_for_impersonates_the_users_service_account() {
    let w = world().await;
    let client = w.rbac.client_for("alice").expect("client");
    let _ = client
        .list(
            &kubemate_core::ResourceType::of::<k8s_openapi::api::core::v1::Pod>(),
            "shop",
            &ListOptions::default(),
        )
        .await;
    let last = w.fake.actions().pop().expect("a call");
    assert_eq!(
        last.identity,
        Some(kubemate_core::Identity::service_account(
            "kubemate-system",
            "kubemate-user-alice"
        ))
    );
    assert_eq!(last.verb, Verb::List);
    assert!(w.rbac.client_for("Not A Name").is_err());
}

#[tokio::test]
async fn install_crds_waits_until_the_apiserver_serves_them() {
    // An apiserver that accepts the CRDs but never reports them established.
    let mut mock = kubemate_core::MockClusterClient::new();
    mock.expect_apply()
        .returning(|_, _, obj, _| Ok(obj.clone()));
    mock.expect_get().returning(|_, _, name| {
        Ok(kubemate_core::conformance::object(serde_json::json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name}, "spec": {}
        })))
    });
    let err = crate::install_crds(&mock, Duration::from_millis(300))
        .await
        .expect_err("never seen established");
    assert_eq!(err.code(), "Timeout");
    let fake = FakeCluster::new();
    crate::install_crds(&fake, Duration::from_secs(5))
        .await
        .expect("installed");
    let users: Vec<crate::User> = fake
        .list_all_as("", &ListOptions::default())
        .await
        .expect("served");
    assert!(users.is_empty());
}
