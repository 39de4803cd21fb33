"""The registry client against a real registry, and against fakes shaped like
Docker Hub and GHCR for what a loopback registry cannot show (Bearer tokens,
HTTPS, retries)."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from promoter.adapters import registry as registry_api
from promoter.adapters.registry import MANIFEST_MEDIA_TYPES, RegistryClient
from promoter.adapters.registry.hosts import scheme_for
from promoter.core import masking
from promoter.core.images import ImageRef, parse_reference
from promoter.errors import ExitCode, ImageRefError, RegistryError
from tests.registry_server import (
    RegistryServer,
    free_port,
    push_image,
    sha256_digest,
    start_registry,
    stop_registry,
)

PAGED_TAGS = ["t1", "t2", "t3", "t4", "t5"]
MISSING_DIGEST = "sha256:" + "0" * 64


class RecordingSession(requests.Session):
    """Remembers (method, url, status) of every request that got an answer."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, int]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        self.sent.append((request.method or "", request.url or "", response.status_code))
        return response


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    server = start_registry(tmp_path_factory.mktemp("registry"))
    yield server
    stop_registry(server)


@pytest.fixture(scope="session")
def pushed(registry: RegistryServer) -> dict[str, str]:
    """Digests by reference of what the session's registry holds."""
    digests = {
        f"{registry.host}/acme/api:1.0.0": push_image(
            registry.url, registry.auth, "acme/api", "1.0.0"
        )
    }
    for tag in PAGED_TAGS:
        digests[f"{registry.host}/acme/paged:{tag}"] = push_image(
            registry.url, registry.auth, "acme/paged", tag
        )
    return digests


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """No credentials anywhere: an empty HOME and a DOCKER_CONFIG with no file yet."""
    return {
        "HOME": str(tmp_path / "home"),
        "DOCKER_CONFIG": str(tmp_path / "docker"),
        "PATH": os.environ.get("PATH", ""),
    }


@pytest.fixture
def sleeps() -> list[float]:
    return []


MakeClient = Callable[..., RegistryClient]


@pytest.fixture
def make_client(
    base_env: dict[str, str], sleeps: list[float]
) -> Iterator[tuple[MakeClient, RecordingSession]]:
    session = RecordingSession()
    clients: list[RegistryClient] = []

    def make(env: dict[str, str] | None = None, **kwargs: Any) -> RegistryClient:
        client = RegistryClient(
            environ={**base_env, **(env or {})}, sleep=sleeps.append, session=session, **kwargs
        )
        clients.append(client)
        return client

    yield make, session
    for client in clients:
        client.close()


@pytest.fixture
def local(
    make_client: tuple[MakeClient, RecordingSession],
) -> Iterator[tuple[MakeClient, RecordingSession]]:
    """make_client for the loopback registry: afterwards, all traffic went to 127.0.0.1."""
    yield make_client
    hosts = {urlsplit(url).hostname for _, url, _ in make_client[1].sent}
    assert hosts <= {"127.0.0.1"}, hosts


def login_env(server: RegistryServer, password: str | None = None) -> dict[str, str]:
    return {
        "PROMOTER_REGISTRY_USERNAME": server.username,
        "PROMOTER_REGISTRY_PASSWORD": server.password if password is None else password,
    }


def write_docker_config(env: dict[str, str], config: dict[str, Any]) -> Path:
    path = Path(env["DOCKER_CONFIG"]) / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# ------------------------------------------------- against the real registry


def test_pushed_tag_exists(
    registry: RegistryServer, pushed: dict[str, str], local: tuple[MakeClient, RecordingSession]
) -> None:
    make, session = local
    client = make(login_env(registry))
    assert client.exists(parse_reference(f"{registry.host}/acme/api:1.0.0")) is True
    # Anonymous first, then the Basic challenge is answered once.
    assert [status for _, _, status in session.sent] == [401, 200]


