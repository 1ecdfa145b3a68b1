use std::sync::Arc;

use super::*;
use crate::ClusterClient;

async fn empty() -> Arc<dyn ClusterClient> {
    Arc::new(FakeCluster::new())
}

mod conformance {
    crate::conformance_tests!(super::empty);
}
