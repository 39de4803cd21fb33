"""GitHub adapter against the stateful fake: every request's method, URL and
JSON body is asserted (from `responses.calls`), and so is the request count."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses

from promoter.adapters.forges import PullRequestSpec, make_forge
from promoter.adapters.forges.session import USER_AGENT, RateLimitError, RetryPolicy
from promoter.core.forge import Forge
from promoter.errors import ExitCode, ForgeError
from tests.fakeforge import FakeGitHub, SleepRecorder, sent

TOKEN = "ghp_FAKEtoken0123456789abcdef"
NOW = 1_800_000_000.0
REPO = "https://api.github.com:443/repos/acme/env"
GRAPHQL = "https://api.github.com:443/graphql"
LIST = f"{REPO}/pulls?base=staging&per_page=100&state=open"

SPEC = PullRequestSpec(
    head="promoter/staging",
    base="staging",
    title="Promote api 1.4.2 to staging",
    body="## Plan\n- api: 1.4.1 → 1.4.2\n",
    labels=("promoter", "env:staging"),
)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeper() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def gh(rsps: responses.RequestsMock) -> FakeGitHub:
    return FakeGitHub(rsps, repo="acme/env", token=TOKEN, collaborators={"alice", "bob"})


@pytest.fixture
def forge(gh: FakeGitHub, sleeper: SleepRecorder) -> Forge:
    policy = RetryPolicy(sleep=sleeper, clock=lambda: NOW)
    return make_forge(
        None,
        "https://github.com/acme/env.git",
        environ={"GITHUB_TOKEN": TOKEN},
        policy=policy,
    )


def assert_headers(rsps: responses.RequestsMock) -> None:
    for call in rsps.calls:
        assert call.request.headers["User-Agent"] == USER_AGENT
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


# -- create -----------------------------------------------------------------


def test_create_with_labels_reviewers_assignees_draft_and_auto_merge(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    spec = PullRequestSpec(
        head="promoter/staging",
        base="staging",
        title="Promote api 1.4.2 to staging",
        body="plan",
        draft=True,
        labels=("promoter", "env:staging", "rollback"),
        reviewers=("alice", "@bob"),
        team_reviewers=("acme/platform",),
        assignees=("bob",),
        auto_merge=True,
    )
    assert forge.open_pull_requests("staging") == []
    result = forge.create_pull_request(spec)

    pr = gh.pulls[1]
    assert sent(rsps) == [
        ("GET", LIST, None),
        (
            "POST",
            f"{REPO}/pulls",
            {
                "base": "staging",
                "head": "promoter/staging",
                "title": "Promote api 1.4.2 to staging",
                "body": "plan",
                "draft": True,
            },
        ),
        ("POST", f"{REPO}/issues/1/labels", ["promoter", "env:staging", "rollback"]),
        (
            "POST",
            f"{REPO}/pulls/1/requested_reviewers",
            {"reviewers": ["alice", "bob"], "team_reviewers": ["platform"]},
        ),
        ("POST", f"{REPO}/issues/1/assignees", {"assignees": ["bob"]}),
        (
            "POST",
            GRAPHQL,
            {
                "query": "mutation Mutation($input: EnablePullRequestAutoMergeInput!) { "
                "enablePullRequestAutoMerge(input: $input) { actor { avatarUrl login "
                "resourcePath url } clientMutationId } }",
                "variables": {"input": {"pullRequestId": pr["node_id"], "mergeMethod": "SQUASH"}},
            },
        ),
    ]
    assert len(rsps.calls) == 6 <= 8
    assert_headers(rsps)
    assert result.created and not result.updated
    assert result.warnings == []
    assert result.pull_request.number == 1
    assert result.pull_request.url == "https://github.com/acme/env/pull/1"
    assert result.pull_request.labels == ("promoter", "env:staging", "rollback")
    assert result.pull_request.draft is True
    assert result.actions == [
        "opened pull request #1: https://github.com/acme/env/pull/1",
        "labelled #1: promoter, env:staging, rollback",
        "requested review from alice, bob, team platform",
        "assigned bob",
        "enabled auto-merge (squash) on #1",
    ]
    # The fake's state says the same.
    assert gh.label_names(1) == ["promoter", "env:staging", "rollback"]
    assert [u["login"] for u in pr["requested_reviewers"]] == ["alice", "bob"]
    assert [a["login"] for a in pr["assignees"]] == ["bob"]
    assert pr["auto_merge"]["merge_method"] == "squash"


def test_create_without_extras_is_one_request(forge: Forge, rsps: responses.RequestsMock) -> None:
    spec = PullRequestSpec(head="promoter/prod", base="prod", title="t", body="b")
    result = forge.create_pull_request(spec)
    assert sent(rsps) == [
        (
            "POST",
            f"{REPO}/pulls",
            {"base": "prod", "head": "promoter/prod", "title": "t", "body": "b", "draft": False},
        )
    ]
    assert result.actions == ["opened pull request #1: https://github.com/acme/env/pull/1"]


def test_promote_twice_updates_instead_of_duplicating(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    def promote(spec: PullRequestSpec) -> None:
        existing = [p for p in forge.open_pull_requests(spec.base) if p.head == spec.head]
        if existing:
            forge.update_pull_request(existing[0], spec)
        else:
            forge.create_pull_request(spec)

    promote(SPEC)
    first = len(rsps.calls)
    promote(SPEC)  # unchanged
    unchanged = len(rsps.calls) - first
    promote(PullRequestSpec(**{**SPEC.__dict__, "body": "new plan"}))
    assert (first, unchanged) == (3, 1)
    assert sent(rsps)[first:] == [
        ("GET", LIST, None),
        ("GET", LIST, None),
        ("PATCH", f"{REPO}/pulls/1", {"body": "new plan"}),
    ]
    assert len(gh.open_pulls()) == 1
    assert gh.pulls[1]["body"] == "new plan"


# -- update -----------------------------------------------------------------


def test_unchanged_rerun_sends_only_the_list(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    gh.add_pull(SPEC.head, SPEC.base, title=SPEC.title, body=SPEC.body, labels=SPEC.labels)
    [pr] = forge.open_pull_requests("staging")
    result = forge.update_pull_request(pr, SPEC)
    assert sent(rsps) == [("GET", LIST, None)]
    assert not result.created and not result.updated
    assert result.actions == []
    assert result.pull_request == pr


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        (
            {"title": "old title"},
            [("PATCH", f"{REPO}/pulls/1", {"title": SPEC.title})],
        ),
        (
            {"body": "old body"},
            [("PATCH", f"{REPO}/pulls/1", {"body": SPEC.body})],
        ),
        (
            {"title": "old", "body": "old"},
            [("PATCH", f"{REPO}/pulls/1", {"title": SPEC.title, "body": SPEC.body})],
        ),
        (
            {"labels": ("promoter", "someone-elses")},
            [("POST", f"{REPO}/issues/1/labels", ["env:staging"])],
        ),
        # GitHub keeps web-edited bodies with CRLF: not a difference.
        ({"body": SPEC.body.replace("\n", "\r\n")}, []),
        # Label names compare case-insensitively, as on GitHub.
        ({"labels": ("Promoter", "ENV:staging")}, []),
    ],
)
def test_update_sends_only_what_differs(
    forge: Forge,
    gh: FakeGitHub,
    rsps: responses.RequestsMock,
    seed: dict[str, Any],
    expected: list[tuple[str, str, Any]],
) -> None:
    fields = {"title": SPEC.title, "body": SPEC.body, "labels": SPEC.labels, **seed}
    gh.add_pull(SPEC.head, SPEC.base, **fields)
    [pr] = forge.open_pull_requests("staging")
    result = forge.update_pull_request(pr, SPEC)
    assert sent(rsps)[1:] == expected
    assert result.updated is bool(expected)
    assert gh.pulls[1]["title"] == SPEC.title
    assert {name.lower() for name in gh.label_names(1)} >= {"promoter", "env:staging"}
    assert result.pull_request.title == SPEC.title


def test_update_does_not_rerequest_reviewers_or_assignees(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    gh.add_pull(SPEC.head, SPEC.base, title="old", body=SPEC.body, labels=SPEC.labels)
    [pr] = forge.open_pull_requests("staging")
    spec = PullRequestSpec(
        **{**SPEC.__dict__, "reviewers": ("alice",), "assignees": ("bob",), "auto_merge": True}
    )
    forge.update_pull_request(pr, spec)
    assert [(m, u) for m, u, _ in sent(rsps)] == [("GET", LIST), ("PATCH", f"{REPO}/pulls/1")]


def test_close_comments_then_closes(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    gh.add_pull("promoter/staging-old", "staging")
    [pr] = forge.open_pull_requests("staging")
    forge.close_pull_request(pr, "Superseded by #2")
    assert sent(rsps)[1:] == [
        ("POST", f"{REPO}/issues/1/comments", {"body": "Superseded by #2"}),
        ("PATCH", f"{REPO}/pulls/1", {"state": "closed"}),
    ]
    assert gh.pulls[1]["state"] == "closed"
    assert gh.comments[1][0]["body"] == "Superseded by #2"
    assert forge.open_pull_requests("staging") == []


def test_comment(forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock) -> None:
    gh.add_pull("promoter/staging", "staging")
    [pr] = forge.open_pull_requests("staging")
    forge.comment(pr, "policy: all checks passed")
    assert sent(rsps)[1:] == [
        ("POST", f"{REPO}/issues/1/comments", {"body": "policy: all checks passed"})
    ]


# -- list -------------------------------------------------------------------


def test_list_maps_the_api_fields(forge: Forge, gh: FakeGitHub) -> None:
    gh.add_pull("promoter/prod", "prod")
    seeded = gh.add_pull(
        "promoter/staging",
        "staging",
        title="T",
        body="B",
        labels=("promoter",),
        draft=True,
        user="ci-bot",
    )
    gh.add_pull("promoter/staging-x", "staging", state="merged")
    [pr] = forge.open_pull_requests("staging")
    assert pr.number == 2
    assert pr.url == "https://github.com/acme/env/pull/2"
    assert (pr.head, pr.base, pr.title, pr.body) == ("promoter/staging", "staging", "T", "B")
    assert (pr.state, pr.draft, pr.labels, pr.author) == ("open", True, ("promoter",), "ci-bot")
    assert pr.head_sha == seeded["head"]["sha"]


def test_list_follows_the_link_header(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    for i in range(130):
        gh.add_pull(f"promoter/staging-{i}", "staging")
    gh.add_pull("promoter/prod", "prod")
    prs = forge.open_pull_requests("staging")
    assert len(prs) == 130
    assert len({p.number for p in prs}) == 130
    assert sent(rsps) == [
        ("GET", LIST, None),
        ("GET", f"{REPO}/pulls?base=staging&page=2&per_page=100&state=open", None),
    ]


# -- retries ----------------------------------------------------------------


def test_rate_limit_403_waits_for_the_reset_then_succeeds(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    gh.fail(
        403,
        {"message": "API rate limit exceeded for user ID 1.", "documentation_url": "x"},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 20)},
    )
    assert forge.open_pull_requests("staging") == []
    assert sent(rsps) == [("GET", LIST, None), ("GET", LIST, None)]
    assert sleeper.waits == [21.0]


def test_429_with_retry_after_then_success(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    gh.fail(429, headers={"Retry-After": "7"}, method="POST")
    result = forge.create_pull_request(SPEC)
    assert [(m, u) for m, u, _ in sent(rsps)] == [
        ("POST", f"{REPO}/pulls"),
        ("POST", f"{REPO}/pulls"),
        ("POST", f"{REPO}/issues/1/labels"),
    ]
    assert sleeper.waits == [7.0]
    assert result.pull_request.number == 1
    assert len(gh.pulls) == 1


def test_secondary_rate_limit_with_retry_after(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    gh.fail(
        403,
        {"message": "You have exceeded a secondary rate limit."},
        headers={"Retry-After": "30"},
    )
    forge.open_pull_requests("staging")
    assert len(rsps.calls) == 2
    assert sleeper.waits == [30.0]


def test_502_then_success(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    gh.fail(502, {"message": "Server Error"}, times=2)
    assert forge.open_pull_requests("staging") == []
    assert sent(rsps) == [("GET", LIST, None)] * 3
    assert sleeper.waits == [1.0, 2.0]


def test_persistent_5xx_gives_up_after_five_tries(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    gh.fail(503, {"message": "Service Unavailable"}, times=10)
    with pytest.raises(ForgeError) as caught:
        forge.open_pull_requests("staging")
    assert len(rsps.calls) == 5
    assert sleeper.waits == [1.0, 2.0, 4.0, 8.0]
    assert "HTTP 503" in str(caught.value)
    assert "after 5 tries" in str(caught.value)
    assert caught.value.exit_code == ExitCode.FORGE


def test_rate_limit_resetting_too_late_fails_without_waiting(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    gh.fail(
        403,
        {"message": "API rate limit exceeded"},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 3599)},
    )
    with pytest.raises(RateLimitError) as caught:
        forge.open_pull_requests("staging")
    assert len(rsps.calls) == 1
    assert sleeper.waits == []
    text = str(caught.value)
    assert "GitHub API rate limit hit (403 on GET /repos/acme/env/pulls)" in text
    assert "it resets at 2027-01-15 08:59:59 UTC (in 3600 s)" in text
    assert "longer than promoter waits at a time (60 s)" in text
    assert caught.value.exit_code == ExitCode.FORGE


# -- errors -----------------------------------------------------------------


def test_401_says_the_token_is_invalid(forge: Forge, gh: FakeGitHub) -> None:
    gh.token = "a-different-token"
    with pytest.raises(ForgeError) as caught:
        forge.open_pull_requests("staging")
    assert str(caught.value) == (
        "GitHub rejected the token (Bad credentials): it is invalid, expired or revoked\n"
        "  hint: create a new token and set it in PROMOTER_FORGE_TOKEN or GITHUB_TOKEN"
    )
    assert caught.value.exit_code == ExitCode.FORGE


def test_403_says_the_token_lacks_scope(forge: Forge, gh: FakeGitHub) -> None:
    gh.fail(403, {"message": "Resource not accessible by personal access token"})
    with pytest.raises(ForgeError) as caught:
        forge.create_pull_request(SPEC)
    assert caught.value.message == (
        "GitHub refused to open a pull request from promoter/staging into staging in "
        "acme/env (Resource not accessible by personal access token): the token lacks "
        "permission"
    )
    assert caught.value.hint is not None
    assert "`repo` scope" in caught.value.hint
    assert "`pull_requests: write`" in caught.value.hint


def test_404_says_the_repository_is_wrong_or_invisible(
    gh: FakeGitHub, sleeper: SleepRecorder
) -> None:
    forge = make_forge(
        None,
        "https://github.com/acme/typo.git",
        environ={"GITHUB_TOKEN": TOKEN},
        policy=RetryPolicy(sleep=sleeper),
    )
    with pytest.raises(ForgeError) as caught:
        forge.open_pull_requests("staging")
    assert caught.value.message == (
        "GitHub found no repository acme/typo while trying to list pull requests into "
        "staging (Not Found): the repository name is wrong or the token cannot see it"
    )
    assert sleeper.waits == []


@pytest.mark.parametrize("status", [401, 403, 404, 422, 500])
def test_token_never_appears_in_errors(forge: Forge, gh: FakeGitHub, status: int) -> None:
    # A server (or proxy) echoing the credentials back must not leak them.
    gh.fail(status, {"message": f"token {TOKEN} rejected"}, times=10)
    with pytest.raises(ForgeError) as caught:
        forge.create_pull_request(SPEC)
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value.args)
    assert "***" in str(caught.value)


def test_network_failure_becomes_a_forge_error(
    sleeper: SleepRecorder, rsps: responses.RequestsMock
) -> None:
    # Nothing registered for this host: responses refuses the connection.
    forge = make_forge(
        "github",
        "https://github.com/acme/env.git",
        api_url="https://unreachable.invalid/api/v3",
        environ={"GITHUB_TOKEN": TOKEN},
        policy=RetryPolicy(sleep=sleeper),
    )
    with pytest.raises(ForgeError) as caught:
        forge.open_pull_requests("staging")
    assert caught.value.message == (
        "could not reach GitHub at unreachable.invalid:443 to list pull requests into "
        "staging: ConnectionError"
    )
    assert len(rsps.calls) == 5
    assert sleeper.waits == [1.0, 2.0, 4.0, 8.0]


# -- decorations that fail must not fail the promotion ------------------------


def test_auto_merge_not_allowed_is_a_warning(
    gh: FakeGitHub, forge: Forge, rsps: responses.RequestsMock
) -> None:
    gh.allow_auto_merge = False
    spec = PullRequestSpec(**{**SPEC.__dict__, "auto_merge": True})
    result = forge.create_pull_request(spec)
    assert [u for _, u, _ in sent(rsps)][-1] == GRAPHQL
    assert result.created
    assert result.warnings == [
        "auto-merge not enabled on #1: acme/env does not allow auto-merge (Settings → "
        "General → Allow auto-merge); merge it by hand"
    ]
    assert gh.pulls[1]["auto_merge"] is None


def test_unrequestable_reviewer_and_unassignable_user_are_warnings(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    spec = PullRequestSpec(
        **{**SPEC.__dict__, "reviewers": ("mallory",), "assignees": ("bob", "eve")}
    )
    result = forge.create_pull_request(spec)
    assert sent(rsps)[2:] == [
        ("POST", f"{REPO}/pulls/1/requested_reviewers", {"reviewers": ["mallory"]}),
        ("POST", f"{REPO}/issues/1/assignees", {"assignees": ["bob", "eve"]}),
    ]
    assert result.warnings == [
        "could not request review from mallory: Reviews may only be requested from "
        "collaborators. One or more of the users or teams you specified is not a "
        "collaborator of the acme/env repository.",
        "GitHub did not assign eve (not a collaborator of acme/env?)",
    ]
    assert "assigned bob" in result.actions


def test_create_racing_another_run_adopts_its_pull_request(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    # Another pipeline opened it after our list call.
    gh.add_pull(SPEC.head, SPEC.base, title="theirs", body=SPEC.body, labels=SPEC.labels)
    result = forge.create_pull_request(SPEC)
    assert [(m, u) for m, u, _ in sent(rsps)] == [
        ("POST", f"{REPO}/pulls"),
        ("GET", LIST),
        ("PATCH", f"{REPO}/pulls/1"),
    ]
    assert rsps.calls[0].response.status_code == 422
    assert "A pull request already exists for acme:promoter/staging." in rsps.calls[0].response.text
    assert not result.created and result.updated
    assert result.actions[0] == "pull request #1 already existed"
    assert len(gh.pulls) == 1


# -- hosts --------------------------------------------------------------------


def test_enterprise_server_uses_its_api_v3_and_graphql(
    rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    ghe = FakeGitHub(
        rsps, repo="platform/env", api_url="https://github.acme.com/api/v3", token=TOKEN
    )
    forge = make_forge(
        None,
        "git@github.acme.com:platform/env.git",
        environ={"GITHUB_TOKEN": TOKEN},
        policy=RetryPolicy(sleep=sleeper),
    )
    forge.open_pull_requests("staging")
    result = forge.create_pull_request(
        PullRequestSpec(
            head="promoter/staging", base="staging", title="t", body="b", auto_merge=True
        )
    )
    root = "https://github.acme.com:443/api/v3/repos/platform/env"
    assert [(m, u) for m, u, _ in sent(rsps)] == [
        ("GET", f"{root}/pulls?base=staging&per_page=100&state=open"),
        ("POST", f"{root}/pulls"),
        ("POST", "https://github.acme.com:443/api/graphql"),
    ]
    assert result.pull_request.url == "https://github.acme.com/platform/env/pull/1"
    assert ghe.pulls[1]["auto_merge"] is not None
    assert_headers(rsps)


def test_pull_requests_from_forks_never_pass_for_ours(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    gh.add_pull("promoter/staging", "staging", fork="mallory")
    gh.add_pull("promoter/staging", "staging")
    heads = sorted(p.head for p in forge.open_pull_requests("staging"))
    assert heads == ["mallory:promoter/staging", "promoter/staging"]
    assert len(rsps.calls) == 1
