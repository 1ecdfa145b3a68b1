//! The app wizard: one call creates a Deployment and, if asked, its Service.

use axum::{Json, extract::State, http::StatusCode};
use kubemate_core::wizard::{self, AppSpec, CreateApp, CreateOptions, StepReport, StepStatus};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::WriteQuery;
use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiResult, ErrorBody},
    extract::{Body, Params},
    state::AppState,
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create))
}

/// The wizard's input (kubemate-core's `AppSpec`): its required fields are described, the
/// rest (ports, resources, probes, env, command, args, replicas, rollingUpdate, scheduling,
/// volumes, labels, service) is an open object, checked whole by the wizard (400 with a
/// cause per field).
pub struct AppSpecSchema;

impl utoipa::PartialSchema for AppSpecSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{ObjectBuilder, schema::Type};
        ObjectBuilder::new()
            .description(Some(
                "An app: namespace, name, image (from an allowed registry), and optionally \
                 description, imagePullPolicy, ports, resources, probes, env, command, args, \
                 replicas, rollingUpdate, scheduling, volumes, labels, service",
            ))
            .property("namespace", crate::openapi::label("An existing namespace"))
            .required("namespace")
            .property(
                "name",
                crate::openapi::label("The Deployment's, container's and Service's name"),
            )
            .required("name")
            .property(
                "image",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .description(Some(
                        "The image, from one of the server's allowed registries",
                    )),
            )
            .required("image")
            .into()
    }
}

impl ToSchema for AppSpecSchema {}

/// What the wizard did, step by step.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppCreated {
    /// Everything was a server-side dry run.
    pub dry_run: bool,
    /// Every requested step succeeded.
    pub complete: bool,
    /// Each step: deployment, service, with its status and, if it failed, its error code.
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<StepReport>,
}

/// Creates an app: validated whole first (400 with a cause per field), then the Deployment and
/// the Service, as the caller's ServiceAccount. A Service that fails after the Deployment was
/// created is reported in `steps` (`complete: false`), not rolled back.
#[utoipa::path(post, path = "/api/v1/apps", tag = "apps", params(WriteQuery),
    request_body = AppSpecSchema,
    responses((status = 201, body = AppCreated),
              (status = 400, description = "Invalid spec, with a cause per field", body = ErrorBody),
              (status = 403, body = ErrorBody),
              (status = 404, description = "The namespace does not exist", body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Params(query): Params<WriteQuery>,
    Body(spec): Body<AppSpec>,
) -> ApiResult<(StatusCode, Json<AppCreated>)> {
    audit.update(|e| {
        e.kind = "apps".to_owned();
        e.namespace = Some(spec.namespace.clone()).filter(|n| !n.is_empty());
        e.name = Some(spec.name.clone()).filter(|n| !n.is_empty());
    });
    wizard::validate(&spec, &state.settings.registries)?;
    let op = CreateApp {
        spec,
        registries: state.settings.registries.clone(),
        opts: CreateOptions {
            dry_run: query.dry_run,
        },
    };
    let outcome = state.run(&user, &audit, &op).await?;
    let steps = outcome.report();
    if let Some(failed) = steps.iter().find(|s| s.status == StepStatus::Failed) {
        audit.update(|e| e.error_code = failed.code.map(|c| c.to_string()));
    }
    Ok((
        StatusCode::CREATED,
        Json(AppCreated {
            dry_run: outcome.dry_run,
            complete: outcome.is_complete(),
            steps,
        }),
    ))
}
