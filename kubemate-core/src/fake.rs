//! fake
/// x
pub struct FakeCluster;
