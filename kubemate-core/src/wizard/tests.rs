//! Unit tests of the app wizard on the fake cluster.

use std::sync::atomic::{AtomicUsize, Ordering};

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;

use super::*;
use crate::{ClusterClientExt, FakeCluster, ResourceType, conformance::object, fake::Verb};

const SEED: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";

fn fake() -> FakeCluster {
    FakeCluster::from_yaml(SEED).expect("seed")
}

fn registries() -> Registries {
    Registries::new(["registry.example.com"])
}

/// A small valid app: one named port and a Service in front of it.
fn base() -> AppSpec {
    AppSpec {
        namespace: "shop".into(),
        name: "web".into(),
        image: "registry.example.com/shop/web:1.0".into(),
        ports: vec![PortSpec {
            name: Some("http".into()),
            port: 8080,
            protocol: Protocol::Tcp,
        }],
        resources: ResourcesSpec {
            requests: CpuMemory {
                cpu: Some("100m".into()),
                memory: Some("128Mi".into()),
            },
            limits: CpuMemory {
                cpu: Some("500m".into()),
                memory: Some("256Mi".into()),
            },
        },
        service: Some(ServiceSpec {
            type_: ServiceType::ClusterIP,
            ports: vec![ServicePortSpec {
                port: 80,
                target_port: Some(IntOrString::String("http".into())),
                ..Default::default()
            }],
        }),
        ..Default::default()
    }
}

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
/// Everything the wizard offers, as the console or the CLI would send it.
const FULL: &str = include_str!("fixtures/full.yaml");

fn full() -> AppSpec {
    serde_yaml::from_str(FULL).expect("the full spec parses")
}

mod build;
mod create;
mod spec;
mod validate;
