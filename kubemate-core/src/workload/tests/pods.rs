//! The pods of a workload and its events.

use super::*;

#[tokio::test]
async fn the_pods_of_a_deployment_are_those_of_its_replicasets() {
    let fake = shop();
    let pods = pods(&fake, Deployment, "shop", "web").await.expect("pods");
    let rows: Vec<_> = pods
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.status.as_str(),
                p.ready(),
                p.restarts,
                p.node.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("web-h2-a", "Running", "1/1".to_owned(), 0, Some("node-1")),
            (
                "web-h2-b",
                "CrashLoopBackOff",
                "1/2".to_owned(),
                6,
                Some("node-2")
            ),
        ]
    );
    assert_eq!(pods[1].containers, ["main", "proxy"]);
    assert!(pods[0].age.is_some());

    let db = super::pods(&fake, StatefulSet, "shop", "db")
        .await
        .expect("db pods");
    assert_eq!(db.len(), 1);
    assert_eq!(db[0].status, "Pending");
    let rs = super::pods(&fake, ReplicaSet, "shop", "stray")
        .await
        .expect("rs pods");
    assert_eq!(
        rs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["stray-a"]
    );
}

#[tokio::test]
async fn workload_events_include_its_replicasets_and_pods_in_one_request() {
    let fake = shop();
    let events = events(&fake, Deployment, "shop", "web")
        .await
        .expect("events");
    let reasons: Vec<_> = events
        .iter()
        .map(|e| (e.involved.kind.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("Pod", "Scheduled"),
            ("ReplicaSet", "SuccessfulCreate"),
            ("Deployment", "ScalingReplicaSet"),
        ]
    );
    let event_lists = fake
        .actions()
        .into_iter()
        .filter(|a| a.resource == "events")
        .count();
    assert_eq!(event_lists, 1);
}
