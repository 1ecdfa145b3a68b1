//! Kubemate's HTTP server: the REST API (`/api/v1`) over kubemate-core, kubemate-rbac and
//! kubemate-audit.
//!
//! [`router`] builds the whole API over an [`AppState`], so tests drive it with `oneshot`
//! and no listener. Every route but login and the health probes needs a Bearer token
//! ([`auth::AuthUser`]); every handler asks the authorizer before it calls the cluster; writes
//! run as the caller's ServiceAccount; every request is audited ([`audit`]); errors are one
//! JSON shape with stable codes ([`error::ApiError`]).

use std::{any::Any, sync::OnceLock};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{Method, Uri},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use kubemate_core::Code;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub mod audit;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod params;
pub mod pipeline;
pub mod routes;
pub mod startup;
pub mod state;
pub mod streams;

pub use error::{ApiError, ErrorBody};
pub use state::{AppState, Settings};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kubemate API",
        version = "v1",
        description = "Kubernetes management for operations teams: every call authenticated, \
                       authorized before it reaches the cluster, and audited."
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// The OpenAPI 3 description of the API, generated from the handlers.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| api().1)
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3 document", body = Object),
              (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn openapi_json(_user: auth::AuthUser) -> Json<&'static utoipa::openapi::OpenApi> {
    Json(openapi())
}

fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .merge(routes::health::router())
        .merge(routes::session::router())
        .merge(routes::namespaces::router())
        .merge(routes::resources::router())
        .merge(routes::workloads::router())
        .merge(routes::logs::router())
        .merge(routes::cluster::router())
        .merge(routes::apps::router())
        .merge(routes::users::router())
        .merge(routes::roles::router())
        .merge(routes::audit::router())
        .split_for_parts();
    openapi::Shared.modify(&mut doc);
    (router, doc)
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        Code::NotFound,
        format!("no route for {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.settings.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::timeout().into_response(),
    }
}

fn panicked(_: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::internal("a handler panicked").into_response()
}

/// The whole API over `state`.
pub fn router(state: AppState) -> Router {
    let (api, _) = api();
    api.fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            audit::middleware,
        ))
        .with_state(state)
}
