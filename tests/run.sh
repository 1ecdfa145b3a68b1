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
log=$(mktemp)
set +e
cargo test --workspace --all-features --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

cleanup
trap - EXIT
# One closing line for the whole run: cargo ends on the last crate's (often empty) doc-tests.
awk '/^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit "$status"
