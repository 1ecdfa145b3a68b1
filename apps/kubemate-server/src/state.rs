//! What every handler shares: the cluster, Kubemate's users and roles, the audit sink, the
//! settings, and a short-lived cache of the authorizer.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use kubemate_audit::AuditSink;
use kubemate_core::{ClusterClient, wizard::Registries};
use kubemate_rbac::{Policy, Rbac};
use tokio_util::sync::CancellationToken;

use crate::{error::ApiResult, streams::Slots};

/// Settings of the API.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest time a request may take (log follow streams excepted: their headers are sent
    /// within it, the stream then runs until the client leaves, the caller's access ends,
    /// `stream_max_duration` passes or the server stops).
    pub request_timeout: Duration,
    /// The image registries the app wizard may deploy from.
    pub registries: Registries,
    /// How long an authorizer built from the users and roles is reused. Zero rebuilds it for
    /// every request; a few seconds spare the apiserver two list calls per request, at the
    /// price of a change made by another replica taking that long to apply here (changes made
    /// through this replica apply at once).
    pub policy_ttl: Duration,
    /// The longest a stream (a log follow) may run; the client may open a new one.
    pub stream_max_duration: Duration,
    /// How many streams one user may have open at a time; the next is refused (429,
    /// `TooManyStreams`).
    pub max_streams_per_user: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            registries: Registries::default(),
            policy_ttl: Duration::from_secs(2),
            stream_max_duration: Duration::from_secs(30 * 60),
            max_streams_per_user: 4,
        }
    }
}

/// The shared state of the server. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The cluster, with the server's own identity (reads after authorization; writes go
    /// through [`Rbac::client_for`]).
    pub cluster: Arc<dyn ClusterClient>,
    /// Users, roles, login and the authorizer.
    pub rbac: Arc<Rbac>,
    /// Where audit records go.
    pub audit: Arc<dyn AuditSink>,
    /// The settings.
    pub settings: Arc<Settings>,
    /// Cancelled when the server shuts down; ends log follow streams.
    pub shutdown: CancellationToken,
    /// The open streams of each user ([`crate::streams`]).
    pub streams: Arc<Slots>,
    policy: Arc<tokio::sync::Mutex<Option<CachedPolicy>>>,
}

/// An authorizer and when it was built.
type CachedPolicy = (Instant, Arc<Policy>);

impl AppState {
    /// State over a cluster, Kubemate's users and roles on it, and an audit sink.
    pub fn new(
        cluster: Arc<dyn ClusterClient>,
        rbac: Arc<Rbac>,
        audit: Arc<dyn AuditSink>,
        settings: Settings,
    ) -> Self {
        AppState {
            cluster,
            rbac,
            audit,
            settings: Arc::new(settings),
            shutdown: CancellationToken::new(),
            streams: Arc::default(),
            policy: Arc::default(),
        }
    }

    /// The authorizer over the current users and roles (cached for `policy_ttl`).
    pub async fn policy(&self) -> ApiResult<Arc<Policy>> {
        // A tokio lock: concurrent requests wait for one load instead of each listing.
        let mut cached = self.policy.lock().await;
        let ttl = self.settings.policy_ttl;
        if let Some((at, policy)) = cached.as_ref()
            && !ttl.is_zero()
            && at.elapsed() < ttl
        {
            return Ok(Arc::clone(policy));
        }
        let policy = Arc::new(self.rbac.policy().await?);
        *cached = Some((Instant::now(), Arc::clone(&policy)));
        Ok(policy)
    }

    /// Forgets the cached authorizer, after this server changed users or roles.
    pub async fn invalidate_policy(&self) {
        *self.policy.lock().await = None;
    }
}
