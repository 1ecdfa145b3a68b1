//! The image registries the wizard may deploy from.

use serde::{Deserialize, Serialize};

/// The configured image registries: an image is accepted only when its repository lies under
/// one of them. An empty list accepts nothing, so a missing configuration fails closed.
///
/// Entries are a registry host (`registry.example.com`, `localhost:5000`, `docker.io`) or a
/// host with a path prefix (`registry.example.com/team-a`), which admits that path and
/// everything below it. Images without a registry host are Docker Hub images, as the container
/// runtime resolves them (`nginx` is `docker.io/library/nginx`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registries {
    /// The allowed registries and prefixes.
    pub allowed: Vec<String>,
}

impl Registries {
    /// Registries allowing these hosts or prefixes.
    pub fn new<S: Into<String>>(allowed: impl IntoIterator<Item = S>) -> Self {
        Registries {
            allowed: allowed.into_iter().map(Into::into).collect(),
        }
    }

    /// True when `image` comes from one of the allowed registries.
    pub fn allows(&self, image: &str) -> bool {
        let repo = repository(image);
        self.allowed.iter().any(|entry| {
            let entry = entry.trim().trim_end_matches('/').to_ascii_lowercase();
            !entry.is_empty()
                && (repo == entry
                    || repo
                        .strip_prefix(&entry)
                        .is_some_and(|rest| rest.starts_with('/')))
        })
    }
}

/// The fully qualified repository of an image reference: registry host and path, without tag
/// or digest, with Docker Hub's implicit host and `library/` made explicit.
pub fn repository(image: &str) -> String {
    let name = image.split('@').next().unwrap_or_default();
    let last_slash = name.rfind('/');
    // A ':' after the last '/' starts the tag; one before it belongs to a registry port.
    let name = match name.rfind(':') {
        Some(colon) if last_slash.is_none_or(|slash| colon > slash) => &name[..colon],
        _ => name,
    };
    match name.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            // Registry hosts are case-insensitive; repository paths are lowercase already.
            let (host, path) = name.split_at(first.len());
            format!("{}{path}", host.to_ascii_lowercase())
        }
        Some(_) => format!("docker.io/{name}"),
        None => format!("docker.io/library/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_are_normalized_like_the_container_runtime_does() {
        assert_eq!(repository("nginx"), "docker.io/library/nginx");
        assert_eq!(repository("nginx:1.27"), "docker.io/library/nginx");
        assert_eq!(repository("bitnami/redis:7"), "docker.io/bitnami/redis");
        assert_eq!(
            repository("Registry.Example.com/shop/web:1@sha256:abc"),
            "registry.example.com/shop/web"
        );
        assert_eq!(repository("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(repository("localhost:5000/app:2"), "localhost:5000/app");
    }

    #[test]
    fn only_images_under_an_allowed_entry_pass() {
        let r = Registries::new([
            "registry.example.com",
            "harbor.corp:8443/team-a/",
            "docker.io",
        ]);
        assert!(r.allows("registry.example.com/web:1"));
        assert!(r.allows("harbor.corp:8443/team-a/api:2"));
        assert!(!r.allows("harbor.corp:8443/team-b/api:2"));
        assert!(!r.allows("harbor.corp:8443/team-ab/api:2"));
        assert!(!r.allows("registry.example.com.evil.io/web:1"));
        assert!(!r.allows("evil.io/registry.example.com/web:1"));
        assert!(r.allows("nginx"));
        assert!(!Registries::new(["registry.example.com"]).allows("nginx"));
        assert!(!Registries::default().allows("registry.example.com/web:1"));
    }
}