def test_missing_tag_digest_and_repository_are_false(
    registry: RegistryServer, pushed: dict[str, str], local: tuple[MakeClient, RecordingSession]
) -> None:
    client = local[0](login_env(registry))
    assert client.exists(parse_reference(f"{registry.host}/acme/api:9.9.9")) is False
    assert client.exists(parse_reference(f"{registry.host}/acme/api@{MISSING_DIGEST}")) is False
    assert client.exists(parse_reference(f"{registry.host}/acme/nothing:1.0.0")) is False


def test_resolve_digest_is_the_digest_the_push_returned(
    registry: RegistryServer, pushed: dict[str, str], local: tuple[MakeClient, RecordingSession]
) -> None:
    client = local[0](login_env(registry))
    ref = parse_reference(f"{registry.host}/acme/api:1.0.0")
    digest = client.resolve_digest(ref)
    assert digest == pushed[str(ref)]
    by_digest = ImageRef(ref.repository, digest=digest)
    assert client.exists(by_digest) is True
    assert client.resolve_digest(by_digest) == digest
    # Each tag has its own manifest, so a mix-up between tags would show.
    other = client.resolve_digest(parse_reference(f"{registry.host}/acme/paged:t1"))
    assert other == pushed[f"{registry.host}/acme/paged:t1"] != digest


def test_resolve_digest_of_missing_tag_raises(
    registry: RegistryServer, pushed: dict[str, str], local: tuple[MakeClient, RecordingSession]
) -> None:
    client = local[0](login_env(registry))
    with pytest.raises(RegistryError, match=r"acme/api:9\.9\.9 not found on registry"):
        client.resolve_digest(parse_reference(f"{registry.host}/acme/api:9.9.9"))


def test_list_tags_asks_for_pages_and_gets_every_tag(
    registry: RegistryServer, pushed: dict[str, str], local: tuple[MakeClient, RecordingSession]
) -> None:
    make, session = local
    client = make(login_env(registry), page_size=2)
    # Sorted: distribution 2.8 answers in directory order.
    assert client.list_tags(f"{registry.host}/acme/paged") == PAGED_TAGS
    answered = [url for _, url, status in session.sent if status == 200]
    assert "n=2" in answered[0]
    # distribution 2.8 ignores `n` and sends no Link header (pagination came
    # in distribution 3), so one page holds all five; the Link-following is
    # shown against a paginating fake below.
    assert len(answered) == 1


def test_list_tags_of_unknown_repository_raises(
    registry: RegistryServer, pushed: dict[str, str], local: tuple[MakeClient, RecordingSession]
) -> None:
    client = local[0](login_env(registry))
    with pytest.raises(RegistryError, match="not found") as info:
        client.list_tags(f"{registry.host}/acme/nothing")
    assert "NAME_UNKNOWN" in str(info.value)
    assert info.value.exit_code == ExitCode.REGISTRY


@pytest.mark.parametrize("operation", ["exists", "resolve_digest", "list_tags"])
def test_wrong_password_is_a_credentials_error(
    registry: RegistryServer,
    pushed: dict[str, str],
    local: tuple[MakeClient, RecordingSession],
    operation: str,
) -> None:
    wrong = "not-the-password-" + registry.password[::-1]
    client = local[0](login_env(registry, password=wrong))
    ref = parse_reference(f"{registry.host}/acme/api:1.0.0")
    call: dict[str, Callable[[], object]] = {
        "exists": lambda: client.exists(ref),
        "resolve_digest": lambda: client.resolve_digest(ref),
        "list_tags": lambda: client.list_tags(ref.repository),
    }
    with pytest.raises(RegistryError) as info:
        call[operation]()
    message = str(info.value)
    assert info.value.exit_code == ExitCode.REGISTRY and int(info.value.exit_code) == 7
    assert registry.host in message
    assert "credentials" in message and "wrong" in message
    assert "PROMOTER_REGISTRY_USERNAME/PROMOTER_REGISTRY_PASSWORD" in message
    assert wrong not in message and registry.password not in message


