//! The resource operations as values that declare their access ([`crate::access`]).

use kube::core::DynamicObject;

use super::{Summary, SummaryPage};
use crate::{
    ClusterClient, DeleteOutcome, ListOptions, ObjectList, ResourceType, Result, WriteOptions,
    access::{Access, Operation, Target},
    selector::{FieldSelector, LabelSelector},
};

/// Reads one object.
#[derive(Debug, Clone)]
pub struct Get {
    /// The kind.
    pub rt: ResourceType,
    /// The namespace (`""` for cluster scope).
    pub ns: String,
    /// The object.
    pub name: String,
}

impl Operation for Get {
    type Output = DynamicObject;

    fn target(&self) -> Target {
        Target::of("get", &self.rt).ns(&self.ns).name(&self.name)
    }

    fn access(&self) -> Vec<Access> {
        vec![Access::new("get", &self.rt, &self.ns).named(&self.name)]
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<DynamicObject> {
        client.get(&self.rt, &self.ns, &self.name).await
    }
}

/// Lists the objects of a kind, whole ([`List`]) or as table rows ([`ListSummaries`]).
#[derive(Debug, Clone)]
pub struct List {
    /// The kind.
    pub rt: ResourceType,
    /// The namespace (`""`: cluster scope or all namespaces).
    pub ns: String,
    /// Selectors and paging.
    pub opts: ListOptions,
}

/// Malformed selectors are refused before any request.
fn check_selectors(opts: &ListOptions) -> Result<()> {
    if let Some(s) = &opts.label_selector {
        LabelSelector::parse(s)?;
    }
    if let Some(s) = &opts.field_selector {
        FieldSelector::parse(s)?;
    }
    Ok(())
}

fn list_access(rt: &ResourceType, ns: &str) -> Vec<Access> {
    vec![Access::new("list", rt, ns)]
}

impl Operation for List {
    type Output = ObjectList;

    fn target(&self) -> Target {
        Target::of("list", &self.rt).ns(&self.ns)
    }

    fn access(&self) -> Vec<Access> {
        list_access(&self.rt, &self.ns)
    }

    fn mutates(&self) -> bool {
        false
    }

    fn validate(&self) -> Result<()> {
        check_selectors(&self.opts)
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<ObjectList> {
        client.list(&self.rt, &self.ns, &self.opts).await
    }
}

/// Lists table rows ([`super::list_summaries`]).
#[derive(Debug, Clone)]
pub struct ListSummaries(pub List);

impl Operation for ListSummaries {
    type Output = SummaryPage;

    fn target(&self) -> Target {
        self.0.target()
    }

    fn access(&self) -> Vec<Access> {
        self.0.access()
    }

    fn mutates(&self) -> bool {
        false
    }

    fn validate(&self) -> Result<()> {
        self.0.validate()
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<SummaryPage> {
        super::list_summaries(client, &self.0.rt, &self.0.ns, &self.0.opts).await
    }
}

fn invalid(field: &str, message: String) -> crate::Error {
    crate::Error::invalid(
        format!("{field}: {message}"),
        vec![crate::Cause {
            field: field.to_owned(),
            reason: "FieldValueInvalid".to_owned(),
            message,
        }],
    )
}

/// `obj` with the namespace and name of the request: a body that names another is refused,
/// one that leaves them out gets them. Cluster-scoped objects get no namespace.
fn aligned(
    rt: &ResourceType,
    ns: &str,
    name: Option<&str>,
    obj: &DynamicObject,
) -> Result<DynamicObject> {
    let mut obj = obj.clone();
    if rt.namespaced {
        match obj.metadata.namespace.as_deref() {
            Some(given) if !given.is_empty() && given != ns => {
                return Err(invalid(
                    "metadata.namespace",
                    format!("\"{given}\" does not match the namespace of the path, \"{ns}\""),
                ));
            }
            _ => obj.metadata.namespace = Some(ns.to_owned()),
        }
    }
    if let Some(name) = name {
        match obj.metadata.name.as_deref() {
            Some(given) if given != name => {
                return Err(invalid(
                    "metadata.name",
                    format!("\"{given}\" does not match the name of the path, \"{name}\""),
                ));
            }
            _ => obj.metadata.name = Some(name.to_owned()),
        }
    }
    if !rt.namespaced {
        obj.metadata.namespace = None;
    }
    Ok(obj)
}

/// Creates an object ([`super::create`]) in the namespace of the request; a body naming
/// another namespace is refused.
#[derive(Debug, Clone)]
pub struct Create {
    /// The kind.
    pub rt: ResourceType,
    /// The namespace (`""` for cluster scope).
    pub ns: String,
    /// The object.
    pub obj: DynamicObject,
    /// Dry run or not.
    pub opts: WriteOptions,
}

impl Operation for Create {
    type Output = DynamicObject;

