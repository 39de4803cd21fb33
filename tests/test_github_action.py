"""The GitHub Action (actions/action.yml) run as the runner runs it, against
real bare repositories. See tests/actions_harness.py for what is emulated.

Most tests replace the `install` step by the package already installed here
(stub_outputs) to stay fast; test_real_install_step runs it for real.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from pathlib import Path

import pytest
import requests
import yaml

from tests.actions_harness import ActionRun, parse_commands, python_outputs, run_action
from tests.conftest import CI_VARIABLES, EXAMPLE, GIT_ENV, Remote, git, make_remote
from tests.fakeforge import FakeGitHub, github_fake

ROOT = Path(__file__).resolve().parent.parent
ACTION_DIR = ROOT / "actions"
SHA = "0123456789abcdef0123456789abcdef01234567"
TOKEN = "ghs_notarealtoken0123456789abcdefXYZ"


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "promoter_action", ACTION_DIR / "promoter_action.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _load_script()


@pytest.fixture
def job_env() -> dict[str, str]:
    """The job's environment: this machine's, less any CI variables and tokens."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in CI_VARIABLES and not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))
    }
    return {**base, **GIT_ENV}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
def act(tmp_path: Path, workspace: Path, job_env: dict[str, str]):
    """act({input: value}, ...) runs the action once in this test's workspace."""

    def run(inputs: dict[str, str], *, env: dict[str, str] | None = None, stub: bool = True,
            event: str = "{}", github: dict[str, str] | None = None,
            action_dir: Path = ACTION_DIR) -> ActionRun:  # fmt: skip
        return run_action(
            action_dir,
            inputs=inputs,
            workspace=workspace,
            temp=Path(tempfile.mkdtemp(prefix="runner-", dir=tmp_path)),
            env=job_env if env is None else env,
            github={"run_id": "4242", "sha": SHA, "token": TOKEN, **(github or {})},
            event=event,
            uses_outputs={"python": python_outputs()},
            stub_outputs={"install": {"python": sys.executable}} if stub else None,
        )

    return run


def _with_policy(tmp_path: Path) -> Path:
    """examples/env-repo where staging refuses -SNAPSHOT tags."""
    source = tmp_path / "policy-src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    text = config.read_text()
    text = text.replace(
        "  - name: staging\n    from: dev\n",
        "  - name: staging\n    from: dev\n"
        "    policies:\n      immutable-tags: {patterns: ['.*-SNAPSHOT']}\n",
    )
    assert "immutable-tags" in text
    config.write_text(text)
    return source


def _clone(remote: Remote, dest: Path) -> Path:
    git("clone", "--quiet", remote.url, str(dest), cwd=dest.parent)
    return dest


# -- bump ----------------------------------------------------------------------


def test_bump_commits_sets_outputs_and_writes_the_summary(tmp_path, act):
    remote = make_remote(tmp_path, EXAMPLE)
    before = remote.count()
    run = act(
        {"command": "bump", "env": "dev", "service": "api", "tag": "1.4.2", "repo-url": remote.url}
    )
    assert run.returncode == 0, run.log
    assert run.outputs["changed"] == "true"
    assert run.outputs["exit-code"] == "0"
    result = json.loads(run.outputs["result"])
    assert result["commit"] == remote.head()
    assert result["changed"][0]["new"] == "ghcr.io/acme/api:1.4.2"
    assert run.outputs["pr-number"] == "" and run.outputs["pr-url"] == ""

    assert remote.count() == before + 1
    assert 'newTag: "1.4.2"' in remote.show("apps/api/overlays/dev/kustomization.yaml")
    message = remote.log()
    assert message.startswith("Bump api to 1.4.2 in dev")
    for trailer in (
        "Promoter-Service: api",
        "Promoter-Env: dev",
        "Promoter-From: ghcr.io/acme/api:1.0.0",
        "Promoter-To: ghcr.io/acme/api:1.4.2",
        "Promoter-Pipeline: https://github.com/acme/app/actions/runs/4242",
        f"Promoter-Source-Commit: {SHA}",
    ):
        assert trailer in message

    assert "### promoter bump" in run.summary
    assert f"Pushed `{result['commit'][:12]}` to `main`" in run.summary
    assert "| service | env | file | old | new |" in run.summary
    assert (
        "| api | dev | apps/api/overlays/dev/kustomization.yaml:7 | ghcr.io/acme/api:1.0.0 "
        "| ghcr.io/acme/api:1.4.2 |"
    ) in run.summary
    assert run.errors() == []


