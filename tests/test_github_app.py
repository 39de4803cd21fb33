"""GitHub App authentication: a promotion on the GitHub fake with only the
App's id and key — one JWT-authenticated token mint, every later request
with the installation token, git over HTTPS with it too — and the token
minted again in a long-running process when it nears expiry."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import promoter.adapters.forges.session
from promoter.adapters.forges import github_app
from promoter.core.chatops.events import parse_event
from promoter.workflows.bot import run_event
from tests.conftest import EXAMPLE, Remote, git, make_remote
from tests.fake_github_app import FakeApp, pem, rsa_key
from tests.fakeforge import SleepRecorder, github_fake
from tests.gitserver import GitHttpServer
from tests.test_bot import github_pull_request_payload

KEY = rsa_key()


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    c = Clock()
    monkeypatch.setattr(github_app, "now", c)
    monkeypatch.setattr(promoter.adapters.forges.session, "sleep", SleepRecorder())
    github_app.forget()
    yield c
    github_app.forget()


def env_remote(tmp_path: Path) -> Remote:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    forge = "forge:\n  type: github\n  repository: acme/env\n"
    config.write_text(config.read_text().replace("defaults:\n", forge + "defaults:\n"))
    remote = make_remote(tmp_path, source)
    seed = tmp_path / "seed"
    git("clone", "--quiet", remote.url, str(seed), cwd=tmp_path)
    path = seed / "apps/api/overlays/dev/kustomization.yaml"
    path.write_text(path.read_text().replace('newTag: "1.0.0"', 'newTag: "1.4.2"'))
    git("commit", "--quiet", "-am", "api 1.4.2 in dev", cwd=seed)
    git("push", "--quiet", "origin", "main", cwd=seed)
    return remote


PROMOTE = ("promote", "--from", "dev", "--to", "staging", "--all", "-o", "json")


def test_a_promotion_with_only_app_credentials(run, tmp_path: Path, clock: Clock) -> None:
    remote = env_remote(tmp_path)
    with github_fake(repo="acme/env") as gh:
        app = FakeApp(gh, key=KEY, clock=clock)
        result = run(*PROMOTE, "--repo-url", remote.url, env=app.environ())
        assert result.exit_code == 0, result.output
        (pr,) = gh.open_pulls()

    assert [(c.method, c.path) for c in app.jwt_calls] == [
        ("GET", "/repos/acme/env/installation"),
        ("POST", "/app/installations/77/access_tokens"),
    ]
    (token,) = app.minted  # one mint
    later = [c for c in gh.calls if c not in app.jwt_calls]
    assert later and [t for _, t in app.token_calls] == [token] * len(later)
    assert pr["head"]["ref"] == "promoter/staging/api"
    assert json.loads(result.stdout)[0]["pull_request"]["number"] == pr["number"]
    key_line = pem(KEY).splitlines()[1]
    assert token not in result.output and key_line not in result.output


def test_git_over_https_uses_the_installation_token(run, tmp_path: Path, clock: Clock) -> None:
    source = tmp_path / "srv" / "acme"
    source.mkdir(parents=True)
    bare = make_remote(tmp_path, EXAMPLE).path
    shutil.move(str(bare), source / "env.git")
    with GitHttpServer(
        tmp_path / "srv", "x-access-token", "ghs_fakeInstallationToken0001xyz"
    ) as srv:
        url = f"{srv.url}/acme/env.git"
        with github_fake(repo="acme/env", api_url=f"{srv.url}/api/v3") as gh:
            app = FakeApp(gh, key=KEY, clock=clock)
            result = run("bump", "--repo-url", url, "--env", "dev", "--service", "api",
                         "--tag", "1.4.2", env=app.environ(installation=True))  # fmt: skip
        assert result.exit_code == 0, result.output
    assert [c.path for c in app.jwt_calls] == ["/app/installations/77/access_tokens"]
    assert app.minted == ["ghs_fakeInstallationToken0001xyz"]
    assert srv.auth_headers and all(h == srv.expected for h in srv.auth_headers)
    assert "ghs_fake" not in result.output


def test_a_long_running_server_mints_again_before_the_token_expires(
    run, tmp_path: Path, clock: Clock
) -> None:
    remote = env_remote(tmp_path)
    payload = github_pull_request_payload(action="synchronize", clone_url=remote.url)
    with github_fake(repo="acme/env") as gh:
        app = FakeApp(gh, key=KEY, clock=clock)
        environ = app.environ(installation=True)
        assert run(*PROMOTE, "--repo-url", remote.url, env=environ).exit_code == 0
        # `serve` handles each delivery with run_event, in one process.
        event = parse_event(payload)
        clock.t += 1800  # half an hour: the first token still has 30 minutes
        first = run_event(event, environ=environ, repo_url=remote.url)
        clock.t += 1600  # 3400 s old: 200 s left, inside the refresh margin
        second = run_event(event, environ=environ, repo_url=remote.url)
        clock.t += 400  # the first token has expired: only the second works
        third = run_event(event, environ=environ, repo_url=remote.url)

    assert [r.outcome for r in (first, second, third)] == ["done"] * 3
    one, two = app.minted
    assert [c.path for c in app.jwt_calls] == ["/app/installations/77/access_tokens"] * 2
    used = [t for _, t in app.token_calls]
    cut = used.index(two)
    assert set(used[:cut]) == {one} and set(used[cut:]) == {two}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PROMOTER_GITHUB_APP_ID": "4242"}, "is set but the App's private key is not"),
        ({"PROMOTER_GITHUB_APP_PRIVATE_KEY": pem(KEY)}, "PROMOTER_GITHUB_APP_ID is not"),
        ({"PROMOTER_GITHUB_APP_ID": "my-app", "PROMOTER_GITHUB_APP_PRIVATE_KEY": pem(KEY)},
         "must be the App's numeric id"),
        ({"PROMOTER_GITHUB_APP_ID": "4242", "PROMOTER_GITHUB_APP_PRIVATE_KEY": "hunter2"},
         "is not PEM text"),
        ({"PROMOTER_GITHUB_APP_ID": "4242", "PROMOTER_GITHUB_APP_PRIVATE_KEY_FILE": "/nope.pem"},
         "cannot read /nope.pem"),
        ({"PROMOTER_GITHUB_APP_ID": "4242", "PROMOTER_GITHUB_APP_PRIVATE_KEY": pem(KEY),
          "PROMOTER_GITHUB_APP_INSTALLATION_ID": "abc"}, "must be a number"),
    ],
)  # fmt: skip
def test_half_given_app_credentials_are_exit_2(
    run, tmp_path: Path, clock: Clock, environ: dict[str, str], message: str
) -> None:
    remote = env_remote(tmp_path)
    with github_fake(repo="acme/env") as gh:
        result = run(*PROMOTE, "--repo-url", remote.url, env=environ)
        assert gh.request_count == 0
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert pem(KEY).splitlines()[1] not in result.output


def test_an_app_not_installed_on_the_repository_says_so(run, tmp_path: Path, clock) -> None:
    remote = env_remote(tmp_path)
    with github_fake(repo="acme/other") as gh:
        app = FakeApp(gh, key=KEY, clock=clock)
        result = run(*PROMOTE, "--repo-url", remote.url, env=app.environ())
    assert result.exit_code == 6, result.output
    assert (
        "GitHub App 4242: minting an installation token for acme/env failed: 404" in result.stderr
    )
    assert "install the App on the repository" in result.stderr


def test_github_enterprise_mints_at_its_own_api(run, tmp_path: Path, clock: Clock) -> None:
    remote = env_remote(tmp_path)
    config = tmp_path / "ghe-config"
    git("clone", "--quiet", remote.url, str(config), cwd=tmp_path)
    path = config / "promoter.yaml"
    path.write_text(path.read_text().replace(
        "  type: github\n", "  type: github\n  apiUrl: https://ghe.example.com/api/v3\n"
    ))  # fmt: skip
    git("commit", "--quiet", "-am", "GHE", cwd=config)
    git("push", "--quiet", "origin", "main", cwd=config)
    with github_fake(repo="acme/env", api_url="https://ghe.example.com/api/v3") as gh:
        app = FakeApp(gh, key=KEY, clock=clock)
        result = run(*PROMOTE, "--repo-url", remote.url, env=app.environ())
        assert result.exit_code == 0, result.output
    hosts = {c.url.split("/api/v3")[0].removesuffix(":443") for c in gh.calls}
    assert hosts == {"https://ghe.example.com"}
    assert len(app.minted) == 1 and len(gh.open_pulls()) == 1
