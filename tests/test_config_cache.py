from __future__ import annotations

from pathlib import Path

import pytest

from promoter.core.config import cache as config_cache
from promoter.core.config.loader import load_config


def _big_repo(root: Path, services: int = 1500) -> Path:
    lines = [
        "version: 1",
        "environments:",
        "  - name: dev",
        "  - name: prod",
        "    from: dev",
        "    reviewers: [alice]",
        "forge: {type: github, repository: acme/env}",
        "defaults:",
        "  path: apps/{service}/{env}",
        "services:",
    ]
    for i in range(services):
        lines += [f"  - name: svc{i:04d}", f"    image: ghcr.io/acme/svc{i:04d}"]
    lines += [
        "  - name: odd",
        "    image: ghcr.io/acme/odd",
        "    paths: {prod: special/odd.yaml}",
        "    keys: {tag: app.version}",
        "    imagePolicy: flux-system:odd",
    ]
    root.mkdir(parents=True, exist_ok=True)
    (root / "promoter.yaml").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("PROMOTER_CACHE_DIR", str(directory))
    monkeypatch.delenv("PROMOTER_NO_CACHE", raising=False)
    return directory


def test_cached_config_equals_a_fresh_parse(cache: Path, tmp_path: Path, monkeypatch) -> None:
    repo = _big_repo(tmp_path / "repo")
    first = load_config(repo)
    assert len(list(cache.glob("config-*.jsonl"))) == 1
    second = load_config(repo)  # from the cache
    monkeypatch.setenv("PROMOTER_NO_CACHE", "1")
    fresh = load_config(repo)
    assert first == second == fresh
    odd = second.service("odd")
    assert dict(odd.paths) == {"prod": "special/odd.yaml"}
    assert odd.keys is not None and odd.keys.tag == "app.version"
    assert second.environment("prod").reviewers == ("alice",)
    assert second.forge is not None and second.forge.repository == "acme/env"


def test_changed_file_is_parsed_again(cache: Path, tmp_path: Path) -> None:
    repo = _big_repo(tmp_path / "repo")
    load_config(repo)
    config = repo / "promoter.yaml"
    config.write_text(config.read_text().replace("svc0001", "renamed"))
    assert load_config(repo).services[1].name == "renamed"


def test_corrupt_cache_entry_is_ignored(cache: Path, tmp_path: Path) -> None:
    repo = _big_repo(tmp_path / "repo")
    expected = load_config(repo)
    (entry,) = cache.glob("config-*.jsonl")
    entry.write_text('{"version": 1, "environments": "nonsense"')
    assert load_config(repo) == expected


def test_small_files_and_no_cache_write_nothing(cache: Path, tmp_path: Path, monkeypatch) -> None:
    small = _big_repo(tmp_path / "small", services=3)
    load_config(small)
    assert not cache.exists()
    monkeypatch.setenv("PROMOTER_NO_CACHE", "1")
    load_config(_big_repo(tmp_path / "big"))
    assert not cache.exists()


def test_cache_entries_are_json_not_code(cache: Path, tmp_path: Path) -> None:
    load_config(_big_repo(tmp_path / "repo"))
    (entry,) = cache.glob("config-*.jsonl")
    assert entry.read_text().startswith("{") and "\n{" in entry.read_text()
    assert (tmp_path / "repo" / "promoter.yaml").stat().st_size >= config_cache.MIN_CACHED_BYTES


def test_a_named_service_loads_alone_from_a_warm_cache(cache: Path, tmp_path: Path) -> None:
    repo = _big_repo(tmp_path / "repo")
    full = load_config(repo)
    one = load_config(repo, services=["odd"])
    assert one.services == (full.service("odd"),)
    assert one.environments == full.environments and one.forge == full.forge
    by_image = load_config(repo, images=["ghcr.io/acme/svc0042"])
    assert [s.name for s in by_image.services] == ["svc0042"]


def test_a_name_the_cache_lacks_gets_the_full_config(cache: Path, tmp_path: Path) -> None:
    repo = _big_repo(tmp_path / "repo")
    load_config(repo)
    # The caller's "unknown service" message must list the real services.
    assert len(load_config(repo, services=["nope"]).services) == 1501
    assert len(load_config(repo, images=["ghcr.io/acme/none"]).services) == 1501
