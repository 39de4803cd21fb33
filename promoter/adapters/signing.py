"""Signed commits: `PROMOTER_SIGNING_KEY` names the key every commit
promoter makes is signed with — a path to an SSH private key (git's
`gpg.format=ssh`) or `gpg:KEYID` (OpenPGP through gpg). Unset, commits are
unsigned, whatever the user's own git config says.

The key is tried before anything is cloned, so a key that cannot sign is an
input error (exit 2) and never a half-done push.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from promoter.errors import InputError

VARIABLE = "PROMOTER_SIGNING_KEY"
_HINT = (
    f"set {VARIABLE} to an SSH private key file (no passphrase: the CI's secret) "
    "or to gpg:KEYID of a secret key in gpg's keyring; unset it for unsigned commits"
)


def signing_config(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The `git -c` options that sign a commit; () when no key is set.
    InputError when the key cannot be used."""
    value = (environ.get(VARIABLE) or "").strip()
    if not value:
        return ()
    if value.startswith("gpg:"):
        return _gpg(value.removeprefix("gpg:").strip(), environ)
    return _ssh(Path(os.path.expanduser(value)), environ)


def _ssh(key: Path, environ: Mapping[str, str]) -> tuple[str, ...]:
    if not key.is_file():
        raise InputError(f"{VARIABLE}: {key} is not a file (an SSH private key)", hint=_HINT)
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        raise InputError(
            f"{VARIABLE}: signing with an SSH key needs ssh-keygen, which is not installed",
            hint="install OpenSSH's client (Debian: openssh-client)",
        )
    # -y derives the public key: it fails on a passphrase or a non-key file,
    # which git's own `ssh-keygen -Y sign` would only hit at the first commit.
    done = _quiet([keygen, "-y", "-P", "", "-f", str(key)], environ)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["not a usable key"])[-1]
        raise InputError(f"{VARIABLE}: cannot use {key} as an SSH signing key: {why}", hint=_HINT)
    return (
        "-c", "gpg.format=ssh",
        "-c", f"gpg.ssh.program={keygen}",
        "-c", f"user.signingKey={key.resolve()}",
        "-c", "commit.gpgSign=true",
    )  # fmt: skip


def _gpg(key_id: str, environ: Mapping[str, str]) -> tuple[str, ...]:
    if not key_id or any(c.isspace() for c in key_id):
        raise InputError(f"{VARIABLE}: gpg:{key_id!r} does not name a key", hint=_HINT)
    gpg = shutil.which("gpg")
    if gpg is None:
        raise InputError(
            f"{VARIABLE}: signing with gpg:{key_id} needs gpg, which is not installed",
            hint="install GnuPG (Debian: gnupg)",
        )
    done = _quiet([gpg, "--batch", "--with-colons", "--list-secret-keys", key_id], environ)
    if done.returncode != 0 or "\nsec:" not in "\n" + done.stdout:
        raise InputError(
            f"{VARIABLE}: gpg has no secret key {key_id} (GNUPGHOME "
            f"{environ.get('GNUPGHOME') or '~/.gnupg'})",
            hint=_HINT,
        )
    return (
        "-c", "gpg.format=openpgp",
        "-c", f"gpg.program={gpg}",
        "-c", f"user.signingKey={key_id}",
        "-c", "commit.gpgSign=true",
    )  # fmt: skip


def _quiet(argv: list[str], environ: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env={**os.environ, **environ},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
