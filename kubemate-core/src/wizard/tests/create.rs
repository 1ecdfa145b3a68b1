//! Creating an app: conflicts, partial failures, dry runs and follow-up steps.

use super::*;

#[tokio::test]
async fn an_existing_app_is_already_exists_and_a_missing_namespace_not_found() {
    let fake = fake();
    let spec = base();
    let _ = create_app(&fake, &registries(), &spec, &CreateOptions::default())
        .await
        .expect("first");
    let before = fake.writes().len();
    let err = create_app(&fake, &registries(), &spec, &CreateOptions::default())
        .await
        .expect_err("second");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(
        fake.writes().len(),
        before + 1,
        "only the refused Deployment create; no Service attempt"
    );

    let elsewhere = AppSpec {
        namespace: "nowhere".into(),
        ..base()
    };
    let err = create_app(&fake, &registries(), &elsewhere, &CreateOptions::default())
        .await
        .expect_err("no namespace");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("nowhere"), "{err}");
}

#[tokio::test]
async fn a_failed_service_is_reported_beside_the_created_deployment_and_can_be_retried() {
    let fake = fake();
    fake.fail(
        Some(Verb::Create),
        Some("services"),
        ErrorKind::Unavailable,
        1,
    );
    let spec = base();
    let outcome = create_app(&fake, &registries(), &spec, &CreateOptions::default())
        .await
        .expect("the Deployment step succeeded");
    assert!(!outcome.is_complete());
    assert_eq!(
        outcome.service.error().map(Error::kind),
        Some(ErrorKind::Unavailable)
    );
    let report = outcome.report();
    assert_eq!(report[0].status, StepStatus::Done);
    assert_eq!(report[0].name.as_deref(), Some("web"));
    assert_eq!(report[1].status, StepStatus::Failed);
    assert_eq!(report[1].code, Some(crate::Code::Unavailable));
    assert!(
        fake.get_opt_as::<Deployment>("shop", "web")
            .await
            .expect("get")
            .is_some(),
        "the Deployment stays: no rollback"
    );
    assert!(
        fake.get_opt_as::<Service>("shop", "web")
            .await
            .expect("get")
            .is_none()
    );

    let svc = create_service(&fake, &registries(), &spec, &CreateOptions::default())
        .await
        .expect("retry");
    assert_eq!(svc.metadata.name.as_deref(), Some("web"));
    let err = create_service(
        &fake,
        &registries(),
        &AppSpec {
            service: None,
            ..base()
        },
        &CreateOptions::default(),
    )
    .await
    .expect_err("no service in the spec");
    assert_eq!(err.causes()[0].field, "service");
}

#[tokio::test]
async fn a_dry_run_sends_dry_runs_and_creates_nothing() {
    let fake = fake();
    let outcome = create_app(
        &fake,
        &registries(),
        &full(),
        &CreateOptions { dry_run: true },
    )
    .await
    .expect("dry run");
    assert!(outcome.dry_run && outcome.is_complete());
    assert_eq!(
        outcome.deployment.metadata.name.as_deref(),
        Some("shop-api")
    );
    assert!(outcome.service.done().is_some());
    assert!(
        fake.get_opt_as::<Deployment>("shop", "shop-api")
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        fake.get_opt_as::<Service>("shop", "shop-api")
            .await
            .expect("get")
            .is_none()
    );
}

/// A follow-up step that records a ConfigMap naming the Service it follows.
struct NoteStep {
    runs: AtomicUsize,
    refuse: bool,
}

#[async_trait]
impl FollowUpStep for NoteStep {
    fn name(&self) -> &str {
        "note"
    }

    fn validate(&self, _spec: &AppSpec, problems: &mut Problems) {
        if self.refuse {
            problems.required("note.text");
        }
    }

    async fn run(
        &self,
        client: &dyn ClusterClient,
        app: CreatedApp<'_>,
        opts: &CreateOptions,
    ) -> Result<DynamicObject> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let service = app
            .service
            .and_then(|s| s.metadata.name.clone())
            .unwrap_or_default();
        client
            .create(
                &ResourceType::of::<ConfigMap>(),
                &app.spec.namespace,
                &object(json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": format!("{}-note", app.spec.name)},
                    "data": {"service": service}})),
                &crate::WriteOptions {
                    dry_run: opts.dry_run,
                },
            )
            .await
    }
}

#[tokio::test]
async fn follow_up_steps_validate_up_front_and_run_only_after_the_service() {
    let fake = fake();
    let refusing = NoteStep {
        runs: AtomicUsize::new(0),
        refuse: true,
    };
    let err = create_app_with(
        &fake,
        &registries(),
        &base(),
        &CreateOptions::default(),
        &[&refusing],
    )
    .await
    .expect_err("the step's input is invalid");
    assert_eq!(err.causes()[0].field, "note.text");
    assert!(fake.actions().is_empty());

    let step = NoteStep {
        runs: AtomicUsize::new(0),
        refuse: false,
    };
    let outcome = create_app_with(
        &fake,
        &registries(),
        &base(),
        &CreateOptions::default(),
        &[&step],
    )
    .await
    .expect("created");
    assert!(outcome.is_complete());
    let note: ConfigMap = fake.get_as("shop", "web-note").await.expect("note");
    assert_eq!(note.data.expect("data")["service"], "web");
    assert_eq!(outcome.report()[2].kind.as_deref(), Some("ConfigMap"));

    let fake = self::fake();
    fake.fail(
        Some(Verb::Create),
        Some("services"),
        ErrorKind::Forbidden,
        1,
    );
    let step = NoteStep {
        runs: AtomicUsize::new(0),
        refuse: false,
    };
    let outcome = create_app_with(
        &fake,
        &registries(),
        &base(),
        &CreateOptions::default(),
        &[&step],
    )
    .await
    .expect("the Deployment was created");
    assert!(matches!(outcome.follow_ups[0].result, Step::Skipped));
    assert_eq!(step.runs.load(Ordering::SeqCst), 0);
    assert_eq!(outcome.report()[2].status, StepStatus::Skipped);
}
