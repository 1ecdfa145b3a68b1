//! The audit log, for holders of the `audit` menu code. Administrators see every record;
//! others see their own and those in namespaces they may use.

use axum::{Json, extract::State};
use kubemate_audit::{Query, Record};
use kubemate_rbac::menu;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::AuthUser,
    error::{ApiResult, ErrorBody},
    extract::Params,
    state::AppState,
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(query))
}

/// What to look for; every given field must match.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The acting user.
    pub user: Option<String>,
    /// Records at or after this time (RFC 3339).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Records before this time (RFC 3339).
    #[param(format = DateTime)]
    pub until: Option<String>,
    /// The namespace.
    pub namespace: Option<String>,
    /// The verb.
    pub verb: Option<String>,
    /// `allowed`, `denied`, `success`, `failure` or `pending`.
    #[param(schema_with = crate::openapi::audit_outcome)]
    pub outcome: Option<String>,
    /// At most this many records (the newest).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4_294_967_295_u64)]
    #[serde(default, deserialize_with = "limit")]
    pub limit: Option<usize>,
}

/// A limit is at most `u32::MAX`, as the description says: a bound the description can state
/// exactly (JSON numbers past 2^53 are not exact).
fn limit<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    Ok(Option::<u32>::deserialize(d)?.map(|n| usize::try_from(n).unwrap_or(usize::MAX)))
}

/// Matching records, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecords {
    /// The records.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Record>,
}

/// Queries the audit log.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditRecords), (status = 400, body = ErrorBody),
              (status = 403, description = "No `audit` menu code", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn query(
    user: AuthUser,
    State(state): State<AppState>,
    Params(q): Params<AuditQuery>,
) -> ApiResult<Json<AuditRecords>> {
    user.require_menu(menu::AUDIT)?;
    let admin = user.is_admin();
    let query = Query {
        user: q.user,
        since: q.since,
        until: q.until,
        namespace: q.namespace,
        verb: q.verb,
        outcome: q.outcome,
        // Others' records are filtered out below, so the limit applies after that.
        limit: if admin { q.limit } else { None },
    };
    let mut items = state.audit.query(&query).await?;
    if !admin {
        let scope = user.namespaces();
        items.retain(|r| {
            r.user == user.name || r.namespace.as_deref().is_some_and(|ns| scope.contains(ns))
        });
        if let Some(limit) = q.limit
            && items.len() > limit
        {
            items.drain(..items.len() - limit);
        }
    }
    Ok(Json(AuditRecords { items }))
}
