//! Login and the caller's own view: who they are, their roles, namespaces and menu codes.

use std::net::{IpAddr, SocketAddr};

use axum::{
    Json,
    extract::{ConnectInfo, FromRequestParts, State},
    http::request::Parts,
};
use kubemate_core::{access::Operation, names::is_dns1123_label};
use kubemate_rbac::{Namespaces, Password};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiError, ApiResult, ErrorBody},
    extract::Body,
    pipeline::namespaces_of,
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

/// The address of the client, when the server is served with the connection's information
/// (`into_make_service_with_connect_info`, as [`crate::startup::serve`] does). Without it (a
/// test driving the router) it is `None`, and every login shares one count of failures.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Logs in with account and password. A wrong password, an unknown account and a locked
/// account get the same 401; failures from one address slow that address down (429 with
/// `Retry-After`, whatever the account name), not the account's owner elsewhere.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "session", request_body = LoginBody,
    responses((status = 200, body = LoginResponse),
              (status = 401, description = "Invalid account or password", body = ErrorBody),
              (status = 403, description = "Account disabled", body = ErrorBody),
              (status = 429, description = "Too many failed logins from this address; see Retry-After", body = ErrorBody),
              (status = 503, description = "Busy checking other passwords; see Retry-After", body = ErrorBody)))]
pub async fn login(
    audit: Audit,
    ClientAddr(source): ClientAddr,
    State(state): State<AppState>,
    Body(body): Body<LoginBody>,
) -> ApiResult<Json<LoginResponse>> {
    // Only a well-formed account name goes into the record: never whatever was typed.
    if is_dns1123_label(&body.account) {
        audit.update(|e| e.user = body.account.clone());
    }
    let login = state
        .rbac
        .login_from(source, &body.account, &Password::new(body.password))
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
    // The record stays about `me`: the namespaces are part of who the caller is.
    let namespaces = namespaces_of(&user)
        .run(&*state.cluster)
        .await
        .map_err(ApiError::from)?;
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
