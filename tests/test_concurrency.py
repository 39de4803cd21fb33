"""Many pipelines bumping at once against one real bare remote: nothing lost,
nothing doubled, the file always valid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import GIT_ENV, Remote, git, make_remote

pytestmark = pytest.mark.slow


def _monorepo(root: Path, services: int) -> None:
    names = [f"svc{i:02d}" for i in range(services)]
    lines = [
        "version: 1",
        "environments:",
        "  - name: dev",
        "  - name: prod",
        "    from: dev",
        "defaults:",
        "  path: apps/{service}/{env}",
        "services:",
    ]
    for name in names:
        lines += [f"  - name: {name}", f"    image: localhost:5000/acme/{name}"]
        for env in ("dev", "prod"):
            overlay = root / "apps" / name / env
            overlay.mkdir(parents=True)
            (overlay / "kustomization.yaml").write_text(
                "resources: []\nimages:\n"
                f'  - name: localhost:5000/acme/{name}\n    newTag: "0.1.0"\n'
            )
    (root / "promoter.yaml").write_text("\n".join(lines) + "\n")


def _start(remote: Remote, service: str, tag: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "promoter",
            "bump",
            "--repo-url",
            remote.url,
            "--env",
            "dev",
            "--service",
            service,
            "--tag",
            tag,
            "--retries",
            "60",
            "-o",
            "json",
        ],
        env={**os.environ, **GIT_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    return [(p.wait(timeout=600), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]


def test_twenty_services_at_once_all_land(tmp_path: Path) -> None:
    source = tmp_path / "src"
    _monorepo(source, 20)
    remote = make_remote(tmp_path, source)
    procs = [_start(remote, f"svc{i:02d}", f"1.{i}.0") for i in range(20)]
    results = _finish(procs)
    failures = [(code, err) for code, _, err in results if code != 0]
    assert not failures, failures
    assert remote.count() == 21  # seed + one commit per service, none lost, none doubled
    for i in range(20):
        text = remote.show(f"apps/svc{i:02d}/dev/kustomization.yaml")
        assert f'newTag: "1.{i}.0"' in text
        assert 'newTag: "0.1.0"' in remote.show(f"apps/svc{i:02d}/prod/kustomization.yaml")
    subjects = git("log", "--format=%s", "main", cwd=remote.path).splitlines()
    assert sorted(subjects[:-1]) == sorted(f"Bump svc{i:02d} to 1.{i}.0 in dev" for i in range(20))
    retried = [json.loads(out)["attempts"] for _, out, _ in results]
    assert max(retried) > 1, "no push was ever rejected: the race was not exercised"


def test_ten_tags_for_one_service_leave_valid_yaml(tmp_path: Path) -> None:
    source = tmp_path / "src"
    _monorepo(source, 1)
    remote = make_remote(tmp_path, source)
    tags = [f"2.0.{i}" for i in range(10)]
    results = _finish([_start(remote, "svc00", tag) for tag in tags])
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    commits = [json.loads(out)["commit"] for _, out, _ in results]
    landed = [c for c in commits if c is not None]  # None: its tag was already there
    for commit in landed:
        git("merge-base", "--is-ancestor", commit, "main", cwd=remote.path)
    assert remote.count() == 1 + len(landed)  # nothing doubled, nothing stray
    assert len(landed) >= 1
    text = remote.show("apps/svc00/dev/kustomization.yaml")
    doc = YAML(typ="safe").load(text)
    assert doc["images"][0]["newTag"] in tags
    assert text == (
        "resources: []\nimages:\n  - name: localhost:5000/acme/svc00\n"
        f'    newTag: "{doc["images"][0]["newTag"]}"\n'
    )
    # The last commit on main is the one whose tag the file holds.
    assert (
        remote.log("%(trailers:key=Promoter-To,valueonly)")
        .strip()
        .endswith(doc["images"][0]["newTag"])
    )
