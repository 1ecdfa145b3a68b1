//! Container logs of a Pod or of every Pod of a workload, as text; with `follow=true` a
//! chunked stream of lines that runs until the client leaves, the log ends, or its
//! [`StreamGuard`] ends it: the caller's access is gone, the longest stream duration is over,
//! or the server shuts down (the request timeout covers only its start).

use std::convert::Infallible;

use axum::{
    body::Body,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use futures::StreamExt;
use kubemate_core::{
    LogOptions, LogStream,
    catalog::Operation,
    workload::{self, WorkloadKind, WorkloadRef},
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{namespaced_kind, require_op};
use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiError, ApiResult, ErrorBody},
    extract::Params,
    params::{ObjectPath, ValidPath, check_name},
    state::AppState,
    streams::{Guarded, StreamGuard},
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(logs))
}

/// The query of a log request.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// The container (required when a Pod has several).
    #[param(schema_with = crate::openapi::container_name)]
    pub container: Option<String>,
    /// Only the last N lines.
    pub tail_lines: Option<i64>,
    /// Only lines newer than this many seconds.
    pub since_seconds: Option<i64>,
    /// The previous (terminated) instance of the container.
    #[serde(default)]
    pub previous: bool,
    /// Prefix lines with their timestamps.
    #[serde(default)]
    pub timestamps: bool,
    /// Stop after this many bytes.
    pub limit_bytes: Option<i64>,
    /// Keep the response open and stream new lines.
    #[serde(default)]
    pub follow: bool,
}

impl LogQuery {
    fn options(&self) -> ApiResult<LogOptions> {
        if let Some(c) = self.container.as_deref()
            && !kubemate_core::names::is_dns1123_label(c)
        {
            return Err(ApiError::invalid_field(
                "container",
                "a container name is a lowercase RFC 1123 label",
            ));
        }
        Ok(LogOptions {
            container: self.container.clone(),
            tail_lines: self.tail_lines,
            since_seconds: self.since_seconds,
            previous: self.previous,
            timestamps: self.timestamps,
            limit_bytes: self.limit_bytes,
        })
    }
}

fn text(body: Body) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A followed log under its [`StreamGuard`]: the lines, until the log ends, the client leaves,
/// or the guard ends it (access lost, longest duration, shutdown) with a last line saying why.
fn stream(guard: StreamGuard, lines: LogStream) -> Response {
    let lines = lines.take_while(|line| {
        if let Err(e) = line {
            tracing::warn!(error = %e, "a followed log ended with an error");
        }
        std::future::ready(line.is_ok())
    });
    let chunks = guard.run(lines).filter_map(|item| {
        std::future::ready(match item {
            Guarded::Item(Ok(line)) => Some(format!("{line}\n")),
            Guarded::Item(Err(_)) => None,
            Guarded::Ended(end) => Some(format!("{END_PREFIX}{end}\n")),
        })
    });
    text(Body::from_stream(chunks.map(Ok::<_, Infallible>)))
}

/// The start of the last line of a followed log that the server ended.
pub const END_PREFIX: &str = "[kubemate] log stream closed: ";

/// The log of a Pod, or the logs of every Pod of a workload (each line prefixed with
/// `[pod/<pod>/<container>]`).
#[utoipa::path(get, path = "/api/v1/namespaces/{ns}/{plural}/{name}/logs", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path, description = "pods, or a workload kind"),
           ("name" = String, Path), LogQuery),
    responses((status = 200, description = "Log lines", content_type = "text/plain", body = String),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn logs(
    ValidPath(ObjectPath { ns, plural, name }): ValidPath<ObjectPath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Params(query): Params<LogQuery>,
) -> ApiResult<Response> {
    let kind = namespaced_kind(&plural)?;
    check_name(kind, &name)?;
    let opts = query.options()?;
    if kind.plural == "pods" {
        require_op(kind, Operation::Logs)?;
        let op = workload::PodLogs {
            ns: ns.to_string(),
            pod: name.to_string(),
            opts,
        };
        return Ok(if query.follow {
            let op = workload::FollowPodLogs(op);
            let (guard, lines) = state.run_stream(&user, &audit, &op).await?;
            stream(guard, lines)
        } else {
            text(Body::from(state.run(&user, &audit, &op).await?))
        });
    }
    let wk = WorkloadKind::of(&kind.resource_type())?;
    let op = workload::Logs {
        workload: WorkloadRef::new(wk, &ns, &name),
        opts,
    };
    Ok(if query.follow {
        let op = workload::FollowLogs(op);
        let (guard, lines) = state.run_stream(&user, &audit, &op).await?;
        stream(guard, lines)
    } else {
        text(Body::from(state.run(&user, &audit, &op).await?.text()))
    })
}
