use super::*;
use crate::{FakeCluster, fake::Verb};

fn cm(cpu: &str, memory: &str) -> CpuMemory {
    CpuMemory {
        cpu: Some(cpu.into()),
        memory: Some(memory.into()),
    }
}

fn defaults() -> TenantDefaults {
    TenantDefaults {
        quota: Some(QuotaSpec {
            requests_cpu: Some("4".into()),
            requests_memory: Some("8Gi".into()),
            limits_cpu: Some("8".into()),
            limits_memory: Some("16Gi".into()),
            pods: Some(50),
            ..Default::default()
        }),
        limits: Some(LimitsSpec {
            default_request: cm("100m", "128Mi"),
            default_limit: cm("500m", "512Mi"),
            min: CpuMemory::default(),
            max: cm("2", "4Gi"),
        }),
    }
}

fn spec(name: &str) -> TenantSpec {
    TenantSpec {
        name: name.into(),
        description: Some("Team A".into()),
        labels: BTreeMap::from([("team".into(), "a".into())]),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_tenant_gets_its_namespace_quota_and_limits_from_the_defaults_and_overrides() {
    let fake = FakeCluster::new();
    let mut request = spec("team-a");
    request.quota = Some(QuotaSpec {
        pods: Some(10),
        requests_storage: Some("100Gi".into()),
        ..Default::default()
    });
    request.limits = Some(LimitsSpec {
        default_limit: CpuMemory {
            cpu: Some("1".into()),
            memory: None,
        },
        ..Default::default()
    });
    let tenant = create_tenant(&fake, &defaults(), &request)
        .await
        .expect("created");
    assert_eq!(tenant.namespace.metadata.name.as_deref(), Some("team-a"));

    let ns: Namespace = fake.get_as("", "team-a").await.expect("namespace");
    let labels = ns.metadata.labels.expect("labels");
    assert_eq!(labels["team"], "a");
    assert_eq!(labels[TENANT_LABEL], "true");
    assert_eq!(
        ns.metadata.annotations.expect("annotations")[DESCRIPTION_ANNOTATION],
        "Team A"
    );

    let quota: ResourceQuota = fake.get_as("team-a", QUOTA_NAME).await.expect("quota");
    let hard = strings(quota.spec.and_then(|s| s.hard));
    assert_eq!(hard["pods"], "10", "overridden");
    assert_eq!(hard["requests.storage"], "100Gi", "added");
    assert_eq!(hard["requests.cpu"], "4", "from the defaults");
    assert_eq!(hard["limits.memory"], "16Gi");

    let lr: LimitRange = fake
        .get_as("team-a", LIMIT_RANGE_NAME)
        .await
        .expect("limit range");
    let item = &lr.spec.expect("spec").limits[0];
    assert_eq!(item.type_, "Container");
    assert_eq!(strings(item.default.clone())["cpu"], "1", "overridden");
    assert_eq!(
        strings(item.default.clone())["memory"],
        "512Mi",
        "from the defaults"
    );
    assert_eq!(strings(item.default_request.clone())["cpu"], "100m");
    assert_eq!(strings(item.max.clone())["memory"], "4Gi");
    assert!(item.min.is_none());
}

#[tokio::test]
async fn a_tenant_may_go_without_quota_or_limits() {
    let fake = FakeCluster::new();
    let request = TenantSpec {
        no_quota: true,
        no_limits: true,
        ..spec("free")
    };
    let tenant = create_tenant(&fake, &defaults(), &request)
        .await
        .expect("created");
    assert!(tenant.quota.is_none() && tenant.limit_range.is_none());
    let created: Vec<_> = fake.writes().into_iter().map(|a| a.resource).collect();
    assert_eq!(created, ["namespaces"]);

    let none = create_tenant(&fake, &TenantDefaults::default(), &spec("bare"))
        .await
        .expect("created without defaults");
    assert!(none.quota.is_none() && none.limit_range.is_none());
}

#[tokio::test]
async fn invalid_tenants_are_refused_with_their_fields_before_any_call() {
    type Case = (&'static str, fn(&mut TenantSpec, &mut TenantDefaults));
    let cases: Vec<Case> = vec![
        ("name", |s, _| s.name = "Team_A".into()),
        ("name", |s, _| s.name = String::new()),
        ("labels[team]", |s, _| {
            s.labels.insert("team".into(), "a b".into());
        }),
        ("quota.requestsCpu", |s, _| {
            s.quota = Some(QuotaSpec {
                requests_cpu: Some("lots".into()),
                ..Default::default()
            })
        }),
        ("quota.pods", |s, _| {
            s.quota = Some(QuotaSpec {
                pods: Some(-1),
                ..Default::default()
            })
        }),
        // A broken default is reported where the request could override it.
        ("quota.requestsMemory", |_, d| {
            if let Some(q) = d.quota.as_mut() {
                q.requests_memory = Some("8 GB".into());
            }
        }),
        ("limits.defaultRequest.cpu", |s, _| {
            s.limits = Some(LimitsSpec {
                default_request: CpuMemory {
                    cpu: Some("1".into()),
                    memory: None,
                },
                ..Default::default()
            })
        }),
        ("limits.defaultLimit.memory", |s, _| {
            s.limits = Some(LimitsSpec {
                default_limit: CpuMemory {
                    cpu: None,
                    memory: Some("8Gi".into()),
                },
                ..Default::default()
            })
        }),
        ("limits.min.cpu", |s, _| {
            s.limits = Some(LimitsSpec {
                min: CpuMemory {
                    cpu: Some("50m".into()),
                    memory: None,
                },
                default_request: CpuMemory {
                    cpu: Some("10m".into()),
                    memory: None,
                },
                ..Default::default()
            })
        }),
    ];
    for (i, (field, mutate)) in cases.into_iter().enumerate() {
        let fake = FakeCluster::new();
        let mut request = spec("team-a");
        let mut defaults = defaults();
        mutate(&mut request, &mut defaults);
        let err = create_tenant(&fake, &defaults, &request)
            .await
            .expect_err(&format!("case {i} ({field})"));
        assert_eq!(err.kind(), ErrorKind::Invalid, "case {i}: {err}");
        let fields: Vec<_> = err.causes().iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, [field], "case {i}: {err}");
        assert!(fake.actions().is_empty(), "case {i}: nothing is sent");
    }
    let fake = FakeCluster::new();
    assert_eq!(
        delete_tenant(&fake, "Bad_Name")
            .await
            .expect_err("invalid")
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        get_tenant(&fake, "Bad_Name")
            .await
            .expect_err("invalid")
            .kind(),
        ErrorKind::Invalid
    );
    let err = delete_tenant(&fake, "kube-system")
        .await
        .expect_err("protected");
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(fake.actions().is_empty());
}

#[tokio::test]
async fn an_existing_namespace_is_already_exists_and_is_left_alone() {
    let fake = FakeCluster::from_yaml(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a, labels: {owner: ops}}\n",
    )
    .expect("seed");
    let err = create_tenant(&fake, &defaults(), &spec("team-a"))
        .await
        .expect_err("exists");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    let created: Vec<_> = fake.writes().into_iter().map(|a| a.resource).collect();
    assert_eq!(
        created,
        ["namespaces"],
        "no quota on someone else's namespace"
    );
    let ns: Namespace = fake.get_as("", "team-a").await.expect("still there");
    assert_eq!(ns.metadata.labels.expect("labels")["owner"], "ops");
}

#[tokio::test]
async fn a_failed_quota_rolls_the_namespace_back_and_says_so() {
    let fake = FakeCluster::new();
    fake.fail(
        Some(Verb::Create),
        Some("resourcequotas"),
        ErrorKind::Forbidden,
        1,
    );
    let err = create_tenant(&fake, &defaults(), &spec("team-a"))
        .await
        .expect_err("quota refused");
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.message().contains("ResourceQuota"), "{err}");
    assert!(err.message().contains("deleted again"), "{err}");
    assert!(
        fake.get_opt_as::<Namespace>("", "team-a")
            .await
            .expect("get")
            .is_none(),
        "rolled back"
    );

    let fake = FakeCluster::new();
    fake.fail(
        Some(Verb::Create),
        Some("limitranges"),
        ErrorKind::Unavailable,
        1,
    );
    fake.fail(
        Some(Verb::Delete),
        Some("namespaces"),
        ErrorKind::Unavailable,
        1,
    );
    let err = create_tenant(&fake, &defaults(), &spec("team-b"))
        .await
        .expect_err("limits refused");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.message().contains("delete it by hand"), "{err}");
}

