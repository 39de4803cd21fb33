"""make_forge: forge detection, repository slug and API base from every
remote URL form, token lookup; the no-forge adapter; the shared HTTP session
(retries, bounded waits, auth only to the API's origin)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
import responses

from promoter.adapters.forges import PullRequest, PullRequestSpec, forge_token, make_forge
from promoter.adapters.forges.github import GitHubForge
from promoter.adapters.forges.gitlab import GitLabForge
from promoter.adapters.forges.none import NoForge
from promoter.adapters.forges.remote import api_base, detect_kind, parse_remote, repository_slug
from promoter.adapters.forges.session import USER_AGENT, RateLimitError, RetryPolicy, build_session
from promoter.core import masking
from promoter.errors import ExitCode, ForgeError, InputError
from tests.fakeforge import SleepRecorder, github_fake, gitlab_fake, sent

ENV = {"GITHUB_TOKEN": "ghp_factory_token", "GITLAB_TOKEN": "glpat-factory-token"}


@pytest.mark.parametrize(
    ("url", "kind", "slug", "api"),
    [
        ("https://github.com/acme/env.git", "github", "acme/env", "https://api.github.com"),
        ("https://github.com/acme/env", "github", "acme/env", "https://api.github.com"),
        ("https://github.com/acme/env/", "github", "acme/env", "https://api.github.com"),
        (
            "https://x-access-token:ghs_abc1234@github.com/acme/env.git",
            "github",
            "acme/env",
            "https://api.github.com",
        ),
        ("git@github.com:acme/env.git", "github", "acme/env", "https://api.github.com"),
        ("ssh://git@github.com/acme/env.git", "github", "acme/env", "https://api.github.com"),
        ("git+ssh://git@github.com/acme/env.git", "github", "acme/env", "https://api.github.com"),
        ("https://GitHub.com/Acme/Env.git", "github", "Acme/Env", "https://api.github.com"),
        # GitHub Enterprise Server and Enterprise Cloud with data residency
        (
            "https://github.acme.com/platform/env.git",
            "github",
            "platform/env",
            "https://github.acme.com/api/v3",
        ),
        (
            "git@github.acme.com:platform/env.git",
            "github",
            "platform/env",
            "https://github.acme.com/api/v3",
        ),
        (
            "https://github.acme.com:8443/p/env",
            "github",
            "p/env",
            "https://github.acme.com:8443/api/v3",
        ),
        ("https://octo.ghe.com/acme/env.git", "github", "acme/env", "https://api.octo.ghe.com"),
        # GitLab, subgroups, self-managed
        ("https://gitlab.com/acme/env.git", "gitlab", "acme/env", "https://gitlab.com"),
        (
            "git@gitlab.com:acme/platform/env.git",
            "gitlab",
            "acme/platform/env",
            "https://gitlab.com",
        ),
        ("ssh://git@gitlab.com/acme/a/b/env.git", "gitlab", "acme/a/b/env", "https://gitlab.com"),
        (
            "https://oauth2:glpat-xyz12345@gitlab.com/acme/env.git",
            "gitlab",
            "acme/env",
            "https://gitlab.com",
        ),
        (
            "https://gitlab.acme.io/group/sub/env",
            "gitlab",
            "group/sub/env",
            "https://gitlab.acme.io",
        ),
        (
            "ssh://git@gitlab.acme.io:2222/group/env.git",
            "gitlab",
            "group/env",
            "https://gitlab.acme.io",
        ),
        (
            "http://gitlab.internal:8080/group/env.git",
            "gitlab",
            "group/env",
            "http://gitlab.internal:8080",
        ),
        (
            "https://gitlab.com/acme/env/-/merge_requests/3",
            "gitlab",
            "acme/env",
            "https://gitlab.com",
        ),
    ],
)
def test_detects_forge_slug_and_api_from_the_remote(
    url: str, kind: str, slug: str, api: str
) -> None:
    remote = parse_remote(url)
    assert detect_kind(remote) == kind
    assert repository_slug(kind, remote, url) == slug
    assert api_base(kind, remote) == api


@pytest.mark.parametrize(
    "url",
    ["file:///srv/git/env.git", "/srv/git/env.git", "./env.git", "../remotes/env", "env.git"],
)
def test_local_remotes_have_no_forge(url: str) -> None:
    assert detect_kind(parse_remote(url)) == "none"
    forge = make_forge(None, url, environ={})
    assert isinstance(forge, NoForge)
    assert forge.name == "none"


@pytest.mark.parametrize(
    "url", ["https://git.acme.com/a/b.git", "git@bitbucket.org:a/b.git", "ssh://git@10.0.0.1/a/b"]
)
def test_unknown_host_asks_for_forge(url: str) -> None:
    with pytest.raises(InputError) as caught:
        make_forge(None, url, environ=ENV)
    assert caught.value.message.startswith("cannot tell which forge hosts ")
    assert caught.value.hint is not None and "--forge" in caught.value.hint
    assert caught.value.exit_code == ExitCode.INPUT


def test_explicit_kind_wins_over_detection() -> None:
    forge = make_forge("gitlab", "https://git.acme.com/group/env.git", environ=ENV)
    assert isinstance(forge, GitLabForge)
    assert (forge.repository, forge.url) == ("group/env", "https://git.acme.com")
    assert isinstance(make_forge("none", "https://github.com/acme/env", environ={}), NoForge)


def test_api_url_and_repository_override() -> None:
    forge = make_forge(
        "github",
        "file:///tmp/env.git",
        api_url="https://ghe.example/api/v3/",
        repository="acme/env",
        environ=ENV,
    )
    assert isinstance(forge, GitHubForge)
    assert (forge.repository, forge.api_url) == ("acme/env", "https://ghe.example/api/v3")


def test_local_remote_with_a_forge_needs_the_repository() -> None:
    with pytest.raises(InputError, match="cannot tell the GitHub repository") as caught:
        make_forge("github", "/srv/env.git", environ=ENV)
    assert caught.value.hint is not None and "forge.repository" in caught.value.hint


def test_github_needs_owner_and_repo() -> None:
    with pytest.raises(InputError, match="OWNER/REPO"):
        make_forge(None, "https://github.com/acme/group/env.git", environ=ENV)
    with pytest.raises(InputError, match="unknown forge"):
        make_forge("bitbucket", "https://github.com/acme/env.git", environ=ENV)


# -- tokens -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "environ", "expected"),
    [
        (
            "github",
            {
                "PROMOTER_FORGE_TOKEN": "t-forge",
                "GITHUB_TOKEN": "t-gh",
                "PROMOTER_GIT_TOKEN": "t-git",
            },
            "t-forge",
        ),
        (
            "github",
            {"GITHUB_TOKEN": "t-gh", "PROMOTER_GIT_TOKEN": "t-git", "GITLAB_TOKEN": "t-gl"},
            "t-gh",
        ),
        ("github", {"PROMOTER_GIT_TOKEN": "t-git", "GITLAB_TOKEN": "t-gl"}, "t-git"),
        (
            "gitlab",
            {"GITHUB_TOKEN": "t-gh", "GITLAB_TOKEN": "t-gl", "PROMOTER_GIT_TOKEN": "t-git"},
            "t-gl",
        ),
        ("gitlab", {"PROMOTER_FORGE_TOKEN": " t-forge ", "GITLAB_TOKEN": "t-gl"}, "t-forge"),
        (
            "gitlab",
            {"PROMOTER_FORGE_TOKEN": "", "GITHUB_TOKEN": "t-gh", "PROMOTER_GIT_TOKEN": "t-git"},
            "t-git",
        ),
    ],
)
def test_token_precedence(kind: str, environ: dict[str, str], expected: str) -> None:
    assert forge_token(kind, environ) == expected
    assert masking.mask(f"x {expected} y") == "x *** y"


@pytest.mark.parametrize(
    ("url", "variables"),
    [
        (
            "https://github.com/acme/env",
            "PROMOTER_FORGE_TOKEN (or GITHUB_TOKEN, or PROMOTER_GIT_TOKEN)",
        ),
        (
            "https://gitlab.com/acme/env",
            "PROMOTER_FORGE_TOKEN (or GITLAB_TOKEN, or PROMOTER_GIT_TOKEN)",
        ),
    ],
)
def test_missing_token_is_a_forge_error_naming_the_variables(url: str, variables: str) -> None:
    with pytest.raises(ForgeError) as caught:
        make_forge(
            None, url, environ={"GITLAB_TOKEN" if "github" in url else "GITHUB_TOKEN": "x" * 8}
        )
    assert caught.value.exit_code == ExitCode.FORGE == 6
    assert caught.value.hint is not None
    assert caught.value.hint.startswith(f"set {variables} to a token that may open")
    assert caught.value.hint.endswith("on acme/env")


def test_importing_forges_does_not_import_forge_libraries() -> None:
    code = (
        "import sys, promoter.adapters.forges, promoter.core.forge;"
        "print(sorted(m for m in ('github', 'gitlab') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- no forge -------------------------------------------------------------------


def test_no_forge_tells_the_user_what_to_merge() -> None:
    forge = make_forge(None, "file:///srv/env.git", environ={})
    spec = PullRequestSpec(
        head="promoter/staging", base="staging", title="t", body="b", labels=("promoter",)
    )
    assert forge.open_pull_requests("staging") == []
    result = forge.create_pull_request(spec)
    assert (result.pull_request.number, result.pull_request.url) == (0, "")
    assert (result.pull_request.head, result.pull_request.base) == ("promoter/staging", "staging")
    assert not result.created and not result.updated
    assert result.actions == [
        "no forge API for this remote: merge branch promoter/staging into staging yourself "
        "(git fetch origin staging promoter/staging && git checkout staging && "
        "git merge --ff-only origin/staging && "
        "git merge --no-ff origin/promoter/staging -m 'Merge promoter/staging' && "
        "git push origin staging)"
    ]
    pr = PullRequest(0, "", "promoter/staging", "staging", "t", "b", "open")
    assert forge.update_pull_request(pr, spec).updated is False
    forge.close_pull_request(pr, "why")
    forge.comment(pr, "hello")


# -- the HTTP session -------------------------------------------------------------


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def session(sleeper: SleepRecorder) -> requests.Session:
    return build_session(
        forge="GitHub",
        api_url="https://api.example",
        auth_headers={"Authorization": "Bearer sess-token-123"},
        policy=RetryPolicy(sleep=sleeper, clock=lambda: 1_000.0),
    )


def test_auth_and_user_agent_go_only_to_the_api_origin(rsps: responses.RequestsMock) -> None:
    rsps.get("https://api.example/x", json={})
    rsps.get("https://api.example:443/y", json={})
    rsps.get("https://elsewhere.example/z", json={})
    s = session(SleepRecorder())
    for url in (
        "https://api.example/x",
        "https://api.example:443/y",
        "https://elsewhere.example/z",
    ):
        s.get(url, headers={"User-Agent": "python-requests/2"})
    headers = [c.request.headers for c in rsps.calls]
    assert [h.get("Authorization") for h in headers] == ["Bearer sess-token-123"] * 2 + [None]
    assert [h["User-Agent"] for h in headers] == [USER_AGENT] * 3


def test_default_timeout_is_applied(rsps: responses.RequestsMock) -> None:
    rsps.get("https://api.example/x", json={})
    seen: list[object] = []
    s = session(SleepRecorder())
    original = requests.Session.send

    def spy(
        self: requests.Session, request: requests.PreparedRequest, **kwargs: object
    ) -> requests.Response:
        seen.append(kwargs.get("timeout"))
        return original(self, request, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(requests.Session, "send", spy)
        s.get("https://api.example/x")
        s.get("https://api.example/x", timeout=3)
    assert seen == [(10.0, 30.0), 3]


def test_retry_after_as_an_http_date(rsps: responses.RequestsMock) -> None:
    rsps.get(
        "https://api.example/x",
        status=429,
        headers={"Retry-After": "Thu, 01 Jan 1970 00:17:00 GMT"},
    )
    rsps.get("https://api.example/x", json={"ok": True})
    sleeper = SleepRecorder()
    assert session(sleeper).get("https://api.example/x").json() == {"ok": True}
    assert sleeper.waits == [20.0]  # 00:17:00 is 1020 s; the clock says 1000


def test_total_wait_is_bounded(rsps: responses.RequestsMock) -> None:
    for _ in range(5):
        rsps.get("https://api.example/x", status=429, headers={"Retry-After": "40"})
    sleeper = SleepRecorder()
    with pytest.raises(RateLimitError) as caught:
        session(sleeper).get("https://api.example/x")
    assert sleeper.waits == [40.0, 40.0, 40.0]  # a fourth would pass 120 s in all
    assert len(rsps.calls) == 4
    assert caught.value.message == (
        "GitHub API rate limit hit (429 on GET /x): it asked us to wait 40 s, after 120 s of "
        "waiting already (promoter waits at most 120 s per request)"
    )


def test_plain_403_is_not_retried(rsps: responses.RequestsMock) -> None:
    rsps.get("https://api.example/x", status=403, json={"message": "Must have admin rights"})
    sleeper = SleepRecorder()
    assert session(sleeper).get("https://api.example/x").status_code == 403
    assert sleeper.waits == [] and len(rsps.calls) == 1


def test_connection_errors_are_retried_but_a_read_timeout_on_post_is_not(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get("https://api.example/x", body=requests.ConnectionError("reset"))
    rsps.get("https://api.example/x", json={"ok": 1})
    rsps.post("https://api.example/p", body=requests.ReadTimeout("slow"))
    rsps.put("https://api.example/p", body=requests.ReadTimeout("slow"))
    rsps.put("https://api.example/p", json={"ok": 2})
    sleeper = SleepRecorder()
    s = session(sleeper)
    assert s.get("https://api.example/x").json() == {"ok": 1}
    with pytest.raises(requests.ReadTimeout):
        s.post("https://api.example/p", json={})
    assert s.put("https://api.example/p", json={}).json() == {"ok": 2}
    assert [(c.request.method, c.request.url) for c in rsps.calls] == [
        ("GET", "https://api.example/x"),
        ("GET", "https://api.example/x"),
        ("POST", "https://api.example/p"),
        ("PUT", "https://api.example/p"),
        ("PUT", "https://api.example/p"),
    ]
    assert sleeper.waits == [1.0, 1.0]


def test_module_sleep_can_be_patched(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import promoter.adapters.forges.session as http

    waits: list[float] = []
    monkeypatch.setattr(http, "sleep", waits.append)
    rsps.get("https://api.example/x", status=500)
    rsps.get("https://api.example/x", json={})
    s = build_session(forge="GitLab", api_url="https://api.example", auth_headers={})
    assert s.get("https://api.example/x").status_code == 200
    assert waits == [1.0]
    assert s.request_count == 2
    assert json.loads(rsps.calls[1].response.text) == {}


# -- the shared fakes, as the end-to-end tests use them ------------------------------


def test_fake_helpers_serve_a_promotion_twice() -> None:
    spec = PullRequestSpec(
        head="promoter/prod", base="prod", title="t", body="b", labels=("promoter", "env:prod")
    )
    for fake_of, url in (
        (github_fake, "https://github.com/acme/env"),
        (gitlab_fake, "https://gitlab.com/acme/env"),
    ):
        with fake_of(token=ENV["GITHUB_TOKEN" if "github" in url else "GITLAB_TOKEN"]) as fake:
            forge = make_forge(None, url, environ=ENV)
            for _ in range(2):
                mine = [p for p in forge.open_pull_requests("prod") if p.head == spec.head]
                if mine:
                    forge.update_pull_request(mine[0], spec)
                else:
                    forge.create_pull_request(spec)
            methods = [m for m, _, _ in sent(fake.rsps)]
            assert fake.request_count == len(methods) == getattr(forge, "request_count", None)
            if "github" in url:
                assert methods == ["GET", "POST", "POST", "GET"]  # list, create, labels; list
            else:
                assert methods == ["GET", "POST", "GET"]  # list, create (with labels); list
