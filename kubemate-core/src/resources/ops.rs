//! The resource operations as values that declare their access ([`crate::access`]).

use kube::core::DynamicObject;

use super::SummaryPage;
use crate::{
    ClusterClient, DeleteOutcome, ListOptions, ObjectList, ResourceType, Result, WriteOptions,
    access::{Access, Operation, Target},
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

    async fn run(&self, client: &dyn ClusterClient) -> Result<SummaryPage> {
        super::list_summaries(client, &self.0.rt, &self.0.ns, &self.0.opts).await
    }
}

/// Creates an object ([`super::create`]).
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

    async fn run(&self, client: &dyn ClusterClient) -> Result<DynamicObject> {
        super::create(client, &self.rt, &self.ns, &self.obj, &self.opts).await
    }
}

/// Replaces an object ([`super::update`]); the name is the object's.
#[derive(Debug, Clone)]
pub struct Update {
    /// The kind.
    pub rt: ResourceType,
    /// The namespace (`""` for cluster scope).
    pub ns: String,
    /// The object, with the resourceVersion it was read at.
    pub obj: DynamicObject,
    /// Dry run or not.
    pub opts: WriteOptions,
}

impl Update {
    fn name(&self) -> &str {
        self.obj.metadata.name.as_deref().unwrap_or_default()
    }
}

impl Operation for Update {
    type Output = DynamicObject;

    fn target(&self) -> Target {
        Target::of("update", &self.rt)
            .ns(&self.ns)
            .name(self.name())
    }

    fn access(&self) -> Vec<Access> {
        vec![Access::new("update", &self.rt, &self.ns).named(self.name())]
    }

    fn mutates(&self) -> bool {
        true
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<DynamicObject> {
        super::update(client, &self.rt, &self.ns, &self.obj, &self.opts).await
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
