use k8s_openapi::api::{
    core::v1::{PersistentVolume, PersistentVolumeClaim},
    storage::v1::StorageClass,
};

use super::*;
use crate::{ClusterClient, ClusterClientExt, ErrorKind, FakeCluster, WriteOptions, fake::Verb};

/// A broken spec: the fields its causes name, and how to break it.
type Case<S> = (Vec<&'static str>, fn(&mut S));

const SEED: &str = include_str!("fixtures/shop.yaml");

fn fake() -> FakeCluster {
    FakeCluster::from_yaml(SEED).expect("seed")
}

fn pvc() -> PvcSpec {
    PvcSpec {
        namespace: "shop".into(),
        name: "uploads".into(),
        storage_class: Some("fast".into()),
        access_modes: vec!["ReadWriteMany".into()],
        capacity: "5Gi".into(),
        ..Default::default()
    }
}

fn nfs_pv() -> PvSpec {
    PvSpec {
        name: "nfs-1".into(),
        capacity: "100Gi".into(),
        access_modes: vec!["ReadWriteMany".into(), "ReadOnlyMany".into()],
        storage_class: Some("nfs".into()),
        mount_options: vec!["nfsvers=4.1".into()],
        nfs: Some(NfsSource {
            server: "nfs.example.com".into(),
            path: "/exports/shop".into(),
            read_only: false,
        }),
        ..Default::default()
    }
}

fn class() -> StorageClassSpec {
    StorageClassSpec {
        name: "fast".into(),
        provisioner: "example.com/ssd".into(),
        reclaim_policy: Some("Retain".into()),
        volume_binding_mode: Some("WaitForFirstConsumer".into()),
        allow_volume_expansion: Some(false),
        parameters: [("tier".to_owned(), "gold".to_owned())].into(),
        default_class: true,
        ..Default::default()
    }
}

fn fields(err: &crate::Error) -> Vec<&str> {
    err.causes().iter().map(|c| c.field.as_str()).collect()
}

#[tokio::test]
async fn a_claim_is_created_as_asked_and_summarized() {
    let fake = fake();
    let spec = PvcSpec {
        volume_name: Some("pv-static".into()),
        labels: [("app".to_owned(), "shop".to_owned())].into(),
        ..pvc()
    };
    let _ = create_pvc(&fake, &spec, &WriteOptions::default())
        .await
        .expect("created");
    let claim: PersistentVolumeClaim = fake.get_as("shop", "uploads").await.expect("claim");
    let s = claim.spec.expect("spec");
    assert_eq!(s.storage_class_name.as_deref(), Some("fast"));
    assert_eq!(s.volume_name.as_deref(), Some("pv-static"));
    assert_eq!(
        s.resources.and_then(|r| r.requests).expect("requests")["storage"].0,
        "5Gi"
    );

    let all = list_pvcs(&fake, "shop").await.expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[0],
        PvcSummary {
            namespace: "shop".into(),
            name: "data".into(),
            phase: "Bound".into(),
            capacity: Some("20Gi".into()),
            access_modes: vec!["ReadWriteOnce".into()],
            storage_class: Some("slow".into()),
            volume: Some("pv-bound".into()),
            created: all[0].created.clone(),
        }
    );
    assert_eq!(all[1].phase, "Pending");
    assert_eq!(
        all[1].capacity.as_deref(),
        Some("5Gi"),
        "asked for, until bound"
    );
    assert_eq!(
        get_pvc(&fake, "shop", "uploads").await.expect("get"),
        all[1]
    );

    let err = create_pvc(&fake, &spec, &WriteOptions::default())
        .await
        .expect_err("again");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    let err = create_pvc(
        &fake,
        &PvcSpec {
            namespace: "nowhere".into(),
            ..pvc()
        },
        &WriteOptions::default(),
    )
    .await
    .expect_err("no namespace");
    assert_eq!(err.kind(), ErrorKind::NotFound);

    delete_pvc(&fake, "shop", "uploads").await.expect("delete");
    assert_eq!(
        get_pvc(&fake, "shop", "uploads")
            .await
            .expect_err("gone")
            .kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn a_dry_run_claim_is_checked_but_not_stored() {
    let fake = fake();
    let claim = create_pvc(&fake, &pvc(), &WriteOptions { dry_run: true })
        .await
        .expect("dry run");
    assert_eq!(claim.metadata.name.as_deref(), Some("uploads"));
    assert!(
        fake.get_opt_as::<PersistentVolumeClaim>("shop", "uploads")
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn invalid_claims_name_their_fields_and_send_nothing() {
    let cases: Vec<Case<PvcSpec>> = vec![
        (vec!["name"], |s| s.name = "Uploads".into()),
        (vec!["namespace"], |s| s.namespace = String::new()),
        (vec!["accessModes"], |s| s.access_modes.clear()),
        (vec!["accessModes[0]"], |s| {
            s.access_modes = vec!["RWO".into()]
        }),
        (vec!["accessModes[1]"], |s| {
            s.access_modes = vec!["ReadWriteOnce".into(), "ReadWriteOnce".into()]
        }),
        (vec!["accessModes"], |s| {
            s.access_modes = vec!["ReadWriteOncePod".into(), "ReadOnlyMany".into()]
        }),
        (vec!["capacity"], |s| s.capacity = "lots".into()),
        (vec!["capacity"], |s| s.capacity = "0".into()),
        (vec!["capacity"], |s| s.capacity = String::new()),
        (vec!["storageClass"], |s| {
            s.storage_class = Some("Fast_SSD".into())
        }),
        (vec!["volumeName"], |s| s.volume_name = Some("PV 1".into())),
        (vec!["name", "capacity"], |s| {
            s.name = "-x".into();
            s.capacity = "-1Gi".into();
        }),
    ];
    for (i, (expected, mutate)) in cases.into_iter().enumerate() {
        let fake = fake();
        let mut spec = pvc();
        mutate(&mut spec);
        let err = create_pvc(&fake, &spec, &WriteOptions::default())
            .await
            .expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Invalid, "case {i}: {err}");
        assert_eq!(fields(&err), expected, "case {i}: {err}");
        assert!(fake.actions().is_empty(), "case {i}: nothing sent");
    }
    // The class may be "" (no class: static binding only).
    assert!(
        validate_pvc(&PvcSpec {
            storage_class: Some(String::new()),
            ..pvc()
        })
        .is_ok()
    );
}

#[tokio::test]
async fn volumes_of_each_kind_are_built_as_kubernetes_expects() {
    let fake = fake();
    let _ = create_pv(&fake, &nfs_pv(), &WriteOptions::default())
        .await
        .expect("nfs");
    let nfs: PersistentVolume = fake.get_as("", "nfs-1").await.expect("nfs");
    let spec = nfs.spec.expect("spec");
    assert_eq!(
        spec.persistent_volume_reclaim_policy.as_deref(),
        Some("Retain"),
        "the default"
    );
    assert_eq!(
        spec.nfs.as_ref().map(|n| n.server.as_str()),
        Some("nfs.example.com")
    );
    assert_eq!(
        spec.mount_options.as_deref(),
        Some(&["nfsvers=4.1".to_owned()][..])
    );

    let local = PvSpec {
        name: "local-1".into(),
        capacity: "50Gi".into(),
        access_modes: vec!["ReadWriteOnce".into()],
        reclaim_policy: Some("Delete".into()),
        storage_class: Some("local".into()),
        local: Some(LocalSource {
            path: "/mnt/disks/ssd1".into(),
            node: "node-1".into(),
        }),
        ..Default::default()
    };
    let _ = create_pv(&fake, &local, &WriteOptions::default())
        .await
        .expect("local");
    let local: PersistentVolume = fake.get_as("", "local-1").await.expect("local");
    let term = local
        .spec
        .and_then(|s| s.node_affinity)
        .and_then(|a| a.required)
        .map(|r| r.node_selector_terms)
        .expect("node affinity");
    let req = &term[0].match_expressions.as_ref().expect("expressions")[0];
    assert_eq!(req.key, "kubernetes.io/hostname");
    assert_eq!(req.values.as_deref(), Some(&["node-1".to_owned()][..]));

    let host = PvSpec {
        name: "host-1".into(),
        capacity: "1Gi".into(),
        access_modes: vec!["ReadWriteOnce".into()],
        storage_class: Some(String::new()),
        host_path: Some(HostPathSource {
            path: "/srv/host-1".into(),
            type_: Some("DirectoryOrCreate".into()),
        }),
        ..Default::default()
    };
    let _ = create_pv(&fake, &host, &WriteOptions::default())
        .await
        .expect("hostPath");
    let host: PersistentVolume = fake.get_as("", "host-1").await.expect("host");
    assert_eq!(
        host.spec.and_then(|s| s.storage_class_name),
        None,
        "\"\" means no class"
    );

    let all = list_pvs(&fake).await.expect("list");
    let sources: Vec<_> = all
        .iter()
        .map(|v| (v.name.as_str(), v.source.as_str()))
        .collect();
    assert_eq!(
        sources,
        [
            ("host-1", "hostPath"),
            ("local-1", "local"),
            ("nfs-1", "nfs"),
            ("pv-bound", "hostPath")
        ]
    );
    let bound = get_pv(&fake, "pv-bound").await.expect("get");
    assert_eq!(bound.claim.as_deref(), Some("shop/data"));
    assert_eq!(bound.phase, "Bound");
    assert_eq!(bound.capacity.as_deref(), Some("20Gi"));

    let err = create_pv(&fake, &nfs_pv(), &WriteOptions::default())
        .await
        .expect_err("again");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    delete_pv(&fake, "nfs-1").await.expect("delete");
    assert_eq!(
        delete_pv(&fake, "nfs-1").await.expect_err("gone").kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn invalid_volumes_name_their_fields_and_send_nothing() {
    let cases: Vec<Case<PvSpec>> = vec![
        (vec!["source"], |s| s.nfs = None),
        (vec!["source"], |s| {
            s.host_path = Some(HostPathSource {
                path: "/srv".into(),
                type_: None,
            })
        }),
        (vec!["nfs.server"], |s| {
            if let Some(n) = s.nfs.as_mut() {
                n.server = " ".into();
            }
        }),
        (vec!["nfs.path"], |s| {
            if let Some(n) = s.nfs.as_mut() {
                n.path = "exports/shop".into();
            }
        }),
        (vec!["local.node"], |s| {
            s.nfs = None;
            s.local = Some(LocalSource {
                path: "/mnt/disk".into(),
                node: String::new(),
            });
        }),
        (vec!["local.path", "reclaimPolicy"], |s| {
            s.nfs = None;
            s.reclaim_policy = Some("Recycle".into());
            s.local = Some(LocalSource {
                path: "mnt".into(),
                node: "node-1".into(),
            });
        }),
        (vec!["hostPath.type"], |s| {
            s.nfs = None;
            s.host_path = Some(HostPathSource {
                path: "/srv".into(),
                type_: Some("Folder".into()),
            });
        }),
        (vec!["reclaimPolicy"], |s| {
            s.reclaim_policy = Some("Keep".into())
        }),
        (vec!["accessModes[1]"], |s| {
            s.access_modes[1] = "ReadWriteMany ".into()
        }),
        (vec!["capacity"], |s| s.capacity = "100 Gi".into()),
        (vec!["name"], |s| s.name = "NFS_1".into()),
    ];
    for (i, (expected, mutate)) in cases.into_iter().enumerate() {
        let fake = fake();
        let mut spec = nfs_pv();
        mutate(&mut spec);
        let err = create_pv(&fake, &spec, &WriteOptions::default())
            .await
            .expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Invalid, "case {i}: {err}");
        assert_eq!(fields(&err), expected, "case {i}: {err}");
        assert!(fake.actions().is_empty(), "case {i}: nothing sent");
    }
    // Recycle is fine where Kubernetes supports it.
    assert!(
        validate_pv(&PvSpec {
            reclaim_policy: Some("Recycle".into()),
            ..nfs_pv()
        })
        .is_ok()
    );
}

#[tokio::test]
async fn storage_classes_are_created_updated_within_what_kubernetes_allows_and_deleted() {
    let fake = fake();
    let _ = create_storage_class(&fake, &class(), &WriteOptions::default())
        .await
        .expect("created");
    let summary = get_storage_class(&fake, "fast").await.expect("get");
    assert_eq!(
        summary,
        StorageClassSummary {
            name: "fast".into(),
            provisioner: "example.com/ssd".into(),
            reclaim_policy: "Retain".into(),
            volume_binding_mode: "WaitForFirstConsumer".into(),
            allow_volume_expansion: false,
            default_class: true,
            parameters: [("tier".to_owned(), "gold".to_owned())].into(),
        }
    );

    // Someone else's annotation survives an update.
    let _ = fake
        .merge_patch(
            &crate::ResourceType::of::<StorageClass>(),
            "",
            "fast",
            &serde_json::json!({"metadata": {"annotations": {"owner": "storage-team"}}}),
            &WriteOptions::default(),
        )
        .await
        .expect("annotate");
    let updated = update_storage_class(
        &fake,
        &StorageClassSpec {
            allow_volume_expansion: Some(true),
            default_class: false,
            ..class()
        },
        &WriteOptions::default(),
    )
    .await
    .expect("updated");
    let annotations = updated.metadata.annotations.expect("annotations");
    assert_eq!(
        annotations.get("owner").map(String::as_str),
        Some("storage-team")
    );
    assert!(!annotations.contains_key(DEFAULT_CLASS_ANNOTATION));
    let listed = list_storage_classes(&fake).await.expect("list");
    assert!(listed[0].allow_volume_expansion && !listed[0].default_class);

    let writes_before = fake.writes().len();
    let err = update_storage_class(
        &fake,
        &StorageClassSpec {
            provisioner: "example.com/hdd".into(),
            parameters: Default::default(),
            volume_binding_mode: None,
            ..class()
        },
        &WriteOptions::default(),
    )
    .await
    .expect_err("immutable");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(
        fields(&err),
        ["provisioner", "parameters", "volumeBindingMode"]
    );
    assert_eq!(fake.writes().len(), writes_before, "nothing written");
    let err = update_storage_class(
        &fake,
        &StorageClassSpec {
            name: "missing".into(),
            ..class()
        },
        &WriteOptions::default(),
    )
    .await
    .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);

    fake.fail(
        Some(Verb::Replace),
        Some("storageclasses"),
        ErrorKind::Conflict,
        1,
    );
    let err = update_storage_class(&fake, &class(), &WriteOptions::default())
        .await
        .expect_err("raced");
    assert_eq!(err.kind(), ErrorKind::Conflict);

    delete_storage_class(&fake, "fast").await.expect("delete");
    assert!(list_storage_classes(&fake).await.expect("list").is_empty());
}

#[tokio::test]
async fn invalid_classes_name_their_fields_and_send_nothing() {
    let cases: Vec<Case<StorageClassSpec>> = vec![
        (vec!["name"], |s| s.name = "Fast".into()),
        (vec!["provisioner"], |s| s.provisioner = String::new()),
        (vec!["provisioner"], |s| {
            s.provisioner = "my provisioner".into()
        }),
        (vec!["reclaimPolicy"], |s| {
            s.reclaim_policy = Some("Recycle".into())
        }),
        (vec!["volumeBindingMode"], |s| {
            s.volume_binding_mode = Some("Lazy".into())
        }),
        (vec!["labels[tier]"], |s| {
            s.labels.insert("tier".into(), "gold plated".into());
        }),
    ];
    for (i, (expected, mutate)) in cases.into_iter().enumerate() {
        let fake = fake();
        let mut spec = class();
        mutate(&mut spec);
        let err = create_storage_class(&fake, &spec, &WriteOptions::default())
            .await
            .expect_err("invalid");
        assert_eq!(fields(&err), expected, "case {i}: {err}");
        assert!(
            fake.writes().is_empty() && fake.actions().is_empty(),
            "case {i}"
        );
    }
}
