//! User management (administrators only): list, create, read, delete, bind and unbind roles,
//! reset a password, disable, unlock. Each route is one kubemate-rbac operation
//! ([`kubemate_rbac::ops`]) run through the pipeline ([`AppState::admin`]); kubemate-rbac
//! performs it with Kubemate's own identity, since it creates Kubernetes RBAC objects, after
//! its own escalation checks.

use axum::{Json, extract::State, http::StatusCode};
use kubemate_rbac::{
    NewUser, Password, Report, User,
    ops::{
        CreateUser, DeleteUser, GetUser, ListUsers, SetBinding, SetDisabled, SetPassword, Unlock,
    },
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiResult, ErrorBody},
    extract::Body,
    params::{BindingPath, NamePath, ValidPath},
    state::AppState,
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, delete))
        .routes(routes!(bind, unbind))
        .routes(routes!(set_password))
        .routes(routes!(set_disabled))
        .routes(routes!(unlock))
}

/// A user as the API shows it: never the password hash.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    /// Account name.
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// Contact address.
    pub email: String,
    /// Disabled users cannot log in.
    pub disabled: bool,
    /// Bound roles.
    pub roles: Vec<String>,
    /// The user's ServiceAccount in Kubemate's namespace.
    pub service_account: Option<String>,
    /// Last successful login (RFC 3339).
    pub last_login: Option<String>,
    /// Logins refused until then, from every address (RFC 3339).
    pub locked_until: Option<String>,
    /// Failed logins since the last success or the last lock, from every address.
    pub failed_logins: u32,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        let status = u.status.clone().unwrap_or_default();
        UserView {
            name: u.account().to_owned(),
            display_name: u.spec.display_name.clone(),
            email: u.spec.email.clone(),
            disabled: u.spec.disabled,
            roles: u.spec.roles.clone(),
            service_account: status.service_account,
            last_login: status.last_login,
            locked_until: status.locked_until,
            failed_logins: status.failed_logins,
        }
    }
}

/// A list of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// The users, by name.
    pub items: Vec<UserView>,
}

/// The body of a user creation.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewUserBody {
    /// Account name (a lowercase RFC 1123 label).
    #[schema(schema_with = crate::openapi::account_name)]
    pub name: String,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Contact address.
    #[serde(default)]
    pub email: String,
    /// Initial password (at least 10 characters).
    #[schema(schema_with = crate::openapi::password)]
    pub password: String,
    /// Roles to bind.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::role_names)]
    pub roles: Vec<String>,
}

/// The body of a password reset.
#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    /// The new password.
    #[schema(schema_with = crate::openapi::password)]
    pub password: String,
}

/// The body of disabling or enabling a user.
#[derive(Deserialize, ToSchema)]
pub struct DisabledBody {
    /// True to disable (revokes the user's tokens and Kubernetes bindings).
    pub disabled: bool,
}

/// The result of a change reconciled into Kubernetes RBAC.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reconciled {
    /// Kubernetes objects written.
    pub changes: usize,
    /// Namespaces that do not exist (yet): their bindings follow when they do.
    pub missing_namespaces: Vec<String>,
}

impl From<Report> for Reconciled {
    fn from(r: Report) -> Self {
        Reconciled {
            changes: r.changes.len(),
            missing_namespaces: r.missing_namespaces,
        }
    }
}

/// Every user.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = UserList), (status = 403, description = "Not an administrator", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<UserList>> {
    let users = state.admin(&user, &audit, &ListUsers).await?;
    Ok(Json(UserList {
        items: users.iter().map(UserView::from).collect(),
    }))
}

/// Creates a user with its ServiceAccount and bindings.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserBody,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody),
              (status = 403, description = "Not an administrator, or escalation", body = ErrorBody),
              (status = 404, description = "A role to bind does not exist", body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Body(body): Body<NewUserBody>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let op = CreateUser(NewUser {
        name: body.name,
        display_name: body.display_name,
        email: body.email,
        password: Password::new(body.password),
        roles: body.roles,
    });
    let created = state.admin(&user, &audit, &op).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&created))))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{name}", tag = "users", params(("name" = String, Path)),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    ValidPath(NamePath { name }): ValidPath<NamePath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<UserView>> {
    let found = state
        .admin(&user, &audit, &GetUser(name.into_string()))
        .await?;
    Ok(Json(UserView::from(&found)))
}

/// Deletes a user and everything derived for it.
#[utoipa::path(delete, path = "/api/v1/users/{name}", tag = "users", params(("name" = String, Path)),
    responses((status = 200, body = Reconciled), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    ValidPath(NamePath { name }): ValidPath<NamePath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Reconciled>> {
    let report = state
        .admin(&user, &audit, &DeleteUser(name.into_string()))
        .await?;
    Ok(Json(report.into()))
}

/// Binds a role to a user.
#[utoipa::path(put, path = "/api/v1/users/{name}/roles/{role}", tag = "users",
    params(("name" = String, Path), ("role" = String, Path)),
    responses((status = 200, body = Reconciled), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn bind(
    ValidPath(BindingPath { name, role }): ValidPath<BindingPath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Reconciled>> {
    let op = SetBinding {
        user: name.into_string(),
        role: role.into_string(),
        bound: true,
    };
    Ok(Json(state.admin(&user, &audit, &op).await?.into()))
}

/// Unbinds a role from a user.
#[utoipa::path(delete, path = "/api/v1/users/{name}/roles/{role}", tag = "users",
    params(("name" = String, Path), ("role" = String, Path)),
    responses((status = 200, body = Reconciled), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn unbind(
    ValidPath(BindingPath { name, role }): ValidPath<BindingPath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Reconciled>> {
    let op = SetBinding {
        user: name.into_string(),
        role: role.into_string(),
        bound: false,
    };
    Ok(Json(state.admin(&user, &audit, &op).await?.into()))
}

/// Resets another user's password (revokes their tokens, lifts a lockout).
#[utoipa::path(put, path = "/api/v1/users/{name}/password", tag = "users",
    params(("name" = String, Path)), request_body = PasswordBody,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_password(
    ValidPath(NamePath { name }): ValidPath<NamePath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Body(body): Body<PasswordBody>,
) -> ApiResult<Json<UserView>> {
    let op = SetPassword {
        user: name.into_string(),
        password: Password::new(body.password),
    };
    Ok(Json(UserView::from(
        &state.admin(&user, &audit, &op).await?,
    )))
}

/// Disables or enables a user.
#[utoipa::path(put, path = "/api/v1/users/{name}/disabled", tag = "users",
    params(("name" = String, Path)), request_body = DisabledBody,
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_disabled(
    ValidPath(NamePath { name }): ValidPath<NamePath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Body(body): Body<DisabledBody>,
) -> ApiResult<Json<UserView>> {
    let op = SetDisabled {
        user: name.into_string(),
        disabled: body.disabled,
    };
    Ok(Json(UserView::from(
        &state.admin(&user, &audit, &op).await?,
    )))
}

/// Lifts a user's lockout and forgets their failed logins, so that they can log in at once.
#[utoipa::path(post, path = "/api/v1/users/{name}/unlock", tag = "users",
    params(("name" = String, Path)),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn unlock(
    ValidPath(NamePath { name }): ValidPath<NamePath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<UserView>> {
    let updated = state
        .admin(&user, &audit, &Unlock(name.into_string()))
        .await?;
    Ok(Json(UserView::from(&updated)))
}
