#!/usr/bin/env bash
# Runs one promoter command for the Jenkins step vars/promoter.groovy, which
# loads this file with libraryResource and runs it with `sh`. Kept apart from
# the Groovy so that it can be run (and tested) on its own.
#
# Input, all from the environment (values are data: they are never evaluated):
#   PROMOTER_ARGC, PROMOTER_ARG_1 … PROMOTER_ARG_<ARGC>
#                      the promoter command line, one argument per variable
#   PROMOTER_WORKDIR   scratch directory for the files below (created)
#   PROMOTER_COMMAND   run this instead of installing promoter, split on
#                      spaces (e.g. "python3 -m promoter", or a path)
#   PROMOTER_VERSION   version to install from the package index (pinned)
#   PROMOTER_PACKAGE   pip requirement(s) instead of promoter==<version>, e.g.
#                      "git+https://git.example.com/acme/promoter.git@v0.1.0"
#   PROMOTER_VENV      the virtualenv (default: $PROMOTER_WORKDIR/venv); kept
#                      and reused while it holds the same requirement
#   PROMOTER_PYTHON    interpreter that creates the virtualenv (python3)
#   PROMOTER_GIT_TOKEN / GITLAB_TOKEN / GITHUB_TOKEN / PROMOTER_FORGE_TOKEN
#                      read by promoter itself; never printed here
#
# Output, in $PROMOTER_WORKDIR:
#   result.json   promoter's JSON output (give it --output json)
#   stderr.txt    promoter's messages (also shown on the console)
#   outputs.env   CHANGED, PR_URL, PR_NUMBER, RESULT, COMMIT, EXIT_CODE
#   message.txt   one line: what went wrong (promoter's `error:` line, or the
#                 failed policies), empty on success
# Exit status: promoter's.
set -euo pipefail

work=${PROMOTER_WORKDIR:?PROMOTER_WORKDIR is not set}
mkdir -p "$work"
rm -f "$work/result.json" "$work/stderr.txt" "$work/outputs.env" "$work/message.txt"

# --- the command line -----------------------------------------------------------------------
args=()
count=${PROMOTER_ARGC:-0}
case $count in '' | *[!0-9]*)
  echo "promoter: PROMOTER_ARGC must be a number, not '$count'" >&2
  exit 2
  ;;
esac
for ((i = 1; i <= count; i++)); do
  name="PROMOTER_ARG_$i"
  if [ -z "${!name+set}" ]; then
    echo "promoter: $name is not set (PROMOTER_ARGC=$count)" >&2
    exit 2
  fi
  args+=("${!name}")
done
if [ "${#args[@]}" -eq 0 ]; then
  echo "promoter: no command given (PROMOTER_ARGC=0)" >&2
  exit 2
fi

# --- promoter itself ------------------------------------------------------------------------
if [ -n "${PROMOTER_COMMAND:-}" ]; then
  set -f # split on spaces, never glob
  # shellcheck disable=SC2206
  cmd=($PROMOTER_COMMAND)
  set +f
else
  venv=${PROMOTER_VENV:-$work/venv}
  requirement=${PROMOTER_PACKAGE:-promoter==${PROMOTER_VERSION:?set PROMOTER_VERSION or PROMOTER_PACKAGE}}
  if [ ! -x "$venv/bin/promoter" ] || [ "$(cat "$venv/.promoter-requirement" 2>/dev/null)" != "$requirement" ]; then
    echo "promoter: installing $requirement into $venv"
    rm -rf "$venv"
    "${PROMOTER_PYTHON:-python3}" -m venv "$venv"
    set -f # requirements like promoter[extra] are words, not globs
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $requirement
    set +f
    printf '%s\n' "$requirement" >"$venv/.promoter-requirement"
  else
    echo "promoter: using $requirement from $venv"
  fi
  cmd=("$venv/bin/promoter")
fi
python=${PROMOTER_PYTHON:-python3}
if [ -z "${PROMOTER_COMMAND:-}" ]; then python="$venv/bin/python"; fi

# --- run --------------------------------------------------------------------------------------
export GIT_TERMINAL_PROMPT=0
status=0
"${cmd[@]}" "${args[@]}" >"$work/result.json" 2>"$work/stderr.txt" || status=$?
cat "$work/stderr.txt" >&2
if [ "${PROMOTER_QUIET:-}" != "true" ]; then cat "$work/result.json"; fi

# --- outputs ----------------------------------------------------------------------------------
if "$python" - "$work" "$status" "${args[0]}" <<'PY'
import json
import re
import sys
from pathlib import Path

work, status, command = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
try:
    data = json.loads((work / "result.json").read_text(encoding="utf-8"))
except (OSError, ValueError):
    data = None
out = {"CHANGED": "false", "PR_URL": "", "PR_NUMBER": "", "RESULT": "error", "COMMIT": ""}
prs = []
if command in ("bump", "promote") and data is not None and status == 0:
    proposals = data if isinstance(data, list) else [data.get("pull_request")]
    moved = [p for p in proposals if p and any(p.get(k) for k in ("created", "updated", "pushed", "closed"))]
    prs = [(p.get("pull_request") or {}) for p in proposals if p]
    if isinstance(data, dict) and data.get("commit"):
        out.update(RESULT="pushed", CHANGED="true", COMMIT=str(data["commit"]))
    elif moved:
        out.update(RESULT="proposed", CHANGED="true")
    else:
        out["RESULT"] = "unchanged"
elif command == "check" and isinstance(data, dict) and status in (0, 1):
    out["RESULT"] = str(data.get("verdict") or "error")
    out["PR_NUMBER"] = str(data.get("pull_request") or "")
elif command == "plan" and isinstance(data, list) and status == 0:
    out.update(RESULT="planned" if data else "unchanged", CHANGED=str(bool(data)).lower())
out["PR_NUMBER"] = out["PR_NUMBER"] or " ".join(str(p["number"]) for p in prs if p.get("number"))
out["PR_URL"] = " ".join(str(p["url"]) for p in prs if p.get("url"))
out["EXIT_CODE"] = str(status)

message = ""
if status != 0:
    stderr = (work / "stderr.txt").read_text(encoding="utf-8", errors="replace").splitlines()
    errors = [line for line in stderr if line.startswith("error:")]
    if command == "check" and isinstance(data, dict) and status == 1:
        failed = [r for r in data.get("results", []) if r.get("status") in ("fail", "error")]
        message = "policy check failed: " + "; ".join(
            f"{r.get('rule')}{' ' + r['subject'] if r.get('subject') else ''}: {r.get('reason')}"
            for r in failed
        )
    elif errors:
        at = stderr.index(errors[0])
        hints = [line.strip() for line in stderr[at + 1 :] if line.strip().startswith("hint:")]
        message = " ".join([errors[0].removeprefix("error:").strip(), *hints[:1]])
    else:
        message = next((line for line in reversed(stderr) if line.strip()), f"exit {status}")
(work / "message.txt").write_text(re.sub(r"\s+", " ", message).strip() + "\n", encoding="utf-8")
with (work / "outputs.env").open("w", encoding="utf-8") as f:
    f.writelines(f"{k}={v}\n" for k, v in out.items())
PY
then :; else echo "promoter: could not write the outputs in $work" >&2; fi
exit "$status"