def test_no_credentials_says_where_it_looked(
    registry: RegistryServer,
    pushed: dict[str, str],
    local: tuple[MakeClient, RecordingSession],
    base_env: dict[str, str],
) -> None:
    client = local[0]()
    with pytest.raises(RegistryError, match="credentials are missing") as info:
        client.exists(parse_reference(f"{registry.host}/acme/api:1.0.0"))
    assert str(Path(base_env["DOCKER_CONFIG"]) / "config.json") in str(info.value)


@pytest.mark.parametrize("key", ["{host}", "http://{host}", "http://{host}/v2/"])
def test_credentials_from_docker_config_auths(
    registry: RegistryServer,
    pushed: dict[str, str],
    local: tuple[MakeClient, RecordingSession],
    base_env: dict[str, str],
    key: str,
) -> None:
    entry = {"auth": b64(f"{registry.username}:{registry.password}")}
    write_docker_config(base_env, {"auths": {key.format(host=registry.host): entry}})
    client = local[0]()
    assert client.exists(parse_reference(f"{registry.host}/acme/api:1.0.0")) is True


def test_wrong_password_in_docker_config_names_the_file(
    registry: RegistryServer,
    pushed: dict[str, str],
    local: tuple[MakeClient, RecordingSession],
    base_env: dict[str, str],
) -> None:
    entry = {"auth": b64(f"{registry.username}:wrong-password-123")}
    path = write_docker_config(base_env, {"auths": {registry.host: entry}})
    with pytest.raises(RegistryError, match="credentials") as info:
        local[0]().exists(parse_reference(f"{registry.host}/acme/api:1.0.0"))
    assert f"{path} auths" in str(info.value)
    assert "wrong-password-123" not in str(info.value)


