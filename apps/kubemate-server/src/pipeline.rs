//! The one path every cluster operation of the API takes.
//!
//! A handler parses its input (the path first, then the caller, the query and the body),
//! builds a core operation ([`kubemate_core::access::Operation`]) and hands it to
//! [`AppState::run`], which:
//!
//! 1. answers for visibility: an object in a namespace the caller cannot see is the same 404
//!    as a missing one, a collection there is a 403;
//! 2. authorizes every request the operation declares it will make (the first refusal is the
//!    403), so that the impersonated calls never meet a refusal Kubemate did not foresee;
//! 3. checks the inputs that need no request (after authorization, so that a refusal does not
//!    follow a hint about valid input);
//! 4. for a mutation, writes the pending audit record (or refuses with 503) and runs with the
//!    client impersonating the caller; a read runs with the server's client;
//! 5. maps the error: a NotFound about the object the operation names is worded the same
//!    whether it is missing or hidden.
//!
//! Before any of it, the operation's target becomes what the request's audit record is
//! about. The response record is completed by the audit middleware, as for every request.
//!
//! Reads of the namespaces themselves take [`AppState::run_namespaces`]: what authorizes them
//! is namespace visibility, not the declared requests (a user of one namespace may read it
//! without any cluster-wide permission on namespaces).
//!
//! Kubemate's own operations (users, roles: [`kubemate_rbac::ops::AdminOperation`]) take the
//! same path through [`AppState::admin`]: the record's target, the administration area and
//! the declared Kubemate requests, the pending record, the run for the caller (kubemate-rbac
//! adds its escalation checks and acts with Kubemate's identity) and, after a change, a fresh
//! policy. No handler
//! keeps a list of Kubernetes calls: the operation declares them next to its code, and core's
//! access tests prove the declaration covers the calls.

use kubemate_core::access::{Access, Operation, Target};
use kubemate_rbac::{Actor, Decision, Namespaces, Request, ops::AdminOperation};

use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiError, ApiResult},
    state::AppState,
    streams::StreamGuard,
};

/// Visibility, then every declared request: what an operation about `target` needs from
/// `user`. Checked before an operation runs and, for a stream, again every second.
pub fn authorize(
    user: &AuthUser,
    target: &Target,
    names_object: bool,
    access: &[Access],
) -> ApiResult<()> {
    if let Some(ns) = target.namespace.as_deref() {
        match target.name.as_deref() {
            Some(name) if names_object => user.require_visible(ns, &target.qualified(), name)?,
            _ => user.require_namespace(ns)?,
        }
    }
    let resources: Vec<String> = access.iter().map(Access::resource_path).collect();
    let requests: Vec<Request<'_>> = access
        .iter()
        .zip(&resources)
        .map(|(a, resource)| match a.namespace.as_deref() {
            Some(ns) => Request::namespaced(a.verb, &a.group, resource, ns),
            None => Request::cluster(a.verb, &a.group, resource),
        })
        .collect();
    user.allow(&requests)
}

/// What `op` needs from a caller, as a check a stream can repeat after `op` is gone.
pub fn access_check<O: Operation>(
    op: &O,
) -> impl Fn(&AuthUser) -> ApiResult<()> + Send + Sync + 'static {
    let (target, names_object, access) = (op.target(), op.names_object(), op.access());
    move |user| authorize(user, &target, names_object, &access)
}

/// The error of an operation as the API answers it.
pub fn operation_error(target: &Target, names_object: bool, e: kubemate_core::Error) -> ApiError {
    match target.name.as_deref() {
        Some(name) if names_object && e.is(kubemate_core::ErrorKind::NotFound) => {
            ApiError::not_found(&target.qualified(), name)
        }
        _ => ApiError::from(e),
    }
}

/// The namespace read for `user`: every namespace when their roles cover all, one read of
/// each of theirs otherwise.
pub fn namespaces_of(user: &AuthUser) -> kubemate_core::resources::Namespaces {
    kubemate_core::resources::Namespaces {
        only: match user.namespaces() {
            Namespaces::All => None,
            Namespaces::Only(names) => Some(names.into_iter().collect()),
        },
    }
}

