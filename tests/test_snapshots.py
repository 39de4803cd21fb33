"""Reading an environment from a git ref extracts `git archive` output into a
scratch folder: a crafted repository must not make that write or point
outside it, on Pythons with tarfile's extraction filters (3.11.4+) and
without them (Debian 12's 3.11.2)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from promoter.adapters.git import GitRepo
from promoter.adapters.snapshots import from_ref
from promoter.core.config.loader import load_config
from promoter.errors import ExitCode, InputError
from tests.conftest import EXAMPLE, git

FILTERS = ["filters", "no-filters"]


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    git("init", "-q", "-b", "main", str(repo), cwd=tmp_path)
    for src in EXAMPLE.rglob("*"):
        if src.is_file():
            dest = repo / src.relative_to(EXAMPLE)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(src.read_bytes())
    return repo


def _commit(repo: Path) -> None:
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "state", cwd=repo)


@pytest.fixture(params=FILTERS)
def filters(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "no-filters":
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no tarfile extraction filters")
    return str(request.param)


def _read(repo: Path, tmp_path: Path, env: str = "dev"):  # type: ignore[no-untyped-def]
    config = load_config(repo)
    return from_ref(
        GitRepo(repo),
        config,
        config.environment(env),
        "main",
        list(config.services),
        tmp_path / "s",
    )


def test_reads_the_committed_versions(tmp_path: Path, filters: str) -> None:
    repo = _repo(tmp_path)
    _commit(repo)
    snapshot = _read(repo, tmp_path)
    assert snapshot.ref == "main"
    assert str(snapshot.deployed["api"].image) == "ghcr.io/acme/api:1.0.0"


@pytest.mark.parametrize("link", ["/etc/passwd", "../../../../../etc/passwd"])
def test_a_link_leaving_the_repository_is_refused(tmp_path: Path, filters: str, link: str) -> None:
    repo = _repo(tmp_path)
    overlay = repo / "apps/api/overlays/dev"
    (overlay / "leak.yaml").symlink_to(link)
    _commit(repo)
    with pytest.raises(InputError) as caught:
        _read(repo, tmp_path)
    assert caught.value.exit_code == ExitCode.INPUT
    assert "apps/api/overlays/dev/leak.yaml at main" in caught.value.message
    assert not any(p.name == "passwd" for p in (tmp_path / "s").rglob("*"))


def test_a_link_inside_the_repository_is_followed(tmp_path: Path, filters: str) -> None:
    repo = _repo(tmp_path)
    overlay = repo / "apps/api/overlays/dev"
    (overlay / "kustomization.yaml").rename(overlay / "real.yaml")
    (overlay / "kustomization.yaml").symlink_to("real.yaml")
    _commit(repo)
    assert str(_read(repo, tmp_path).deployed["api"].image) == "ghcr.io/acme/api:1.0.0"