def fake_helper(bin_dir: Path, name: str, host: str, username: str, secret: str) -> Path:
    """A docker-credential-<name> that answers `get <host>` and logs each call."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    log = bin_dir / f"{name}.log"
    script = bin_dir / f"docker-credential-{name}"
    answer = json.dumps({"ServerURL": host, "Username": username, "Secret": secret})
    script.write_text(
        "#!/bin/sh\n"
        'server=$(cat)\necho "$1 $server" >> ' + str(log) + "\n"
        f'if [ "$1" = get ] && [ "$server" = "{host}" ]; then\n'
        f"  printf '%s' '{answer}'\n  exit 0\nfi\n"
        'echo "credentials not found in native keychain"\nexit 1\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return log


def test_credentials_from_a_credential_helper(
    registry: RegistryServer,
    pushed: dict[str, str],
    local: tuple[MakeClient, RecordingSession],
    base_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = fake_helper(tmp_path / "bin", "test", registry.host, registry.username, registry.password)
    # The docker package looks helpers up on the process's own PATH.
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    # A stale auths entry too: the helper must win, as in docker.
    stale = {"auth": b64(f"{registry.username}:stale-password")}
    write_docker_config(
        base_env, {"credHelpers": {registry.host: "test"}, "auths": {registry.host: stale}}
    )
    client = local[0]()
    assert client.list_tags(f"{registry.host}/acme/api") == ["1.0.0"]
    assert log.read_text().splitlines() == [f"get {registry.host}"]


def test_wrong_password_from_a_credential_helper_names_it(
    registry: RegistryServer,
    pushed: dict[str, str],
    local: tuple[MakeClient, RecordingSession],
    base_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_helper(tmp_path / "bin", "test", registry.host, registry.username, "helper-wrong-pw")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    write_docker_config(base_env, {"credsStore": "test"})
    with pytest.raises(RegistryError, match="credential helper docker-credential-test") as info:
        local[0]().exists(parse_reference(f"{registry.host}/acme/api:1.0.0"))
    assert "wrong" in str(info.value) and "helper-wrong-pw" not in str(info.value)


def test_missing_credential_helper_is_named(
    registry: RegistryServer,
    pushed: dict[str, str],
    local: tuple[MakeClient, RecordingSession],
    base_env: dict[str, str],
) -> None:
    write_docker_config(base_env, {"credHelpers": {registry.host: "absent-xyz"}})
    with pytest.raises(RegistryError, match="docker-credential-absent-xyz") as info:
        local[0]().exists(parse_reference(f"{registry.host}/acme/api:1.0.0"))
    assert info.value.hint is not None and "PATH" in info.value.hint


def test_unreadable_docker_config_is_reported(
    registry: RegistryServer,
    pushed: dict[str, str],
    local: tuple[MakeClient, RecordingSession],
    base_env: dict[str, str],
) -> None:
    path = Path(base_env["DOCKER_CONFIG"]) / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(RegistryError, match="cannot read Docker config"):
        local[0]().exists(parse_reference(f"{registry.host}/acme/api:1.0.0"))


@pytest.mark.parametrize("operation", ["exists", "resolve_digest", "list_tags"])
def test_registry_down_is_unreachable_not_false(
    local: tuple[MakeClient, RecordingSession], sleeps: list[float], operation: str
) -> None:
    host = f"127.0.0.1:{free_port()}"
    client = local[0]()
    ref = parse_reference(f"{host}/acme/api:1.0.0")
    call: dict[str, Callable[[], object]] = {
        "exists": lambda: client.exists(ref),
        "resolve_digest": lambda: client.resolve_digest(ref),
        "list_tags": lambda: client.list_tags(ref.repository),
    }
    with pytest.raises(RegistryError, match=f"registry {host} unreachable") as info:
        call[operation]()
    assert "Connection refused" in str(info.value)
    assert info.value.exit_code == ExitCode.REGISTRY
    assert sleeps == [0.5, 1.0, 2.0]  # bounded: 4 tries, doubling waits
    assert client.request_count == 4


def test_stopped_registry_is_unreachable(
    tmp_path: Path, local: tuple[MakeClient, RecordingSession]
) -> None:
    server = start_registry(tmp_path / "short-lived")
    client = local[0](login_env(server))
    ref = parse_reference(f"{server.host}/acme/api:1.0.0")
    assert client.exists(ref) is False  # up, answering
    stop_registry(server)
    with pytest.raises(RegistryError, match="unreachable"):
        client.exists(ref)


def test_module_functions_read_the_process_environment(
    registry: RegistryServer,
    pushed: dict[str, str],
    base_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {**base_env, **login_env(registry)}.items():
        monkeypatch.setenv(name, value)
    ref = parse_reference(f"{registry.host}/acme/api:1.0.0")
    assert registry_api.exists(ref) is True
    assert registry_api.resolve_digest(ref) == pushed[str(ref)]
    assert registry_api.list_tags(ref.repository) == ["1.0.0"]
    monkeypatch.setenv("PROMOTER_REGISTRY_PASSWORD", "wrong-wrong")
    with pytest.raises(RegistryError, match="credentials"):
        registry_api.exists(ref)


# ------------------------------------------- fakes shaped like public registries

GHCR_CHALLENGE = (
    'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/api:pull"'
)
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_bearer_token_flow_like_ghcr(
    rsps: responses.RequestsMock, make_client: tuple[MakeClient, RecordingSession]
) -> None:
    url = "https://ghcr.io/v2/acme/api/manifests/1.4.2"
    rsps.head(url, status=401, headers={"WWW-Authenticate": GHCR_CHALLENGE})
    rsps.get(
        "https://ghcr.io/token",
        json={"token": "ghcr-token-0123456789"},
        match=[
            matchers.query_param_matcher(
                {"scope": "repository:acme/api:pull", "service": "ghcr.io"}
            )
        ],
    )
    rsps.head(url, headers={"Docker-Content-Digest": DIGEST})
    client = make_client[0](
        {"PROMOTER_REGISTRY_USERNAME": "bot", "PROMOTER_REGISTRY_PASSWORD": "ghp_secret42"}
    )
    ref = parse_reference("ghcr.io/acme/api:1.4.2")
    assert client.resolve_digest(ref) == DIGEST
    first, token, retry = (call.request for call in rsps.calls)
    assert "Authorization" not in first.headers  # anonymous first
    assert token.headers["Authorization"] == "Basic " + b64("bot:ghp_secret42")
    assert retry.headers["Authorization"] == "Bearer ghcr-token-0123456789"
    assert set(str(retry.headers["Accept"]).split(", ")) == set(MANIFEST_MEDIA_TYPES)
    # The token is reused for the next request to the same repository...
    assert client.exists(ref) is True
    assert len(rsps.calls) == 4
    assert rsps.calls[3].request.headers["Authorization"] == "Bearer ghcr-token-0123456789"
    # ...and can never be printed.
    assert masking.mask("token ghcr-token-0123456789") == "token ***"


def test_docker_hub_names_and_anonymous_token(
    rsps: responses.RequestsMock, make_client: tuple[MakeClient, RecordingSession]
) -> None:
    url = "https://registry-1.docker.io/v2/library/nginx/tags/list"
    challenge = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/nginx:pull"'
    )
    rsps.get(url, status=401, headers={"WWW-Authenticate": challenge})
    rsps.get(
        "https://auth.docker.io/token",
        json={"token": "hub-token-abcdef", "access_token": "hub-token-abcdef"},
        match=[
            matchers.query_param_matcher(
                {"scope": "repository:library/nginx:pull", "service": "registry.docker.io"}
            )
        ],
    )
    rsps.get(url, json={"name": "library/nginx", "tags": ["1.27", "latest"]})
    assert make_client[0]().list_tags("nginx") == ["1.27", "latest"]
    assert "Authorization" not in rsps.calls[1].request.headers  # no credentials: anonymous
    assert rsps.calls[2].request.headers["Authorization"] == "Bearer hub-token-abcdef"
    assert parse_qs(urlsplit(rsps.calls[0].request.url or "").query) == {"n": ["100"]}


def test_challenge_without_scope_asks_for_repository_pull(
    rsps: responses.RequestsMock, make_client: tuple[MakeClient, RecordingSession]
) -> None:
    url = "https://registry.example.com/v2/team/app/manifests/2.0"
    challenge = 'Bearer realm="https://auth.example.com/token",service="registry.example.com"'
    rsps.head(url, status=401, headers={"WWW-Authenticate": challenge})
    rsps.get(
        "https://auth.example.com/token",
        json={"access_token": "oauth-style-token-1"},
        match=[
            matchers.query_param_matcher(
                {"scope": "repository:team/app:pull", "service": "registry.example.com"}
            )
        ],
    )
    rsps.head(url, status=404)
    client = make_client[0]()
    assert client.exists(parse_reference("registry.example.com/team/app:2.0")) is False


def test_token_endpoint_refusing_credentials(
    rsps: responses.RequestsMock, make_client: tuple[MakeClient, RecordingSession]
) -> None:
    url = "https://ghcr.io/v2/acme/api/manifests/1.4.2"
    rsps.head(url, status=401, headers={"WWW-Authenticate": GHCR_CHALLENGE})
    rsps.get("https://ghcr.io/token", status=401, json={"errors": [{"code": "UNAUTHORIZED"}]})
    env = {"PROMOTER_REGISTRY_USERNAME": "bot", "PROMOTER_REGISTRY_PASSWORD": "ghp_expired_77"}
    with pytest.raises(RegistryError, match=r"registry ghcr\.io refused") as info:
        make_client[0](env).exists(parse_reference("ghcr.io/acme/api:1.4.2"))
    assert "credentials for user 'bot'" in str(info.value)
    assert "ghp_expired_77" not in str(info.value)


def test_identity_token_is_an_oauth2_refresh_token(
    rsps: responses.RequestsMock,
    make_client: tuple[MakeClient, RecordingSession],
    base_env: dict[str, str],
) -> None:
    host = "acme.azurecr.io"
    url = f"https://{host}/v2/api/manifests/1.0"
    challenge = f'Bearer realm="https://{host}/oauth2/token",service="{host}"'
    write_docker_config(base_env, {"auths": {host: {"identitytoken": "refresh-token-xyz"}}})
    rsps.head(url, status=401, headers={"WWW-Authenticate": challenge})
    rsps.post(
        f"https://{host}/oauth2/token",
        json={"access_token": "acr-access-token"},
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": "refresh-token-xyz",
                    "client_id": "promoter",
                    "scope": "repository:api:pull",
                    "service": host,
                }
            )
        ],
    )
    rsps.head(url, headers={"Docker-Content-Digest": DIGEST})
    assert make_client[0]().exists(parse_reference(f"{host}/api:1.0")) is True
    assert rsps.calls[2].request.headers["Authorization"] == "Bearer acr-access-token"


def test_digest_from_body_when_header_is_missing(
    rsps: responses.RequestsMock, make_client: tuple[MakeClient, RecordingSession]
) -> None:
    url = "https://registry.example.com/v2/team/app/manifests/2.0"
    body = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}'
    rsps.head(url)
    rsps.get(url, body=body, content_type="application/vnd.oci.image.index.v1+json")
    digest = make_client[0]().resolve_digest(parse_reference("registry.example.com/team/app:2.0"))
    assert digest == sha256_digest(body)
    assert [call.request.method for call in rsps.calls] == ["HEAD", "GET"]
    for call in rsps.calls:
        assert set(str(call.request.headers["Accept"]).split(", ")) == set(MANIFEST_MEDIA_TYPES)


def test_5xx_and_429_are_retried_with_bounded_waits(
    rsps: responses.RequestsMock,
    make_client: tuple[MakeClient, RecordingSession],
    sleeps: list[float],
) -> None:
    url = "https://registry.example.com/v2/team/app/manifests/2.0"
    rsps.head(url, status=503)
    rsps.head(url, status=429, headers={"Retry-After": "2"})
    rsps.head(url, headers={"Docker-Content-Digest": DIGEST})
    assert make_client[0]().exists(parse_reference("registry.example.com/team/app:2.0"))
    assert sleeps == [0.5, 2.0]


def test_lasting_outage_is_an_error_not_false(
    rsps: responses.RequestsMock,
    make_client: tuple[MakeClient, RecordingSession],
    sleeps: list[float],
) -> None:
    url = "https://registry.example.com/v2/team/app/manifests/2.0"
    rsps.head(url, status=502)
    client = make_client[0]()
    with pytest.raises(RegistryError, match=r"registry registry\.example\.com failed: 502"):
        client.exists(parse_reference("registry.example.com/team/app:2.0"))
    assert sleeps == [0.5, 1.0, 2.0]
    assert client.request_count == 4


def test_long_retry_after_is_not_waited_for(
    rsps: responses.RequestsMock,
    make_client: tuple[MakeClient, RecordingSession],
    sleeps: list[float],
) -> None:
    url = "https://registry.example.com/v2/team/app/manifests/2.0"
    rsps.head(url, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RegistryError, match="rate-limiting"):
        make_client[0]().exists(parse_reference("registry.example.com/team/app:2.0"))
    assert sleeps == []


def test_forbidden_is_a_credentials_error(
    rsps: responses.RequestsMock, make_client: tuple[MakeClient, RecordingSession]
) -> None:
    rsps.head("https://registry.example.com/v2/team/app/manifests/2.0", status=403)
    with pytest.raises(RegistryError, match=r"403 Forbidden.*credentials are missing"):
        make_client[0]().exists(parse_reference("registry.example.com/team/app:2.0"))


def test_ca_bundle_and_insecure_registries(
    rsps: responses.RequestsMock, make_client: tuple[MakeClient, RecordingSession]
) -> None:
    rsps.head("https://registry.example.com/v2/team/app/manifests/2.0", status=404)
    rsps.head("http://plain.corp:5000/v2/team/app/manifests/2.0", status=404)
    env = {
        "PROMOTER_REGISTRY_CA_BUNDLE": "/etc/promoter/ca.pem",
        "PROMOTER_INSECURE_REGISTRIES": "other.corp, plain.corp:5000",
    }
    client = make_client[0](env)
    assert client.exists(parse_reference("registry.example.com/team/app:2.0")) is False
    assert client.exists(parse_reference("plain.corp:5000/team/app:2.0")) is False
    assert getattr(rsps.calls[0].request, "req_kwargs")["verify"]  # noqa: B009 (set by responses) == "/etc/promoter/ca.pem"


def test_list_tags_follows_link_headers(
    rsps: responses.RequestsMock, make_client: tuple[MakeClient, RecordingSession]
) -> None:
    """Pages shaped like distribution 3 / GHCR: relative Link URLs with `last`."""
    url = "https://ghcr.io/v2/acme/api/tags/list"
    pages = [(None, ["1.0", "1.1"]), ("1.1", ["1.2", "2.0"]), ("2.0", ["2.1"])]
    for i, (last, tags) in enumerate(pages):
        query = {"n": "2", **({"last": last} if last else {})}
        headers = {}
        if i + 1 < len(pages):
            link = f'</v2/acme/api/tags/list?last={tags[-1]}&n=2>; rel="next"'
            headers["Link"] = link
        rsps.get(
            url,
            json={"name": "acme/api", "tags": tags},
            headers=headers,
            match=[matchers.query_param_matcher(query)],
        )
    client = make_client[0](page_size=2)
    assert client.list_tags("ghcr.io/acme/api") == ["1.0", "1.1", "1.2", "2.0", "2.1"]
    assert len(rsps.calls) == 3


def test_paging_link_to_another_host_is_refused(
    rsps: responses.RequestsMock, make_client: tuple[MakeClient, RecordingSession]
) -> None:
    rsps.get(
        "https://registry.example.com/v2/team/app/tags/list",
        json={"tags": ["1"]},
        headers={"Link": '<https://evil.example.net/v2/team/app/tags/list?last=1>; rel="next"'},
    )
    with pytest.raises(RegistryError, match="another host"):
        make_client[0]().list_tags("registry.example.com/team/app")


@pytest.mark.parametrize(
    ("registry", "env", "scheme"),
    [
        ("ghcr.io", "", "https"),
        ("docker.io", "", "https"),
        ("127.0.0.1:5000", "", "http"),
        ("127.9.9.9", "", "http"),
        ("localhost:5000", "", "http"),
        ("[::1]:5000", "", "http"),
        ("registry.corp:5000", "registry.corp", "http"),  # a bare host: any port
        ("registry.corp:5001", "registry.corp:5000", "https"),
        ("10.0.0.1:5000", "", "https"),
    ],
)
def test_scheme(registry: str, env: str, scheme: str) -> None:
    assert scheme_for(registry, {"PROMOTER_INSECURE_REGISTRIES": env}) == scheme


def test_reference_without_tag_or_digest_is_an_input_error(
    make_client: tuple[MakeClient, RecordingSession],
) -> None:
    with pytest.raises(ImageRefError, match="no tag or digest"):
        make_client[0]().exists(parse_reference("ghcr.io/acme/api"))
    assert make_client[1].sent == []


def test_half_set_environment_override_is_an_error(
    rsps: responses.RequestsMock, make_client: tuple[MakeClient, RecordingSession]
) -> None:
    url = "https://ghcr.io/v2/acme/api/manifests/1.4.2"
    rsps.head(url, status=401, headers={"WWW-Authenticate": GHCR_CHALLENGE})
    client = make_client[0]({"PROMOTER_REGISTRY_PASSWORD": "only-the-password"})
    with pytest.raises(RegistryError, match="PROMOTER_REGISTRY_USERNAME is not set"):
        client.exists(parse_reference("ghcr.io/acme/api:1.4.2"))