    fn target(&self) -> Target {
        let t = Target::of("create", &self.rt).ns(&self.ns);
        match self.obj.metadata.name.as_deref() {
            Some(name) => t.name(name),
            None => t,
        }
    }

    fn access(&self) -> Vec<Access> {
        vec![Access::new("create", &self.rt, &self.ns)]
    }

    fn mutates(&self) -> bool {
        true
    }

    fn names_object(&self) -> bool {
        false
    }

    fn validate(&self) -> Result<()> {
        aligned(&self.rt, &self.ns, None, &self.obj).map(drop)
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<DynamicObject> {
        let obj = aligned(&self.rt, &self.ns, None, &self.obj)?;
        super::create(client, &self.rt, &self.ns, &obj, &self.opts).await
    }
}

/// Replaces the object `name` ([`super::update`]); a body naming another object or
/// namespace is refused.
#[derive(Debug, Clone)]
pub struct Update {
    /// The kind.
    pub rt: ResourceType,
    /// The namespace (`""` for cluster scope).
    pub ns: String,
    /// The object's name.
    pub name: String,
    /// The object, with the resourceVersion it was read at.
    pub obj: DynamicObject,
    /// Dry run or not.
    pub opts: WriteOptions,
}

impl Operation for Update {
    type Output = DynamicObject;

    fn target(&self) -> Target {
        Target::of("update", &self.rt).ns(&self.ns).name(&self.name)
    }

    fn access(&self) -> Vec<Access> {
        vec![Access::new("update", &self.rt, &self.ns).named(&self.name)]
    }

    fn mutates(&self) -> bool {
        true
    }

    fn validate(&self) -> Result<()> {
        aligned(&self.rt, &self.ns, Some(&self.name), &self.obj).map(drop)
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<DynamicObject> {
        let obj = aligned(&self.rt, &self.ns, Some(&self.name), &self.obj)?;
        super::update(client, &self.rt, &self.ns, &obj, &self.opts).await
    }
}

/// Deletes an object ([`super::delete`]).
#[derive(Debug, Clone)]
pub struct Delete {
    /// The kind.
    pub rt: ResourceType,
    /// The namespace (`""` for cluster scope).
    pub ns: String,
    /// The object.
    pub name: String,
    /// Leave its dependents in place.
    pub orphan: bool,
}

impl Operation for Delete {
    type Output = DeleteOutcome;

    fn target(&self) -> Target {
        Target::of("delete", &self.rt).ns(&self.ns).name(&self.name)
    }

    fn access(&self) -> Vec<Access> {
        vec![Access::new("delete", &self.rt, &self.ns).named(&self.name)]
    }

    fn mutates(&self) -> bool {
        true
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<DeleteOutcome> {
        super::delete(client, &self.rt, &self.ns, &self.name, self.orphan).await
    }
}

/// The Namespace kind.
pub fn namespace_type() -> ResourceType {
    crate::catalog::by_plural("namespaces")
        .map(|k| k.resource_type())
        .unwrap_or_else(|| ResourceType::new("", "v1", "Namespace", "namespaces", false))
}

/// The existing namespaces among those a caller may use, as rows: one list when they may use
/// all (`only: None`), one read per namespace otherwise, a missing one skipped (never every
/// namespace of the cluster for a user of one).
#[derive(Debug, Clone, Default)]
pub struct Namespaces {
    /// The namespaces to read (`None`: all of them).
    pub only: Option<Vec<String>>,
}

impl Operation for Namespaces {
    type Output = Vec<Summary>;

    fn target(&self) -> Target {
        Target::of("list", &namespace_type())
    }

    fn access(&self) -> Vec<Access> {
        let rt = namespace_type();
        match &self.only {
            None => vec![Access::new("list", &rt, "")],
            Some(names) => names
                .iter()
                .map(|n| Access::new("get", &rt, "").named(n))
                .collect(),
        }
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<Vec<Summary>> {
        let rt = namespace_type();
        let Some(names) = &self.only else {
            let page = super::list_summaries(client, &rt, "", &ListOptions::default()).await?;
            return Ok(page.items);
        };
        let reads = names.iter().map(|n| client.get(&rt, "", n));
        let mut out = Vec::new();
        for found in futures::future::join_all(reads).await {
            match found {
                Ok(obj) => out.push(super::summarize(&rt, &obj)),
                Err(e) if e.is(crate::ErrorKind::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
