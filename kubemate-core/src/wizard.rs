//! The app wizard as one operation: an [`AppSpec`] becomes a Deployment and, optionally, a
//! Service in front of it.
//!
//! The whole spec is validated before anything is sent, and every problem comes back at once
//! as one `Invalid` error with a cause per field (paths name the AppSpec's own fields, see
//! [`validate()`]). Creation then runs step by step:
//!
//! 1. the Deployment — if it fails, nothing was created and [`create_app`] returns the error;
//! 2. the Service, if the spec asks for one;
//! 3. the [`FollowUpStep`]s the caller passes (the route of a later gateway step), each after
//!    everything before it succeeded.
//!
//! A step after the Deployment that fails does **not** roll back what was created: the
//! Deployment is useful on its own (the console offers the Service as a follow-up anyway), and
//! deleting it would kill Pods that may already be starting. Instead the [`AppOutcome`] says
//! what was created, what failed and what was not attempted, so nothing is half-applied
//! silently; [`create_service`] retries the Service step alone.
//!
//! With [`CreateOptions::dry_run`] every step is sent as a server-side dry run: the apiserver
//! validates and admits the objects (quota, admission webhooks) without persisting them.

use async_trait::async_trait;
use k8s_openapi::api::{apps::v1::Deployment, core::v1::Service};
use serde::{Deserialize, Serialize};

use crate::{
    ClusterClient, DynamicObject, Error, ErrorKind, Result,
    access::{Access, Operation, Target},
    typed,
    validation::Problems,
};

mod build;
mod registry;
mod spec;
mod validate;

pub use registry::{Registries, repository};
pub use spec::*;
pub use validate::NODE_PORT_RANGE;

/// The label that names the app and selects its Pods.
pub const APP_NAME_LABEL: &str = "app.kubernetes.io/name";
/// The label that marks objects the wizard created.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The annotation that holds the app's description.
pub const DESCRIPTION_ANNOTATION: &str = "kubemate.io/description";

/// Options of [`create_app`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOptions {
    /// Validate on the apiserver (server-side dry run) without creating anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// Checks `spec` without sending anything: every problem, as one `Invalid` error.
///
/// Field paths are the AppSpec's camelCase field names with list indices and map keys in
/// brackets — `ports[1].port`, `volumes[0].mountPath`, `env[2].name`, `labels[tier]`,
/// `probes.liveness.httpGet.port`, `service.ports[0].targetPort` — so that a form can show each
/// message beside the input it is about.
pub fn validate(spec: &AppSpec, registries: &Registries) -> Result<()> {
    let mut problems = Problems::new();
    validate::check(spec, registries, &mut problems);
    problems.finish(&what(spec))
}

fn what(spec: &AppSpec) -> String {
    format!("AppSpec \"{}/{}\"", spec.namespace, spec.name)
}

/// The Deployment `spec` stands for (for previews; [`create_app`] validates first).
pub fn deployment_for(spec: &AppSpec) -> Deployment {
    build::deployment(spec)
}

/// The Service `spec` stands for, if it asks for one (for previews).
pub fn service_for(spec: &AppSpec) -> Option<Service> {
    build::service(spec)
}

/// What the objects a wizard run created look like, for the steps that follow.
#[derive(Debug, Clone, Copy)]
pub struct CreatedApp<'a> {
    /// The spec the app was created from.
    pub spec: &'a AppSpec,
    /// The Deployment as the apiserver returned it.
    pub deployment: &'a Deployment,
    /// The Service as the apiserver returned it, if the spec asked for one.
    pub service: Option<&'a Service>,
}

/// A step that runs after the Deployment and the Service: the extension point for steps that
/// live in other crates, such as the route (HTTPRoute or IngressRoute) that kubemate-gateway
/// adds. The application composes the steps it offers into [`create_app_with`].
///
/// A step takes part in the wizard's guarantees: its [`validate()`](FollowUpStep::validate) runs
/// with the spec's validation, before anything is sent, and its outcome is reported in
/// [`AppOutcome::follow_ups`].
#[async_trait]
pub trait FollowUpStep: Send + Sync {
    /// A short name for reports, e.g. `route`.
    fn name(&self) -> &str;

    /// Records the problems of the step's own input; causes should use a field prefix of their
    /// own (e.g. `route.hosts[0]`).
    fn validate(&self, spec: &AppSpec, problems: &mut Problems);

