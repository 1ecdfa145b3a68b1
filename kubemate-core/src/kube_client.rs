//! [`KubeClusterClient`]: the [`ClusterClient`] of a real cluster, on kube-rs.
//!
//! This is the only module of the workspace that touches `kube::Client` and `kube::Api`.

use std::{path::PathBuf, sync::Arc};

use async_trait::async_trait;
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use kube::{
    Api, Client, Config,
    api::{
        DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams, Preconditions,
        PropagationPolicy, WatchParams,
    },
    config::{KubeConfigOptions, Kubeconfig},
    core::{DynamicObject, Status},
    discovery::{Discovery, Scope},
};
use serde::{Deserialize, Serialize};

use crate::{
    ApplyOptions, Cause, ClusterClient, DeleteOptions, DeleteOutcome, DiscoveredResource, Error,
    ErrorKind, FIELD_MANAGER, Identity, ListOptions, LogOptions, LogStream, ObjectList,
    Propagation, ResourceType, Result, Scale, WatchEvent, WatchOptions, WatchStream, WriteOptions,
};

/// Where to find the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientConfig {
    /// A kubeconfig file; `None` infers (`$KUBECONFIG`, `~/.kube/config`, then in-cluster).
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use; `None` uses the current context.
    pub context: Option<String>,
}

/// What the chosen kubeconfig context says about the caller: who (the context's user entry)
/// and where (its default namespace). Frontends use it to name the actor in audit records and
/// to default the namespace as kubectl does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextInfo {
    /// The context's name.
    pub context: Option<String>,
    /// The name of the context's user entry (`users[].name`), e.g. `kubernetes-admin`.
    pub user: Option<String>,
    /// The context's default namespace.
    pub namespace: Option<String>,
}

impl ClientConfig {
    /// The chosen context of the kubeconfig this configuration points at (the file given, or
    /// `$KUBECONFIG`, or `~/.kube/config`). Without a kubeconfig (in a cluster) every field is
    /// `None`; a file given explicitly that cannot be read is a `ConfigError`.
    pub fn context_info(&self) -> Result<ContextInfo> {
        let file = match &self.kubeconfig {
            Some(path) => Kubeconfig::read_from(path).map_err(|e| {
                config_error(&format!("cannot read kubeconfig {}", path.display()), e)
            })?,
            None => match Kubeconfig::read() {
                Ok(file) => file,
                // No kubeconfig at all: `connect` falls back on the in-cluster configuration.
                Err(_) => return Ok(ContextInfo::default()),
            },
        };
        let name = self.context.clone().or(file.current_context);
        let context = name
            .as_deref()
            .and_then(|n| file.contexts.iter().find(|c| c.name == n))
            .and_then(|c| c.context.as_ref());
        Ok(ContextInfo {
            user: context.and_then(|c| c.user.clone()),
            namespace: context.and_then(|c| c.namespace.clone()),
            context: name,
        })
    }
}

/// A [`ClusterClient`] on a real cluster.
#[derive(Clone)]
pub struct KubeClusterClient {
    client: Client,
    config: Config,
}

impl std::fmt::Debug for KubeClusterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config holds credentials: show only where it points.
        f.debug_struct("KubeClusterClient")
            .field("cluster_url", &self.config.cluster_url)
            .field("impersonate", &self.config.auth_info.impersonate)
            .finish()
    }
}

fn config_error(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::new(ErrorKind::Config, format!("{what}: {e}")).with_source(e)
}

impl KubeClusterClient {
    /// Connects as `config` says.
    pub async fn connect(config: &ClientConfig) -> Result<Self> {
        let options = KubeConfigOptions {
            context: config.context.clone(),
            ..Default::default()
        };
        let kube_config = match (&config.kubeconfig, &config.context) {
            (Some(path), _) => {
                let file = Kubeconfig::read_from(path).map_err(|e| {
                    config_error(&format!("cannot read kubeconfig {}", path.display()), e)
                })?;
                Config::from_custom_kubeconfig(file, &options)
                    .await
                    .map_err(|e| config_error("invalid kubeconfig", e))?
            }
            (None, Some(_)) => Config::from_kubeconfig(&options)
                .await
                .map_err(|e| config_error("invalid kubeconfig", e))?,
            (None, None) => Config::infer()
                .await
                .map_err(|e| config_error("no cluster configuration found", e))?,
        };
        Self::from_config(kube_config)
    }

    /// Connects with the in-cluster service account.
    pub fn in_cluster() -> Result<Self> {
        let config =
            Config::incluster().map_err(|e| config_error("not running in a cluster", e))?;
        Self::from_config(config)
    }

