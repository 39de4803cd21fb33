"""Rate limits: GitHub's 403/429 with Retry-After or X-RateLimit-Remaining: 0
and GitLab's 429 are waited out as told (bounded), said on stderr with -v,
and retried once each, never hammered; the quota left is a metric of the
agent and of `serve` (over real HTTP on 127.0.0.1)."""

from __future__ import annotations

import http.client
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

import promoter.adapters.forges.session
from promoter.adapters.forges import quota
from promoter.adapters.forges.session import RateLimitError, build_session
from promoter.adapters.metrics import Metrics
from tests.conftest import EXAMPLE, make_remote
from tests.fakeforge import SleepRecorder, github_fake, gitlab_fake
from tests.test_serve import Served, served  # noqa: F401 (the fixture)

TOKEN = "ghp_rateTOKEN123456"
API = "https://api.github.com"


@pytest.fixture(autouse=True)
def fresh_quota() -> Iterator[None]:
    quota.forget()
    yield
    quota.forget()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepRecorder:
    recorder = SleepRecorder()
    monkeypatch.setattr(promoter.adapters.forges.session, "sleep", recorder)
    monkeypatch.setattr(promoter.adapters.forges.session, "now", lambda: 1_000_000.0)
    return recorder


def session() -> promoter.adapters.forges.session.ForgeSession:
    return build_session(forge="GitHub", api_url=API, auth_headers={"Authorization": "x"})


@pytest.mark.parametrize(
    ("status", "headers", "waited"),
    [
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1000030"}, 31.0),
        (429, {"Retry-After": "7"}, 7.0),
        (403, {"Retry-After": "3"}, 3.0),  # GitHub's secondary limit says Retry-After
    ],
)
def test_a_limit_is_waited_out_as_told_and_retried_once(
    status: int, headers: dict[str, str], waited: float, sleeps: SleepRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{API}/rate", status=status, headers=headers, json={})
        rsps.add(responses.GET, f"{API}/rate", json={"ok": True})
        with caplog.at_level("INFO", logger="promoter.forge"):
            answer = session().get(f"{API}/rate")
        assert answer.json() == {"ok": True}
        assert len(rsps.calls) == 2
    assert sleeps.waits == [waited]
    assert f"waiting {waited:.0f} s, as told, then retrying" in caplog.text


def test_a_limit_longer_than_promoter_waits_fails_at_once(sleeps: SleepRecorder) -> None:
    with responses.RequestsMock() as rsps:
        reset = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(1_000_000 + 3600)}
        rsps.add(responses.GET, f"{API}/rate", status=403, headers=reset, json={})
        with pytest.raises(RateLimitError, match=r"resets at .* \(in 3601 s\)"):
            session().get(f"{API}/rate")
        assert len(rsps.calls) == 1  # no hammering
    assert sleeps.waits == []


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_a_promotion_waits_and_says_so_with_verbose(
    run, tmp_path: Path, sleeps, kind, caplog
) -> None:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    forge = f"forge:\n  type: {kind}\n  repository: acme/env\n"
    config.write_text(config.read_text().replace("defaults:\n", forge + "defaults:\n"))
    remote = make_remote(tmp_path, source)
    env = {"GITHUB_TOKEN": TOKEN, "GITLAB_TOKEN": TOKEN}
    bump = ("bump", "--repo-url", remote.url, "--env", "dev", "--service", "api", "--tag", "2.0")
    assert run(*bump, env=env).exit_code == 0
    fake = github_fake(repo="acme/env", token=TOKEN) if kind == "github" else gitlab_fake(
        project="acme/env", token=TOKEN
    )  # fmt: skip
    with fake as host:
        if kind == "github":
            limited = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1000005"}
            host.fail(403, {"message": "API rate limit exceeded"}, times=1, headers=limited)
        else:
            host.fail(429, {"message": "429 Too Many Requests"}, times=1,
                      headers={"Retry-After": "4"})  # fmt: skip
        # -v shows promoter's INFO lines on stderr (test_cli_manners runs a real
        # process for that); in-process, the log record is what to look at.
        caplog.set_level("INFO", logger="promoter.forge")
        result = run("-v", "promote", "--repo-url", remote.url, "--from", "dev", "--to",
                     "staging", "--all", env=env)  # fmt: skip
        assert result.exit_code == 0, result.output
        assert len(host.open_pulls() if kind == "github" else host.open_mrs()) == 1
    wait = 6 if kind == "github" else 4
    assert sleeps.waits == [float(wait)]
    name = "GitHub" if kind == "github" else "GitLab"
    assert f"{name} API rate limit (" in caplog.text
    assert f"waiting {wait} s, as told, then retrying" in caplog.text
    assert TOKEN not in caplog.text + result.output


def test_the_quota_left_is_an_agent_metric() -> None:
    with responses.RequestsMock() as rsps:
        seen = {"X-RateLimit-Remaining": "4990", "X-RateLimit-Limit": "5000",
                "X-RateLimit-Reset": "1700000000"}  # fmt: skip
        rsps.add(responses.GET, f"{API}/repos/acme/env", headers=seen, json={})
        session().get(f"{API}/repos/acme/env")
    text = Metrics("prod").render()
    labels = '{api="https://api.github.com",forge="github"}'
    assert f"promoter_forge_rate_limit_remaining{labels} 4990.0" in text
    assert f"promoter_forge_rate_limit_limit{labels} 5000.0" in text
    assert f"promoter_forge_rate_limit_reset_timestamp_seconds{labels} 1.7e+09" in text


def test_serve_exports_the_quota_over_http(served: Served) -> None:  # noqa: F811
    quota.record("gitlab", "https://gitlab.example.com", {"RateLimit-Remaining": "12",
                                                         "RateLimit-Limit": "2000"})  # fmt: skip
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
    connection.request("GET", "/metrics")
    answer = connection.getresponse()
    body = answer.read().decode()
    assert answer.status == 200
    assert answer.getheader("Content-Type", "").startswith("text/plain; version=")
    labels = '{api="https://gitlab.example.com",forge="gitlab"}'
    assert f"promoter_forge_rate_limit_remaining{labels} 12.0" in body
    assert served.dispatched == []