def test_token_is_masked_before_anything_else_runs(tmp_path, act):
    remote = make_remote(tmp_path, EXAMPLE)
    run = act(
        {"command": "bump", "env": "dev", "service": "api", "tag": "1.4.2", "repo-url": remote.url}
    )
    assert run.returncode == 0, run.log
    first = run.steps[0]
    assert first.stdout == f"::add-mask::{TOKEN}\n"
    assert run.masks == [TOKEN]
    # Nowhere else in what the steps printed.
    rest = "".join(s.stdout + s.stderr for s in run.steps[1:])
    assert TOKEN not in rest


def test_bump_to_the_running_version_changes_nothing(tmp_path, act):
    remote = make_remote(tmp_path, EXAMPLE)
    run = act(
        {"command": "bump", "env": "dev", "service": "api", "tag": "1.0.0", "repo-url": remote.url}
    )
    assert run.returncode == 0, run.log
    assert run.outputs["changed"] == "false"
    assert json.loads(run.outputs["result"])["commit"] is None
    assert "already runs that version: nothing to commit" in run.summary
    assert remote.count() == 1


def test_unknown_service_fails_with_an_error_annotation(tmp_path, act):
    remote = make_remote(tmp_path, EXAMPLE)
    run = act(
        {"command": "bump", "env": "dev", "service": "nope", "tag": "1.4.2", "repo-url": remote.url}
    )
    assert run.returncode == 2
    assert run.outputs["exit-code"] == "2"
    assert run.outputs["changed"] == "false"
    assert run.outputs["result"] == ""
    [error] = run.errors()
    assert error.message.startswith("unknown service 'nope'; known: api, worker, web")
    assert "\nhint: services are declared in" in error.message
    assert error.properties["title"] == "promoter bump failed (exit 2)"
    assert "file" not in error.properties
    assert "### promoter bump failed (exit 2)" in run.summary
    assert remote.count() == 1


def test_config_error_in_the_remote_names_file_and_line(tmp_path, act):
    source = tmp_path / "broken-src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(config.read_text().replace("from: dev", "from: nowhere", 1))
    remote = make_remote(tmp_path, source, "broken.git")
    run = act(
        {"command": "bump", "env": "dev", "service": "api", "tag": "1.4.2", "repo-url": remote.url}
    )
    assert run.returncode == 2
    [error] = run.errors()
    assert error.properties["file"] == "promoter.yaml"
    assert error.properties["line"] == "5"
    assert error.properties["title"] == f"promoter bump: promoter.yaml in {remote.url}"
    assert error.message.startswith("environment 'staging': from: unknown environment 'nowhere'")
    assert "hint: see docs/config.md" in error.message


def test_config_error_in_a_checkout_points_into_the_workspace(workspace, act):
    tree = workspace / "env"
    shutil.copytree(EXAMPLE, tree)
    config = tree / "promoter.yaml"
    config.write_text(config.read_text().replace("from: dev", "from: nowhere", 1))
    run = act({"command": "status", "repo-path": "env"})
    assert run.returncode == 2
    [error] = run.errors()
    assert (error.properties["file"], error.properties["line"]) == ("env/promoter.yaml", "5")