    /// Creates the step's object (or dry-runs it) and returns it as the apiserver did.
    async fn run(
        &self,
        client: &dyn ClusterClient,
        app: CreatedApp<'_>,
        opts: &CreateOptions,
    ) -> Result<DynamicObject>;
}

/// How one step after the Deployment went.
#[derive(Debug)]
pub enum Step<T> {
    /// Created (or dry-run); the object as the apiserver returned it.
    Done(T),
    /// The spec did not ask for this step.
    NotRequested,
    /// Not attempted, because an earlier step failed.
    Skipped,
    /// Attempted and failed; whatever came before it stays created.
    Failed(Error),
}

impl<T> Step<T> {
    /// The created object, if this step succeeded.
    pub fn done(&self) -> Option<&T> {
        match self {
            Step::Done(v) => Some(v),
            _ => None,
        }
    }

    /// The error, if this step failed.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Step::Failed(e) => Some(e),
            _ => None,
        }
    }

    fn status(&self) -> StepStatus {
        match self {
            Step::Done(_) => StepStatus::Done,
            Step::NotRequested => StepStatus::NotRequested,
            Step::Skipped => StepStatus::Skipped,
            Step::Failed(_) => StepStatus::Failed,
        }
    }
}

/// The outcome of a follow-up step.
#[derive(Debug)]
pub struct FollowUpOutcome {
    /// The step's [`name`](FollowUpStep::name).
    pub name: String,
    /// How it went.
    pub result: Step<DynamicObject>,
}

/// What a wizard run did. The Deployment always exists (or passed the dry run) when there is an
/// outcome; the later steps say for themselves.
#[derive(Debug)]
#[must_use = "a later step may have failed: check `is_complete` or `report`"]
pub struct AppOutcome {
    /// Whether everything was a server-side dry run.
    pub dry_run: bool,
    /// The Deployment as the apiserver returned it.
    pub deployment: Deployment,
    /// The Service step.
    pub service: Step<Service>,
    /// The follow-up steps, in order.
    pub follow_ups: Vec<FollowUpOutcome>,
}

/// The status of one step in a [`StepReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StepStatus {
    /// Created (or passed the dry run).
    Done,
    /// Not asked for.
    NotRequested,
    /// Not attempted because an earlier step failed.
    Skipped,
    /// Failed.
    Failed,
}

/// One line of an [`AppOutcome::report`]: a serializable account of a step for the server and
/// the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// `deployment`, `service`, or a follow-up step's name.
    pub step: String,
    /// How it went.
    pub status: StepStatus,
    /// The object's kind, when the step creates one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The stable error code, for a failed step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<crate::Code>,
    /// The error message, for a failed step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl AppOutcome {
    /// True when every requested step succeeded.
    pub fn is_complete(&self) -> bool {
        !matches!(self.service, Step::Failed(_) | Step::Skipped)
            && self
                .follow_ups
                .iter()
                .all(|f| !matches!(f.result, Step::Failed(_) | Step::Skipped))
    }

    /// Every step, in order, with what it created or why it failed.
    pub fn report(&self) -> Vec<StepReport> {
        fn line(
            step: &str,
            status: StepStatus,
            kind: Option<String>,
            name: Option<String>,
            error: Option<&Error>,
        ) -> StepReport {
            StepReport {
                step: step.to_owned(),
                status,
                kind,
                name,
                code: error.map(Error::code),
                message: error.map(|e| e.message().to_owned()),
            }
        }
        let mut out = vec![line(
            "deployment",
            StepStatus::Done,
            Some("Deployment".to_owned()),
            self.deployment.metadata.name.clone(),
            None,
        )];
        // The Service is named after the app, so a failed or skipped one still has a name.
        let requested = !matches!(self.service, Step::NotRequested);
        out.push(line(
            "service",
            self.service.status(),
            requested.then(|| "Service".to_owned()),
            self.deployment.metadata.name.clone().filter(|_| requested),
            self.service.error(),
        ));
        for f in &self.follow_ups {
            let obj = f.result.done();
            out.push(line(
                &f.name,
                f.result.status(),
                obj.and_then(|o| o.types.as_ref()).map(|t| t.kind.clone()),
                obj.and_then(|o| o.metadata.name.clone()),
                f.result.error(),
            ));
        }
        out
    }
}