    /// Connects with a kube `Config`.
    pub fn from_config(config: Config) -> Result<Self> {
        let client = Client::try_from(config.clone())
            .map_err(|e| config_error("cannot build a client", e))?;
        Ok(KubeClusterClient { client, config })
    }

    fn api(&self, rt: &ResourceType, ns: &str) -> Api<DynamicObject> {
        let ar = rt.api_resource();
        if rt.namespaced && !ns.is_empty() {
            Api::namespaced_with(self.client.clone(), ns, &ar)
        } else {
            Api::all_with(self.client.clone(), &ar)
        }
    }
}

/// Maps a kube error to a kubemate error, keeping the apiserver's reason and field causes.
pub(crate) fn map_kube_error(e: kube::Error) -> Error {
    match e {
        kube::Error::Api(status) => map_status(&status),
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            let text = e.to_string().to_lowercase();
            let kind = if text.contains("timed out") || text.contains("elapsed") {
                ErrorKind::Timeout
            } else {
                ErrorKind::Unavailable
            };
            Error::new(kind, format!("cluster unreachable: {e}")).with_source(e)
        }
        kube::Error::InferConfig(_) => Error::new(ErrorKind::Config, e.to_string()).with_source(e),
        kube::Error::Discovery(_) => {
            Error::new(ErrorKind::Unsupported, e.to_string()).with_source(e)
        }
        other => Error::new(ErrorKind::Internal, other.to_string()).with_source(other),
    }
}

