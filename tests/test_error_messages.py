"""Every failure prints `error: …` and a `hint: …` line, and exits with the
documented code — click's own usage errors included (docs/cli.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Remote


def _assert_error_and_hint(stderr: str) -> None:
    lines = stderr.splitlines()
    assert lines and lines[0].startswith("error: "), stderr
    assert any(line.startswith("  hint: ") for line in lines[1:]), stderr
    assert "Traceback" not in stderr and "Usage:" not in stderr, stderr


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["bump", "--no-such-option"], 2, "No such option"),
        (["no-such-command"], 2, "No such command 'no-such-command'"),
        (["bump", "--env", "dev"], 2, "Missing option '--repo-url'"),
        (["status", "--output", "xml"], 2, "'xml' is not one of 'text', 'json'"),
        (["bump", "--env", "dev", "--retries", "x", "--repo-url", "u"], 2, "'x' is not"),
        (["set-image", "--env", "dev", "--service", "api", "--tag", "bad tag"], 2, "bad tag"),
    ],
)
def test_usage_errors_have_the_error_and_hint_pair(
    run, env_repo: Path, args: list[str], code: int, says: str
) -> None:
    result = run(*args, "--repo", str(env_repo)) if args[0] == "set-image" else run(*args)
    assert result.exit_code == code, result.output
    assert says in result.stderr
    _assert_error_and_hint(result.stderr)


def test_a_missing_kubeconfig_is_a_usage_error(run, env_repo: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "kubeconfig"
    result = run("diff", "--env", "dev", "--repo", str(env_repo), "--kubeconfig", str(missing))
    assert result.exit_code == 2, result.output
    assert "kubeconfig" in result.stderr
    _assert_error_and_hint(result.stderr)


def test_check_pr_on_a_plain_git_remote_is_a_usage_error(run, remote: Remote) -> None:
    result = run("check", "--pr", "1", "--repo-url", remote.url, "--forge", "none")
    assert result.exit_code == 2, result.output
    assert "no pull request" in result.stderr
    _assert_error_and_hint(result.stderr)


def test_an_error_raised_without_a_hint_still_gets_one(run, tmp_path: Path) -> None:
    # A remote that does not exist: git's own complaint, and what to check.
    result = run(
        "bump", "--repo-url", (tmp_path / "nothing.git").as_uri(), "--env", "dev",
        "--service", "api", "--tag", "1.2.3",
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    _assert_error_and_hint(result.stderr)
