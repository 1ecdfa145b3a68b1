//! Login and the caller's own view: who they are, their roles, namespaces and menu codes.

use axum::{Json, extract::State};
use kubemate_core::names::is_dns1123_label;
use kubemate_rbac::{Namespaces, Password};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::namespaces::visible;
use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiResult, ErrorBody},
    extract::Body,
    state::AppState,
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(me))
}

/// Credentials.
#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    /// Account name.
    pub account: String,
    /// Password.
    pub password: String,
}

/// A session token.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
    /// The account.
    pub user: String,
}

/// Logs in with account and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "session", request_body = LoginBody,
    responses((status = 200, body = LoginResponse),
              (status = 401, description = "Invalid account or password", body = ErrorBody),
              (status = 403, description = "Account disabled", body = ErrorBody),
              (status = 429, description = "Account locked", body = ErrorBody)))]
pub async fn login(
    audit: Audit,
    State(state): State<AppState>,
    Body(body): Body<LoginBody>,
) -> ApiResult<Json<LoginResponse>> {
    // Only a well-formed account name goes into the record: never whatever was typed.
    if is_dns1123_label(&body.account) {
        audit.update(|e| e.user = body.account.clone());
    }
    let login = state
        .rbac
        .login(&body.account, &Password::new(body.password))
        .await?;
    Ok(Json(LoginResponse {
        token: login.token.expose().to_owned(),
        expires_at: login.expires_at.to_string(),
        user: login.user,
    }))
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    /// Account name.
    pub user: String,
    /// Display name.
    pub display_name: String,
    /// Bound roles.
    pub roles: Vec<String>,
    /// The existing namespaces the caller may use.
    pub namespaces: Vec<String>,
    /// True when the caller's roles cover every namespace, present and future.
    pub all_namespaces: bool,
    /// Console sections (`*` for all).
    pub menus: Vec<String>,
    /// True for administrators.
    pub admin: bool,
}

/// Who the caller is and what they may see.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(user: AuthUser, State(state): State<AppState>) -> ApiResult<Json<Me>> {
    let account = state.rbac.user(&user.name).await?;
    let namespaces = visible(&state, &user).await?;
    Ok(Json(Me {
        display_name: account.spec.display_name.clone(),
        roles: account.spec.roles.clone(),
        namespaces: namespaces.into_iter().map(|s| s.name).collect(),
        all_namespaces: user.namespaces() == Namespaces::All,
        menus: user.policy.menu_codes(&user.name).into_iter().collect(),
        admin: user.is_admin(),
        user: user.name,
    }))
}
