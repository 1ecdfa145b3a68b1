//! Typed convenience over [`ClusterClient`]: any `k8s_openapi` type or `CustomResource`.

use async_trait::async_trait;
use kube::core::DynamicObject;
use serde::{Serialize, de::DeserializeOwned};

use super::{ApplyOptions, ClusterClient, DeleteOptions, DeleteOutcome, ListOptions, WriteOptions};
use crate::{Error, ErrorKind, ResourceType, Result};

/// A page of typed objects.
#[derive(Debug, Clone)]
pub struct TypedList<K> {
    /// The objects.
    pub items: Vec<K>,
    /// The resourceVersion of the list.
    pub resource_version: String,
    /// Token for the next page.
    pub continue_token: Option<String>,
}

/// Converts a typed object to a dynamic one (with its type metadata set).
pub fn to_dynamic<K>(obj: &K) -> Result<DynamicObject>
where
    K: kube::Resource<DynamicType = ()> + Serialize,
    K::Scope: 'static,
{
    let mut value = serde_json::to_value(obj)?;
    if let Some(map) = value.as_object_mut() {
        let rt = ResourceType::of::<K>();
        map.insert("apiVersion".into(), rt.api_version().into());
        map.insert("kind".into(), rt.kind.into());
    }
    Ok(serde_json::from_value(value)?)
}

fn require_name(obj: &DynamicObject) -> Result<()> {
    if obj.metadata.name.as_deref().is_none_or(str::is_empty) {
        return Err(Error::new(
            ErrorKind::BadRequest,
            "metadata.name is required",
        ));
    }
    Ok(())
}

/// Converts a dynamic object to a typed one.
pub fn from_dynamic<K: DeserializeOwned>(obj: DynamicObject) -> Result<K> {
    let value = serde_json::to_value(obj)?;
    serde_json::from_value(value).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("object does not match its type: {e}"),
        )
        .with_source(e)
    })
}

/// Typed helpers over any [`ClusterClient`] (blanket implementation).
#[async_trait]
pub trait ClusterClientExt: ClusterClient {
    /// Gets a typed object.
    async fn get_as<K>(&self, ns: &str, name: &str) -> Result<K>
    where
        K: kube::Resource<DynamicType = ()> + DeserializeOwned + Send,
        K::Scope: 'static,
    {
        from_dynamic(self.get(&ResourceType::of::<K>(), ns, name).await?)
    }

