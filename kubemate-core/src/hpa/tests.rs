use super::*;
use crate::{ErrorKind, FakeCluster, fake::Verb};

/// A broken spec: the fields its causes name, and how to break it.
type Case<S> = (Vec<&'static str>, fn(&mut S));

const SEED: &str = include_str!("fixtures/shop.yaml");

fn fake() -> FakeCluster {
    FakeCluster::from_yaml(SEED).expect("seed")
}

fn spec() -> HpaSpec {
    HpaSpec {
        namespace: "shop".into(),
        name: None,
        target: ScaleTarget {
            kind: TargetKind::Deployment,
            name: "web".into(),
        },
        min_replicas: Some(2),
        max_replicas: 10,
        cpu_utilization: Some(75),
        memory_utilization: Some(120),
        labels: BTreeMap::new(),
    }
}

#[tokio::test]
async fn an_autoscaler_is_created_for_an_existing_workload() {
    let fake = fake();
    let _ = create_hpa(&fake, &spec(), &WriteOptions::default())
        .await
        .expect("created");
    let hpa: HorizontalPodAutoscaler = fake
        .get_as("shop", "web")
        .await
        .expect("named after its target");
    let s = hpa.spec;
    assert_eq!(s.scale_target_ref.kind, "Deployment");
    assert_eq!(s.scale_target_ref.api_version.as_deref(), Some("apps/v1"));
    assert_eq!((s.min_replicas, s.max_replicas), (Some(2), 10));
    let targets: Vec<_> = s
        .metrics
        .iter()
        .flatten()
        .filter_map(|m| m.resource.as_ref())
        .map(|r| {
            (
                r.name.as_str(),
                r.target.type_.as_str(),
                r.target.average_utilization,
            )
        })
        .collect();
    assert_eq!(
        targets,
        [
            ("cpu", "Utilization", Some(75)),
            ("memory", "Utilization", Some(120))
        ]
    );

    let db = HpaSpec {
        name: Some("db-scaler".into()),
        target: ScaleTarget {
            kind: TargetKind::StatefulSet,
            name: "db".into(),
        },
        min_replicas: None,
        memory_utilization: None,
        ..spec()
    };
    let created = create_hpa(&fake, &db, &WriteOptions::default())
        .await
        .expect("statefulset target");
    assert_eq!(created.spec.min_replicas, Some(1), "the default");

    let err = create_hpa(&fake, &spec(), &WriteOptions::default())
        .await
        .expect_err("again");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
}

#[tokio::test]
async fn a_missing_target_or_namespace_is_not_found_and_nothing_is_written() {
    let fake = fake();
    let mut missing = spec();
    missing.target.name = "nope".into();
    let err = create_hpa(&fake, &missing, &WriteOptions::default())
        .await
        .expect_err("no target");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("nope"), "{err}");
    let wrong_kind = HpaSpec {
        target: ScaleTarget {
            kind: TargetKind::ReplicaSet,
            name: "web".into(),
        },
        ..spec()
    };
    let err = create_hpa(&fake, &wrong_kind, &WriteOptions::default())
        .await
        .expect_err("web is no ReplicaSet");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let elsewhere = HpaSpec {
        namespace: "nowhere".into(),
        ..spec()
    };
    let err = create_hpa(&fake, &elsewhere, &WriteOptions::default())
        .await
        .expect_err("no namespace");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(fake.writes().len(), 0);
}

