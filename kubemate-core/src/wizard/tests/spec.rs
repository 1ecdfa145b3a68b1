//! The spec's wire format.

use super::*;

#[test]
fn specs_round_trip_through_json_in_camel_case() {
    let spec = full();
    let value = serde_json::to_value(&spec).expect("serialize");
    assert_eq!(value["rollingUpdate"]["maxSurge"], "25%");
    assert_eq!(value["service"]["type"], "NodePort");
    assert_eq!(value["volumes"][4]["hostPath"]["type"], "Directory");
    let back: AppSpec = serde_json::from_value(value).expect("deserialize");
    assert_eq!(back, spec);
}
