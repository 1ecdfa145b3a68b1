//! The foundation of Kubemate.
//!
//! kubemate-core owns the [`ClusterClient`] trait, through which every Kubemate crate reaches the
//! cluster, and its implementations: [`KubeClusterClient`] on a real cluster, `FakeCluster` in
//! memory (feature `demo`, for the demo mode and the tests) and `MockClusterClient` (feature `mocks`). The domain crates
//! (rbac, gateway, observe, audit) depend on this crate only; none of them touches `kube`'s
//! client directly.

pub mod access;
pub mod catalog;
pub mod client;
pub mod code;
#[cfg(feature = "test-util")]
pub mod conformance;
pub mod error;
pub mod events;
#[cfg(feature = "demo")]
pub mod fake;
pub mod hpa;
pub mod kube_client;
pub mod names;
pub mod nodes;
pub mod quantity;
pub mod resource;
pub mod resources;
pub mod selector;
pub mod storage;
pub mod tenant;
#[cfg(feature = "test-util")]
pub mod testing;
mod typed;
pub mod validation;
pub mod wizard;
pub mod workload;

#[cfg(feature = "mocks")]
pub use client::MockClusterClient;
pub use client::{
    ApplyOptions, ClusterClient, ClusterClientExt, DeleteOptions, DeleteOutcome, FIELD_MANAGER,
    Identity, ListOptions, LogOptions, LogStream, ObjectList, Propagation, Scale, TypedList,
    WatchEvent, WatchOptions, WatchStream, WriteOptions,
};
pub use code::Code;
pub use error::{Cause, Error, ErrorKind, Result};
#[cfg(feature = "demo")]
pub use fake::FakeCluster;
pub use kube::core::{DynamicObject, ObjectMeta, TypeMeta};
pub use kube_client::{ClientConfig, ContextInfo, KubeClusterClient};
pub use resource::{DiscoveredResource, ResourceType};
