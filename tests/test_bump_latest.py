"""`bump --latest`: the tag comes from a real OCI registry on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Remote, make_remote
from tests.registry_server import RegistryServer, push_image, start_registry, stop_registry

TAGS = ["1.2.0", "1.3.0", "1.10.0-rc.1", "2.0.0", "latest", "main-20260101-abc1234"]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RegistryServer, dict]]:
    server = start_registry(tmp_path_factory.mktemp("registry"))
    digests = {tag: push_image(server.url, server.auth, "acme/api", tag) for tag in TAGS}
    yield server, digests
    stop_registry(server)


@pytest.fixture
def remote(tmp_path: Path, registry) -> Remote:
    server, _ = registry
    source = tmp_path / "src"
    (source / "dev").mkdir(parents=True)
    (source / "promoter.yaml").write_text(
        "version: 1\nenvironments:\n  - name: dev\ndefaults:\n  path: '{env}/{service}.yaml'\n"
        f"services:\n  - name: api\n    image: {server.host}/acme/api\n"
    )
    (source / "dev" / "api.yaml").write_text(f"image: {server.host}/acme/api:1.0.0\n")
    return make_remote(tmp_path, source)


def _creds(registry) -> dict[str, str]:
    server, _ = registry
    return {
        "PROMOTER_REGISTRY_USERNAME": server.username,
        "PROMOTER_REGISTRY_PASSWORD": server.password,
    }


def _bump(run, remote: Remote, registry, *args: str):
    return run(
        "bump",
        "--repo-url",
        remote.url,
        "--env",
        "dev",
        "--service",
        "api",
        "--latest",
        *args,
        "-o",
        "json",
        env=_creds(registry),
    )


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^1", "1.3.0"),  # 1.10.0-rc.1 is a pre-release: excluded
        (">=1.2 <2", "1.3.0"),
        (">=1.10.0-rc.0 <2", "1.10.0-rc.1"),  # the range names a pre-release
        ("*", "2.0.0"),
    ],
)
def test_latest_matching_tag_is_committed(run, remote, registry, constraint, expected) -> None:
    server, _ = registry
    result = _bump(run, remote, registry, "--constraint", constraint)
    assert result.exit_code == 0, result.output
    assert remote.show("dev/api.yaml") == f"image: {server.host}/acme/api:{expected}\n"


def test_pattern_extract_numeric(run, remote, registry) -> None:
    result = _bump(
        run,
        remote,
        registry,
        "--pattern",
        r"^main-(?P<ts>\d+)-[a-f0-9]+$",
        "--extract",
        "$ts",
        "--order",
        "numeric",
    )
    assert result.exit_code == 0, result.output
    assert remote.show("dev/api.yaml").endswith("/acme/api:main-20260101-abc1234\n")


def test_resolve_digest_pins_the_pushed_manifest(run, remote, registry) -> None:
    server, digests = registry
    result = _bump(run, remote, registry, "--constraint", "~1.2", "--resolve-digest")
    assert result.exit_code == 0, result.output
    expected = f"{server.host}/acme/api:1.2.0@{digests['1.2.0']}"
    assert json.loads(result.stdout)["changed"][0]["new"] == expected
    assert remote.show("dev/api.yaml") == f"image: {expected}\n"


def test_nothing_matches_is_exit_2_and_no_commit(run, remote, registry) -> None:
    result = _bump(run, remote, registry, "--constraint", "^9")
    assert result.exit_code == 2
    assert "none of the 6 tags" in result.stderr and "^9" in result.stderr
    assert remote.count() == 1


def test_wrong_registry_password_is_exit_7_and_masked(run, remote, registry) -> None:
    server, _ = registry
    result = run(
        "bump",
        "--repo-url",
        remote.url,
        "--env",
        "dev",
        "--service",
        "api",
        "--latest",
        env={
            "PROMOTER_REGISTRY_USERNAME": server.username,
            "PROMOTER_REGISTRY_PASSWORD": "wrong-password-123",
        },
    )
    assert result.exit_code == 7, result.output
    assert "wrong-password-123" not in result.output
    assert remote.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--constraint", "^1.2 ||"], "constraint"),
        (["--pattern", "(unclosed"], "pattern"),
        (["--pattern", "x", "--extract", "$2"], "group"),
    ],
)
def test_bad_selection_options_fail_before_any_network(run, args, message) -> None:
    result = run(
        "bump",
        "--repo-url",
        "file:///nonexistent.git",
        "--env",
        "dev",
        "--service",
        "api",
        "--latest",
        *args,
    )
    assert result.exit_code == 2, result.output
    assert message in result.stderr.lower()


def test_latest_with_a_tag_is_refused(run) -> None:
    result = run(
        "bump",
        "--repo-url",
        "file:///nonexistent.git",
        "--env",
        "dev",
        "--service",
        "api",
        "--latest",
        "--tag",
        "1.0",
    )
    assert result.exit_code == 2 and "--latest picks the tag" in result.stderr
