"""What a command line is expected to do beyond its commands: shell
completion (driven through real bash), colour only on a terminal (a real
pseudo-terminal here) and never with NO_COLOR or --no-color, and -v saying
what promoter is doing."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, GIT_ENV, Remote, run_process

RED_ERROR = "\x1b[31m\x1b[1merror:"


def _environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**env, **extra}


def _on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run with stdout and stderr on a pseudo-terminal; what it printed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, stdout=follower, stderr=follower, env=env, cwd=cwd)
    os.close(follower)
    out = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=30)
    os.close(leader)
    return out.decode()


def test_errors_are_coloured_on_a_terminal_only(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "promoter", "status", "--repo", str(tmp_path / "none")]
    shown = _on_a_terminal(args, _environ(), tmp_path)
    assert RED_ERROR in shown and "\x1b[36mhint:" in shown

    for plain in (
        _on_a_terminal(args, _environ(NO_COLOR="1"), tmp_path),
        _on_a_terminal([*args, "--no-color"], _environ(), tmp_path),
        _on_a_terminal([*args[:3], "--no-color", *args[3:]], _environ(), tmp_path),
    ):
        assert "\x1b[" not in plain and "error: invalid configuration" in plain
    piped = subprocess.run(args, env=_environ(), capture_output=True, text=True, check=False)
    assert piped.returncode == 2
    assert "\x1b[" not in piped.stderr and piped.stderr.startswith("error: ")


def test_check_verdict_is_coloured_on_a_terminal(tmp_path: Path) -> None:
    repo = tmp_path / "env"
    shutil.copytree(EXAMPLE, repo)
    for step in (["init", "--quiet"], ["add", "-A"], ["commit", "--quiet", "-m", "env"]):
        subprocess.run(["git", *step], cwd=repo, env={**os.environ, **GIT_ENV}, check=True)
    args = [sys.executable, "-m", "promoter", "check", "--from", "dev", "--to", "staging"]
    shown = _on_a_terminal(args, _environ(), repo)
    assert "\x1b[32m\x1b[1mpass:" in shown, shown


def _complete(words: list[str], cwd: Path) -> list[str]:
    """What bash offers after `words` (the last one being completed), using
    the script `promoter completion bash` prints."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    script = (
        'eval "$(python -m promoter completion bash)"\n'
        f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "COMPREPLY=()\n"
        "_promoter_completion 'python -m promoter'\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    # The script calls `$1` as the program: a `promoter` on PATH that is
    # this checkout's.
    bin_dir = cwd / ".bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "promoter"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m promoter "$@"\n')
    shim.chmod(0o755)
    env = _environ(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    script = script.replace("python -m promoter", "promoter")
    proc = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


def test_bash_completes_commands_options_environments_and_services(tmp_path: Path) -> None:
    repo = tmp_path / "env"
    shutil.copytree(EXAMPLE, repo)
    assert "promote" in _complete(["promoter", "prom"], repo)
    assert _complete(["promoter", "comp"], repo) == ["completion"]
    assert "--dry-run" in _complete(["promoter", "bump", "--dr"], repo)
    assert _complete(["promoter", "promote", "--to", ""], repo) == [
        "dev",
        "staging",
        "prod-eu",
        "prod-us",
    ]
    assert _complete(["promoter", "bump", "--service", "w"], repo) == ["worker", "web"]
    # From a subdirectory, promoter.yaml is found upwards, as commands find it.
    deep = repo / "apps" / "api"
    assert _complete(["promoter", "plan", "--from", "st"], deep) == ["staging"]
    # Outside any environment repository there is nothing to offer, and no error.
    assert _complete(["promoter", "plan", "--from", ""], tmp_path) == []


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_completion_scripts_for_zsh_and_fish(shell: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "promoter", "completion", shell],
        env=_environ(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "_PROMOTER_COMPLETE" in proc.stdout
    binary = shutil.which(shell)
    if binary:  # a syntax check where the shell is installed
        script = tmp_path / f"promoter.{shell}"
        script.write_text(proc.stdout)
        check = subprocess.run([binary, "-n", str(script)], capture_output=True, check=False)
        assert check.returncode == 0, check.stderr


def test_verbose_says_what_it_is_doing(remote: Remote) -> None:
    # Real processes: a log level is process state.
    for args in (("-v", "status"), ("status", "-v")):
        result = run_process(*args, "--repo-url", remote.url)
        assert result.returncode == 0, result.stderr
        assert f"promoter.git: git clone {remote.url}" in result.stderr
        assert "promoter.git: git fetch origin +refs/heads/main" in result.stderr
    quiet = run_process("status", "--repo-url", remote.url)
    assert quiet.returncode == 0 and "promoter.git:" not in quiet.stderr


def test_a_closed_pipe_ends_quietly_with_141() -> None:
    """`promoter … | head -1` when the output is longer than the pipe holds:
    no traceback, no "internal error", the SIGPIPE exit status."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "promoter", "completion", "bash"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environ(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before promoter writes
    err = proc.stderr.read()
    assert proc.wait(timeout=30) == 141
    assert err == b""


def test_help_lists_every_command_without_importing_it() -> None:
    """`promoter --help` reads COMMAND_HELP instead of importing twenty
    command modules; the table must say what the commands say."""
    import click

    from promoter.cli import COMMAND_HELP, COMMANDS, cli

    assert set(COMMAND_HELP) == set(COMMANDS)
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        for limit in (45, 60, 10_000):
            shown = click.Command(name, help=COMMAND_HELP[name]).get_short_help_str(limit)
            assert shown == command.get_short_help_str(limit), name