#[tokio::test]
async fn invalid_autoscalers_name_their_fields_and_send_nothing() {
    let cases: Vec<Case<HpaSpec>> = vec![
        (vec!["minReplicas"], |s| s.min_replicas = Some(0)),
        (vec!["maxReplicas"], |s| s.max_replicas = 1),
        (vec!["maxReplicas"], |s| {
            s.min_replicas = None;
            s.max_replicas = 0;
        }),
        (vec!["minReplicas", "maxReplicas"], |s| {
            s.min_replicas = Some(-1);
            s.max_replicas = -1;
        }),
        (vec!["cpuUtilization"], |s| s.cpu_utilization = Some(0)),
        (vec!["memoryUtilization"], |s| {
            s.memory_utilization = Some(-5)
        }),
        (vec!["metrics"], |s| {
            s.cpu_utilization = None;
            s.memory_utilization = None;
        }),
        (vec!["target.name"], |s| s.target.name = String::new()),
        (vec!["namespace"], |s| s.namespace = "Shop".into()),
        (vec!["name"], |s| s.name = Some("Web Scaler".into())),
    ];
    for (i, (expected, mutate)) in cases.into_iter().enumerate() {
        let fake = fake();
        let mut s = spec();
        mutate(&mut s);
        let err = create_hpa(&fake, &s, &WriteOptions::default())
            .await
            .expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Invalid, "case {i}: {err}");
        let fields: Vec<_> = err.causes().iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, expected, "case {i}: {err}");
        assert!(fake.actions().is_empty(), "case {i}: nothing sent");
        let err = update_hpa(&fake, &s, &WriteOptions::default())
            .await
            .expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert!(fake.actions().is_empty(), "case {i}: nothing sent");
    }
    // Utilization above 100% is legitimate (limits above requests).
    assert!(
        validate_hpa(&HpaSpec {
            cpu_utilization: Some(250),
            ..spec()
        })
        .is_ok()
    );
}

#[tokio::test]
async fn an_update_changes_bounds_and_metrics_and_keeps_the_tuned_behavior() {
    let fake = fake();
    let change = HpaSpec {
        name: Some("api".into()),
        target: ScaleTarget {
            kind: TargetKind::Deployment,
            name: "web".into(),
        },
        min_replicas: Some(3),
        max_replicas: 12,
        cpu_utilization: None,
        memory_utilization: Some(80),
        labels: [("team".to_owned(), "shop".to_owned())].into(),
        ..spec()
    };
    let updated = update_hpa(&fake, &change, &WriteOptions::default())
        .await
        .expect("updated");
    let s = updated.spec;
    assert_eq!(s.scale_target_ref.name, "web");
    assert_eq!((s.min_replicas, s.max_replicas), (Some(3), 12));
    let names: Vec<_> = s
        .metrics
        .iter()
        .flatten()
        .filter_map(|m| m.resource.as_ref().map(|r| r.name.as_str()))
        .collect();
    assert_eq!(names, ["memory"]);
    assert_eq!(
        s.behavior
            .and_then(|b| b.scale_down)
            .and_then(|d| d.stabilization_window_seconds),
        Some(600)
    );
    assert_eq!(updated.metadata.labels.expect("labels")["team"], "shop");

    fake.fail(
        Some(Verb::Replace),
        Some("horizontalpodautoscalers"),
        ErrorKind::Conflict,
        1,
    );
    let err = update_hpa(&fake, &change, &WriteOptions::default())
        .await
        .expect_err("raced");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let err = update_hpa(
        &fake,
        &HpaSpec {
            name: Some("ghost".into()),
            ..change
        },
        &WriteOptions::default(),
    )
    .await
    .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn autoscalers_are_summarized_listed_and_deleted() {
    let fake = fake();
    let _ = create_hpa(&fake, &spec(), &WriteOptions::default())
        .await
        .expect("created");
    let api = get_hpa(&fake, "shop", "api").await.expect("get");
    assert_eq!(
        api,
        HpaSummary {
            namespace: "shop".into(),
            name: "api".into(),
            target_kind: "Deployment".into(),
            target_name: "api".into(),
            min_replicas: 2,
            max_replicas: 6,
            current_replicas: Some(3),
            desired_replicas: Some(4),
            cpu_target: Some(70),
            cpu_current: Some(91),
            memory_target: None,
            memory_current: None,
            last_scale_time: None,
        }
    );
    let all = list_hpas(&fake, "shop").await.expect("list");
    let names: Vec<_> = all.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["api", "web"]);
    assert_eq!(all[1].memory_target, Some(120));

    delete_hpa(&fake, "shop", "web").await.expect("delete");
    assert_eq!(
        get_hpa(&fake, "shop", "web")
            .await
            .expect_err("gone")
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        delete_hpa(&fake, "shop", "Bad Name")
            .await
            .expect_err("invalid")
            .kind(),
        ErrorKind::Invalid
    );
}
