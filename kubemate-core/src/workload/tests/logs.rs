//! Logs of a pod and of a workload, tailed and followed.

use super::*;

fn opts(f: impl FnOnce(&mut LogOptions)) -> LogOptions {
    let mut o = LogOptions::default();
    f(&mut o);
    o
}

#[tokio::test]
async fn pod_logs_honour_tail_previous_and_container_choice() {
    let fake = shop();
    for i in 1..=3 {
        fake.push_log("shop", "web-h2-a", "main", &format!("line {i}"));
    }
    fake.push_previous_log("shop", "web-h2-b", "main", "panic: boom");
    fake.push_log("shop", "web-h2-b", "proxy", "proxy up");

    let tail = pod_logs(&fake, "shop", "web-h2-a", &opts(|o| o.tail_lines = Some(2)))
        .await
        .expect("tail");
    assert_eq!(tail, "line 2\nline 3\n");
    let previous = pod_logs(
        &fake,
        "shop",
        "web-h2-b",
        &opts(|o| {
            o.previous = true;
            o.container = Some("main".into());
        }),
    )
    .await
    .expect("previous");
    assert_eq!(previous, "panic: boom\n");
    let err = pod_logs(&fake, "shop", "web-h2-b", &LogOptions::default())
        .await
        .expect_err("two containers");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.message().contains("choose one of"));

    let calls = fake.actions().len();
    for (bad, field) in [
        (opts(|o| o.tail_lines = Some(-1)), "tailLines"),
        (opts(|o| o.since_seconds = Some(0)), "sinceSeconds"),
        (opts(|o| o.limit_bytes = Some(0)), "limitBytes"),
        (opts(|o| o.container = Some("No Such".into())), "container"),
    ] {
        let err = pod_logs(&fake, "shop", "web-h2-a", &bad)
            .await
            .expect_err(field);
        assert_eq!(err.kind(), ErrorKind::Invalid, "{field}");
        assert_eq!(err.causes()[0].field, field);
    }
    assert_eq!(fake.actions().len(), calls, "bad options make no call");

    let mut follow = follow_pod_logs(&fake, "shop", "web-h2-a", &opts(|o| o.tail_lines = Some(1)))
        .await
        .expect("follow");
    assert_eq!(
        follow.next().await.map(|l| l.expect("line")),
        Some("line 3".to_owned())
    );
    fake.push_log("shop", "web-h2-a", "main", "line 4");
    let next = tokio::time::timeout(Duration::from_secs(5), follow.next())
        .await
        .expect("a new line arrives");
    assert_eq!(next.map(|l| l.expect("line")), Some("line 4".to_owned()));
}

#[tokio::test]
async fn workload_logs_give_each_pods_tail_prefixed_with_the_pod() {
    let fake = shop();
    for i in 1..=12 {
        fake.push_log("shop", "web-h2-a", "main", &format!("a{i}"));
    }
    fake.push_log("shop", "web-h2-b", "main", "b1");
    let logs = logs(&fake, Deployment, "shop", "web", &LogOptions::default())
        .await
        .expect("logs");
    assert_eq!(logs.pods.len(), 2);
    assert_eq!(logs.pods[0].lines.len(), DEFAULT_WORKLOAD_TAIL as usize);
    assert_eq!(logs.pods[0].lines.first().map(String::as_str), Some("a3"));
    let text = logs.text();
    assert!(text.starts_with("[pod/web-h2-a/main] a3\n"), "{text}");
    assert!(text.ends_with("[pod/web-h2-b/main] b1\n"), "{text}");

    // Only one Pod has a previous instance: the other reports why it has no log.
    fake.push_previous_log("shop", "web-h2-b", "main", "panic: boom");
    let previous = super::logs(
        &fake,
        Deployment,
        "shop",
        "web",
        &opts(|o| o.previous = true),
    )
    .await
    .expect("previous logs");
    assert!(previous.pods[0].error.is_some());
    assert_eq!(previous.pods[1].lines, ["panic: boom"]);
    assert_eq!(previous.text(), "[pod/web-h2-b/main] panic: boom\n");
}

#[tokio::test]
async fn following_a_workload_merges_its_pods_lines() {
    let fake = shop();
    let mut lines = follow_logs(&fake, Deployment, "shop", "web", &LogOptions::default())
        .await
        .expect("follow");
    fake.push_log("shop", "web-h2-a", "main", "from a");
    fake.push_log("shop", "web-h2-b", "main", "from b");
    let mut got = Vec::new();
    for _ in 0..2 {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next())
            .await
            .expect("a line arrives")
            .expect("stream open")
            .expect("line");
        got.push(line);
    }
    got.sort();
    assert_eq!(
        got,
        ["[pod/web-h2-a/main] from a", "[pod/web-h2-b/main] from b"]
    );
}
