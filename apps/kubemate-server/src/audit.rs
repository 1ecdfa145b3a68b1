//! The audit trail of the API: one record per request (health probes excepted), and for a
//! mutation one more, written before it is performed.
//!
//! The middleware gives every request an id and a record in the making ([`AuditCtx`]): what
//! the route template says (verb, kind), the values of the validated path (namespace, kind,
//! name, written by the `ValidPath` extractor), the user (the authentication extractor), and
//! once the request reaches its operation, the operation's own target ([`Audit::describe`],
//! called by the pipeline), which replaces the rest: the template and the path only describe
//! the requests refused before an operation runs (400, 401). After the handler it writes the response record with the outcome: a
//! refusal (401, 403, an invisible namespace) is `denied`; an allowed request succeeded or
//! failed with the error code. Handlers of mutations call [`Audit::begin`] after authorization
//! and before any write: it writes a `pending` request record and refuses the mutation (503)
//! when that fails. A read whose record cannot be written is not answered either (503): no one
//! reads the cluster through Kubemate unrecorded.
//!
//! Records hold no bodies, query strings, headers or tokens: only the fields of
//! [`kubemate_audit::Entry`].

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::Instant,
};

use axum::{
    extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State},
    http::{HeaderValue, Method, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use kubemate_audit::{AuditSink, Decision, Entry, Outcome, Stage};
pub use kubemate_core::access::Target;
use tracing::Instrument;

use crate::{
    error::{ApiError, ErrorNote},
    state::AppState,
};

/// The header carrying the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// The user of records whose caller is not authenticated.
pub const ANONYMOUS: &str = "anonymous";

fn crud_verb(method: &Method, on_object: bool) -> &'static str {
    match (method.as_str(), on_object) {
        ("GET", false) => "list",
        ("GET", true) => "get",
        ("POST", _) => "create",
        ("PUT", _) | ("PATCH", _) => "update",
        ("DELETE", _) => "delete",
        _ => "other",
    }
}

/// The target of a request from its method and the route it matched (the template, such
/// as `/api/v1/namespaces/{ns}/{plural}/{name}`), never from the raw path: the verb and
/// the fixed parts. The namespace, kind and name are written by the [`ValidPath`]
/// extractor from the decoded, validated parameters, so a request refused before (a
/// malformed path) or without a route is recorded with no namespace or name at all.
///
/// [`ValidPath`]: crate::params::ValidPath
pub fn describe(method: &Method, route: Option<&str>) -> Target {
    let unknown = || Target::new(&method.as_str().to_ascii_lowercase(), "unknown");
    let Some(route) = route else {
        return unknown();
    };
    let segments: Vec<&str> = route.trim_matches('/').split('/').collect();
    let Some(rest) = segments.strip_prefix(&["api", "v1"]) else {
        return unknown();
    };
    let verb = |on_object| crud_verb(method, on_object);
    // A placeholder's value is the extractor's to fill in.
    let fixed = |s: &str| {
        if s.starts_with('{') {
            "unknown".to_owned()
        } else {
            s.to_owned()
        }
    };
    let t = |verb: &str, kind: &str| Target::new(verb, &fixed(kind));
    match rest {
        ["auth", "login"] => t("login", "sessions"),
        ["me"] => t("get", "me"),
        ["openapi.json"] => t("get", "openapi"),
        ["audit"] => t("list", "audit"),
        ["apps"] => t("create", "apps"),
        ["namespaces"] => t(verb(false), "namespaces"),
        ["namespaces", _] => t(verb(true), "namespaces"),
        ["namespaces", _, plural] => t(verb(false), plural),
        ["namespaces", _, plural, _] => t(verb(true), plural),
        ["namespaces", _, plural, _, sub] => t(sub, plural),
        ["users", _, "roles", _] => t(
            if method == Method::DELETE {
                "unbind"
            } else {
                "bind"
            },
            "users",
        ),
        ["users", _, "password"] => t("passwd", "users"),
        ["users", _, "disabled"] => t("disable", "users"),
        ["users", _, action] => t(action, "users"),
        [plural] => t(verb(false), plural),
        [plural, _] => t(verb(true), plural),
        _ => t(verb(false), "unknown"),
    }
}