fn map_status(status: &Status) -> Error {
    let kind = ErrorKind::from_status(&status.reason, status.code);
    let causes = status
        .details
        .as_ref()
        .map(|d| {
            d.causes
                .iter()
                .map(|c| Cause {
                    field: c.field.clone(),
                    reason: c.reason.clone(),
                    message: c.message.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let message = if status.message.is_empty() {
        format!("{} ({})", status.reason, status.code)
    } else {
        status.message.clone()
    };
    if kind == ErrorKind::Invalid {
        Error::invalid(message, causes)
    } else {
        Error::new(kind, message)
    }
}

/// Sets the type metadata the apiserver leaves out of list items.
fn with_types(mut obj: DynamicObject, rt: &ResourceType) -> DynamicObject {
    if obj.types.is_none() {
        obj.types = Some(rt.type_meta());
    }
    obj
}

/// The lock of [`crate::names::check_address`] on a request that carries its object.
fn check_object(
    rt: &ResourceType,
    ns: &str,
    obj: &DynamicObject,
    name_required: bool,
) -> Result<()> {
    let name = obj.metadata.name.as_deref().unwrap_or_default();
    crate::names::check_address(rt, ns, name, name_required)
}

fn pod_type() -> ResourceType {
    ResourceType::new("", "v1", "Pod", "pods", true)
}

fn object_name(obj: &DynamicObject) -> Result<String> {
    obj.metadata
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::new(ErrorKind::BadRequest, "metadata.name is required"))
}

fn post_params(opts: &WriteOptions) -> PostParams {
    PostParams {
        dry_run: opts.dry_run,
        field_manager: Some(FIELD_MANAGER.to_owned()),
    }
}

fn scale_of(scale: k8s_openapi::api::autoscaling::v1::Scale) -> Scale {
    Scale {
        replicas: scale.spec.and_then(|s| s.replicas).unwrap_or(0),
        current_replicas: scale.status.as_ref().map(|s| s.replicas).unwrap_or(0),
        selector: scale.status.and_then(|s| s.selector),
        resource_version: scale.metadata.resource_version,
    }
}

fn log_params(opts: &LogOptions, follow: bool) -> LogParams {
    LogParams {
        container: opts.container.clone(),
        follow,
        limit_bytes: opts.limit_bytes,
        previous: opts.previous,
        since_seconds: opts.since_seconds,
        tail_lines: opts.tail_lines,
        timestamps: opts.timestamps,
        ..Default::default()
    }
}

#[async_trait]
impl ClusterClient for KubeClusterClient {
    async fn discover(&self) -> Result<Vec<DiscoveredResource>> {
        let discovery = match Discovery::new(self.client.clone()).run_aggregated().await {
            Ok(d) => d,
            Err(_) => Discovery::new(self.client.clone())
                .run()
                .await
                .map_err(map_kube_error)?,
        };
        let mut out = Vec::new();
        for group in discovery.groups() {
            let preferred = group.preferred_version_or_latest().to_owned();
            for version in group.versions() {
                for (ar, caps) in group.versioned_resources(version) {
                    out.push(DiscoveredResource {
                        resource: ResourceType {
                            group: ar.group,
                            version: ar.version,
                            kind: ar.kind,
                            plural: ar.plural,
                            namespaced: caps.scope == Scope::Namespaced,
                        },
                        verbs: caps.operations.clone(),
                        subresources: caps
                            .subresources
                            .iter()
                            .map(|(sub, _)| {
                                sub.plural
                                    .rsplit('/')
                                    .next()
                                    .unwrap_or(&sub.plural)
                                    .to_owned()
                            })
                            .collect(),
                        preferred: version == preferred,
                    });
                }
            }
        }
        Ok(out)
    }

    async fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<DynamicObject> {
        crate::names::check_address(rt, ns, name, true)?;
        let obj = self.api(rt, ns).get(name).await.map_err(map_kube_error)?;
        Ok(with_types(obj, rt))
    }

    async fn list(&self, rt: &ResourceType, ns: &str, opts: &ListOptions) -> Result<ObjectList> {
        crate::names::check_address(rt, ns, "", false)?;
        let params = ListParams {
            label_selector: opts.label_selector.clone(),
            field_selector: opts.field_selector.clone(),
            limit: opts.limit,
            continue_token: opts.continue_token.clone(),
            ..Default::default()
        };
        let list = self
            .api(rt, ns)
            .list(&params)
            .await
            .map_err(map_kube_error)?;
        Ok(ObjectList {
            items: list.items.into_iter().map(|o| with_types(o, rt)).collect(),
            resource_version: list.metadata.resource_version.unwrap_or_default(),
            continue_token: list.metadata.continue_.filter(|c| !c.is_empty()),
        })
    }

    async fn create(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &WriteOptions,
    ) -> Result<DynamicObject> {
        check_object(rt, ns, obj, false)?;
        let obj = with_types(obj.clone(), rt);
        let created = self
            .api(rt, ns)
            .create(&post_params(opts), &obj)
            .await
            .map_err(map_kube_error)?;
        Ok(with_types(created, rt))
    }

    async fn replace(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &WriteOptions,
    ) -> Result<DynamicObject> {
        check_object(rt, ns, obj, true)?;
        let name = object_name(obj)?;
        let obj = with_types(obj.clone(), rt);
        let replaced = self
            .api(rt, ns)
            .replace(&name, &post_params(opts), &obj)
            .await
            .map_err(map_kube_error)?;
        Ok(with_types(replaced, rt))
    }

    async fn merge_patch(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        patch: &serde_json::Value,
        opts: &WriteOptions,
    ) -> Result<DynamicObject> {
        crate::names::check_address(rt, ns, name, true)?;
        let params = PatchParams {
            dry_run: opts.dry_run,
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..Default::default()
        };
        let patched = self
            .api(rt, ns)
            .patch(name, &params, &Patch::Merge(patch))
            .await
            .map_err(map_kube_error)?;
        Ok(with_types(patched, rt))
    }

    async fn apply(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &ApplyOptions,
    ) -> Result<DynamicObject> {
        check_object(rt, ns, obj, true)?;
        let name = object_name(obj)?;
        let mut obj = with_types(obj.clone(), rt);
        // The apiserver refuses an apply that carries managedFields.
        obj.metadata.managed_fields = None;
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = opts.force;
        params.dry_run = opts.dry_run;
        let applied = self
            .api(rt, ns)
            .patch(&name, &params, &Patch::Apply(&obj))
            .await
            .map_err(map_kube_error)?;
        Ok(with_types(applied, rt))
    }

    async fn delete(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome> {
        crate::names::check_address(rt, ns, name, true)?;
        let params = DeleteParams {
            dry_run: opts.dry_run,
            grace_period_seconds: opts.grace_period_seconds,
            propagation_policy: opts.propagation.map(|p| match p {
                Propagation::Orphan => PropagationPolicy::Orphan,
                Propagation::Background => PropagationPolicy::Background,
                Propagation::Foreground => PropagationPolicy::Foreground,
            }),
            preconditions: opts.resource_version.clone().map(|rv| Preconditions {
                resource_version: Some(rv),
                uid: None,
            }),
        };
        let outcome = self
            .api(rt, ns)
            .delete(name, &params)
            .await
            .map_err(map_kube_error)?;
        Ok(match outcome.left() {
            Some(obj) if obj.metadata.deletion_timestamp.is_some() => {
                DeleteOutcome::Pending(Box::new(with_types(obj, rt)))
            }
            _ => DeleteOutcome::Deleted,
        })
    }

    async fn watch(&self, rt: &ResourceType, ns: &str, opts: &WatchOptions) -> Result<WatchStream> {
        crate::names::check_address(rt, ns, "", false)?;
        let mut params = WatchParams {
            label_selector: opts.label_selector.clone(),
            field_selector: opts.field_selector.clone(),
            ..Default::default()
        };
        if let Some(timeout) = opts.timeout_seconds {
            params = params.timeout(timeout);
        }
        let version = opts.resource_version.clone().unwrap_or_default();
        let rt = rt.clone();
        let stream = self
            .api(&rt, ns)
            .watch(&params, &version)
            .await
            .map_err(map_kube_error)?;
        Ok(stream
            .map(move |event| match event.map_err(map_kube_error)? {
                kube::core::WatchEvent::Added(o) => Ok(WatchEvent::Added(with_types(o, &rt))),
                kube::core::WatchEvent::Modified(o) => Ok(WatchEvent::Modified(with_types(o, &rt))),
                kube::core::WatchEvent::Deleted(o) => Ok(WatchEvent::Deleted(with_types(o, &rt))),
                kube::core::WatchEvent::Bookmark(b) => {
                    Ok(WatchEvent::Bookmark(b.metadata.resource_version))
                }
                kube::core::WatchEvent::Error(status) => Err(map_status(&status)),
            })
            .boxed())
    }

    async fn get_scale(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Scale> {
        crate::names::check_address(rt, ns, name, true)?;
        let scale = self
            .api(rt, ns)
            .get_scale(name)
            .await
            .map_err(map_kube_error)?;
        Ok(scale_of(scale))
    }

    async fn set_scale(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        replicas: i32,
    ) -> Result<Scale> {
        crate::names::check_address(rt, ns, name, true)?;
        let patch = serde_json::json!({ "spec": { "replicas": replicas } });
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..Default::default()
        };
        let scale = self
            .api(rt, ns)
            .patch_scale(name, &params, &Patch::Merge(&patch))
            .await
            .map_err(map_kube_error)?;
        Ok(scale_of(scale))
    }

    async fn merge_patch_status(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        patch: &serde_json::Value,
    ) -> Result<DynamicObject> {
        crate::names::check_address(rt, ns, name, true)?;
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..Default::default()
        };
        let patched = self
            .api(rt, ns)
            .patch_status(name, &params, &Patch::Merge(patch))
            .await
            .map_err(map_kube_error)?;
        Ok(with_types(patched, rt))
    }

    async fn logs(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<String> {
        crate::names::check_address(&pod_type(), ns, pod, true)?;
        let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(self.client.clone(), ns);
        pods.logs(pod, &log_params(opts, false))
            .await
            .map_err(map_kube_error)
    }

    async fn follow_logs(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<LogStream> {
        crate::names::check_address(&pod_type(), ns, pod, true)?;
        let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(self.client.clone(), ns);
        let reader = pods
            .log_stream(pod, &log_params(opts, true))
            .await
            .map_err(map_kube_error)?;
        Ok(reader
            .lines()
            .map_err(|e| {
                Error::new(ErrorKind::Unavailable, format!("log stream broken: {e}")).with_source(e)
            })
            .boxed())
    }

    fn impersonate(&self, identity: &Identity) -> Result<Arc<dyn ClusterClient>> {
        let mut config = self.config.clone();
        config.auth_info.impersonate = Some(identity.user.clone());
        config.auth_info.impersonate_groups = Some(identity.groups.clone());
        Ok(Arc::new(Self::from_config(config)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: ops
clusters:
- name: prod
  cluster: {server: "https://127.0.0.1:6443"}
contexts:
- name: ops
  context: {cluster: prod, user: ops-admin, namespace: shop}
- name: plain
  context: {cluster: prod, user: viewer}
users:
- name: ops-admin
  user: {token: secret}
- name: viewer
  user: {token: other}
"#;

    #[test]
    fn the_context_names_its_user_and_namespace() {
        let path = std::env::temp_dir().join(format!("kubemate-ctx-{}.yaml", uuid::Uuid::new_v4()));
        std::fs::write(&path, KUBECONFIG).expect("write kubeconfig");
        let current = ClientConfig {
            kubeconfig: Some(path.clone()),
            context: None,
        }
        .context_info()
        .expect("current context");
        let chosen = ClientConfig {
            kubeconfig: Some(path.clone()),
            context: Some("plain".into()),
        }
        .context_info()
        .expect("chosen context");
        let _ = std::fs::remove_file(&path);
        assert_eq!(current.user.as_deref(), Some("ops-admin"));
        assert_eq!(current.namespace.as_deref(), Some("shop"));
        assert_eq!(chosen.context.as_deref(), Some("plain"));
        assert_eq!(chosen.user.as_deref(), Some("viewer"));
        assert_eq!(chosen.namespace, None);
        let missing = ClientConfig {
            kubeconfig: Some(path),
            context: None,
        }
        .context_info()
        .expect_err("the file is gone");
        assert_eq!(missing.kind(), ErrorKind::Config);
    }
}
