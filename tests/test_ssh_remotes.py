"""SSH remotes against a real sshd on 127.0.0.1: bump, promote, rollback,
plan, status and the agent over `ssh://` and scp-like `user@host:path`
URLs, the key from GIT_SSH_COMMAND; refused keys and unknown host keys say
what to do; the forge is detected from scp-like URLs as from HTTPS ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from promoter.adapters.forges.remote import detect_kind, parse_remote, repository_slug
from tests.agent_helpers import Cluster, configmap
from tests.conftest import EXAMPLE, Remote, git, make_remote
from tests.sshd import SSHServer, ssh_server

pytest_plugins = ["tests.agent_fixtures"]


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SSHServer]:
    with ssh_server(tmp_path / "sshd") as server:
        yield server


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return make_remote(tmp_path, EXAMPLE)


def test_bump_promote_rollback_and_plan_over_ssh(run, remote: Remote, sshd: SSHServer) -> None:
    url, env = sshd.url(remote.path), sshd.environ()

    def ok(*args: str) -> object:
        result = run(*args, "-o", "json", env=env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    bumped = ok("bump", "--repo-url", url, "--env", "dev", "--service", "api", "--tag", "1.4.2")
    assert isinstance(bumped, dict) and bumped["commit"] == remote.head()
    plan = ok("plan", "--repo-url", url, "--from", "dev", "--to", "staging")
    assert [i["service"] for i in plan] == ["api"]  # type: ignore[union-attr]
    (promoted,) = ok("promote", "--repo-url", url, "--from", "dev", "--to", "staging", "--all",
                     "--forge", "none")  # type: ignore[misc]  # fmt: skip
    assert 'newTag: "1.4.2"' in remote.show(
        "apps/api/overlays/staging/kustomization.yaml", promoted["branch"]
    )
    ok("bump", "--repo-url", url, "--env", "dev", "--service", "api", "--tag", "1.5.0")
    back = ok("rollback", "--repo-url", url, "--env", "dev", "--service", "api", "--forge", "none")
    assert back["branch"] == "promoter/dev/rollback-api"  # type: ignore[index]
    status = ok("status", "--repo-url", url)
    assert "1.5.0" in json.dumps(status)


def test_scp_like_urls_take_the_port_from_the_ssh_command(
    run, remote: Remote, sshd: SSHServer
) -> None:
    url = sshd.scp_url(remote.path)
    result = run("bump", "--repo-url", url, "--env", "dev", "--service", "web", "--tag", "2.0.0",
                 env=sshd.environ(scp=True))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ghcr.io/acme/web:2.0.0" in remote.show("apps/web/overlays/dev/deployment.yaml")


def test_a_refused_key_and_an_unknown_host_key_say_what_to_do(
    run, remote: Remote, sshd: SSHServer, tmp_path: Path
) -> None:
    url = sshd.url(remote.path)
    stranger = tmp_path / "stranger"
    git("init", "--quiet", str(stranger), cwd=tmp_path)  # anything: only its key matters
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")],
                   check=True)  # fmt: skip
    wrong = sshd.environ()["GIT_SSH_COMMAND"].replace(str(sshd.key), str(tmp_path / "k"))
    bump = ("bump", "--repo-url", url, "--env", "dev", "--service", "api", "--tag", "9.9.9")
    refused = run(*bump, env={"GIT_SSH_COMMAND": wrong})
    assert refused.exit_code == 3
    assert "the server refused the SSH key" in refused.stderr

    unknown = tmp_path / "empty_known_hosts"
    unknown.write_text("")
    strict = sshd.environ()["GIT_SSH_COMMAND"].replace(str(sshd.known_hosts), str(unknown))
    unverified = run(*bump, env={"GIT_SSH_COMMAND": strict})
    assert unverified.exit_code == 3
    assert "ssh-keyscan" in unverified.stderr
    assert git("log", "-1", "--format=%s", cwd=remote.path) == "seed"


def test_a_server_without_protocol_v2_over_ssh_gets_a_hint(
    run, remote: Remote, tmp_path: Path
) -> None:
    with ssh_server(tmp_path / "old-sshd", protocol_v2=False) as old:
        result = run("bump", "--repo-url", old.url(remote.path), "--env", "dev", "--service",
                     "api", "--tag", "1.4.2", env=old.environ())  # fmt: skip
    assert result.exit_code == 3
    assert "AcceptEnv GIT_PROTOCOL" in result.stderr
    assert git("log", "-1", "--format=%s", cwd=remote.path) == "seed"


def test_the_agent_pulls_over_ssh(run, cluster: Cluster, sshd: SSHServer, tmp_path: Path) -> None:
    c = cluster
    c.write("settings", configmap("settings"))
    remote = make_remote(tmp_path, c.repo, name="agent.git")
    kubeconfig = str(c.kubeconfig_here(tmp_path / "kubeconfig"))
    result = run("agent", "--env", "dev", "--repo-url", sshd.url(remote.path), "--kubeconfig",
                 kubeconfig, "--once", "--no-commit-status", env=sshd.environ())  # fmt: skip
    assert result.exit_code == 0, result.output
    assert c.get("v1", "ConfigMap", "settings") is not None
    assert remote.head()[:12] in result.output


@pytest.mark.parametrize(
    ("url", "kind", "slug"),
    [
        ("git@github.com:acme/env.git", "github", "acme/env"),
        ("ssh://git@github.com/acme/env.git", "github", "acme/env"),
        ("git@gitlab.com:acme/platform/env.git", "gitlab", "acme/platform/env"),
        ("ssh://git@gitlab.example.com:2222/acme/env.git", "gitlab", "acme/env"),
        ("org-123@github.example.com:acme/env", "github", "acme/env"),
    ],
)
def test_forge_and_repository_come_from_ssh_urls(url: str, kind: str, slug: str) -> None:
    remote = parse_remote(url)
    assert remote.scheme == "ssh" and remote.port is None  # an SSH port is not the API's
    assert detect_kind(remote) == kind
    assert repository_slug(kind, remote, url) == slug
