"""Fuzzing what a hostile repository can hold (issue 14): overlay and config
documents stitched from fragments that break YAML and its readers in known
ways (duplicate keys, aliases and recursion, tabs, flow collections left
open, odd scalars, stray bytes). Every outcome is success with a minimal
diff, or exit 2 with nothing written — never an internal error."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLE

OVERLAY = "apps/api/overlays/dev/kustomization.yaml"
FRAGMENTS = [
    "resources: [../../base]",
    "images:",
    "  - name: ghcr.io/acme/api",
    "    newTag: 1.0.0",
    "    newTag: 2.0.0",
    "    digest: sha256:" + "a" * 64,
    "  - name: ghcr.io/acme/api",
    "    newName: ghcr.io/acme/other",
    "images: &imgs",
    "extra: *imgs",
    "loop: &l [*l]",
    "bomb: &b [*b, *b]",
    "\tnewTag: 3.0.0",
    "images: [",
    "images: {",
    "- name: x",
    "newTag: !!binary aGVsbG8=",
    "newTag: 0x1F",
    "newTag: ~",
    "? complex key",
    ": value",
    "---",
    "...",
    "%YAML 1.2",
    '# {"$promoter": "api:tag"}',
    "key: 'unterminated",
    "ключ: значение",
    "",
]
CONFIG_FRAGMENTS = [
    "version: 1",
    "version: 1",
    "environments:",
    "  - name: dev",
    "  - name: dev",
    "  - name: prod",
    "    from: dev",
    "    from: nowhere",
    "services:",
    "  - name: api",
    "    image: ghcr.io/acme/api",
    "    path: apps/api/overlays/{env}",
    "    path: ../../etc",
    "    render: {helm: {chart: charts/x}}",
    "    render: kustomize",
    "    applier: {argocd: {}}",
    "defaults: &d {path: x}",
    "other: *d",
    "loop: &l [*l]",
    "\t- tab",
    "[",
    "",
]


def _lines(pool: list[str]) -> st.SearchStrategy[str]:
    return (
        st.lists(st.sampled_from(pool), min_size=1, max_size=14)
        .map("\n".join)
        .flatmap(
            lambda text: st.sampled_from([text + "\n", text, text + "\x00", text + "\n\ufeff"])
        )
    )


def _repo(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("fuzz") / "env"
    shutil.copytree(EXAMPLE, root)
    return root


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_lines(FRAGMENTS))
def test_an_overlay_edits_minimally_or_is_refused_cleanly(run, tmp_path_factory, text) -> None:
    root = _repo(tmp_path_factory)
    path = root / OVERLAY
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    before = path.read_bytes()
    result = run(
        "set-image", "--repo", str(root), "--env", "dev", "--service", "api", "--tag", "9.9.9"
    )
    assert result.exit_code in (0, 2), (text, result.output)
    after = path.read_bytes()
    if result.exit_code == 2:
        assert after == before, text
        assert "internal error" not in result.output
        return
    changed = [
        line
        for line in difflib.ndiff(before.decode().splitlines(), after.decode().splitlines())
        if line.startswith(("+ ", "- "))
    ]
    added = [line[2:] for line in changed if line.startswith("+ ")]
    # The tag line changes; a kustomization without the image gets the
    # usual `images:` entry for it. Nothing else moves.
    block = {"images:", "- name: ghcr.io/acme/api"}
    assert all("9.9.9" in line or line.strip() in block for line in added), changed
    assert any("9.9.9" in line for line in added) and len(added) <= 4, changed
    assert all(
        "newTag" in line or "digest" in line or "images" in line
        for line in changed
        if line.startswith("- ")
    ), changed


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_lines(CONFIG_FRAGMENTS))
def test_a_config_validates_or_is_refused_cleanly(run, tmp_path_factory, text) -> None:
    root = _repo(tmp_path_factory)
    (root / "promoter.yaml").write_text(text, encoding="utf-8", errors="surrogateescape")
    for args in (("config", "validate"), ("status",)):
        result = run(*args, "--repo", str(root))
        assert result.exit_code in (0, 1, 2), (args, text, result.output)
        assert "internal error" not in result.output, (args, text, result.output)
