#!/usr/bin/env bash
# Runs every test of the workspace: the unit tests, and the integration tests against a real
# Kubernetes control plane (built from source and started on 127.0.0.1 by tests/cluster/cluster.sh,
# stopped again on exit, also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."

# Compile first: a build error should not cost a cluster start.
cargo test --workspace --all-features --locked --no-run

cleanup() { bash tests/cluster/cluster.sh down || true; }
trap cleanup EXIT
bash tests/cluster/cluster.sh up

export KUBEMATE_TEST_KUBECONFIG="$PWD/target/test-cluster/kubeconfig"
cargo test --workspace --all-features --locked
