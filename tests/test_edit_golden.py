"""Byte-exact golden tests for the format-preserving editors.

Each case is a directory `tests/golden/<kind>/<case>/` holding the input file
(under the name that decides how it is read: `kustomization.yaml`,
`compose.yaml`, `values.yaml`, ...), `expected.yaml` — written by hand, never
produced by running the editor — and `case.json` saying what to edit:
service, repository, tag, digest, image_policy, helm_keys, filename, plus the
reference count and the lines of the changed references.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promoter.core.edit import HelmKeys, Target, edit_text

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.parent for p in GOLDEN.glob("*/*/case.json"))


def read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as f:  # newline="": CRLF survives
        return f.read()


def load_case(directory: Path) -> tuple[dict[str, Any], Target]:
    case = json.loads(read(directory / "case.json"))
    keys = case.get("helm_keys")
    target = Target(
        service=case["service"],
        repository=case["repository"],
        image_policy=case.get("image_policy"),
        helm_keys=HelmKeys(**keys) if keys else None,
    )
    return case, target


def test_there_are_cases_of_every_kind() -> None:
    kinds = {p.parent.name for p in CASES}
    assert kinds >= {"kustomize", "manifests", "helm", "compose", "setters"}
    assert len(CASES) >= 40


@pytest.mark.parametrize("directory", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden(directory: Path) -> None:
    case, target = load_case(directory)
    original = read(directory / case["filename"])
    expected = read(directory / "expected.yaml")

    result = edit_text(original, case["filename"], target, case["tag"], case["digest"])

    assert result.text == expected  # byte for byte
    assert result.references == case["references"]
    assert [c.line for c in result.changes] == case["changed_lines"]
    assert result.changed == (expected != original)


@pytest.mark.parametrize("directory", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_is_idempotent(directory: Path) -> None:
    """Editing the expected output again changes nothing (a re-run bump is a no-op)."""
    case, target = load_case(directory)
    expected = read(directory / "expected.yaml")

    again = edit_text(expected, case["filename"], target, case["tag"], case["digest"])

    assert again.text == expected
    assert not again.changed
    assert again.references == case["references"]