#[derive(Debug)]
struct Info {
    entry: Entry,
    began: bool,
}

/// The record in the making of one request, shared by the middleware, the extractors and the
/// handler through the request's extensions.
#[derive(Debug, Clone)]
pub struct AuditCtx(Arc<Mutex<Info>>);

impl AuditCtx {
    fn lock(&self) -> MutexGuard<'_, Info> {
        // Never held across an await; a poisoned lock still holds a usable record.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the acting user.
    pub fn set_user(&self, user: &str) {
        self.lock().entry.user = user.to_owned();
    }

    /// Changes what the record is about.
    pub fn update(&self, f: impl FnOnce(&mut Entry)) {
        f(&mut self.lock().entry);
    }

    /// The record as it stands.
    pub fn entry(&self) -> Entry {
        self.lock().entry.clone()
    }

    /// The request id.
    pub fn request_id(&self) -> String {
        self.lock().entry.request_id.clone()
    }
}

/// The handlers' access to the audit trail of their request.
pub struct Audit {
    ctx: AuditCtx,
    sink: Arc<dyn AuditSink>,
    started: Instant,
}

impl FromRequestParts<AppState> for Audit {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ctx = parts
            .extensions
            .get::<AuditCtx>()
            .cloned()
            .ok_or_else(|| ApiError::internal("the audit middleware is not installed"))?;
        let started = parts
            .extensions
            .get::<Started>()
            .map_or_else(Instant::now, |s| s.0);
        Ok(Audit {
            ctx,
            sink: Arc::clone(&state.audit),
            started,
        })
    }
}

impl Audit {
    /// Changes what the record is about (e.g. the namespace named in a body).
    pub fn update(&self, f: impl FnOnce(&mut Entry)) {
        self.ctx.update(f);
    }

    /// Makes the record about `target`: the operation a request runs describes it (verb, kind,
    /// namespace, name) in place of what the route template and the path said.
    pub fn describe(&self, target: &Target) {
        self.ctx.update(|e| {
            e.verb.clone_from(&target.verb);
            e.kind.clone_from(&target.kind);
            e.namespace.clone_from(&target.namespace);
            e.name.clone_from(&target.name);
        });
    }

    /// Writes the request record of a mutation about to be performed. Call it after
    /// authorization and before the first write; on error return it: the mutation must not
    /// happen unrecorded.
    pub async fn begin(&self) -> Result<(), ApiError> {
        let mut entry = self.ctx.entry();
        entry.decision = Some(Decision::Allowed);
        entry.outcome = Some(Outcome::Pending);
        entry.stage = Some(Stage::Request);
        entry.duration_ms = Some(elapsed_ms(self.started));
        self.sink
            .append(entry)
            .await
            .map_err(ApiError::audit_unavailable)?;
        self.ctx.lock().began = true;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct Started(Instant);

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A client's request id is kept when it is short and plain; anything else is replaced.
fn usable_request_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| s.to_owned())
}

