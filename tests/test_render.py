from __future__ import annotations

from pathlib import Path

import pytest

from promoter.adapters.render.renderer import render
from promoter.core.objects import RenderError, diff
from tests.conftest import EXAMPLE


def test_kustomize_overlay_renders_with_the_overlay_image() -> None:
    (deployment,) = render(EXAMPLE / "apps/api/overlays/dev")
    assert deployment.key == "apps/Deployment//api"
    containers = deployment.body["spec"]["template"]["spec"]["containers"]
    assert containers[0]["image"] == "ghcr.io/acme/api:1.0.0"


def test_plain_manifest_directory() -> None:
    (deployment,) = render(EXAMPLE / "apps/web/overlays/dev")
    assert deployment.kind == "Deployment" and deployment.name == "web"


def test_diff_shows_only_changed_objects_with_secrets_masked(tmp_path: Path) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    for root, tag, password in ((before, "1.0", "hunter2"), (after, "1.1", "s3cr3t!")):
        root.mkdir()
        (root / "all.yaml").write_text(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\n"
            f"stringData: {{password: {password}}}\n---\n"
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same}\ndata: {a: b}\n---\n"
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: app}\n"
            f"spec: {{template: {{spec: {{containers: [{{name: api, image: 'x/api:{tag}'}}]}}}}}}\n"
        )
    changes = diff(render(before), render(after))
    assert list(changes) == ["apps/Deployment/app/api"]  # the Secret's masked form is unchanged
    assert "-      - image: x/api:1.0" in changes["apps/Deployment/app/api"]
    assert "+      - image: x/api:1.1" in changes["apps/Deployment/app/api"]
    text = "".join(changes.values())
    assert "hunter2" not in text and "s3cr3t!" not in text


def test_added_secret_shows_keys_not_values(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {token: c2VjcmV0}\n"
    )
    (change,) = diff([], render(tmp_path)).values()
    assert "token: '***'" in change and "c2VjcmV0" not in change


def test_broken_kustomization_is_a_render_error(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(RenderError, match="kustomize failed"):
        render(tmp_path)
