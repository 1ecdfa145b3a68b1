//! Storage on the real control plane: the PV binder binds Kubemate's claims to Kubemate's
//! volumes, statically by name and by a class without a provisioner; the apiserver accepts
//! every kind of volume Kubemate builds.

use kubemate_core::{
    ClusterClient, ErrorKind, WriteOptions,
    conformance::{drop_namespace, eventually, fresh_namespace, suffix},
    storage::{self, HostPathSource, LocalSource, NfsSource, PvSpec, PvcSpec, StorageClassSpec},
};

fn host_pv(name: &str, class: &str, capacity: &str) -> PvSpec {
    PvSpec {
        name: name.into(),
        capacity: capacity.into(),
        access_modes: vec!["ReadWriteOnce".into()],
        reclaim_policy: Some("Retain".into()),
        storage_class: Some(class.into()),
        host_path: Some(HostPathSource {
            path: format!("/tmp/kubemate-test/{name}"),
            type_: Some("DirectoryOrCreate".into()),
        }),
        ..Default::default()
    }
}

async fn wait_bound(client: &dyn ClusterClient, ns: &str, claim: &str) -> storage::PvcSummary {
    eventually("the claim is Bound", || async {
        let pvc = storage::get_pvc(client, ns, claim)
            .await
            .expect("get claim");
        (pvc.phase == "Bound").then_some(pvc)
    })
    .await
}

#[tokio::test]
async fn a_claim_without_a_class_binds_to_the_hostpath_volume_it_names() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "storage").await;
    let pv = format!("conf-pv-{}", suffix());
    let _ = storage::create_pv(client, &host_pv(&pv, "", "2Gi"), &WriteOptions::default())
        .await
        .expect("create the volume");
    let claim = PvcSpec {
        namespace: ns.clone(),
        name: "data".into(),
        storage_class: Some(String::new()),
        access_modes: vec!["ReadWriteOnce".into()],
        capacity: "1Gi".into(),
        volume_name: Some(pv.clone()),
        ..Default::default()
    };
    let _ = storage::create_pvc(client, &claim, &WriteOptions::default())
        .await
        .expect("create the claim");

    let bound = wait_bound(client, &ns, "data").await;
    assert_eq!(bound.volume.as_deref(), Some(pv.as_str()));
    assert_eq!(
        bound.capacity.as_deref(),
        Some("2Gi"),
        "the volume's capacity"
    );
    let volume = eventually("the volume is Bound", || async {
        let v = storage::get_pv(client, &pv).await.expect("get volume");
        (v.phase == "Bound").then_some(v)
    })
    .await;
    assert_eq!(volume.claim, Some(format!("{ns}/data")));
    assert!(
        storage::list_pvs(client)
            .await
            .expect("list volumes")
            .iter()
            .any(|v| v.name == pv && v.source == "hostPath")
    );

    drop_namespace(client, &ns).await;
    storage::delete_pv(client, &pv)
        .await
        .expect("delete the volume");
}

#[tokio::test]
async fn a_claim_of_a_class_without_provisioner_binds_to_a_matching_volume() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "storage-class").await;
    let id = suffix();
    let class_name = format!("conf-static-{id}");
    let class = StorageClassSpec {
        name: class_name.clone(),
        provisioner: "kubernetes.io/no-provisioner".into(),
        reclaim_policy: Some("Retain".into()),
        volume_binding_mode: Some("Immediate".into()),
        ..Default::default()
    };
    let _ = storage::create_storage_class(client, &class, &WriteOptions::default())
        .await
        .expect("create the class");
    let small = format!("conf-pv-small-{id}");
    let large = format!("conf-pv-large-{id}");
    for (name, size) in [(&small, "1Gi"), (&large, "10Gi")] {
        let _ = storage::create_pv(
            client,
            &host_pv(name, &class_name, size),
            &WriteOptions::default(),
        )
        .await
        .expect("create a volume");
    }
    let claim = PvcSpec {
        namespace: ns.clone(),
        name: "logs".into(),
        storage_class: Some(class_name.clone()),
        access_modes: vec!["ReadWriteOnce".into()],
        capacity: "5Gi".into(),
        ..Default::default()
    };
    let _ = storage::create_pvc(client, &claim, &WriteOptions::default())
        .await
        .expect("create the claim");
    let bound = wait_bound(client, &ns, "logs").await;
    assert_eq!(
        bound.volume.as_deref(),
        Some(large.as_str()),
        "the only volume of the class big enough"
    );
    assert_eq!(bound.storage_class.as_deref(), Some(class_name.as_str()));

    // The mutable parts of a class change; the rest is refused before anything is sent.
    let updated = storage::update_storage_class(
        client,
        &StorageClassSpec {
            allow_volume_expansion: Some(true),
            ..class.clone()
        },
        &WriteOptions::default(),
    )
    .await
    .expect("update the class");
    assert_eq!(updated.allow_volume_expansion, Some(true));
    let err = storage::update_storage_class(
        client,
        &StorageClassSpec {
            reclaim_policy: Some("Delete".into()),
            ..class.clone()
        },
        &WriteOptions::default(),
    )
    .await
    .expect_err("immutable");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    let listed = storage::list_storage_classes(client)
        .await
        .expect("list classes");
    let mine = listed
        .iter()
        .find(|c| c.name == class_name)
        .expect("listed");
    assert!(mine.allow_volume_expansion && mine.reclaim_policy == "Retain");

    drop_namespace(client, &ns).await;
    for pv in [&small, &large] {
        storage::delete_pv(client, pv)
            .await
            .expect("delete a volume");
    }
    storage::delete_storage_class(client, &class_name)
        .await
        .expect("delete the class");
}

#[tokio::test]
async fn the_apiserver_accepts_nfs_and_local_volumes_in_a_dry_run() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let id = suffix();
    let dry = WriteOptions { dry_run: true };
    let nfs = PvSpec {
        name: format!("conf-nfs-{id}"),
        capacity: "100Gi".into(),
        access_modes: vec!["ReadWriteMany".into(), "ReadOnlyMany".into()],
        reclaim_policy: Some("Recycle".into()),
        mount_options: vec!["nfsvers=4.1".into()],
        nfs: Some(NfsSource {
            server: "nfs.example.com".into(),
            path: "/exports/shop".into(),
            read_only: false,
        }),
        ..Default::default()
    };
    let local = PvSpec {
        name: format!("conf-local-{id}"),
        capacity: "50Gi".into(),
        access_modes: vec!["ReadWriteOncePod".into()],
        reclaim_policy: Some("Delete".into()),
        storage_class: Some("local-ssd".into()),
        local: Some(LocalSource {
            path: "/mnt/disks/ssd1".into(),
            node: "kwok-node-0".into(),
        }),
        ..Default::default()
    };
    for spec in [&nfs, &local] {
        let pv = storage::create_pv(client, spec, &dry)
            .await
            .unwrap_or_else(|e| panic!("the apiserver accepts {}: {e}", spec.name));
        assert_eq!(pv.metadata.name.as_deref(), Some(spec.name.as_str()));
        assert_eq!(
            storage::get_pv(client, &spec.name)
                .await
                .expect_err("not stored")
                .kind(),
            ErrorKind::NotFound
        );
    }
}
