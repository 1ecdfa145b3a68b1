//! The world of the router tests: the demo cluster with Kubemate bootstrapped, two roles over
//! namespace `shop` (a read-only `shop-viewer` and a `shop-editor` that may do everything there
//! and read the audit log), their users, and tokens for them and for `admin`.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use axum::{
    Router,
    body::Body,
    http::{Request, Response, StatusCode, header},
};
use http_body_util::BodyExt;
use kubemate_audit::{AuditSink, Entry, FileSink, Query, Record, Stage};
use kubemate_core::{
    ClusterClient, FakeCluster,
    fake::{Action, Verb},
    wizard::Registries,
};
use kubemate_rbac::{NewUser, Password, Rbac, RoleSpec, Rule};
use kubemate_server::{AppState, Settings, router, startup};
use serde_json::Value;
use tower::ServiceExt;

pub const VIEWER: &str = "viewer";
pub const EDITOR: &str = "editor";

pub fn password_of(user: &str) -> String {
    format!("{user}-password-1")
}

pub struct World {
    pub fake: FakeCluster,
    pub state: AppState,
    pub router: Router,
    pub audit_path: PathBuf,
    pub admin_password: String,
    pub admin: String,
    pub viewer: String,
    pub editor: String,
    _dir: tempfile::TempDir,
}

/// How to build a world.
pub struct Options {
    pub settings: Settings,
    /// An audit sink to use instead of the file (the file is still the one `records` reads).
    pub sink: Option<Arc<dyn AuditSink>>,
    /// A cluster client for reads instead of the fake (writes still go to the fake).
    pub cluster: Option<Arc<dyn ClusterClient>>,
    /// Kubemate's settings (lockout, hashing pool).
    pub rbac: kubemate_rbac::Config,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            settings: Settings {
                registries: Registries::new(startup::DEMO_REGISTRIES.iter().copied()),
                policy_ttl: Duration::ZERO,
                ..Settings::default()
            },
            sink: None,
            cluster: None,
            rbac: kubemate_rbac::Config::default(),
        }
    }
}

pub fn role(rules: Vec<Rule>, namespaces: &[&str], menus: &[&str]) -> RoleSpec {
    RoleSpec {
        description: String::new(),
        rules,
        namespaces: namespaces.iter().map(|s| (*s).to_owned()).collect(),
        menus: menus.iter().map(|s| (*s).to_owned()).collect(),
    }
}

pub async fn world() -> World {
    world_with(Options::default()).await
}

pub async fn world_with(options: Options) -> World {
    let fake = FakeCluster::demo().expect("demo cluster");
    startup::install_crds_in_fake(&fake).await.expect("crds");
    let rbac = Rbac::new(Arc::new(fake.clone()), options.rbac);
    let boot = rbac.bootstrap().await.expect("bootstrap");
    let admin_password = boot.admin_password.expect("generated password");
    let read = Rule::new(&["get", "list", "watch"], &["*"], &["*"]);
    rbac.create_role("admin", "shop-viewer", role(vec![read], &["shop"], &[]))
        .await
        .expect("viewer role");
    let all = Rule::new(&["*"], &["*"], &["*"]);
    rbac.create_role(
        "admin",
        "shop-editor",
        role(vec![all], &["shop"], &["audit"]),
    )
    .await
    .expect("editor role");
    for (user, role) in [(VIEWER, "shop-viewer"), (EDITOR, "shop-editor")] {
        rbac.create_user(
            "admin",
            NewUser {
                name: user.into(),
                display_name: user.to_uppercase(),
                email: String::new(),
                password: Password::new(password_of(user)),
                roles: vec![role.into()],
            },
        )
        .await
        .expect("user");
    }
    let token = |login: kubemate_rbac::Login| login.token.expose().to_owned();
    let admin = token(
        rbac.login("admin", &Password::new(admin_password.expose()))
            .await
            .expect("admin login"),
    );
    let viewer = token(
        rbac.login(VIEWER, &Password::new(password_of(VIEWER)))
            .await
            .expect("viewer login"),
    );
    let editor = token(
        rbac.login(EDITOR, &Password::new(password_of(EDITOR)))
            .await
            .expect("editor login"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let audit_path = dir.path().join("audit.jsonl");
    let sink: Arc<dyn AuditSink> = match options.sink {
        Some(sink) => sink,
        None => Arc::new(FileSink::open(&audit_path, false).expect("audit log")),
    };
    let cluster = options
        .cluster
        .unwrap_or_else(|| Arc::new(fake.clone()) as Arc<dyn ClusterClient>);
    let state = AppState::new(cluster, Arc::new(rbac), sink, options.settings);
    World {
        router: router(state.clone()),
        fake,
        state,
        audit_path,
        admin_password: admin_password.expose().to_owned(),
        admin,
        viewer,
        editor,
        _dir: dir,
    }
}

impl World {
    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.expect("infallible")
    }

    pub fn request(
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Request<Body> {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .expect("request")
    }

    /// Sends a request and reads the JSON answer (`Null` for an empty or non-JSON body).
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let response = self
            .send(Self::request(method, uri, token, body.as_ref()))
            .await;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// The audit records written so far.
    pub fn records(&self) -> Vec<Record> {
        std::fs::read_to_string(&self.audit_path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("record"))
            .collect()
    }

    /// The calls the fake received since `mark` (an earlier `actions().len()`).
    pub fn actions_since(&self, mark: usize) -> Vec<Action> {
        self.fake.actions().split_off(mark)
    }

    pub fn mark(&self) -> usize {
        self.fake.actions().len()
    }
}

/// True when the only calls are the authorizer's reads of Kubemate's users and roles.
pub fn only_policy_reads(actions: &[Action]) -> bool {
    actions
        .iter()
        .all(|a| a.verb == Verb::List && (a.resource == "users" || a.resource == "roles"))
}

/// A sink that refuses every append: the disk is full.
pub struct FailingSink;

#[async_trait]
impl AuditSink for FailingSink {
    async fn append(&self, _: Entry) -> kubemate_audit::Result<Record> {
        Err(kubemate_audit::Error::Io {
            path: "audit.jsonl".into(),
            source: std::io::Error::other("no space left on device"),
        })
    }

    async fn query(&self, _: &Query) -> kubemate_audit::Result<Vec<Record>> {
        Ok(Vec::new())
    }
}

/// A sink that takes its time over request records, and keeps response records in memory.
pub struct SlowSink {
    pub delay: Duration,
    pub inner: FileSink,
}

#[async_trait]
impl AuditSink for SlowSink {
    async fn append(&self, entry: Entry) -> kubemate_audit::Result<Record> {
        if entry.stage == Some(Stage::Request) {
            tokio::time::sleep(self.delay).await;
        }
        self.inner.append(entry).await
    }

    async fn query(&self, query: &Query) -> kubemate_audit::Result<Vec<Record>> {
        self.inner.query(query).await
    }
}

/// A buffer that captures the logs of a test.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The logs of this test binary: a global subscriber (a scoped one misses events whose
/// callsites other test threads registered first) writing JSON lines to memory.
pub fn captured_logs() -> Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .json()
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        logs
    })
    .clone()
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}