def test_inputs_are_data_not_shell(tmp_path, workspace, act):
    """A hostile value (as from a PR title or a comment) is an argument, never code."""
    remote = make_remote(tmp_path, EXAMPLE)
    hostile = '1.4.2"; touch pwned; echo "$(touch pwned2)`touch pwned3`'
    run = act(
        {
            "command": "bump",
            "env": "dev",
            "service": "api",
            "tag": hostile,
            "repo-url": remote.url,
            "extra-args": "--message '$(touch pwned4)'",
        }
    )
    assert run.returncode == 2  # promoter refuses the tag
    [error] = run.errors()
    assert error.message.startswith("invalid image tag: tag '1.4.2\"; touch pwned;")
    assert sorted(p.name for p in workspace.iterdir()) == []
    assert remote.count() == 1


def test_line_breaks_in_inputs_cannot_forge_workflow_commands(tmp_path, act):
    """The echoed command line comes before the ::stop-commands:: fence: an
    input carrying "\n::error::" must stay inside that one line."""
    remote = make_remote(tmp_path, EXAMPLE)
    run = act(
        {
            "command": "bump",
            "env": "dev\n::error title=pwn::injected",
            "service": "api",
            "tag": "1.4.2",
            "repo-url": remote.url,
        }
    )
    assert not any(line.startswith("::error title=pwn") for line in run.stdout.splitlines())
    assert all(e.properties.get("title") != "pwn" for e in run.errors())
    assert remote.count() == 1


def test_bad_command_input_is_refused_before_running_anything(act):
    run = act({"command": "deploy"})
    assert run.returncode == 2
    [error] = run.errors()
    assert error.properties["title"] == "promoter action: bad input"
    assert "command must be one of bump, promote, check, bot, plan, status" in error.message
    assert run.outputs["exit-code"] == "2"


# -- promote, plan, status, check, bot ----------------------------------------------


def test_promote_pushes_the_hop_branch(tmp_path, act):
    remote = make_remote(tmp_path, EXAMPLE)
    bump = act(
        {"command": "bump", "env": "dev", "service": "api", "tag": "1.4.2", "repo-url": remote.url}
    )
    assert bump.returncode == 0, bump.log
    run = act(
        {
            "command": "promote",
            "from": "dev",
            "to": "staging",
            "service": "api",
            "repo-url": remote.url,
        }
    )
    assert run.returncode == 0, run.log
    assert run.outputs["changed"] == "true"
    [result] = json.loads(run.outputs["result"])
    assert result["branch"] == "promoter/staging/api"
    assert 'newTag: "1.4.2"' in remote.show(
        "apps/api/overlays/staging/kustomization.yaml", "promoter/staging/api"
    )
    log = git("log", "-1", "--format=%B", "promoter/staging/api", cwd=remote.path)
    assert "Promoter-Env: staging" in log and "Promoter-To: ghcr.io/acme/api:1.4.2" in log
    assert "| target | result | pull request | service | from | to |" in run.summary
    assert "| staging | pushed | — | api | 1.0.0 | 1.4.2 |" in run.summary
    # A re-run changes nothing.
    again = act(
        {
            "command": "promote",
            "from": "dev",
            "to": "staging",
            "service": "api",
            "repo-url": remote.url,
        }
    )
    assert again.returncode == 0 and again.outputs["changed"] == "false", again.log


def test_plan_and_status_read_a_checkout(tmp_path, workspace, act):
    remote = make_remote(tmp_path, EXAMPLE)
    act({"command": "bump", "env": "dev", "service": "api", "tag": "1.4.2", "repo-url": remote.url})
    _clone(remote, workspace / "env")
    plan = act({"command": "plan", "from": "dev", "to": "staging", "repo-path": "env"})
    assert plan.returncode == 0, plan.log
    assert plan.outputs["changed"] == "true"
    assert [i["service"] for i in json.loads(plan.outputs["result"])] == ["api"]
    assert "| api | dev | staging | 1.0.0 | 1.4.2 |" in plan.summary

    nothing = act({"command": "plan", "from": "staging", "to": "prod-eu", "repo-path": "env"})
    assert nothing.outputs["changed"] == "false" and "Nothing to promote." in nothing.summary

    status = act({"command": "status", "repo-path": "env"})
    assert status.returncode == 0, status.log
    assert "| service | dev | staging | prod-eu | prod-us |" in status.summary
    assert "| api | 1.4.2 | 1.0.0 | 1.0.0 | 1.0.0 |" in status.summary
    assert status.outputs["changed"] == "false"


