"""Editing a SOPS-encrypted file: an image in a value SOPS left readable
(`encrypted_regex: ^(data|stringData)$` leaves a Deployment's image so) can
be changed by text, but the file's MAC covers every value, so the result
would be a file SOPS refuses. With the SOPS engine and a key that opens the
file, each changed value is written with `sops set` instead (SOPS
recomputes the MAC; the other ciphertexts stay as they are), and the result
is decrypted once to prove it; without them the edit is refused, nothing
written.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import yaml

from promoter.adapters.render.sops import engine_or_none, sops_env, sops_reason
from promoter.adapters.scratch import scratch_dir
from promoter.errors import EditError

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Key = str | int


def sops_set_edit(path: Path, rel: str, old_text: str, new_text: str) -> str:
    """The text `sops set` makes of `old_text` with the values that differ
    in `new_text` (the text edit); EditError (exit 2) when it cannot."""
    changes = _changed_scalars(old_text, new_text)
    if any(doc != 0 for doc, _, _ in changes):
        _refuse(
            rel,
            "the image is in a later YAML document of the file, which `sops set` cannot address",
        )
    binary = engine_or_none()
    if binary is None:
        _refuse(rel, "the SOPS engine is not installed (pip install 'promoter[sops]')")
    env = {**os.environ, **sops_env()}
    with scratch_dir("promoter-sops-edit-") as tmp:
        work = Path(tmp) / path.name  # the same name: SOPS picks the format by it
        work.write_text(old_text, encoding="utf-8")
        for _, keys, value in changes:
            where = "".join(f"[{json.dumps(k)}]" for k in keys)
            done = _run([binary, "--disable-version-check", "set", str(work), where,
                         json.dumps(value)], env)  # fmt: skip
            if done.returncode != 0:
                why = sops_reason(done.stderr)
                _refuse(rel, f"`sops set` failed (no key that opens it?): {why}")
        proved = _run([binary, "--disable-version-check", "decrypt", str(work)], env)
        if proved.returncode != 0:
            _refuse(rel, f"SOPS could not decrypt the result: {sops_reason(proved.stderr)}")
        return work.read_text(encoding="utf-8")


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _refuse(rel: str, why: str) -> NoReturn:
    raise EditError(
        f"{rel} is SOPS-encrypted and cannot be changed: {why}; nothing was written",
        hint="give promoter the SOPS engine and a key the file is encrypted for (it then "
        "uses `sops set`), or keep the image in an unencrypted file (kustomize `images:`, "
        "a values file of its own)",
    )


def _changed_scalars(old: str, new: str) -> list[tuple[int, list[Key], str]]:
    """(document, path, new value) of every scalar the text edit changed
    (splices change scalar values only, so both trees have one shape)."""
    out: list[tuple[int, list[Key], str]] = []
    pairs = zip(
        yaml.compose_all(old, Loader=_LOADER), yaml.compose_all(new, Loader=_LOADER), strict=True
    )
    for doc, (a, b) in enumerate(pairs):
        _walk(a, b, [], doc, out)
    return out


def _walk(a: Any, b: Any, keys: list[Key], doc: int, out: list[tuple[int, list[Key], str]]) -> None:
    if isinstance(a, yaml.MappingNode):
        for (key, left), (_, right) in zip(a.value, b.value, strict=True):
            _walk(left, right, [*keys, str(key.value)], doc, out)
    elif isinstance(a, yaml.SequenceNode):
        for index, (left, right) in enumerate(zip(a.value, b.value, strict=True)):
            _walk(left, right, [*keys, index], doc, out)
    elif isinstance(a, yaml.ScalarNode) and a.value != b.value:
        out.append((doc, keys, str(b.value)))
