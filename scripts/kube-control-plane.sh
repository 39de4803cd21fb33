#!/usr/bin/env bash
# A real Kubernetes control plane for the tests: etcd and kube-apiserver built
# from their Go modules (tests/kube/*/go.mod pin the releases), on loopback.
#
#   scripts/kube-control-plane.sh up DIR     build once, start, print DIR/kubeconfig
#   scripts/kube-control-plane.sh down DIR   stop both, remove what `up` made
#   scripts/kube-control-plane.sh build      build only (print the folder of the binaries)
#
# The binaries are cached outside the repository, keyed by the pinned versions
# and go.sum: ${PROMOTER_KUBE_CACHE:-~/.cache/promoter/kube}/<key>/. The first
# build takes many minutes (docs/agent.md has the numbers); later ones none.
#
# No kube-controller-manager and no scheduler run, as with controller-runtime's
# envtest: a test that needs a controller's effect (a Deployment's status, a
# Job's completion) writes it through the status subresource. Authentication
# is a static bearer token (cluster-admin, in system:masters); authorization
# is RBAC, so impersonated and service-account users get what their
# (Cluster)RoleBindings give them and no more.
#
# Quiet on success but for the kubeconfig's path; on failure one line
# "kube-control-plane: ERROR (hint: …)" on stderr and exit status 1.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
modules="$here/tests/kube"
cache_root=${PROMOTER_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promoter/kube}
ready_timeout=${PROMOTER_KUBE_READY_TIMEOUT:-90}

die() {
  echo "kube-control-plane: $1 (hint: $2)" >&2
  exit 1
}