#[tokio::test]
async fn tenants_list_with_their_quota_usage_and_delete() {
    let fake = FakeCluster::from_yaml(
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: old-quota, namespace: legacy}
spec: {hard: {pods: "5"}}
status: {hard: {pods: "5"}, used: {pods: "2"}}
"#,
    )
    .expect("seed");
    let _ = create_tenant(&fake, &defaults(), &spec("team-a"))
        .await
        .expect("created");
    let before = fake.actions().len();
    let tenants = list_tenants(&fake).await.expect("list");
    assert_eq!(fake.actions().len() - before, 2, "one list of each kind");
    let names: Vec<_> = tenants.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["legacy", "team-a"]);
    assert!(!tenants[0].managed);
    assert_eq!(tenants[0].quotas[0].used["pods"], "2");
    assert!(tenants[1].managed);
    assert_eq!(tenants[1].description.as_deref(), Some("Team A"));
    assert_eq!(tenants[1].quotas[0].name, QUOTA_NAME);
    assert_eq!(
        tenants[1].quotas[0].hard["pods"], "50",
        "spec.hard before the controller counts"
    );

    let one = get_tenant(&fake, "team-a").await.expect("get");
    assert_eq!(one, tenants[1]);
    assert_eq!(
        get_tenant(&fake, "nope").await.expect_err("missing").kind(),
        ErrorKind::NotFound
    );

    delete_tenant(&fake, "team-a").await.expect("deleted");
    assert_eq!(
        fake.get_opt_as::<ResourceQuota>("team-a", QUOTA_NAME)
            .await
            .expect("get"),
        None,
        "the namespace took its quota along"
    );
    assert_eq!(
        delete_tenant(&fake, "team-a")
            .await
            .expect_err("gone")
            .kind(),
        ErrorKind::NotFound
    );
}
