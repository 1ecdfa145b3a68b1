#!/usr/bin/env bash
# Runs every test of the workspace: the unit tests, the integration tests against a real
# Kubernetes control plane (built from source and started on 127.0.0.1 by tests/cluster/cluster.sh,
# stopped again on exit, also on failure), then the API fuzzed against its OpenAPI description
# on the demo cluster (tests/schemathesis.sh).
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

# The API fuzzed against its own OpenAPI description, on the demo cluster (no control plane
# needed). Its report in full only when it failed; its closing line always.
fuzz_log=$(mktemp)
set +e
tests/schemathesis.sh >"$fuzz_log" 2>&1
fuzz_status=$?
set -e
if [[ $fuzz_status -ne 0 ]]; then cat "$fuzz_log"; fi
echo "schemathesis: $(grep -v '^\s*$' "$fuzz_log" | tail -n 1 | tr -d '=' | sed 's/^ *//; s/ *$//') (exit $fuzz_status)"
rm -f "$fuzz_log"

# One closing line for the whole run: cargo ends on the last crate's (often empty) doc-tests.
# A failed fuzz run counts as one more failure.
awk -v fuzz="$fuzz_status" '/^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { if (fuzz != 0) f += 1; printf "tests: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
if [[ $status -ne 0 ]]; then exit "$status"; fi
exit "$fuzz_status"
