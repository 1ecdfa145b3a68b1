#!/usr/bin/env bash
# Real Kubernetes control plane for Kubemate's integration tests.
#
#   tests/cluster/cluster.sh up       build what is missing, start everything, wait until usable
#   tests/cluster/cluster.sh down     stop every process started by `up`, remove target/test-cluster/
#   tests/cluster/cluster.sh status   report each component; exit 1 unless all are running
#   tests/cluster/cluster.sh build    only build the binaries into the cache
#   tests/cluster/cluster.sh env      print shell exports (KUBECONFIG, PATH to the built kubectl)
#   tests/cluster/cluster.sh regen-gomod VERSION   rewrite gomod/kubernetes for another k8s version
#
# See README.md beside this file for versions, ports, env overrides and timings.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)

# ---------------------------------------------------------------- settings
CACHE_ROOT=${KUBEMATE_CACHE_DIR:-$HOME/.cache/kubemate}
RUN_DIR=${KUBEMATE_CLUSTER_DIR:-$REPO_ROOT/target/test-cluster}
BIND=127.0.0.1
# Ports stay below Linux's ephemeral range (32768-60999): a port in that range can be taken at
# any moment as the local end of an outgoing loopback connection, and the listen then fails.
ETCD_CLIENT_PORT=${KUBEMATE_ETCD_PORT:-22379}
ETCD_PEER_PORT=${KUBEMATE_ETCD_PEER_PORT:-22380}
APISERVER_PORT=${KUBEMATE_APISERVER_PORT:-26443}
KCM_PORT=${KUBEMATE_CONTROLLER_MANAGER_PORT:-26257}
SCHEDULER_PORT=${KUBEMATE_SCHEDULER_PORT:-26259}
KWOK_PORT=${KUBEMATE_KWOK_PORT:-26250}
NODE_COUNT=${KUBEMATE_NODE_COUNT:-3}
SERVICE_CIDR=${KUBEMATE_SERVICE_CIDR:-10.96.0.0/16}
# Fake pod IPs handed out by kwok. They cannot be loopback (EndpointSlices reject 127/8), so
# nothing must ever dial them: manifests/no-proxy-to-fake-ips.yaml blocks the apiserver's
# pods/proxy and services/proxy, the only control-plane paths that would.
POD_CIDR=${KUBEMATE_POD_CIDR:-10.244.0.0/16}
KWOK_VERSION=${KUBEMATE_KWOK_VERSION:-v0.8.0}
GATEWAY_API_VERSION=${KUBEMATE_GATEWAY_API_VERSION:-v1.6.1}
TRAEFIK_VERSION=${KUBEMATE_TRAEFIK_VERSION:-v3.7.13}
BUILD_JOBS=${KUBEMATE_BUILD_JOBS:-2}
ADMIN_TOKEN_NAME='admin'

K8S_MOD_DIR=$HERE/gomod/kubernetes
ETCD_MOD_DIR=$HERE/gomod/etcd

log() { printf '[cluster %s] %s\n' "$(date +%T)" "$*" >&2; }
UP_FAILED_HINT=
die() {
  printf '[cluster] ERROR: %s\n' "$*" >&2
  [[ -z $UP_FAILED_HINT ]] || printf '[cluster] %s\n' "$UP_FAILED_HINT" >&2
  exit 1
}

