//! Discovery.

use super::*;

/// Discovery lists built-in kinds with their scope and subresources.
pub async fn discovery(client: &dyn ClusterClient) {
    let found = client.discover().await.expect("discover");
    let find = |group: &str, plural: &str| {
        found
            .iter()
            .find(|d| d.resource.group == group && d.resource.plural == plural && d.preferred)
            .unwrap_or_else(|| panic!("{group}/{plural} is discovered"))
            .clone()
    };
    let cm = find("", "configmaps");
    assert!(cm.resource.namespaced);
    assert_eq!(cm.resource.kind, "ConfigMap");
    assert!(cm.supports("list") && cm.supports("watch") && cm.supports("patch"));
    let deploy = find("apps", "deployments");
    assert!(deploy.has_subresource("scale") && deploy.has_subresource("status"));
    assert!(!find("", "nodes").resource.namespaced);
    assert!(!find("", "namespaces").resource.namespaced);
    assert_eq!(
        find("autoscaling", "horizontalpodautoscalers")
            .resource
            .version,
        "v2"
    );
}
