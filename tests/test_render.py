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
    deployment, secret = render(EXAMPLE / "apps/web/overlays/dev")
    assert deployment.kind == "Deployment" and deployment.name == "web"
    # The example's SOPS-encrypted Secret, decrypted with its test key.
    assert (secret.kind, secret.name) == ("Secret", "web-session")
    assert secret.body["stringData"] == {"session-key": "example-only-not-a-real-secret"}


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
    assert list(changes) == ["/Secret/app/db", "apps/Deployment/app/api"]
    # A changed Secret value is said to have changed, never shown.
    assert "-  password: '*****'" in changes["/Secret/app/db"]
    assert "+  password: '***** (changed)'" in changes["/Secret/app/db"]
    assert "-      - image: x/api:1.0" in changes["apps/Deployment/app/api"]
    assert "+      - image: x/api:1.1" in changes["apps/Deployment/app/api"]
    text = "".join(changes.values())
    assert "hunter2" not in text and "s3cr3t!" not in text


def test_added_secret_shows_keys_not_values(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {token: c2VjcmV0}\n"
    )
    (change,) = diff([], render(tmp_path)).values()
    assert "token: '*****'" in change and "c2VjcmV0" not in change


def test_broken_kustomization_is_a_render_error(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(RenderError, match="kustomize failed"):
        render(tmp_path)


def test_promoter_render_masks_secret_values_unless_asked(run, tmp_path: Path) -> None:
    import base64
    import json
    import shutil

    canary = "canary-7f3a9c-do-not-print"
    repo = tmp_path / "env"
    shutil.copytree(EXAMPLE, repo)
    encoded = base64.b64encode(canary.encode()).decode()
    (repo / "apps/web/overlays/dev/secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: web-creds}\n"
        f"data: {{token: {encoded}}}\nstringData: {{password: {canary}}}\n"
    )
    base = ("render", "--env", "dev", "--repo", str(repo))

    shown = run(*base)
    as_json = run(*base, "-o", "json")
    revealed = run(*base, "--show-secrets")

    assert shown.exit_code == 0, shown.output
    for out in (shown.output, as_json.output):
        assert canary not in out and encoded not in out
    assert "token: '*****'" in shown.output and "password: '*****'" in shown.output
    (secret,) = [o for o in json.loads(as_json.stdout) if o["metadata"]["name"] == "web-creds"]
    assert secret["data"] == {"token": "*****"} and secret["stringData"] == {"password": "*****"}
    assert secret["metadata"]["name"] == "web-creds"  # the rest as rendered
    assert revealed.exit_code == 0 and canary in revealed.output and encoded in revealed.output
