//! The ClusterClient conformance suite, run against the real apiserver: the same checks the
//! fake passes in kubemate-core's unit tests.

kubemate_core::conformance_tests!(kubemate_tests::cluster);