/// Validates `spec` and creates its Deployment and, if asked, its Service. See the module
/// documentation for the order of the steps and what a failed step leaves behind.
///
/// Errors: `Invalid` (with every cause) before anything is sent; otherwise the Deployment's
/// error (`NotFound` for a missing namespace, `AlreadyExists`, `Forbidden`, ...), in which case
/// nothing was created. Later failures are in the [`AppOutcome`].
pub async fn create_app(
    client: &dyn ClusterClient,
    registries: &Registries,
    spec: &AppSpec,
    opts: &CreateOptions,
) -> Result<AppOutcome> {
    create_app_with(client, registries, spec, opts, &[]).await
}

/// [`create_app`] followed by `steps`, which are validated with the spec before anything is
/// sent and run after the Service, in order, each only if everything before it succeeded.
pub async fn create_app_with(
    client: &dyn ClusterClient,
    registries: &Registries,
    spec: &AppSpec,
    opts: &CreateOptions,
    steps: &[&dyn FollowUpStep],
) -> Result<AppOutcome> {
    let mut problems = Problems::new();
    validate::check(spec, registries, &mut problems);
    for step in steps {
        step.validate(spec, &mut problems);
    }
    problems.finish(&what(spec))?;

    let deployment = typed::create(
        client,
        &spec.namespace,
        &build::deployment(spec),
        opts.dry_run,
    )
    .await?;

    let service = match build::service(spec) {
        None => Step::NotRequested,
        Some(svc) => match typed::create(client, &spec.namespace, &svc, opts.dry_run).await {
            Ok(svc) => Step::Done(svc),
            Err(e) => {
                tracing::warn!(namespace = %spec.namespace, app = %spec.name, error = %e,
                    "the app's Deployment was created but its Service was not");
                Step::Failed(e)
            }
        },
    };

    let mut blocked = matches!(service, Step::Failed(_));
    let mut follow_ups = Vec::with_capacity(steps.len());
    for step in steps {
        let result = if blocked {
            Step::Skipped
        } else {
            let app = CreatedApp {
                spec,
                deployment: &deployment,
                service: service.done(),
            };
            match step.run(client, app, opts).await {
                Ok(obj) => Step::Done(obj),
                Err(e) => {
                    tracing::warn!(namespace = %spec.namespace, app = %spec.name,
                        step = step.name(), error = %e, "a wizard step failed");
                    blocked = true;
                    Step::Failed(e)
                }
            }
        };
        follow_ups.push(FollowUpOutcome {
            name: step.name().to_owned(),
            result,
        });
    }

    Ok(AppOutcome {
        dry_run: opts.dry_run,
        deployment,
        service,
        follow_ups,
    })
}

/// Creates only the Service of `spec` (e.g. to retry the step after [`create_app`] reported it
/// failed). The whole spec is validated first, since the Service's ports refer to the app's.
pub async fn create_service(
    client: &dyn ClusterClient,
    registries: &Registries,
    spec: &AppSpec,
    opts: &CreateOptions,
) -> Result<Service> {
    let mut problems = Problems::new();
    validate::check(spec, registries, &mut problems);
    let svc = build::service(spec);
    if svc.is_none() {
        problems.required("service");
    }
    problems.finish(&what(spec))?;
    let Some(svc) = svc else {
        // Unreachable: a spec without a Service has failed `finish` above.
        return Err(Error::new(ErrorKind::Internal, "no Service to create"));
    };
    typed::create(client, &spec.namespace, &svc, opts.dry_run).await
}

/// Creates an app ([`create_app`]).
#[derive(Debug, Clone)]
pub struct CreateApp {
    /// The app.
    pub spec: AppSpec,
    /// The registries it may deploy from.
    pub registries: Registries,
    /// Dry run or not.
    pub opts: CreateOptions,
}

impl Operation for CreateApp {
    type Output = AppOutcome;

    fn target(&self) -> Target {
        let t = Target::new("create", "apps").ns(&self.spec.namespace);
        if self.spec.name.is_empty() {
            t
        } else {
            t.name(&self.spec.name)
        }
    }

    fn access(&self) -> Vec<Access> {
        let ns = self.spec.namespace.as_str();
        let mut access = vec![Access::new(
            "create",
            &crate::ResourceType::of::<Deployment>(),
            ns,
        )];
        if self.spec.service.is_some() {
            access.push(Access::core("create", "services", ns));
        }
        access
    }

    fn mutates(&self) -> bool {
        true
    }

    fn names_object(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<AppOutcome> {
        create_app(client, &self.registries, &self.spec, &self.opts).await
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests;
