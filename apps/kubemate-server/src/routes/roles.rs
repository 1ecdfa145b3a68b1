//! Role management (administrators only): rules, the namespaces they apply to, menu codes.
//! Each route is one kubemate-rbac operation ([`kubemate_rbac::ops`]) run through the
//! pipeline ([`AppState::admin`]).

use axum::{Json, extract::State, http::StatusCode};
use kubemate_rbac::{
    Role, RoleSpec, Rule,
    ops::{CreateRole, DeleteRole, GetRole, ListRoles, ReplaceRole},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::users::Reconciled;
use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiResult, ErrorBody},
    extract::Body,
    params::{NamePath, ValidPath},
    state::AppState,
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, replace, delete))
}

/// A role: what it allows, where, and which console sections it shows.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    /// The role's name.
    #[schema(schema_with = crate::openapi::account_name)]
    pub name: String,
    /// What the role is for.
    #[serde(default)]
    pub description: String,
    /// Rules: `{verbs, apiGroups, resources}` as in Kubernetes PolicyRules.
    #[schema(schema_with = crate::openapi::role_rules)]
    pub rules: Vec<Rule>,
    /// One or several namespaces, or `["*"]` for all (and cluster-scoped resources).
    #[schema(schema_with = crate::openapi::role_namespaces)]
    pub namespaces: Vec<String>,
    /// Menu codes (`audit`, `cicd`, ...; `*` for all).
    #[serde(default)]
    #[schema(schema_with = crate::openapi::role_menus)]
    pub menus: Vec<String>,
}

impl From<&Role> for RoleView {
    fn from(r: &Role) -> Self {
        RoleView {
            name: r.metadata.name.clone().unwrap_or_default(),
            description: r.spec.description.clone(),
            rules: r.spec.rules.clone(),
            namespaces: r.spec.namespaces.clone(),
            menus: r.spec.menus.clone(),
        }
    }
}

impl RoleView {
    fn spec(self) -> RoleSpec {
        RoleSpec {
            description: self.description,
            rules: self.rules,
            namespaces: self.namespaces,
            menus: self.menus,
        }
    }
}

/// A list of roles.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleList {
    /// The roles, by name.
    pub items: Vec<RoleView>,
}

/// Every role.
#[utoipa::path(get, path = "/api/v1/roles", tag = "roles",
    responses((status = 200, body = RoleList), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<RoleList>> {
    let roles = state.admin(&user, &audit, &ListRoles).await?;
    Ok(Json(RoleList {
        items: roles.iter().map(RoleView::from).collect(),
    }))
}

/// Creates a role and its Kubernetes Role or ClusterRole.
#[utoipa::path(post, path = "/api/v1/roles", tag = "roles", request_body = RoleView,
    responses((status = 201, body = RoleView), (status = 400, body = ErrorBody),
              (status = 403, description = "Not an administrator, or escalation", body = ErrorBody),
              (status = 409, description = "Exists already, or the built-in `admin`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Body(body): Body<RoleView>,
) -> ApiResult<(StatusCode, Json<RoleView>)> {
    let op = CreateRole {
        name: body.name.clone(),
        spec: body.spec(),
    };
    let created = state.admin(&user, &audit, &op).await?;
    Ok((StatusCode::CREATED, Json(RoleView::from(&created))))
}

/// One role.
#[utoipa::path(get, path = "/api/v1/roles/{name}", tag = "roles", params(("name" = String, Path)),
    responses((status = 200, body = RoleView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    ValidPath(NamePath { name }): ValidPath<NamePath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<RoleView>> {
    let role = state
        .admin(&user, &audit, &GetRole(name.into_string()))
        .await?;
    Ok(Json(RoleView::from(&role)))
}

/// Replaces a role's rules, namespaces and menus.
#[utoipa::path(put, path = "/api/v1/roles/{name}", tag = "roles", params(("name" = String, Path)),
    request_body = RoleView,
    responses((status = 200, body = RoleView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "The built-in `admin` role cannot be changed", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn replace(
    ValidPath(NamePath { name }): ValidPath<NamePath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Body(body): Body<RoleView>,
) -> ApiResult<Json<RoleView>> {
    let op = ReplaceRole {
        name: name.into_string(),
        stated_name: Some(body.name.clone()),
        spec: body.spec(),
    };
    let (role, _) = state.admin(&user, &audit, &op).await?;
    Ok(Json(RoleView::from(&role)))
}

/// Deletes a role, unbinding it from every user.
#[utoipa::path(delete, path = "/api/v1/roles/{name}", tag = "roles", params(("name" = String, Path)),
    responses((status = 200, body = Reconciled), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "The built-in `admin` role cannot be deleted", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    ValidPath(NamePath { name }): ValidPath<NamePath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Reconciled>> {
    let report = state
        .admin(&user, &audit, &DeleteRole(name.into_string()))
        .await?;
    Ok(Json(report.into()))
}
