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
    testing::{mk_role_spec, rule},
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
        ..mk_role_spec(vec![rule(&["*"], &["*"], &["*"])], &["*"])
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
            .create_role(&self.root, &name, mk_role_spec(rules, namespaces))
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

mod authorizer;
mod escalation;
mod impersonation;
mod login;
mod reconcile;
