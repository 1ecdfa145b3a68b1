//! Path parameters as validated values. No handler sees a raw path string: [`ValidPath`]
//! percent-decodes the route's parameters (axum does), parses each into its validated type
//! (a namespace is an RFC 1123 label, a resource plural a label, an object name one safe URL
//! segment — see [`kubemate_core::names`]) and answers 400 `InvalidPath` before anything else
//! happens: before authentication, before any cluster call. It then writes what the request is
//! about (namespace, kind, name) into the request's audit record, from the decoded, validated
//! values, so the audit log describes what was done, never the raw path.
//!
//! Handlers take `ValidPath<T>` as their FIRST argument, so a malformed path is refused
//! before the token is looked at.

use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
};
use kubemate_audit::Entry;
use kubemate_core::{
    catalog::Kind,
    names::{NamespaceName, ObjectName, ResourcePlural},
};
use serde::{Deserialize, de::DeserializeOwned};

use kubemate_core::Code;

use crate::{audit::AuditCtx, error::ApiError};

/// The validated path parameters of a route (the extractor).
#[derive(Debug, Clone)]
pub struct ValidPath<T>(pub T);

/// Path parameters that say what a request is about, for its audit record.
pub trait Describe {
    /// Fills in the namespace, kind and name of the record from the validated values.
    fn describe(&self, entry: &mut Entry);
}

impl<T, S> FromRequestParts<S> for ValidPath<T>
where
    T: DeserializeOwned + Describe + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(value) = Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(Code::InvalidPath, e.body_text()))?;
        if let Some(ctx) = parts.extensions.get::<AuditCtx>() {
            ctx.update(|entry| value.describe(entry));
        }
        Ok(ValidPath(value))
    }
}

/// Checks an object name against its kind's own rule (400 `InvalidPath` naming the rule).
pub fn check_name(kind: &Kind, name: &ObjectName) -> Result<(), ApiError> {
    kind.check_name(name)
        .map_err(|e| ApiError::new(Code::InvalidPath, e.message()))
}

/// `/namespaces/{ns}`.
#[derive(Debug, Clone, Deserialize)]
pub struct NamespacePath {
    /// The namespace.
    pub ns: NamespaceName,
}

impl Describe for NamespacePath {
    fn describe(&self, entry: &mut Entry) {
        entry.namespace = Some(self.ns.to_string());
        entry.name = Some(self.ns.to_string());
    }
}

/// `/namespaces/{ns}/{plural}`.
#[derive(Debug, Clone, Deserialize)]
pub struct CollectionPath {
    /// The namespace.
    pub ns: NamespaceName,
    /// The resource type.
    pub plural: ResourcePlural,
}

impl Describe for CollectionPath {
    fn describe(&self, entry: &mut Entry) {
        entry.namespace = Some(self.ns.to_string());
        entry.kind = self.plural.to_string();
    }
}

/// `/namespaces/{ns}/{plural}/{name}` and its subresources.
#[derive(Debug, Clone, Deserialize)]
pub struct ObjectPath {
    /// The namespace.
    pub ns: NamespaceName,
    /// The resource type.
    pub plural: ResourcePlural,
    /// The object.
    pub name: ObjectName,
}

impl Describe for ObjectPath {
    fn describe(&self, entry: &mut Entry) {
        entry.namespace = Some(self.ns.to_string());
        entry.kind = self.plural.to_string();
        entry.name = Some(self.name.to_string());
    }
}

/// `/{plural}`, a cluster-scoped resource type.
#[derive(Debug, Clone, Deserialize)]
pub struct ClusterCollectionPath {
    /// The resource type.
    pub plural: ResourcePlural,
}

impl Describe for ClusterCollectionPath {
    fn describe(&self, entry: &mut Entry) {
        entry.kind = self.plural.to_string();
    }
}

/// `/{plural}/{name}`, a cluster-scoped object.
#[derive(Debug, Clone, Deserialize)]
pub struct ClusterObjectPath {
    /// The resource type.
    pub plural: ResourcePlural,
    /// The object.
    pub name: ObjectName,
}

impl Describe for ClusterObjectPath {
    fn describe(&self, entry: &mut Entry) {
        entry.kind = self.plural.to_string();
        entry.name = Some(self.name.to_string());
    }
}

/// `/users/{name}`, `/roles/{name}` and their sub-paths: a Kubemate user or role.
#[derive(Debug, Clone, Deserialize)]
pub struct NamePath {
    /// The user or role.
    pub name: ObjectName,
}

impl Describe for NamePath {
    fn describe(&self, entry: &mut Entry) {
        entry.name = Some(self.name.to_string());
    }
}

/// `/users/{name}/roles/{role}`: a user's binding to a role.
#[derive(Debug, Clone, Deserialize)]
pub struct BindingPath {
    /// The user.
    pub name: ObjectName,
    /// The role.
    pub role: ObjectName,
}

impl Describe for BindingPath {
    fn describe(&self, entry: &mut Entry) {
        entry.name = Some(format!("{}/roles/{}", self.name, self.role));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{Router, body::Body, http::Request, routing::get};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn ns_of(ValidPath(p): ValidPath<ObjectPath>) -> String {
        format!("{}|{}|{}", p.ns, p.plural, p.name)
    }

    async fn call(uri: &str) -> (u16, String) {
        let app = Router::new().route("/n/{ns}/{plural}/{name}", get(ns_of));
        let res = app
            .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn decoded_parameters_are_parsed_and_refused_with_400() {
        assert_eq!(
            call("/n/shop/pods/web-1").await,
            (200, "shop|pods|web-1".into())
        );
        for bad in [
            "/n/kubemate-system%2Fsecrets%2Fkubemate-token-key/pods/x",
            "/n/shop/pods/x%2Fproxy",
            "/n/shop/pods/..",
            "/n/shop/pods/%2E%2E",
            "/n/shop/pods/a%00b",
            "/n/shop/pods/a%20b",
            "/n/shop/pods/a%25b",
            "/n/shop/pods%2Fx/web",
            "/n/Shop/pods/web",
            "/n/shop/pods/%FF",
        ] {
            let (status, body) = call(bad).await;
            assert_eq!(status, 400, "{bad}: {body}");
            let body: serde_json::Value = serde_json::from_str(&body).expect("json error");
            assert_eq!(body["code"], Code::InvalidPath.as_str(), "{bad}");
        }
        let long = format!("/n/shop/pods/{}", "a".repeat(300));
        assert_eq!(call(&long).await.0, 400);
    }
}