    /// Gets a typed object, `None` when it does not exist.
    async fn get_opt_as<K>(&self, ns: &str, name: &str) -> Result<Option<K>>
    where
        K: kube::Resource<DynamicType = ()> + DeserializeOwned + Send,
        K::Scope: 'static,
    {
        match self.get(&ResourceType::of::<K>(), ns, name).await {
            Ok(obj) => Ok(Some(from_dynamic(obj)?)),
            Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Lists typed objects (one page).
    async fn list_as<K>(&self, ns: &str, opts: &ListOptions) -> Result<TypedList<K>>
    where
        K: kube::Resource<DynamicType = ()> + DeserializeOwned + Send,
        K::Scope: 'static,
    {
        let page = self.list(&ResourceType::of::<K>(), ns, opts).await?;
        Ok(TypedList {
            items: page
                .items
                .into_iter()
                .map(from_dynamic)
                .collect::<Result<_>>()?,
            resource_version: page.resource_version,
            continue_token: page.continue_token,
        })
    }

    /// Lists every typed object, following continue tokens.
    async fn list_all_as<K>(&self, ns: &str, opts: &ListOptions) -> Result<Vec<K>>
    where
        K: kube::Resource<DynamicType = ()> + DeserializeOwned + Send,
        K::Scope: 'static,
    {
        let rt = ResourceType::of::<K>();
        let mut opts = opts.clone();
        let mut out = Vec::new();
        loop {
            let page = self.list(&rt, ns, &opts).await?;
            for obj in page.items {
                out.push(from_dynamic(obj)?);
            }
            match page.continue_token {
                Some(token) if !token.is_empty() => opts.continue_token = Some(token),
                _ => return Ok(out),
            }
        }
    }

    /// Creates a typed object.
    async fn create_as<K>(&self, ns: &str, obj: &K) -> Result<K>
    where
        K: kube::Resource<DynamicType = ()> + Serialize + DeserializeOwned + Send + Sync,
        K::Scope: 'static,
    {
        let dynamic = to_dynamic(obj)?;
        let created = self
            .create(
                &ResourceType::of::<K>(),
                ns,
                &dynamic,
                &WriteOptions::default(),
            )
            .await?;
        from_dynamic(created)
    }

    /// Replaces a typed object (a stale resourceVersion is a `Conflict`).
    async fn replace_as<K>(&self, ns: &str, obj: &K) -> Result<K>
    where
        K: kube::Resource<DynamicType = ()> + Serialize + DeserializeOwned + Send + Sync,
        K::Scope: 'static,
    {
        let dynamic = to_dynamic(obj)?;
        require_name(&dynamic)?;
        let replaced = self
            .replace(
                &ResourceType::of::<K>(),
                ns,
                &dynamic,
                &WriteOptions::default(),
            )
            .await?;
        from_dynamic(replaced)
    }

    /// Server-side applies a typed object.
    async fn apply_as<K>(&self, ns: &str, obj: &K, opts: &ApplyOptions) -> Result<K>
    where
        K: kube::Resource<DynamicType = ()> + Serialize + DeserializeOwned + Send + Sync,
        K::Scope: 'static,
    {
        let dynamic = to_dynamic(obj)?;
        require_name(&dynamic)?;
        let applied = self
            .apply(&ResourceType::of::<K>(), ns, &dynamic, opts)
            .await?;
        from_dynamic(applied)
    }

    /// Deletes a typed object by name.
    async fn delete_as<K>(&self, ns: &str, name: &str) -> Result<DeleteOutcome>
    where
        K: kube::Resource<DynamicType = ()>,
        K::Scope: 'static,
    {
        self.delete(
            &ResourceType::of::<K>(),
            ns,
            name,
            &DeleteOptions::default(),
        )
        .await
    }
}

impl<T: ClusterClient + ?Sized> ClusterClientExt for T {}

#[cfg(all(test, feature = "mocks"))]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;

    use super::*;
    use crate::MockClusterClient;

    #[tokio::test]
    async fn apply_without_a_name_is_refused_before_any_call() {
        let mut mock = MockClusterClient::new();
        mock.expect_apply().times(0);
        mock.expect_replace().times(0);
        let unnamed = ConfigMap::default();
        let err = mock
            .apply_as("shop", &unnamed, &ApplyOptions::default())
            .await
            .expect_err("no name");
        assert_eq!(err.kind(), ErrorKind::BadRequest);
        let err = mock
            .replace_as("shop", &unnamed)
            .await
            .expect_err("no name");
        assert_eq!(err.kind(), ErrorKind::BadRequest);
    }

    #[tokio::test]
    async fn list_all_follows_continue_tokens_and_stops_on_the_last_page() {
        let mut mock = MockClusterClient::new();
        let mut seq = mockall::Sequence::new();
        for (token_in, token_out, name) in [(None, Some("t1"), "a"), (Some("t1"), None, "b")] {
            mock.expect_list()
                .withf(move |rt, ns, opts| {
                    rt.plural == "configmaps"
                        && ns == "shop"
                        && opts.continue_token.as_deref() == token_in
                })
                .times(1)
                .in_sequence(&mut seq)
                .returning(move |_, _, _| {
                    let cm = ConfigMap {
                        metadata: kube::core::ObjectMeta {
                            name: Some(name.into()),
                            ..Default::default()
                        },
                        ..Default::default()
                    };
                    Ok(crate::ObjectList {
                        items: vec![to_dynamic(&cm).expect("dynamic")],
                        resource_version: "7".into(),
                        continue_token: token_out.map(str::to_owned),
                    })
                });
        }
        let all: Vec<ConfigMap> = mock
            .list_all_as("shop", &ListOptions::default())
            .await
            .expect("list all");
        let names: Vec<_> = all.iter().filter_map(|c| c.metadata.name.clone()).collect();
        assert_eq!(names, ["a", "b"]);
    }
}
