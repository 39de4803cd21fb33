from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from promoter.cli import cli

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "env-repo"
EXAMPLE_AGE_KEY = EXAMPLE.parent / "keys" / "dev.agekey"
"""The public test key the example's SOPS-encrypted dev Secret is encrypted for."""

# Deterministic commits (commitizen's trick): same inputs, same hashes.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(*args: str, cwd: Path | str, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    proc = subprocess.run(["git", *args], cwd=cwd, env=full_env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


CI_VARIABLES = (
    "PROMOTER_GIT_TOKEN",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "PROMOTER_GIT_USERNAME",
    "PROMOTER_PIPELINE_URL",
    "PROMOTER_SOURCE_COMMIT",
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_RUN_ID",
    "GITHUB_SHA",
    "CI_PIPELINE_URL",
    "CI_COMMIT_SHA",
    "BUILD_URL",
    "GIT_COMMIT",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_CONFIG_COUNT",
    "PROMOTER_ACTOR",
    "GITHUB_ACTOR",
    "GITLAB_USER_LOGIN",
    "BUILD_USER_ID",
)


@dataclass
class Remote:
    """A real bare repository seeded with a working tree's content."""

    path: Path
    branch: str = "main"

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def head(self, branch: str | None = None) -> str:
        return git("rev-parse", f"refs/heads/{branch or self.branch}", cwd=self.path)

    def count(self, branch: str | None = None) -> int:
        return int(git("rev-list", "--count", f"refs/heads/{branch or self.branch}", cwd=self.path))

    def show(self, path: str, rev: str | None = None) -> str:
        return subprocess.run(
            ["git", "show", f"{rev or self.branch}:{path}"],
            cwd=self.path,
            capture_output=True,
            check=True,
        ).stdout.decode()

    def log(self, fmt: str = "%B", n: int = 1) -> str:
        return git("log", f"-{n}", f"--format={fmt}", self.branch, cwd=self.path)


def make_remote(tmp: Path, source: Path, name: str = "env.git") -> Remote:
    bare = tmp / name
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp)
    # Let partial clones filter over file:// as a real forge would.
    git("config", "uploadpack.allowFilter", "true", cwd=bare)
    seed = tmp / f"{name}-seed"
    shutil.copytree(source, seed)
    git("init", "--quiet", "--initial-branch=main", cwd=seed)
    git("add", "-A", cwd=seed)
    git("commit", "--quiet", "-m", "seed", cwd=seed)
    git("push", "--quiet", str(bare), "main", cwd=seed)
    shutil.rmtree(seed)
    return Remote(bare)


@pytest.fixture(autouse=True)
def _example_sops_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every render of the example decrypts its dev Secret, as the quickstart
    does: with the example's own test key (tests of keys set their own)."""
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(EXAMPLE_AGE_KEY))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the config cache out of the user's home during tests."""
    old = os.environ.get("PROMOTER_CACHE_DIR")
    os.environ["PROMOTER_CACHE_DIR"] = str(tmp_path_factory.mktemp("promoter-cache"))
    yield
    if old is None:
        os.environ.pop("PROMOTER_CACHE_DIR", None)
    else:
        os.environ["PROMOTER_CACHE_DIR"] = old


@pytest.fixture
def env_repo(tmp_path: Path) -> Path:
    """A private copy of examples/env-repo to edit."""
    dest = tmp_path / "env-repo"
    shutil.copytree(EXAMPLE, dest)
    return dest


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return make_remote(tmp_path, EXAMPLE)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Run the CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    # Results must not depend on the host: no CI variables, tokens or ~/.gitconfig.
    for var in CI_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    yield invoke


def run_process(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run promoter as a real process (for concurrency and exit-code tests)."""
    base = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    full_env = {**base, **GIT_ENV, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "promoter", *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file's bytes under root (to prove nothing changed)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.realkube import summary

    for line in summary(terminalreporter.stats):
        terminalreporter.write_line(line)