def test_check_fails_on_a_policy_and_annotates_the_rule(tmp_path, workspace, act):
    remote = make_remote(tmp_path, _with_policy(tmp_path))
    act(
        {
            "command": "bump",
            "env": "dev",
            "service": "api",
            "tag": "1.5.0-SNAPSHOT",
            "repo-url": remote.url,
        }
    )
    _clone(remote, workspace / "env")
    run = act({"command": "check", "from": "dev", "to": "staging", "repo-path": "env"})
    assert run.returncode == 1, run.log
    assert json.loads(run.outputs["result"])["verdict"] == "fail"
    [error] = run.errors()
    assert error.properties["title"] == "promoter/policy immutable-tags"
    assert "1.5.0-SNAPSHOT" in error.message
    assert "Policies for `staging`: **❌ fail**" in run.summary
    assert "| ❌ | `immutable-tags` |" in run.summary


def test_check_passes(tmp_path, workspace, act):
    remote = make_remote(tmp_path, _with_policy(tmp_path))
    act({"command": "bump", "env": "dev", "service": "api", "tag": "1.5.0", "repo-url": remote.url})
    _clone(remote, workspace / "env")
    run = act({"command": "check", "from": "dev", "to": "staging", "repo-path": "env"})
    assert run.returncode == 0, run.log
    assert run.errors() == []
    assert "Policies for `staging`: **✅ pass**" in run.summary


def test_bot_ignores_a_comment_on_a_plain_issue(act):
    event = {
        "action": "created",
        "issue": {"number": 7, "title": "docs", "body": ""},
        "comment": {"id": 1, "body": "/promote prod-eu", "user": {"login": "mallory"}},
        "repository": {"full_name": "acme/env", "clone_url": "https://github.com/acme/env.git"},
        "sender": {"login": "mallory"},
    }
    run = act({"command": "bot"}, event=json.dumps(event), github={"event_name": "issue_comment"})
    assert run.returncode == 0, run.log
    result = json.loads(run.outputs["result"])
    assert result["outcome"] == "ignored"
    assert run.outputs["changed"] == "false"
    assert f"| {result['event']} | ignored | — | {result['reason']} |" in run.summary


def test_bot_event_that_is_not_json_fails(workspace, act):
    bad = workspace / "payload.json"
    bad.write_text("not json")
    run = act({"command": "bot", "event-path": str(bad)})
    assert run.returncode == 2
    assert "is not JSON" in run.errors()[0].message


# -- against a GitHub API -------------------------------------------------------------