# The release a wrapper module requires, e.g. v1.37.2.
pinned() { awk -v m="$2" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$modules/$1/go.mod"; }

k8s_version=$(pinned kube-apiserver k8s.io/kubernetes)
etcd_version=$(pinned etcd go.etcd.io/etcd/server/v3)
sums=$(cat "$modules/kube-apiserver/go.sum" "$modules/etcd/go.sum" | sha256sum | cut -c1-12)
bin="$cache_root/kube-$k8s_version-etcd-$etcd_version-$sums"

build() {
  [ -x "$bin/kube-apiserver" ] && [ -x "$bin/etcd" ] && return 0
  command -v go >/dev/null ||
    die "no Go toolchain on PATH" "install Go 1.26 or newer; without it the tests run on the fake API server only"
  mkdir -p "$cache_root"
  # One build at a time per cache; a second caller waits for the first.
  exec 9>"$cache_root/.lock"
  flock 9
  if [ ! -x "$bin/kube-apiserver" ] || [ ! -x "$bin/etcd" ]; then
    local work log minor
    work=$(mktemp -d "$cache_root/.build.XXXXXX")
    log="$cache_root/build.log"
    minor=${k8s_version#v1.}
    minor=${minor%%.*}
    # What `kubectl version` and /version report, as the release's own build stamps it.
    local stamp="k8s.io/component-base/version"
    local ldflags="-s -w -X $stamp.gitVersion=$k8s_version -X $stamp.gitMajor=1 -X $stamp.gitMinor=$minor"
    ldflags+=" -X $stamp.gitTreeState=clean -X $stamp.buildDate=1970-01-01T00:00:00Z"
    echo "kube-control-plane: building kube-apiserver $k8s_version and etcd $etcd_version (once; log: $log)" >&2
    if ! (
      set -e
      cd "$modules/kube-apiserver"
      # -buildvcs=false: the wrapper modules sit inside this git repository,
      # whose state is not the binaries' version.
      CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$work/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
      cd "$modules/etcd"
      CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$work/etcd" go.etcd.io/etcd/server/v3
    ) >"$log" 2>&1; then
      rm -rf "$work"
      die "the build failed: $(grep -m1 -iE 'error|cannot|go: ' "$log" || tail -n1 "$log")" "see $log; Go $(go env GOVERSION) must satisfy the go line of tests/kube/*/go.mod"
    fi
    rm -rf "$bin"
    mv "$work" "$bin"
  fi
  flock -u 9
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The line of a log that says why a process stopped.
last_error() {
  grep -E '^[EF][0-9]{4}|"level":"(error|fatal|panic)"' "$1" | tail -n1 | cut -c1-300 || true
}

# A start that failed: stop what runs, keep only the logs the message names.
failed() {
  stop "$1"
  rm -rf "$1/certs" "$1/etcd-data" "$1/kubeconfig"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Poll URL (with the bearer token, if any) until it answers 200 or the time is up.
wait_ok() {
  local url=$1 token=${2:-} pidfile=$3 deadline=$((SECONDS + ready_timeout))
  while [ $SECONDS -lt $deadline ]; do
    alive "$pidfile" || return 1
    if python3 - "$url" "$token" <<'PY' 2>/dev/null; then return 0; fi
import ssl, sys, urllib.request
url, token = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
ctx = ssl._create_unverified_context()  # readiness only; the kubeconfig pins the CA
sys.exit(0 if urllib.request.urlopen(req, timeout=2, context=ctx).status == 200 else 1)
PY
    sleep 0.3
  done
  return 1
}

up() {
  local dir=$1
  if [ -d "$dir" ] && alive "$dir/kube-apiserver.pid" && alive "$dir/etcd.pid" && [ -f "$dir/kubeconfig" ]; then
    echo "$(cd "$dir" && pwd)/kubeconfig"
    return 0
  fi
  build # before anything is made: a failed build leaves no folder behind
  if [ ! -d "$dir" ]; then mkdir -p "$dir" && : >"$dir/.made-by-up"; fi
  dir=$(cd "$dir" && pwd)
  stop "$dir" # a half-started or crashed plane: start afresh
  clean "$dir"
  mkdir -p "$dir/certs" "$dir/etcd-data"

  command -v openssl >/dev/null || die "openssl is missing" "apt-get install openssl"
  openssl genrsa -out "$dir/certs/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/certs/sa.key" -pubout -out "$dir/certs/sa.pub" 2>/dev/null
  local token
  token=$(openssl rand -hex 24)
  echo "$token,admin,admin,system:masters" >"$dir/certs/tokens.csv"

  local etcd_port peer_port api_port
  etcd_port=$(free_port)
  peer_port=$(free_port)
  api_port=$(free_port)

  setsid "$bin/etcd" --name promoter-test --data-dir "$dir/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "promoter-test=http://127.0.0.1:$peer_port" \
    --unsafe-no-fsync --quota-backend-bytes 4294967296 \
    >"$dir/etcd.log" 2>&1 </dev/null &
  echo $! >"$dir/etcd.pid"
  wait_ok "http://127.0.0.1:$etcd_port/health" "" "$dir/etcd.pid" ||
    { failed "$dir"; die "etcd did not become healthy on 127.0.0.1:$etcd_port: $(last_error "$dir/etcd.log")" "see $dir/etcd.log"; }

  # Flags as controller-runtime's envtest passes them, RBAC instead of AlwaysAllow.
  setsid "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --cert-dir "$dir/certs" \
    --token-auth-file "$dir/certs/tokens.csv" \
    --authorization-mode RBAC \
    --service-account-issuer "https://127.0.0.1:$api_port" \
    --service-account-key-file "$dir/certs/sa.pub" \
    --service-account-signing-key-file "$dir/certs/sa.key" \
    --service-cluster-ip-range 10.96.0.0/12 \
    --endpoint-reconciler-type none \
    --disable-admission-plugins ServiceAccount \
    --allow-privileged=true \
    >"$dir/kube-apiserver.log" 2>&1 </dev/null &
  echo $! >"$dir/kube-apiserver.pid"
  wait_ok "https://127.0.0.1:$api_port/readyz" "$token" "$dir/kube-apiserver.pid" ||
    { failed "$dir"; die "kube-apiserver did not become ready on 127.0.0.1:$api_port within ${ready_timeout}s: $(last_error "$dir/kube-apiserver.log")" "see $dir/kube-apiserver.log"; }

  local ca
  ca=$(base64 -w0 <"$dir/certs/apiserver.crt")
  umask 077
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: promoter-test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $ca
users:
- name: admin
  user:
    token: $token
contexts:
- name: promoter-test
  context: {cluster: promoter-test, user: admin, namespace: default}
current-context: promoter-test
EOF
  echo "$dir/kubeconfig"
}

# Stop the processes a pid file names (apiserver first: it writes to etcd).
stop() {
  local dir=$1 name pid
  for name in kube-apiserver etcd; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
  done
}

clean() {
  rm -rf "$1/certs" "$1/etcd-data" "$1/kubeconfig" "$1/etcd.log" "$1/kube-apiserver.log"
}

down() {
  local dir=$1
  [ -d "$dir" ] || return 0
  stop "$dir"
  clean "$dir"
  if [ -f "$dir/.made-by-up" ]; then
    rm -f "$dir/.made-by-up"
    rmdir "$dir" 2>/dev/null || true
  fi
}

case "${1:-}" in
up) [ $# -eq 2 ] || die "usage: $0 up DIR" "DIR is where the kubeconfig, logs and data go"; up "$2" ;;
down) [ $# -eq 2 ] || die "usage: $0 down DIR" "the DIR given to up"; down "$2" ;;
build) build; echo "$bin" ;;
*) die "usage: $0 up DIR | down DIR | build" "up starts etcd and kube-apiserver and prints the kubeconfig's path" ;;
esac
