#!/usr/bin/env bash
# Fuzzes the API against its own OpenAPI description with schemathesis (every check, see
# schemathesis.toml for the two exceptions), on the
# in-memory demo cluster, authenticated as the demo's administrator. Any failure fails the run.
#
# schemathesis is pinned and installed into a virtual environment of its own, kept outside the
# repository and reused by later runs (KUBEMATE_CACHE_DIR, default ~/.cache/kubemate).
#
# Bounded for CI: at most SCHEMATHESIS_MAX_EXAMPLES cases per operation and phase, and at most
# SCHEMATHESIS_MAX_TIME seconds in all.
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
cache=${KUBEMATE_CACHE_DIR:-$HOME/.cache/kubemate}
venv="$cache/venv-schemathesis-$version"
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-25}
max_time=${SCHEMATHESIS_MAX_TIME:-240}

if [[ ! -x "$venv/bin/st" ]]; then
    rm -rf "$venv"
    mkdir -p "$cache"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

cargo build --locked -p kubemate-server
target=${CARGO_TARGET_DIR:-target}
server="$target/debug/kubemate-server"

work=$(mktemp -d)
pid=
cleanup() {
    if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# A free port: bind port 0, read what the kernel picked.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

# The demo, on purpose, with nothing of the caller's environment: no kubeconfig, state and
# audit log in the scratch directory. Its stdout carries the one-time admin password, so it
# goes to a file that is never shown.
env -i PATH="$PATH" HOME="$work" XDG_STATE_HOME="$work/state" RUST_LOG=warn \
    "$server" --demo --listen "127.0.0.1:$port" --audit-log "$work/audit.jsonl" \
    --log-format text >"$work/stdout" 2>"$work/stderr" &
pid=$!

for _ in $(seq 1 100); do
    if curl -fsS "$base/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "schemathesis: the demo server did not start:" >&2
        cat "$work/stderr" >&2
        exit 1
    fi
    sleep 0.2
done

password=$(awk '/^  password: / { print $2; exit }' "$work/stdout")
if [[ -z "$password" ]]; then
    echo "schemathesis: the demo server printed no admin password" >&2
    exit 1
fi
# Built in Python so the password never appears on a command line.
token=$(BASE="$base" PASSWORD="$password" python3 -c '
import json, os, urllib.request
req = urllib.request.Request(os.environ["BASE"] + "/api/v1/auth/login",
    data=json.dumps({"account": "admin", "password": os.environ["PASSWORD"]}).encode(),
    headers={"content-type": "application/json"})
print(json.load(urllib.request.urlopen(req))["token"])')
unset password

# The description is itself behind authentication.
curl -fsS -H "authorization: Bearer $token" "$base/api/v1/openapi.json" >"$work/openapi.json"

set +e
# One worker: with several, Hypothesis' introspection of its own lambdas fails now and then
# under Python threads ("AST constructor recursion depth mismatch"), an error of the tool
# rather than of the API. From the scratch directory: schemathesis keeps a cache of its findings in the working
# directory, which has no place in the repository.
config="$PWD/tests/schemathesis.toml"
(cd "$work" && "$venv/bin/st" --config-file "$config" run "$work/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --max-examples "$max_examples" \
    --max-time "$max_time" \
    --seed 1 \
    --workers 1 \
    --no-color \
    --output-sanitize true)
status=$?
set -e
if [[ $status -ne 0 ]] && grep -q "panicked" "$work/stderr"; then
    echo "schemathesis: server log:" >&2
    grep -v -i "password" "$work/stderr" | tail -50 >&2
fi
exit "$status"