/// True when `user` may read namespace `ns`: a role in that namespace (as for the list), or
/// the permission to `get namespaces` there. A namespace is readable exactly when it is
/// listed ([`namespaces_of`]).
fn may_read_namespace(user: &AuthUser, ns: &str) -> bool {
    user.sees(ns)
        || user.policy.authorize(
            &user.name,
            &Request::namespaced("get", "", "namespaces", ns),
        ) == Decision::Allow
}

impl AppState {
    /// Authorizes, audits and runs `op` for `user` (see the module documentation).
    pub async fn run<O: Operation>(
        &self,
        user: &AuthUser,
        audit: &Audit,
        op: &O,
    ) -> ApiResult<O::Output> {
        let target = op.target();
        audit.describe(&target);
        let names_object = op.names_object();
        authorize(user, &target, names_object, &op.access())?;
        op.validate()?;
        let result = if op.mutates() {
            audit.begin().await?;
            let client = self.rbac.client_for(&user.name)?;
            op.run(&*client).await
        } else {
            op.run(&*self.cluster).await
        };
        result.map_err(|e| operation_error(&target, names_object, e))
    }

    /// Runs `op`, which opens a stream, under a [`StreamGuard`] that checks the operation's
    /// access again every second: authorized first, then a stream slot taken (so that a
    /// refused stream costs the cluster nothing), then run as [`AppState::run`] does.
    pub async fn run_stream<O: Operation>(
        &self,
        user: &AuthUser,
        audit: &Audit,
        op: &O,
    ) -> ApiResult<(StreamGuard, O::Output)> {
        let check = access_check(op);
        check(user)?;
        let guard = StreamGuard::open(self, user, check)?;
        let output = self.run(user, audit, op).await?;
        Ok((guard, output))
    }

    /// Authorizes, audits and runs Kubemate's own operation `op` for `user`: the record is
    /// about the operation's target; the caller needs its administration area and every
    /// Kubemate request it declares; its inputs are checked; a change gets its pending record
    /// first and refreshes the policy after it ran (whether it succeeded or not, since a
    /// failure may come after some writes).
    pub async fn admin<O: AdminOperation>(
        &self,
        user: &AuthUser,
        audit: &Audit,
        op: &O,
    ) -> ApiResult<O::Output> {
        let target = op.target();
        audit.describe(&target);
        user.require_area(op.area())?;
        authorize(user, &target, false, &op.access())?;
        op.validate()?;
        if op.mutates() {
            audit.begin().await?;
        }
        let result = op.run(&self.rbac, Actor::User(&user.name)).await;
        if op.changes_policy() {
            self.invalidate_policy().await;
        }
        Ok(result?)
    }

    /// Runs `op`, a read of namespaces themselves, for `user`: the record is about its
    /// target; a namespace it names that `user` may not read is the same 404 as a missing one;
    /// a collection is the one [`namespaces_of`] built for `user`. Runs with the server's
    /// client: visibility, not the caller's Kubernetes identity, is what allows it.
    pub async fn run_namespaces<O: Operation>(
        &self,
        user: &AuthUser,
        audit: &Audit,
        op: &O,
    ) -> ApiResult<O::Output> {
        let mut target = op.target();
        // A namespace's record is in that namespace too, so that a query by namespace finds
        // the reads of the namespace itself.
        if let Some(name) = target.name.clone() {
            target = target.ns(&name);
        }
        audit.describe(&target);
        if op.mutates() || target.kind != "namespaces" {
            return Err(ApiError::internal(format!(
                "{} {} is not a read of namespaces",
                target.verb, target.kind
            )));
        }
        if let Some(name) = target.name.as_deref()
            && !may_read_namespace(user, name)
        {
            return Err(ApiError::not_found("namespaces", name).denied());
        }
        op.validate()?;
        op.run(&*self.cluster)
            .await
            .map_err(|e| operation_error(&target, op.names_object(), e))
    }
}
