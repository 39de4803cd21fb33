# shellcheck shell=bash
# Sourced by scripts/test.sh and examples/quickstart.sh: create (once) and use
# the project's own virtual environment, so neither script touches the
# system's Python (Debian marks it externally managed) nor the user's home.
# Everything it makes lives under $VENV — the pip and npm caches and the
# byte-code too — so removing that one directory undoes it.
#
# PYTHON picks the interpreter the venv is made from (default: python3);
# PROMOTER_VENV moves the venv (default: .venv at the project root).

PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
VENV=${PROMOTER_VENV:-$PROJECT_ROOT/.venv}

if ! command -v "$PYTHON" >/dev/null; then
  echo "error: $PYTHON not found" >&2
  echo "  hint: install Python 3.11 or newer, or set PYTHON=/path/to/python3" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: $("$PYTHON" -V 2>&1) is too old; promoter needs Python 3.11 or newer" >&2
  echo "  hint: set PYTHON=/path/to/python3.11 (or newer)" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV"; then
    rm -rf "$VENV"
    echo "error: $PYTHON cannot create a virtual environment" >&2
    echo "  hint: on Debian/Ubuntu: apt-get install python3-venv" >&2
    exit 1
  fi
fi

export PIP_CACHE_DIR="$VENV/cache/pip" npm_config_cache="$VENV/cache/npm"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONPYCACHEPREFIX="$VENV/cache/pycache"
export PATH="$VENV/bin:$VENV/node/node_modules/.bin:$PATH"

# pip install into the venv. setuptools leaves promoter.egg-info in the source
# tree even for an editable install that does not need it: remove it unless it
# was there before.
venv_pip_install() {
  local had_egg_info=0
  [ -e "$PROJECT_ROOT/promoter.egg-info" ] && had_egg_info=1
  # -qq: errors only; the machine's pip configuration can be chatty.
  (cd "$PROJECT_ROOT" && "$VENV/bin/python" -m pip install -qq "$@")
  [ "$had_egg_info" = 1 ] || rm -rf "$PROJECT_ROOT/promoter.egg-info"
}