class _Relay(http.server.BaseHTTPRequestHandler):
    """Serves the in-process FakeGitHub (a `responses` mock) over loopback HTTP,
    so promoter, a child process of the action, can talk to it."""

    server: _RelayServer

    def _relay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        skip = {"host", "content-length", "connection", "accept-encoding"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        answer = requests.request(self.command, self.server.root + self.path, headers=headers,
                                  data=body, timeout=30)  # fmt: skip
        data = answer.content
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "content-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _relay

    def log_message(self, *args: object) -> None:
        pass


class _RelayServer(http.server.HTTPServer):
    root = ""


@pytest.fixture
def github_api():
    """A FakeGitHub for acme/env answering on http://127.0.0.1:PORT."""
    server = _RelayServer(("127.0.0.1", 0), _Relay)
    server.root = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with github_fake(repo="acme/env", api_url=server.root, token=TOKEN) as gh:
            yield gh
    finally:
        server.shutdown()
        server.server_close()


def test_promote_opens_a_pull_request_and_check_sets_the_status(tmp_path, act, github_api):
    gh: FakeGitHub = github_api
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(
        config.read_text().replace(
            "defaults:\n", "forge:\n  type: github\n  repository: acme/env\ndefaults:\n"
        )
    )
    remote = make_remote(tmp_path, source)
    bump = act({"command": "bump", "env": "dev", "service": "api", "tag": "1.4.2",
                "repo-url": remote.url})  # fmt: skip
    assert bump.returncode == 0, bump.log

    api = {"repo-url": remote.url, "api-url": gh.api_root}
    run = act({"command": "promote", "from": "dev", "to": "staging", "service": "api", **api})
    assert run.returncode == 0, run.log
    [pr] = gh.open_pulls("main")
    assert pr["title"] == "Promote api 1.4.2 → staging"
    assert run.outputs["changed"] == "true"
    assert run.outputs["pr-number"] == str(pr["number"])
    assert run.outputs["pr-url"] == pr["html_url"]
    assert f"| staging | opened | [#{pr['number']}]({pr['html_url']}) | api |" in run.summary
    # The token went to the API (the fake refuses other credentials), never to the log.
    assert TOKEN not in "".join(s.stdout + s.stderr for s in run.steps[1:])

    check = act({"command": "check", "pr": str(pr["number"]), **api})
    assert check.returncode == 0, check.log
    status = gh.statuses[pr["head"]["sha"]][-1]
    assert (status["context"], status["state"]) == ("promoter/policy", "success")
    assert len(gh.comments[pr["number"]]) == 1  # the sticky comment
    assert f"Policies for `staging` (PR #{pr['number']}): **✅ pass**" in check.summary


# -- the real install step -------------------------------------------------------------


def test_real_install_step(tmp_path, workspace, job_env, act):
    """No stub: the install step makes a virtualenv in RUNNER_TEMP and pip-installs
    promoter from the action's own checkout (a copy, as the runner downloads it).
    Dependencies come from this interpreter (PIP_NO_DEPS + PYTHONPATH), so pip
    only fetches the build backend (setuptools, as any build does); promoter
    itself is built from the checkout."""
    checkout = tmp_path / "_actions" / "acme" / "promoter" / SHA
    checkout.mkdir(parents=True)
    for name in ("actions", "promoter"):
        shutil.copytree(ROOT / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, checkout / name)
    site = sysconfig.get_paths()["purelib"]
    env = {**job_env, "PIP_NO_DEPS": "1", "PYTHONPATH": site}
    remote = make_remote(tmp_path, EXAMPLE)
    run = act(
        {"command": "bump", "env": "dev", "service": "api", "tag": "1.4.2", "repo-url": remote.url},
        stub=False,
        action_dir=checkout / "actions",
        env=env,
    )
    install = next(s for s in run.steps if s.id == "install")
    assert install.returncode == 0, install.stderr
    venv_python = Path(install.outputs["python"])
    assert venv_python.parent.parent.name == "promoter-venv"
    assert "promoter, version" in install.stdout
    where = _promoter_location(venv_python, env, workspace)
    assert where.startswith(str(venv_python.parent.parent)), where
    assert run.returncode == 0, run.log
    assert run.outputs["changed"] == "true"
    assert "Promoter-To: ghcr.io/acme/api:1.4.2" in remote.log()


def _promoter_location(python: Path, env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run(
        [str(python), "-c", "import promoter; print(promoter.__file__)"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


# -- the action's file and its script ----------------------------------------------


def test_no_expression_inside_run_scripts():
    """zizmor's template-injection rule, checked here too: inputs reach
    scripts through env:, never pasted into the script text."""
    action = yaml.safe_load((ACTION_DIR / "action.yml").read_text())
    runs = [s for s in action["runs"]["steps"] if "run" in s]
    assert len(runs) >= 3
    for step in runs:
        assert "${{" not in step["run"], step["name"]
    run_step = next(s for s in runs if s.get("id") == "run")
    declared = set(action["inputs"])
    passed = {k.removeprefix("INPUT_").lower().replace("_", "-") for k in run_step["env"]}
    assert declared - passed == {"python-version", "cache"}


def test_argv_for_each_command():
    base = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/env"}

    def argv(**inputs: str) -> list[str]:
        env = {**base, **{f"INPUT_{k.upper()}": v for k, v in inputs.items()}}
        return script.build_argv(env)

    assert argv(command="bump", env="dev", service="api", tag="1.4.2", repo_url="u") == [
        "bump", "--env", "dev", "--tag", "1.4.2", "--service", "api", "--repo-url", "u",
        "--output", "json",
    ]  # fmt: skip
    assert argv(command="promote", **{"from": "staging"}, to="prod-eu, prod-us\nprod-ap",
                all="true") == [
        "promote", "--from", "staging", "--to", "prod-eu", "--to", "prod-us", "--to", "prod-ap",
        "--all", "--repo-url", "https://github.com/acme/env.git", "--output", "json",
    ]  # fmt: skip
    assert argv(command="check", pr="12", forge="github") == [
        "check", "--pr", "12", "--repo-url", "https://github.com/acme/env.git",
        "--forge", "github", "--output", "json",
    ]  # fmt: skip
    assert argv(command="check", **{"from": "dev"}, to="staging", repo_path="env") == [
        "check", "--from", "dev", "--to", "staging", "--repo", "env", "--output", "json",
    ]  # fmt: skip
    assert argv(command="bot", extra_args="--allow-team 'acme/sre' --output text") == [
        "bot", "--allow-team", "acme/sre", "--output", "text", "--output", "json",
    ]  # fmt: skip
    assert argv(command="status") == ["status", "--repo", ".", "--output", "json"]
    for bad in (
        {"command": "check", "pr": "12; rm -rf /"},
        {"command": "plan", "from": "dev", "to": "a b"},
        {"command": "promote", "all": "yes"},
        {"command": "bump", "service": "api web"},
        {"command": "bot", "extra_args": "'unclosed"},
    ):
        with pytest.raises(script.UsageError):
            argv(**bad)


def test_token_goes_to_promoter_variables_and_inputs_do_not():
    env = {"INPUT_TOKEN": "t0k", "INPUT_COMMAND": "bump", "PATH": "/bin"}
    child = script.child_environment(env)
    assert child == {"PATH": "/bin", "PROMOTER_GIT_TOKEN": "t0k", "PROMOTER_FORGE_TOKEN": "t0k"}
    gitlab = script.child_environment({**env, "INPUT_FORGE": "gitlab"})
    assert gitlab["PROMOTER_GIT_USERNAME"] == "oauth2"


def test_github_app_inputs_become_promoters_app_variables():
    env = {"INPUT_COMMAND": "bump", "INPUT_GITHUB_APP_ID": "4242", "PATH": "/bin",
           "INPUT_GITHUB_APP_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nx\n"}  # fmt: skip
    child = script.child_environment(env)
    assert child == {
        "PATH": "/bin",
        "PROMOTER_GITHUB_APP_ID": "4242",
        "PROMOTER_GITHUB_APP_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nx",
    }


def test_tool_output_cannot_issue_workflow_commands(capsys):
    script.echo_quoted("a reply quoting\n::error file=x::injected\n::add-mask::nothing\n")
    out = capsys.readouterr().out
    assert "::error file=x::injected" in out
    assert parse_commands(out) == ([], [])
    # Without the stop-commands guard the same text would have been commands.
    assert len(parse_commands("::error file=x::injected")[0]) == 1


def test_outputs_use_the_delimiter_form(tmp_path):
    from tests.actions_harness import parse_output_file

    out = tmp_path / "out"
    out.write_text("")
    script.set_outputs(str(out), {"result": '{"a":\n"b=c"}', "changed": "true"})
    assert parse_output_file(out.read_text()) == {"result": '{"a":\n"b=c"}', "changed": "true"}


def test_annotations_escape_what_would_break_them():
    line = script.annotation("error", "50% done\nnext", file="a,b:c.yaml", line=3)
    assert line == "::error file=a%2Cb%3Ac.yaml,line=3::50%25 done%0Anext"
    [parsed], _ = parse_commands(line)
    assert parsed.message == "50% done\nnext"
    assert parsed.properties == {"file": "a,b:c.yaml", "line": "3"}
