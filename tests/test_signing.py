"""Signed commits: PROMOTER_SIGNING_KEY signs every commit promoter makes
with an SSH key or a GPG key (both generated here), `git verify-commit`
says good; without it commits are unsigned; a key that cannot sign is exit
2 before anything is cloned or pushed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, Remote, git, make_remote

EMAIL = "promoter@users.noreply.invalid"
BUMP = ("bump", "--env", "dev", "--service", "api", "--tag", "1.4.2")


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return make_remote(tmp_path, EXAMPLE)


def ssh_key(directory: Path, passphrase: str = "") -> Path:
    key = directory / "signing_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "ci", "-f", str(key)],
        check=True,
    )
    return key


@pytest.fixture
def gnupg() -> Iterator[tuple[Path, str]]:
    """A keyring with one signing key (short path: gpg-agent's socket lives there)."""
    home = Path(tempfile.mkdtemp(prefix="gpg", dir="/tmp"))
    home.chmod(0o700)
    env = {"GNUPGHOME": str(home)}
    generate = ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"promoter <{EMAIL}>"]
    subprocess.run([*generate, "ed25519", "sign", "never"], check=True, env=env)
    listing = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-secret-keys"],
        check=True, capture_output=True, text=True, env=env,
    ).stdout  # fmt: skip
    fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line[:4] == "fpr:")
    try:
        yield home, fingerprint
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False)
        shutil.rmtree(home, ignore_errors=True)


def clone(remote: Remote, tmp_path: Path, name: str = "check") -> Path:
    work = tmp_path / name
    git("clone", "--quiet", "--no-single-branch", remote.url, str(work), cwd=tmp_path)
    return work


def verify(work: Path, rev: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(work), **env}
    argv = ["git", "verify-commit", "--raw", rev]
    return subprocess.run(argv, cwd=work, capture_output=True, text=True, env=clean)


def test_an_ssh_key_signs_the_bump(run, remote: Remote, tmp_path: Path) -> None:
    key = ssh_key(tmp_path)
    result = run(*BUMP, "--repo-url", remote.url, env={"PROMOTER_SIGNING_KEY": str(key)})
    assert result.exit_code == 0, result.output

    work = clone(remote, tmp_path)
    signers = tmp_path / "allowed_signers"
    signers.write_text(f'{EMAIL} namespaces="git" {key.with_suffix(".pub").read_text()}')
    git("config", "gpg.ssh.allowedSignersFile", str(signers), cwd=work)
    checked = verify(work, "HEAD")
    assert checked.returncode == 0, checked.stderr
    assert f'Good "git" signature for {EMAIL} with ED25519 key' in checked.stderr
    assert git("log", "-1", "--format=%G?", cwd=work) == "G"


def test_a_gpg_key_signs_the_promotion_branch(run, remote: Remote, tmp_path: Path, gnupg) -> None:
    home, fingerprint = gnupg
    signed = {"PROMOTER_SIGNING_KEY": f"gpg:{fingerprint}", "GNUPGHOME": str(home)}
    assert run(*BUMP, "--repo-url", remote.url).exit_code == 0  # unsigned: no key set
    promoted = run("promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging",
                   "--all", "--forge", "none", env=signed)  # fmt: skip
    assert promoted.exit_code == 0, promoted.output

    work = clone(remote, tmp_path)
    checked = verify(work, "origin/promoter/staging/api", GNUPGHOME=str(home))
    assert checked.returncode == 0, checked.stderr
    assert f"[GNUPG:] VALIDSIG {fingerprint}" in checked.stdout + checked.stderr
    unsigned = verify(work, "origin/main", GNUPGHOME=str(home))
    assert unsigned.returncode != 0  # the bump made without a key
    assert git("log", "-1", "--format=%G?", "origin/main", cwd=work) == "N"


def test_the_users_own_signing_config_does_not_sign_without_the_variable(
    run, remote: Remote, tmp_path: Path
) -> None:
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[commit]\n\tgpgSign = true\n[user]\n\tsigningKey = NOPE\n")
    result = run(*BUMP, "--repo-url", remote.url, env={"GIT_CONFIG_GLOBAL": str(gitconfig)})
    assert result.exit_code == 0, result.output
    assert git("log", "-1", "--format=%G?", cwd=clone(remote, tmp_path)) == "N"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{tmp}/missing_key", "is not a file (an SSH private key)"),
        ("{tmp}/not_a_key", "cannot use {tmp}/not_a_key as an SSH signing key"),
        ("{protected}", "cannot use {protected} as an SSH signing key"),
        ("gpg:0123456789ABCDEF", "gpg has no secret key 0123456789ABCDEF"),
        ("gpg:", "does not name a key"),
    ],
)
def test_a_key_that_cannot_sign_is_exit_2_before_any_push(
    run, remote: Remote, tmp_path: Path, value: str, message: str
) -> None:
    (tmp_path / "not_a_key").write_text("hello\n")
    protected = ssh_key(tmp_path, passphrase="s3cret-phrase")
    fill = {"tmp": str(tmp_path), "protected": str(protected)}
    before = remote.head()
    env = {"PROMOTER_SIGNING_KEY": value.format(**fill), "GNUPGHOME": str(tmp_path / "empty")}
    for args in ((*BUMP, "--repo-url", remote.url),
                 ("promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging",
                  "--all", "--forge", "none")):  # fmt: skip
        result = run(*args, env=env)
        assert result.exit_code == 2, result.output
        assert message.format(**fill) in result.stderr
        assert "PROMOTER_SIGNING_KEY to an SSH private key file" in result.stderr
    assert remote.head() == before
    assert git("for-each-ref", "--format=%(refname)", cwd=remote.path) == "refs/heads/main"