fn is_health(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// The middleware: request id, audit records, and one structured log line per request.
pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(usable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header_value = HeaderValue::from_str(&request_id).ok();
    if let Some(v) = &header_value {
        req.headers_mut().insert(REQUEST_ID, v.clone());
    }
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let target = describe(&method, route.as_deref());
    let source = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let ctx = AuditCtx(Arc::new(Mutex::new(Info {
        entry: Entry {
            user: ANONYMOUS.to_owned(),
            source,
            request_id: request_id.clone(),
            verb: target.verb,
            kind: target.kind,
            namespace: target.namespace,
            name: target.name,
            ..Default::default()
        },
        began: false,
    })));
    req.extensions_mut().insert(ctx.clone());
    req.extensions_mut().insert(Started(started));

    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, path = %path);
    let mut response = next.run(req).instrument(span.clone()).await;
    let _enter = span.enter();

    let status = response.status();
    let note = response.extensions().get::<ErrorNote>().cloned();
    if !is_health(&path) {
        let began = ctx.lock().began;
        let mut entry = ctx.entry();
        let denied = note.as_ref().is_some_and(|n| n.denied);
        entry.decision = Some(if denied {
            Decision::Denied
        } else {
            Decision::Allowed
        });
        let ok = status.is_success() || status.is_redirection();
        // A handler may have set a code on a success that is partial (a wizard step failed).
        entry.error_code = note
            .as_ref()
            .map(|n| n.code.to_string())
            .or_else(|| {
                (!ok).then(|| {
                    status
                        .canonical_reason()
                        .unwrap_or("Error")
                        .replace(' ', "")
                })
            })
            .or(entry.error_code);
        entry.outcome = Some(if ok && entry.error_code.is_none() {
            Outcome::Success
        } else {
            Outcome::Failure
        });
        entry.stage = Some(Stage::Response);
        entry.duration_ms = Some(elapsed_ms(started));
        tracing::info!(
            status = status.as_u16(),
            user = %entry.user,
            verb = %entry.verb,
            kind = %entry.kind,
            namespace = entry.namespace.as_deref().unwrap_or(""),
            name = entry.name.as_deref().unwrap_or(""),
            code = entry.error_code.as_deref().unwrap_or(""),
            duration_ms = entry.duration_ms,
            "request"
        );
        if let Err(e) = state.audit.append(entry).await {
            if began {
                // The mutation was recorded as pending and is done: answer with what
                // happened rather than invite a retry.
                tracing::error!(error = %e, "the response record of a mutation could not be written");
            } else {
                response = ApiError::audit_unavailable(e).into_response();
            }
        }
    }
    if let Some(v) = header_value {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    fn t(method: Method, route: &str) -> (String, String, Option<String>, Option<String>) {
        let t = describe(&method, Some(route));
        (t.verb, t.kind, t.namespace, t.name)
    }

    #[test]
    fn routes_describe_the_verb_and_kind_and_leave_values_to_the_extractor() {
        assert_eq!(
            t(Method::GET, "/api/v1/namespaces/{ns}/{plural}"),
            ("list".into(), "unknown".into(), None, None)
        );
        assert_eq!(
            t(Method::PUT, "/api/v1/namespaces/{ns}/{plural}/{name}/scale"),
            ("scale".into(), "unknown".into(), None, None)
        );
        assert_eq!(
            t(Method::GET, "/api/v1/{plural}/{name}"),
            ("get".into(), "unknown".into(), None, None)
        );
        assert_eq!(
            t(Method::PUT, "/api/v1/users/{name}/roles/{role}"),
            ("bind".into(), "users".into(), None, None)
        );
        assert_eq!(
            t(Method::DELETE, "/api/v1/roles/{name}"),
            ("delete".into(), "roles".into(), None, None)
        );
        assert_eq!(
            t(Method::POST, "/api/v1/auth/login"),
            ("login".into(), "sessions".into(), None, None)
        );
        assert_eq!(describe(&Method::GET, None).kind, "unknown");
        assert_eq!(t(Method::GET, "/elsewhere").1, "unknown");
    }

    #[test]
    fn only_plain_request_ids_are_kept() {
        assert_eq!(
            usable_request_id(&HeaderValue::from_static("abc-123")),
            s("abc-123")
        );
        assert_eq!(usable_request_id(&HeaderValue::from_static("a b")), None);
        let long = "x".repeat(200);
        assert_eq!(
            usable_request_id(&HeaderValue::from_str(&long).expect("ascii")),
            None
        );
    }
}