find_go() {
  if [[ -n ${GO:-} ]]; then echo "$GO"; return; fi
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  if [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; return; fi
  die "no Go toolchain found (need Go >= 1.26); set GO=/path/to/go"
}

# Version of a required module as recorded in a wrapper go.mod.
mod_version() { # file module
  awk -v m="$2" '$1==m && $2 ~ /^v/ {print $2; exit}' "$1"
}

short_hash() { cat "$@" | sha256sum | cut -c1-12; }

K8S_VERSION=$(mod_version "$K8S_MOD_DIR/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(mod_version "$ETCD_MOD_DIR/go.mod" go.etcd.io/etcd/server/v3)
K8S_BIN=$CACHE_ROOT/kubernetes/$K8S_VERSION-$(short_hash "$K8S_MOD_DIR/go.mod" "$K8S_MOD_DIR/go.sum")
ETCD_BIN=$CACHE_ROOT/etcd/$ETCD_VERSION-$(short_hash "$ETCD_MOD_DIR/go.mod" "$ETCD_MOD_DIR/go.sum")
KWOK_DIR=$CACHE_ROOT/kwok/$KWOK_VERSION
CRD_DIR=$CACHE_ROOT/crds
GW_CRDS=$CRD_DIR/gateway-api-$GATEWAY_API_VERSION
TRAEFIK_CRDS=$CRD_DIR/traefik-$TRAEFIK_VERSION

KUBECTL=$K8S_BIN/kubectl
KUBECONFIG_FILE=$RUN_DIR/kubeconfig

# ---------------------------------------------------------------- build
go_env() { # run the go command with the build environment
  local go; go=$(find_go)
  CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-p=$BUILD_JOBS -buildvcs=false -mod=readonly" "$go" "$@"
}

build_kubernetes() {
  [[ -f $K8S_BIN/.complete ]] && return 0
  log "building Kubernetes $K8S_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl) into $K8S_BIN"
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local x=k8s.io/component-base/version y=k8s.io/client-go/pkg/version date
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ldf="-s -w"
  for p in $x $y; do
    ldf+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldf+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  local tmp=$K8S_BIN.tmp.$$
  rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$K8S_MOD_DIR" && go_env build -trimpath -ldflags "$ldf" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
  touch "$tmp/.complete"
  rm -rf "$K8S_BIN"; mkdir -p "$(dirname "$K8S_BIN")"; mv "$tmp" "$K8S_BIN"
}

build_etcd() {
  [[ -f $ETCD_BIN/.complete ]] && return 0
  log "building etcd $ETCD_VERSION into $ETCD_BIN"
  local tmp=$ETCD_BIN.tmp.$$
  rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$ETCD_MOD_DIR" && go_env build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
  touch "$tmp/.complete"
  rm -rf "$ETCD_BIN"; mkdir -p "$(dirname "$ETCD_BIN")"; mv "$tmp" "$ETCD_BIN"
}

KWOK_STAGES=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml
             volume/fast/pvc-provision.yaml volume/fast/pv-bind.yaml volume/fast/pv-delete.yaml
             volume/fast/pvc-delete.yaml)

build_kwok() {
  local s missing=0
  for s in "${KWOK_STAGES[@]}"; do [[ -f $KWOK_DIR/stages/${s##*/} ]] || missing=1; done
  [[ -f $KWOK_DIR/storage-class.yaml ]] || missing=1
  [[ -x $KWOK_DIR/bin/kwok && $missing == 0 ]] && return 0
  mkdir -p "$KWOK_DIR/stages"
  if [[ ! -x $KWOK_DIR/bin/kwok ]]; then
    log "building kwok $KWOK_VERSION into $KWOK_DIR"
    local tmp=$KWOK_DIR/bin.tmp.$$
    rm -rf "$tmp"; mkdir -p "$tmp"
    (cd "$tmp" && GOBIN="$tmp" go_env install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
    rm -rf "${KWOK_DIR:?}/bin"; mv "$tmp" "$KWOK_DIR/bin"
  fi
  # Stage configs (fake node/pod/volume life cycles) ship in the kwok module.
  local moddir
  moddir=$(cd "$HERE" && go_env mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d $moddir/kustomize/stage ]] || die "kwok stage configs not found in $moddir"
  for s in "${KWOK_STAGES[@]}"; do
    install -m 0644 "$moddir/kustomize/stage/$s" "$KWOK_DIR/stages/${s##*/}"
  done
  # The default StorageClass whose PVCs the volume stages provision and bind.
  install -m 0644 "$moddir/kustomize/stage/volume/fast/storage-class.yaml" "$KWOK_DIR/storage-class.yaml"
}

fetch_crds() {
  local moddir
  if [[ ! -f $GW_CRDS/.complete ]]; then
    log "fetching Gateway API $GATEWAY_API_VERSION CRDs"
    moddir=$(cd "$HERE" && go_env mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [[ -d $moddir/config/crd/standard ]] || die "gateway-api CRDs not found in $moddir"
    rm -rf "$GW_CRDS"; mkdir -p "$GW_CRDS"
    cp "$moddir"/config/crd/standard/*.yaml "$GW_CRDS/"
    chmod -R u+w "$GW_CRDS"; touch "$GW_CRDS/.complete"
  fi
  if [[ ! -f $TRAEFIK_CRDS/.complete ]]; then
    log "fetching Traefik $TRAEFIK_VERSION CRDs"
    rm -rf "$TRAEFIK_CRDS"; mkdir -p "$TRAEFIK_CRDS"
    if moddir=$(cd "$HERE" && go_env mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') \
       && [[ -f $moddir/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml ]]; then
      cp "$moddir/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" "$TRAEFIK_CRDS/traefik-crds.yaml"
    else
      log "Traefik module unavailable; using the minimal CRDs in tests/cluster/crds/"
      cp "$HERE"/crds/traefik*.yaml "$TRAEFIK_CRDS/"
    fi
    chmod -R u+w "$TRAEFIK_CRDS"; touch "$TRAEFIK_CRDS/.complete"
  fi
}

build_all() {
  command -v openssl >/dev/null 2>&1 || die "openssl is required"
  build_etcd
  build_kubernetes
  build_kwok
  fetch_crds
}

regen_gomod() { # VERSION, e.g. v1.36.3: rewrite gomod/kubernetes from the module's own go.mod
  local v=${1:?usage: cluster.sh regen-gomod v1.X.Y} gomod minor
  v=v${v#v}; minor=${v#v1.}
  gomod=$(go_env mod download -json "k8s.io/kubernetes@$v" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [[ -f $gomod ]] || die "cannot download k8s.io/kubernetes@$v"
  local gover godebug
  gover=$(awk '$1=="go"{print $2; exit}' "$gomod")
  godebug=$(awk '$1=="godebug"{print $2; exit}' "$gomod")
  mkdir -p "$K8S_MOD_DIR"; rm -f "$K8S_MOD_DIR/go.mod" "$K8S_MOD_DIR/go.sum"
  { echo "module kubemate.invalid/testcluster"; echo; echo "go $gover";
    [[ -n $godebug ]] && { echo; echo "godebug $godebug"; }; } > "$K8S_MOD_DIR/go.mod"
  local p
  for p in $(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => \./staging/.*#\1#p' "$gomod"); do
    (cd "$K8S_MOD_DIR" && go_env mod edit "-replace=$p=$p@v0.$minor")
  done
  (cd "$K8S_MOD_DIR" && GOFLAGS='' "$(find_go)" get -tool \
     "k8s.io/kubernetes/cmd/kube-apiserver@$v" "k8s.io/kubernetes/cmd/kube-controller-manager@$v" \
     "k8s.io/kubernetes/cmd/kube-scheduler@$v" "k8s.io/kubernetes/cmd/kubectl@$v" \
     && GOFLAGS='' "$(find_go)" mod tidy)
  log "gomod/kubernetes now pins k8s.io/kubernetes $v"
}

# ---------------------------------------------------------------- process helpers
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

pid_file() { echo "$RUN_DIR/pids/$1.pid"; }

component_ports() {
  case $1 in
    etcd) echo "$ETCD_CLIENT_PORT $ETCD_PEER_PORT" ;;
    kube-apiserver) echo "$APISERVER_PORT" ;;
    kube-controller-manager) echo "$KCM_PORT" ;;
    kube-scheduler) echo "$SCHEDULER_PORT" ;;
    kwok) echo "$KWOK_PORT" ;;
  esac
}

alive() { # pid: exists and is not a zombie
  kill -0 "$1" 2>/dev/null || return 1
  local state; state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)
  [[ $state != Z ]]
}

is_running() { # component
  local f; f=$(pid_file "$1")
  [[ -f $f ]] || return 1
  local pid; pid=$(cat "$f")
  [[ -n $pid ]] && alive "$pid" || return 1
  # Guard against a stale pid file whose pid now belongs to another program. Right after the
  # start the pid may still be `setsid`, about to exec the component (a race a loaded machine
  # loses): that is the component too.
  local exe; exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  [[ -z $exe || ${exe##*/} == "$1" || ${exe##*/} == "$1 (deleted)" || ${exe##*/} == setsid ]]
}

start_component() { # name binary args...
  local name=$1; shift
  if is_running "$name"; then return 0; fi
  mkdir -p "$RUN_DIR/logs" "$RUN_DIR/pids"
  log "starting $name"
  # setsid: own session, so the processes survive the shell that ran `up`.
  # 9>&-: do not inherit the lock taken by with_lock.
  setsid "$@" >>"$RUN_DIR/logs/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$(pid_file "$name")"
}

stop_component() { # name
  local f pid i
  f=$(pid_file "$1")
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if is_running "$1"; then
    log "stopping $1 (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do alive "$pid" || break; sleep 0.2; done
    if alive "$pid"; then
      log "$1 did not stop on TERM; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 1 25); do alive "$pid" || break; sleep 0.2; done
    fi
  fi
  rm -f "$f"
}

check_component_alive() { # name: fail early with the log tail if it died
  if ! is_running "$1"; then
    log "$1 exited; last lines of $RUN_DIR/logs/$1.log:"
    tail -n 30 "$RUN_DIR/logs/$1.log" >&2 || true
    die "$1 failed to start"
  fi
}

wait_for() { # description timeout-seconds component command...
  local what=$1 timeout=$2 comp=$3; shift 3
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    [[ -n $comp ]] && check_component_alive "$comp"
    if (( SECONDS - start > timeout )); then die "timed out after ${timeout}s waiting for $what"; fi
    sleep 0.5
  done
}

port_in_use() { # port
  (exec 3<>"/dev/tcp/$BIND/$1") 2>/dev/null
}

kctl() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# ---------------------------------------------------------------- certificates and config
prepare_pki() {
  local pki=$RUN_DIR/pki
  mkdir -p "$pki"
  if [[ ! -f $pki/sa.key ]]; then
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  fi
  if [[ ! -f $RUN_DIR/tokens.csv ]]; then
    local token; token=$(openssl rand -hex 24)
    # token,user,uid,"group1,group2"
    printf '%s,%s,%s,"system:masters"\n' "$token" "$ADMIN_TOKEN_NAME" "$ADMIN_TOKEN_NAME" >"$RUN_DIR/tokens.csv"
    chmod 600 "$RUN_DIR/tokens.csv"
  fi
  # CA + client certificate that the apiserver presents to kwok's "kubelet" endpoint,
  # and a serving certificate for that endpoint.
  if [[ ! -f $pki/ca.crt ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kubemate-test-ca" \
      -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" \
      -keyout "$pki/kubelet-client.key" -out "$pki/kubelet-client.csr" 2>/dev/null
    openssl x509 -req -in "$pki/kubelet-client.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
      -CAcreateserial -days 3650 -out "$pki/kubelet-client.crt" \
      -extfile <(printf 'extendedKeyUsage=clientAuth\n') 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kwok-kubelet" \
      -keyout "$pki/kwok.key" -out "$pki/kwok.csr" 2>/dev/null
    openssl x509 -req -in "$pki/kwok.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
      -CAcreateserial -days 3650 -out "$pki/kwok.crt" \
      -extfile <(printf 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n') 2>/dev/null
  fi
}

write_kubeconfig() {
  local token; token=$(cut -d, -f1 "$RUN_DIR/tokens.csv")
  local ca_data; ca_data=$(base64 -w0 <"$RUN_DIR/pki/apiserver.crt")
  local tmp=$KUBECONFIG_FILE.tmp
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubemate-test
  cluster:
    server: https://$BIND:$APISERVER_PORT
    certificate-authority-data: $ca_data
users:
- name: admin
  user:
    token: $token
contexts:
- name: kubemate-test
  context:
    cluster: kubemate-test
    user: admin
current-context: kubemate-test
EOF
  chmod 600 "$tmp"; mv "$tmp" "$KUBECONFIG_FILE"
}

write_kwok_config() {
  local d=$RUN_DIR/kwok
  mkdir -p "$d/exec"
  chmod 0777 "$d/exec"
  # Known container log lines, served by kwok for `kubectl logs`.
  cat >"$d/container.log" <<'EOF'
2026-01-01T00:00:00.000000000Z stdout F kubemate-test-log line 1: container started
2026-01-01T00:00:01.000000000Z stdout F kubemate-test-log line 2: listening on :8080
2026-01-01T00:00:02.000000000Z stderr F kubemate-test-log line 3: warning: this is a fake container
EOF
  cat >"$d/previous.log" <<'EOF'
2025-12-31T23:59:58.000000000Z stdout F kubemate-test-log previous line 1: starting
2025-12-31T23:59:59.000000000Z stderr F kubemate-test-log previous line 2: crashed (exit 1)
EOF
  cat >"$d/logs.yaml" <<EOF
kind: ClusterLogs
apiVersion: kwok.x-k8s.io/v1alpha1
metadata:
  name: all-pods
spec:
  selector: {}
  logs:
  - containers: []
    logsFile: $d/container.log
    previousLogsFile: $d/previous.log
    follow: false
---
kind: ClusterExec
apiVersion: kwok.x-k8s.io/v1alpha1
metadata:
  name: all-pods
spec:
  selector: {}
  execs:
  - containers: []
    local:
      workDir: $d/exec
      envs:
      - name: KUBEMATE_FAKE_CONTAINER
        value: "true"
      securityContext:
        runAsUser: 65534
        runAsGroup: 65534
EOF
}

node_manifest() { # index
  local name=kwok-node-$1
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: $name
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
    topology.kubernetes.io/zone: zone-$(( $1 % 3 ))
spec: {}
status:
  capacity:
    cpu: "8"
    memory: 32Gi
    ephemeral-storage: 100Gi
    pods: "110"
  allocatable:
    cpu: "8"
    memory: 32Gi
    ephemeral-storage: 100Gi
    pods: "110"
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    osImage: kwok fake node
    kubeletVersion: $K8S_VERSION
    kubeProxyVersion: $K8S_VERSION
    containerRuntimeVersion: kwok://$KWOK_VERSION
    kernelVersion: kwok-$KWOK_VERSION
EOF
}

# ---------------------------------------------------------------- up / down / status
all_running() {
  local c
  for c in "${COMPONENTS[@]}"; do is_running "$c" || return 1; done
}

readyz_ok() {
  [[ "$(kctl get --raw /readyz 2>/dev/null)" == ok ]]
}

cmd_up() {
  if all_running && readyz_ok; then
    log "already up"
    cmd_status
    return 0
  fi
  local t0=$SECONDS c any=0
  build_all
  # Nothing of ours is running: start from a clean state rather than reuse stale data.
  for c in "${COMPONENTS[@]}"; do is_running "$c" && any=1; done
  if (( any == 0 )) && [[ -d $RUN_DIR ]]; then
    log "removing stale $RUN_DIR from an earlier run"
    rm -rf "$RUN_DIR"
  fi
  UP_FAILED_HINT="logs are in $RUN_DIR/logs; run '$0 down' to stop what was started"
  local tb=$SECONDS
  mkdir -p "$RUN_DIR"/{logs,pids,etcd}

  # Refuse to start on a port held by another program (ours are tracked by pid files).
  local p
  for c in "${COMPONENTS[@]}"; do
    is_running "$c" && continue
    for p in $(component_ports "$c"); do
      port_in_use "$p" && die "$c: port $BIND:$p is already in use by another program (override with KUBEMATE_*_PORT)"
    done
  done

  prepare_pki
  write_kwok_config

  start_component etcd "$ETCD_BIN/etcd" \
    --name=kubemate-test \
    --data-dir="$RUN_DIR/etcd" \
    --listen-client-urls="http://$BIND:$ETCD_CLIENT_PORT" \
    --advertise-client-urls="http://$BIND:$ETCD_CLIENT_PORT" \
    --listen-peer-urls="http://$BIND:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://$BIND:$ETCD_PEER_PORT" \
    --initial-cluster="kubemate-test=http://$BIND:$ETCD_PEER_PORT" \
    --unsafe-no-fsync=true \
    --quota-backend-bytes=2147483648 \
    --log-level=warn
  wait_for "etcd health" 60 etcd etcd_healthy

  start_component kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers="http://$BIND:$ETCD_CLIENT_PORT" \
    --bind-address=$BIND \
    --advertise-address=$BIND \
    --secure-port="$APISERVER_PORT" \
    --cert-dir="$RUN_DIR/pki" \
    --token-auth-file="$RUN_DIR/tokens.csv" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer="https://kubernetes.default.svc.cluster.local" \
    --service-account-key-file="$RUN_DIR/pki/sa.pub" \
    --service-account-signing-key-file="$RUN_DIR/pki/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-node-port-range=30000-32767 \
    --allow-privileged=true \
    --kubelet-preferred-address-types=InternalIP \
    --kubelet-client-certificate="$RUN_DIR/pki/kubelet-client.crt" \
    --kubelet-client-key="$RUN_DIR/pki/kubelet-client.key" \
    --kubelet-certificate-authority="$RUN_DIR/pki/ca.crt" \
    --endpoint-reconciler-type=none \
    --profiling=false \
    --v=1
  # The self-signed serving cert appears in --cert-dir shortly after start.
  wait_for "apiserver serving certificate" 60 kube-apiserver test -s "$RUN_DIR/pki/apiserver.crt"
  write_kubeconfig
  wait_for "apiserver /readyz" 120 kube-apiserver readyz_ok
  kctl apply --server-side --field-manager=kubemate-test-cluster -f "$HERE/manifests/no-proxy-to-fake-ips.yaml" >/dev/null

  start_component kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$KUBECONFIG_FILE" \
    --authentication-kubeconfig="$KUBECONFIG_FILE" \
    --authorization-kubeconfig="$KUBECONFIG_FILE" \
    --bind-address=$BIND \
    --secure-port="$KCM_PORT" \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$RUN_DIR/pki/sa.key" \
    --root-ca-file="$RUN_DIR/pki/apiserver.crt" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --cluster-name=kubemate-test \
    --controllers='*' \
    --node-monitor-grace-period=60s \
    --profiling=false \
    --v=1

  start_component kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig="$KUBECONFIG_FILE" \
    --authentication-kubeconfig="$KUBECONFIG_FILE" \
    --authorization-kubeconfig="$KUBECONFIG_FILE" \
    --bind-address=$BIND \
    --secure-port="$SCHEDULER_PORT" \
    --leader-elect=false \
    --profiling=false \
    --v=1

  local stage_args=() f
  for f in "$KWOK_DIR"/stages/*.yaml; do stage_args+=("--config=$f"); done
  start_component kwok "$KWOK_DIR/bin/kwok" \
    --kubeconfig="$KUBECONFIG_FILE" \
    "${stage_args[@]}" \
    --config="$RUN_DIR/kwok/logs.yaml" \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip=$BIND \
    --node-port="$KWOK_PORT" \
    --server-address="$BIND:$KWOK_PORT" \
    --tls-cert-file="$RUN_DIR/pki/kwok.crt" \
    --tls-private-key-file="$RUN_DIR/pki/kwok.key" \
    --cidr="$POD_CIDR" \
    --node-lease-duration-seconds=40

  local i
  for (( i = 0; i < NODE_COUNT; i++ )); do
    node_manifest "$i" | kctl apply --server-side --field-manager=kubemate-test-cluster -f - >/dev/null
  done

  kctl apply --server-side --field-manager=kubemate-test-cluster -f "$KWOK_DIR/storage-class.yaml" >/dev/null
  apply_crds

  wait_for "default ServiceAccount" 60 kube-controller-manager kctl -n default get serviceaccount default
  wait_for "$NODE_COUNT Ready nodes" 90 kwok nodes_ready
  wait_for "CRDs Established" 90 "" kctl wait --for=condition=Established --timeout=5s crd --all
  for c in "${COMPONENTS[@]}"; do check_component_alive "$c"; done

  log "up in $(( SECONDS - t0 ))s (build/check $(( tb - t0 ))s, start $(( SECONDS - tb ))s)"
  log "KUBECONFIG=$KUBECONFIG_FILE"
  cmd_status
}

etcd_healthy() {
  if command -v curl >/dev/null 2>&1; then
    curl -sf "http://$BIND:$ETCD_CLIENT_PORT/health" | grep -q '"health":"true"'
  else
    port_in_use "$ETCD_CLIENT_PORT"
  fi
}

nodes_ready() {
  local n
  n=$(kctl get nodes -l type=kwok \
       -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$' || true)
  (( n >= NODE_COUNT ))
}

apply_crds() {
  log "installing Gateway API $GATEWAY_API_VERSION (standard) and Traefik $TRAEFIK_VERSION CRDs"
  local f
  for f in "$GW_CRDS"/*.yaml "$TRAEFIK_CRDS"/*.yaml; do
    kctl apply --server-side --force-conflicts --field-manager=kubemate-test-cluster -f "$f" >/dev/null
  done
}

cmd_down() {
  local i
  for (( i = ${#COMPONENTS[@]} - 1; i >= 0; i-- )); do stop_component "${COMPONENTS[$i]}"; done
  if [[ -d $RUN_DIR ]]; then
    log "removing $RUN_DIR"
    rm -rf "$RUN_DIR"
  fi
}

cmd_status() {
  local c ok=0 pid
  for c in "${COMPONENTS[@]}"; do
    if is_running "$c"; then
      pid=$(cat "$(pid_file "$c")")
      printf '%-24s running (pid %s)\n' "$c" "$pid"
    else
      printf '%-24s not running\n' "$c"; ok=1
    fi
  done
  if (( ok == 0 )); then
    if readyz_ok; then
      printf '%-24s ok (https://%s:%s)\n' "apiserver /readyz" "$BIND" "$APISERVER_PORT"
      printf '%-24s %s\n' "ready nodes" \
        "$(kctl get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}')"
    else
      printf '%-24s NOT ready\n' "apiserver /readyz"; ok=1
    fi
    printf '%-24s %s\n' kubeconfig "$KUBECONFIG_FILE"
  fi
  return $ok
}

cmd_env() {
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_FILE"
  printf 'export PATH=%q:"$PATH"\n' "$K8S_BIN"
}

# One `up`/`down` at a time per cluster directory.
with_lock() {
  if command -v flock >/dev/null 2>&1; then
    mkdir -p "$(dirname "$RUN_DIR")"
    exec 9>"$RUN_DIR.lock"
    flock 9
  fi
  "$@"
}

case ${1:-} in
  up) with_lock cmd_up ;;
  down) with_lock cmd_down ;;
  build) with_lock build_all ;;
  status) cmd_status ;;
  env) cmd_env ;;
  regen-gomod) shift; regen_gomod "$@" ;;
  *) echo "usage: $0 up|down|status|build|env|regen-gomod VERSION" >&2; exit 2 ;;
esac
