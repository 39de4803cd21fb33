"""API economy: how many HTTP requests a promotion costs on each forge.

Runs `promoter promote` in-process against a real bare git remote and the
stateful GitHub/GitLab fakes of the test suite (tests/fakeforge.py), which
count every request. Targets (from the promotion issue): opening a new
promotion PR with labels <= 8 requests; an unchanged re-run <= 3.

    python benchmarks/api_requests.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from click.testing import CliRunner  # noqa: E402

import promoter.adapters.forges.session  # noqa: E402
from promoter.cli import cli  # noqa: E402
from tests.fakeforge import SleepRecorder, github_fake, gitlab_fake  # noqa: E402

TOKEN = "bench-token-0123456789"
NEW_PR_LIMIT = 8
RERUN_LIMIT = 3
FORGES = {
    "github": "forge:\n  type: github\n  repository: acme/env\n",
    "gitlab": "forge:\n  type: gitlab\n  repository: acme/env\n",
}
# Reviewers/assignees/auto-merge cost requests of their own: measured too.
FULL_PR = "    reviewers: [alice]\n    assignees: [bob]\n    autoMerge: true\n"


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _remote(base: Path, forge: str, full: bool) -> str:
    source = base / "src"
    shutil.copytree(ROOT / "examples" / "env-repo", source)
    config = source / "promoter.yaml"
    text = config.read_text().replace("defaults:\n", FORGES[forge] + "defaults:\n")
    if full:
        text = text.replace(
            "  - name: staging\n    from: dev\n", "  - name: staging\n    from: dev\n" + FULL_PR
        )
    config.write_text(text)
    bare = base / "env.git"
    _git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=base)
    _git("init", "--quiet", "--initial-branch=main", cwd=source)
    _git("add", "-A", cwd=source)
    _git("commit", "--quiet", "-m", "seed", cwd=source)
    _git("push", "--quiet", str(bare), "main", cwd=source)
    return bare.as_uri()


def _cli(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), env={"GITHUB_TOKEN": TOKEN, "GITLAB_TOKEN": TOKEN})
    if result.exit_code != 0:
        raise SystemExit(f"promoter {' '.join(args)} failed:\n{result.output}")


@contextmanager
def _fake(forge: str) -> Iterator[Any]:
    if forge == "github":
        with github_fake(repo="acme/env", token=TOKEN, collaborators={"alice", "bob"}) as gh:
            yield gh
    else:
        with gitlab_fake(project="acme/env", token=TOKEN, users={"alice": 7, "bob": 8}) as gl:
            yield gl


def measure(forge: str, full: bool) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="promoter-api-") as tmp:
        url = _remote(Path(tmp), forge, full)
        _cli("bump", "--repo-url", url, "--env", "dev", "--service", "api", "--tag", "1.4.2")
        promote = (
            "promote",
            "--repo-url",
            url,
            "--from",
            "dev",
            "--to",
            "staging",
            "--service",
            "api",
        )
        counts = {}
        with _fake(forge) as fake:
            fake.reset_log()
            _cli(*promote)
            counts["new PR"] = fake.request_count
            fake.reset_log()
            _cli(*promote)
            counts["unchanged re-run"] = fake.request_count
            _cli("bump", "--repo-url", url, "--env", "dev", "--service", "api", "--tag", "1.4.3")
            fake.reset_log()
            _cli(*promote)
            counts["superseding update"] = fake.request_count
        return counts


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("GIT_CONFIG_GLOBAL", os.devnull)
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        os.environ.setdefault(var, "bench")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        os.environ.setdefault(var, "bench@example.invalid")
    promoter.adapters.forges.session.sleep = SleepRecorder()  # no retries expected; never wait
    print("\nAPI requests per promotion (counted by the fake forges)")
    print(f"{'forge':8} {'PR settings':42} {'new PR':>7} {'re-run':>7} {'supersede':>10}")
    ok = True
    for forge in FORGES:
        for full in (False, True):
            c = measure(forge, full)
            what = "labels + reviewers, assignee, automerge" if full else "labels"
            print(
                f"{forge:8} {what:42} {c['new PR']:>7} {c['unchanged re-run']:>7} "
                f"{c['superseding update']:>10}"
            )
            if not full:
                ok &= c["new PR"] <= NEW_PR_LIMIT and c["unchanged re-run"] <= RERUN_LIMIT
    verdict = "PASS" if ok else "FAIL"
    print(
        f"{verdict}  new PR with labels <= {NEW_PR_LIMIT} requests, "
        f"unchanged re-run <= {RERUN_LIMIT}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
