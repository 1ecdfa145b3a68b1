//! What an operation needs and what it is about, declared next to its code.
//!
//! Each operation a frontend calls (the server's routes, the CLI's commands) is a value that
//! implements [`Operation`]: it names its audit [`Target`], declares the [`Access`] — the
//! Kubernetes requests it will make for its inputs — and runs on a [`ClusterClient`]. A
//! frontend authorizes the declared access, records the target and runs the operation; it keeps
//! no list of Kubernetes calls of its own. The tests in `access/tests.rs` run every operation
//! against the recording fake cluster and fail when it makes a call its declaration does not
//! cover, so a declaration cannot drift from the code.

use std::future::Future;

use crate::{ClusterClient, ResourceType, Result};

/// One Kubernetes request an operation makes, as RBAC sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The Kubernetes verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`.
    pub verb: &'static str,
    /// The API group (`""` for core).
    pub group: String,
    /// The plural resource.
    pub resource: String,
    /// The subresource (`scale`, `log`, `status`), if any.
    pub subresource: Option<&'static str>,
    /// The namespace; `None` for cluster-scoped resources and requests across all namespaces.
    pub namespace: Option<String>,
    /// The object, when the request names one (`None`: any, as for lists).
    pub name: Option<String>,
}

impl Access {
    /// `verb` on `rt` in namespace `ns` (`""`, or a cluster-scoped `rt`: cluster-wide).
    pub fn new(verb: &'static str, rt: &ResourceType, ns: &str) -> Self {
        Access {
            verb,
            group: rt.group.clone(),
            resource: rt.plural.clone(),
            subresource: None,
            namespace: (rt.namespaced && !ns.is_empty()).then(|| ns.to_owned()),
            name: None,
        }
    }

    /// `verb` on the core resource `plural` in namespace `ns` (`""`: all namespaces).
    pub fn core(verb: &'static str, plural: &str, ns: &str) -> Self {
        Access {
            verb,
            group: String::new(),
            resource: plural.to_owned(),
            subresource: None,
            namespace: (!ns.is_empty()).then(|| ns.to_owned()),
            name: None,
        }
    }

    /// The same request about the object `name` only.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// The same request on a subresource.
    pub fn subresource(mut self, subresource: &'static str) -> Self {
        self.subresource = Some(subresource);
        self
    }

    /// The resource as RBAC rules name it: `deployments`, `deployments/scale`.
    pub fn resource_path(&self) -> String {
        match self.subresource {
            Some(sub) => format!("{}/{sub}", self.resource),
            None => self.resource.clone(),
        }
    }

    /// True when this declaration covers `call`: the same verb and resource (group aside, which
    /// a call record may not carry), the same namespace, and the same name unless it names
    /// none.
    pub fn covers(&self, call: &Call) -> bool {
        self.verb == call.verb
            && self.resource == call.resource
            && self.subresource == call.subresource
            && self.namespace.as_deref().unwrap_or("") == call.namespace
            && self.name.as_deref().is_none_or(|n| n == call.name)
    }
}

/// A request an operation actually made, as a recording client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The Kubernetes verb.
    pub verb: &'static str,
    /// The plural resource.
    pub resource: String,
    /// The subresource, if any.
    pub subresource: Option<&'static str>,
    /// The namespace (`""` for cluster scope or all namespaces).
    pub namespace: String,
    /// The object name (`""` when the call named none).
    pub name: String,
}

/// What an operation is about, for the audit trail of every frontend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The verb: `create`, `delete`, `scale`, `get`, `list`, ...
    pub verb: String,
    /// The resource (plural) or area: `deployments`, `users`, `namespaces`, ...
    pub kind: String,
    /// The API group of `kind` (`""` for the core group and for Kubemate's own areas); it
    /// words messages (`deployments.apps "web" not found`) and is not recorded.
    pub group: String,
    /// The namespace, if any.
    pub namespace: Option<String>,
    /// The object's name, if any.
    pub name: Option<String>,
}

impl Target {
    /// An operation on `kind`.
    pub fn new(verb: &str, kind: &str) -> Self {
        Target {
            verb: verb.to_owned(),
            kind: kind.to_owned(),
            group: String::new(),
            namespace: None,
            name: None,
        }
    }

    /// An operation on the resource `rt`.
    pub fn of(verb: &str, rt: &ResourceType) -> Self {
        Target {
            group: rt.group.clone(),
            ..Target::new(verb, &rt.plural)
        }
    }

    /// In namespace `ns` ("" means none, or all).
    pub fn ns(mut self, ns: &str) -> Self {
        self.namespace = (!ns.is_empty()).then(|| ns.to_owned());
        self
    }

    /// On the object `name`.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// The kind as the apiserver names it in messages: `deployments.apps`, `pods` (also for
    /// a subresource such as `pods/log`: a missing Pod is a missing Pod).
    pub fn qualified(&self) -> String {
        let plural = self.kind.split('/').next().unwrap_or_default();
        crate::resource::qualified_plural(&self.group, plural)
    }
}

/// An operation a frontend runs: what it is about, what it needs, and the run itself.
///
/// Generic rather than object-safe: each operation has its own output, and a frontend runs one
/// concrete operation per request.
pub trait Operation: Send + Sync {
    /// What a successful run returns.
    type Output: Send;

    /// What the operation is about, for the audit record.
    fn target(&self) -> Target;

    /// Every Kubernetes request the operation may make for its inputs.
    fn access(&self) -> Vec<Access>;

    /// True when the operation changes the cluster (it gets a record before it runs, and runs
    /// with the caller's own identity).
    fn mutates(&self) -> bool;

    /// True when the operation addresses an existing object by name: a caller who may not see
    /// its namespace is answered as for a missing object, and a NotFound about it is worded as
    /// one. False for collections and creations.
    fn names_object(&self) -> bool {
        self.target().name.is_some()
    }

    /// Checks the inputs that need no request; a frontend calls it once the caller is
    /// authorized, so that a refusal is not preceded by a hint about valid input.
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Runs the operation.
    fn run(&self, client: &dyn ClusterClient) -> impl Future<Output = Result<Self::Output>> + Send;
}

#[cfg(all(test, feature = "test-util"))]
mod tests;
