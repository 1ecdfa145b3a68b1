use serde_json::json;

use super::*;
use crate::{FakeCluster, catalog, conformance::object};

const SEED: &str = include_str!("fixtures/shop.yaml");

fn rt(name: &str) -> ResourceType {
    catalog::find(name).expect("catalogued").resource_type()
}

#[tokio::test]
async fn summaries_read_like_kubectl_tables() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    let pods = list_summaries(&fake, &rt("pods"), "shop", &ListOptions::default())
        .await
        .expect("pods");
    assert_eq!(pods.items[0].status, "CrashLoopBackOff");
    assert_eq!(pods.items[0].ready.as_deref(), Some("1/2"));
    assert_eq!(
        pods.items[0].created.as_deref(),
        Some("2026-11-28T10:00:00Z")
    );
    let deploys = list_summaries(&fake, &rt("deploy"), "", &ListOptions::default())
        .await
        .expect("deployments");
    assert_eq!(
        (
            deploys.items[0].status.as_str(),
            deploys.items[0].ready.as_deref()
        ),
        ("Progressing", Some("2/3"))
    );
    let cms = list_summaries(&fake, &rt("cm"), "shop", &ListOptions::default())
        .await
        .expect("configmaps");
    assert_eq!(cms.items[0].status, "2 keys");
    let nodes = list_summaries(&fake, &rt("nodes"), "", &ListOptions::default())
        .await
        .expect("nodes");
    assert_eq!(nodes.items[0].status, "Ready,SchedulingDisabled");
    assert_eq!(nodes.items[0].namespace, None);
}

#[tokio::test]
async fn updates_need_the_read_resource_version_and_stale_ones_conflict() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    let cm = rt("configmaps");
    let read = fake.get(&cm, "shop", "cfg").await.expect("read");
    let mut blind = read.clone();
    blind.metadata.resource_version = None;
    let err = update(&fake, &cm, "shop", &blind, &WriteOptions::default())
        .await
        .expect_err("no rv");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(
        fake.actions()
            .iter()
            .all(|a| a.verb != crate::fake::Verb::Replace),
        "nothing was sent"
    );

    let mut mine = read.clone();
    mine.data["data"] = json!({"a": "mine"});
    update(&fake, &cm, "shop", &mine, &WriteOptions::default())
        .await
        .expect("first writer wins");
    let mut theirs = read.clone();
    theirs.data["data"] = json!({"a": "theirs"});
    let err = update(&fake, &cm, "shop", &theirs, &WriteOptions::default())
        .await
        .expect_err("second writer conflicts");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let now = fake.get(&cm, "shop", "cfg").await.expect("get");
    assert_eq!(now.data["data"], json!({"a": "mine"}));
}

#[tokio::test]
async fn create_refuses_an_object_of_another_kind_and_delete_cascades() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    let wrong = object(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}));
    let err = create(&fake, &rt("cm"), "shop", &wrong, &WriteOptions::default())
        .await
        .expect_err("kind mismatch");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    let outcome = delete(&fake, &rt("deploy"), "shop", "web", false)
        .await
        .expect("delete");
    assert_eq!(outcome, DeleteOutcome::Deleted);
    let err = delete(&fake, &rt("deploy"), "shop", "web", false)
        .await
        .expect_err("already gone");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
