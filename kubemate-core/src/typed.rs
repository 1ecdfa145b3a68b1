//! Typed writes that honour [`WriteOptions`] (the `ClusterClientExt` helpers always persist),
//! for the operations that offer a server-side dry run.

use serde::{Serialize, de::DeserializeOwned};

use crate::{
    ClusterClient, ResourceType, Result, WriteOptions,
    client::{from_dynamic, to_dynamic},
};

/// Creates a typed object, or only validates it on the server when `dry_run`.
pub(crate) async fn create<K>(
    client: &dyn ClusterClient,
    ns: &str,
    obj: &K,
    dry_run: bool,
) -> Result<K>
where
    K: kube::Resource<DynamicType = ()> + Serialize + DeserializeOwned,
    K::Scope: 'static,
{
    let created = client
        .create(
            &ResourceType::of::<K>(),
            ns,
            &to_dynamic(obj)?,
            &WriteOptions { dry_run },
        )
        .await?;
    from_dynamic(created)
}

/// Replaces a typed object (its resourceVersion is the precondition), or only validates the
/// change on the server when `dry_run`.
pub(crate) async fn replace<K>(
    client: &dyn ClusterClient,
    ns: &str,
    obj: &K,
    dry_run: bool,
) -> Result<K>
where
    K: kube::Resource<DynamicType = ()> + Serialize + DeserializeOwned,
    K::Scope: 'static,
{
    let replaced = client
        .replace(
            &ResourceType::of::<K>(),
            ns,
            &to_dynamic(obj)?,
            &WriteOptions { dry_run },
        )
        .await?;
    from_dynamic(replaced)
}
