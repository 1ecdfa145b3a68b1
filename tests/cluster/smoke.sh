#!/usr/bin/env bash
# Smoke test of a running test cluster (start it first with `cluster.sh up`).
# Checks what the integration tests rely on; prints one line per check and a summary.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eval "$("$HERE/cluster.sh" env)"
NS=kubemate-smoke-$$
pass=0 fail=0

check() { # description command...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok   $what"; pass=$((pass + 1))
  else echo "FAIL $what"; fail=$((fail + 1)); fi
}

eventually() { # timeout-seconds command...: retry until it succeeds
  local t=$1 start=$SECONDS; shift
  until "$@"; do (( SECONDS - start < t )) || return 1; sleep 0.5; done
}

running_pods() { # expected count
  [[ $(kubectl -n "$NS" get pods -l app=web --field-selector=status.phase=Running --no-headers 2>/dev/null | wc -l) -eq $1 ]] &&
  [[ $(kubectl -n "$NS" get pods -l app=web --no-headers 2>/dev/null | wc -l) -eq $1 ]]
}

cleanup() { kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT

check "server version is $(kubectl version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1)" \
  eventually 5 kubectl get --raw /readyz
check "3 kwok nodes Ready" eventually 30 bash -c \
  '[[ $(kubectl get nodes -l type=kwok -o jsonpath="{.items[*].status.conditions[?(@.type==\"Ready\")].status}" | tr " " "\n" | grep -c True) -ge 3 ]]'
kubectl create namespace "$NS" >/dev/null
check "default ServiceAccount appears in a new namespace" eventually 30 kubectl -n "$NS" get sa default
kubectl -n "$NS" create deployment web --image=example.invalid/web:1 --replicas=3 >/dev/null
check "Deployment of 3 gets 3 Running Pods" eventually 60 running_pods 3
check "Pods are on kwok nodes" bash -c \
  "kubectl -n $NS get pods -l app=web -o jsonpath='{.items[*].spec.nodeName}' | grep -q kwok-node-"
kubectl -n "$NS" scale deployment web --replicas=5 >/dev/null
check "scale up to 5" eventually 60 running_pods 5
kubectl -n "$NS" scale deployment web --replicas=2 >/dev/null
check "scale down to 2" eventually 60 running_pods 2
kubectl -n "$NS" expose deployment web --port=80 >/dev/null
check "Service gets an EndpointSlice with 2 endpoints" eventually 30 bash -c \
  "[[ \$(kubectl -n $NS get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].addresses[0]}' | wc -w) -eq 2 ]]"
kubectl -n "$NS" run huge --image=example.invalid/huge --restart=Never \
  --overrides='{"spec":{"containers":[{"name":"huge","image":"example.invalid/huge","resources":{"requests":{"cpu":"64"}}}]}}' >/dev/null
check "unschedulable Pod gets a FailedScheduling Warning" eventually 30 bash -c \
  "kubectl -n $NS get events --field-selector involvedObject.name=huge,type=Warning,reason=FailedScheduling --no-headers | grep -q ."
POD=$(kubectl -n "$NS" get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
check "kubectl logs returns the known lines" bash -c \
  "kubectl -n $NS logs $POD | grep -q 'kubemate-test-log line 3'"
check "kubectl logs --previous" bash -c \
  "kubectl -n $NS logs $POD --previous | grep -q 'kubemate-test-log previous line 2'"
check "kubectl exec" bash -c "[[ \$(timeout 20 kubectl -n $NS exec $POD -- sh -c 'echo \$KUBEMATE_FAKE_CONTAINER') == true ]]"
kubectl -n "$NS" create serviceaccount nobody >/dev/null
check "unbound ServiceAccount is Forbidden (can-i)" bash -c \
  "[[ \$(kubectl auth can-i list pods -n $NS --as=system:serviceaccount:$NS:nobody 2>/dev/null) == no ]]"
check "unbound ServiceAccount token gets 403" bash -c \
  "kubectl --token=\$(kubectl -n $NS create token nobody) -n $NS get pods 2>&1 | grep -q Forbidden"
kubectl -n "$NS" create job once --image=example.invalid/job >/dev/null
check "Job completes" eventually 30 bash -c \
  "[[ \$(kubectl -n $NS get job once -o jsonpath='{.status.succeeded}') == 1 ]]"
kubectl -n "$NS" apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
EOF
check "PVC is Bound by the default StorageClass" eventually 30 bash -c \
  "[[ \$(kubectl -n $NS get pvc data -o jsonpath='{.status.phase}') == Bound ]]"
check "Gateway API and Traefik CRDs are Established" kubectl wait --for=condition=Established --timeout=10s \
  crd/httproutes.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io \
  crd/gatewayclasses.gateway.networking.k8s.io crd/ingressroutes.traefik.io crd/middlewares.traefik.io
check "pods/proxy is refused by the fake-IP guard" bash -c \
  "kubectl get --raw /api/v1/namespaces/$NS/pods/$POD/proxy/ 2>&1 | grep -q kubemate-test-no-proxy-to-fake-ips"
kubectl delete namespace "$NS" --wait=false >/dev/null
check "deleting the namespace removes it and its objects" eventually 90 bash -c \
  "! kubectl get namespace $NS >/dev/null 2>&1 && [[ -z \$(kubectl get pods,rs,deploy,pvc -A --no-headers 2>/dev/null | grep -w $NS) ]]"

echo "smoke: $pass passed, $fail failed"
(( fail == 0 ))
