"""GitLab adapter against the stateful fake: every request's method, URL and
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
from tests.fakeforge import FakeGitLab, SleepRecorder, sent

TOKEN = "glpat-FAKEtoken0123456789"
NOW = 1_800_000_000.0
API = "https://gitlab.com/api/v4"
MRS = f"{API}/projects/acme%2Fenv/merge_requests"
LIST = f"{MRS}?state=opened&target_branch=staging&per_page=100"

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
def gl(rsps: responses.RequestsMock) -> FakeGitLab:
    return FakeGitLab(rsps, project="acme/env", token=TOKEN, users={"alice": 7, "bob": 8})


@pytest.fixture
def forge(gl: FakeGitLab, sleeper: SleepRecorder) -> Forge:
    policy = RetryPolicy(sleep=sleeper, clock=lambda: NOW)
    return make_forge(
        None, "https://gitlab.com/acme/env.git", environ={"GITLAB_TOKEN": TOKEN}, policy=policy
    )


# -- create -----------------------------------------------------------------


def test_create_with_labels_reviewers_assignees_draft_and_auto_merge(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    spec = PullRequestSpec(
        head="promoter/staging",
        base="staging",
        title="Promote api 1.4.2 to staging",
        body="plan",
        draft=True,
        labels=("promoter", "env:staging", "rollback"),
        reviewers=("alice", "@bob"),
        assignees=("bob",),
        auto_merge=True,
    )
    assert forge.open_pull_requests("staging") == []
    result = forge.create_pull_request(spec)

    assert sent(rsps) == [
        ("GET", LIST, None),
        ("GET", f"{API}/users?username=bob", None),
        ("GET", f"{API}/users?username=alice", None),
        (
            "POST",
            MRS,
            {
                "source_branch": "promoter/staging",
                "target_branch": "staging",
                "title": "Draft: Promote api 1.4.2 to staging",
                "description": "plan",
                "labels": "promoter,env:staging,rollback",
                "assignee_ids": [8],
                "reviewer_ids": [7, 8],
            },
        ),
        ("PUT", f"{MRS}/1/merge", {"merge_when_pipeline_succeeds": True}),
    ]
    assert len(rsps.calls) == 5 <= 8
    for call in rsps.calls:
        assert call.request.headers["User-Agent"] == USER_AGENT
        assert call.request.headers["PRIVATE-TOKEN"] == TOKEN
    assert result.created and not result.updated
    assert result.warnings == []
    pr = result.pull_request
    assert (pr.number, pr.url) == (1, "https://gitlab.com/acme/env/-/merge_requests/1")
    assert (pr.draft, pr.labels, pr.state) == (
        True,
        ("promoter", "env:staging", "rollback"),
        "open",
    )
    assert result.actions == [
        "opened merge request !1: https://gitlab.com/acme/env/-/merge_requests/1",
        "labelled !1: promoter, env:staging, rollback",
        "assigned bob",
        "requested review from alice, bob",
        "set !1 to merge when the pipeline succeeds",
    ]
    mr = gl.mrs[1]
    assert mr["labels"] == ["promoter", "env:staging", "rollback"]
    assert [u["username"] for u in mr["reviewers"]] == ["alice", "bob"]
    assert [u["username"] for u in mr["assignees"]] == ["bob"]
    assert mr["merge_when_pipeline_succeeds"] is True


def test_user_ids_are_looked_up_once(forge: Forge, rsps: responses.RequestsMock) -> None:
    for env in ("staging", "prod"):
        forge.create_pull_request(
            PullRequestSpec(
                head=f"promoter/{env}", base=env, title="t", body="b", reviewers=("alice",)
            )
        )
    assert [(m, u) for m, u, _ in sent(rsps)] == [
        ("GET", f"{API}/users?username=alice"),
        ("POST", MRS),
        ("POST", MRS),
    ]


def test_unknown_user_and_team_reviewers_are_warnings(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    spec = PullRequestSpec(
        **{**SPEC.__dict__, "reviewers": ("ghost", "alice"), "team_reviewers": ("acme/sre",)}
    )
    result = forge.create_pull_request(spec)
    assert sent(rsps)[:2] == [
        ("GET", f"{API}/users?username=ghost", None),
        ("GET", f"{API}/users?username=alice", None),
    ]
    assert sent(rsps)[2][2]["reviewer_ids"] == [7]
    assert result.warnings == [
        "no GitLab user ghost; not added as reviewer",
        "GitLab has no team reviewers; ignored acme/sre (list the people as reviewers)",
    ]


def test_auto_merge_without_pipeline_is_a_warning(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    gl.has_pipeline = False
    result = forge.create_pull_request(PullRequestSpec(**{**SPEC.__dict__, "auto_merge": True}))
    assert sent(rsps)[-1] == ("PUT", f"{MRS}/1/merge", {"merge_when_pipeline_succeeds": True})
    assert rsps.calls[-1].response.status_code == 405
    assert result.created
    assert result.warnings == [
        "auto-merge not set on !1 (405 405 Method Not Allowed): GitLab has no pipeline for it "
        "to wait for; merge it by hand when ready"
    ]
    assert gl.mrs[1]["state"] == "opened"


def test_promote_twice_updates_instead_of_duplicating(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    def promote(spec: PullRequestSpec) -> None:
        existing = [p for p in forge.open_pull_requests(spec.base) if p.head == spec.head]
        if existing:
            forge.update_pull_request(existing[0], spec)
        else:
            forge.create_pull_request(spec)

    promote(SPEC)
    first = len(rsps.calls)
    promote(SPEC)
    unchanged = len(rsps.calls) - first
    promote(PullRequestSpec(**{**SPEC.__dict__, "title": "Promote api 1.4.3 to staging"}))
    assert (first, unchanged) == (2, 1)
    assert sent(rsps)[first:] == [
        ("GET", LIST, None),
        ("GET", LIST, None),
        ("PUT", f"{MRS}/1", {"title": "Promote api 1.4.3 to staging"}),
    ]
    assert len(gl.open_mrs()) == 1


# -- update -----------------------------------------------------------------


def test_unchanged_rerun_sends_only_the_list(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    gl.add_mr(SPEC.head, SPEC.base, title=SPEC.title, description=SPEC.body, labels=SPEC.labels)
    [pr] = forge.open_pull_requests("staging")
    result = forge.update_pull_request(pr, SPEC)
    assert sent(rsps) == [("GET", LIST, None)]
    assert not result.updated and result.actions == []


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        ({"title": "old"}, {"title": SPEC.title}),
        ({"description": "old"}, {"description": SPEC.body}),
        ({"labels": ("promoter", "other")}, {"add_labels": "env:staging"}),
        (
            {"title": "old", "description": "old", "labels": ()},
            {
                "title": SPEC.title,
                "description": SPEC.body,
                "add_labels": "promoter,env:staging",
            },
        ),
        # A draft keeps its prefix: the title compares without it.
        ({"title": f"Draft: {SPEC.title}"}, None),
        ({"title": "Draft: old"}, {"title": f"Draft: {SPEC.title}"}),
        ({"description": SPEC.body.replace("\n", "\r\n")}, None),
    ],
)
def test_update_sends_only_what_differs_in_one_put(
    forge: Forge,
    gl: FakeGitLab,
    rsps: responses.RequestsMock,
    seed: dict[str, Any],
    expected: dict[str, Any] | None,
) -> None:
    fields = {"title": SPEC.title, "description": SPEC.body, "labels": SPEC.labels, **seed}
    gl.add_mr(SPEC.head, SPEC.base, **fields)
    [pr] = forge.open_pull_requests("staging")
    result = forge.update_pull_request(pr, SPEC)
    assert sent(rsps)[1:] == ([("PUT", f"{MRS}/1", expected)] if expected else [])
    assert result.updated is bool(expected)
    mr = gl.mrs[1]
    assert mr["title"].removeprefix("Draft: ") == SPEC.title
    assert {"promoter", "env:staging"} <= set(mr["labels"])
    if expected:
        assert result.pull_request.title == mr["title"]
        assert result.pull_request.labels == tuple(mr["labels"])


def test_close_comments_then_closes(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    gl.add_mr("promoter/staging-old", "staging")
    [pr] = forge.open_pull_requests("staging")
    forge.close_pull_request(pr, "Superseded by !2")
    assert sent(rsps)[1:] == [
        ("POST", f"{MRS}/1/notes", {"body": "Superseded by !2"}),
        ("PUT", f"{MRS}/1", {"state_event": "close"}),
    ]
    assert gl.mrs[1]["state"] == "closed"
    assert gl.notes[1][0]["body"] == "Superseded by !2"


def test_create_racing_another_run_adopts_its_merge_request(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    gl.add_mr(SPEC.head, SPEC.base, title="theirs", description=SPEC.body, labels=SPEC.labels)
    result = forge.create_pull_request(SPEC)
    assert [(m, u) for m, u, _ in sent(rsps)] == [("POST", MRS), ("GET", LIST), ("PUT", f"{MRS}/1")]
    assert rsps.calls[0].response.status_code == 409
    assert "Another open merge request already exists" in rsps.calls[0].response.text
    assert not result.created and result.updated
    assert result.actions[0] == "merge request !1 already existed"
    assert len(gl.mrs) == 1


# -- list -------------------------------------------------------------------


def test_list_maps_the_api_fields(forge: Forge, gl: FakeGitLab) -> None:
    gl.add_mr("promoter/prod", "prod")
    seeded = gl.add_mr(
        "promoter/staging",
        "staging",
        title="Draft: T",
        description="B",
        labels=("promoter",),
        author="ci-bot",
    )
    gl.add_mr("promoter/staging-x", "staging", state="merged")
    [pr] = forge.open_pull_requests("staging")
    assert (pr.number, pr.url) == (2, "https://gitlab.com/acme/env/-/merge_requests/2")
    assert (pr.head, pr.base, pr.title, pr.body) == ("promoter/staging", "staging", "Draft: T", "B")
    assert (pr.state, pr.draft, pr.labels, pr.author) == ("open", True, ("promoter",), "ci-bot")
    assert pr.head_sha == seeded["sha"]


def test_list_follows_pagination(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    for i in range(120):
        gl.add_mr(f"promoter/staging-{i}", "staging")
    gl.add_mr("promoter/prod", "prod")
    prs = forge.open_pull_requests("staging")
    assert len({p.number for p in prs}) == 120
    assert sent(rsps) == [
        ("GET", LIST, None),
        ("GET", f"{MRS}?state=opened&target_branch=staging&per_page=100&page=2", None),
    ]
    first = rsps.calls[0].response.headers
    assert (first["X-Next-Page"], first["X-Total"], first["X-Total-Pages"]) == ("2", "120", "2")


# -- retries ----------------------------------------------------------------


def test_429_with_retry_after_then_success(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    gl.fail(429, {"message": "Retry later"}, headers={"Retry-After": "5"})
    assert forge.open_pull_requests("staging") == []
    assert sent(rsps) == [("GET", LIST, None), ("GET", LIST, None)]
    assert sleeper.waits == [5.0]


def test_429_with_ratelimit_reset_then_success(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    gl.fail(
        429,
        {"message": "Retry later"},
        headers={"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(NOW) + 9)},
        method="POST",
    )
    result = forge.create_pull_request(
        PullRequestSpec(head="h", base="staging", title="t", body="")
    )
    assert [(m, u) for m, u, _ in sent(rsps)] == [("POST", MRS), ("POST", MRS)]
    assert sleeper.waits == [10.0]
    assert result.pull_request.number == 1


def test_502_then_success(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    gl.fail(502, "<html>502 Bad Gateway</html>")
    assert forge.open_pull_requests("staging") == []
    assert len(rsps.calls) == 2
    assert sleeper.waits == [1.0]


def test_rate_limited_for_too_long_fails_fast(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    gl.fail(429, {"message": "Retry later"}, headers={"Retry-After": "600"})
    with pytest.raises(RateLimitError) as caught:
        forge.open_pull_requests("staging")
    assert len(rsps.calls) == 1
    assert sleeper.waits == []
    assert (
        "GitLab API rate limit hit (429 on GET /api/v4/projects/acme%2Fenv/merge_requests)"
        in str(caught.value)
    )
    assert caught.value.exit_code == ExitCode.FORGE


def test_still_rate_limited_after_every_try_fails(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    # python-gitlab would sleep and retry 429s on its own; we must not let it.
    gl.fail(429, {"message": "Retry later"}, headers={"Retry-After": "1"}, times=50)
    with pytest.raises(RateLimitError, match="still limited after 5 tries"):
        forge.open_pull_requests("staging")
    assert len(rsps.calls) == 5
    assert sleeper.waits == [1.0] * 4


# -- errors -----------------------------------------------------------------


def test_401_says_the_token_is_invalid(forge: Forge, gl: FakeGitLab) -> None:
    gl.token = "another"
    with pytest.raises(ForgeError) as caught:
        forge.open_pull_requests("staging")
    assert str(caught.value) == (
        "GitLab rejected the token (401 Unauthorized): it is invalid, expired or revoked\n"
        "  hint: create a new token and set it in PROMOTER_FORGE_TOKEN or GITLAB_TOKEN"
    )


def test_403_says_the_token_lacks_scope(forge: Forge, gl: FakeGitLab) -> None:
    gl.fail(403, {"message": "403 Forbidden"})
    with pytest.raises(ForgeError) as caught:
        forge.create_pull_request(SPEC)
    assert caught.value.message == (
        "GitLab refused to open a merge request from promoter/staging into staging in "
        "acme/env (403 Forbidden): the token lacks permission"
    )
    assert caught.value.hint == (
        "the token needs the `api` scope and at least the Developer role on acme/env"
    )
    assert caught.value.exit_code == ExitCode.FORGE


def test_404_says_the_project_is_wrong_or_invisible(
    gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    forge = make_forge(None, "https://gitlab.com/acme/typo.git", environ={"GITLAB_TOKEN": TOKEN})
    with pytest.raises(ForgeError) as caught:
        forge.open_pull_requests("staging")
    assert caught.value.message == (
        "GitLab found no project acme/typo while trying to list merge requests into staging "
        "(404 Project Not Found): the project name is wrong or the token cannot see it"
    )
    assert len(rsps.calls) == 1


@pytest.mark.parametrize("status", [401, 403, 404, 409, 422, 500])
def test_token_never_appears_in_errors(forge: Forge, gl: FakeGitLab, status: int) -> None:
    gl.fail(status, {"message": f"bad token {TOKEN}"}, times=10)
    with pytest.raises(ForgeError) as caught:
        forge.create_pull_request(SPEC)
    assert TOKEN not in str(caught.value)
    assert "***" in str(caught.value)


# -- hosts --------------------------------------------------------------------


def test_self_managed_instance_with_subgroups(
    rsps: responses.RequestsMock, sleeper: SleepRecorder
) -> None:
    fake = FakeGitLab(
        rsps, project="platform/deploy/env", url="https://gitlab.acme.io", token=TOKEN
    )
    forge = make_forge(
        None,
        "ssh://git@gitlab.acme.io:2222/platform/deploy/env.git",
        environ={"GITLAB_TOKEN": TOKEN},
        policy=RetryPolicy(sleep=sleeper),
    )
    forge.open_pull_requests("prod")
    result = forge.create_pull_request(
        PullRequestSpec(head="promoter/prod", base="prod", title="t", body="b")
    )
    root = "https://gitlab.acme.io/api/v4/projects/platform%2Fdeploy%2Fenv/merge_requests"
    assert [(m, u) for m, u, _ in sent(rsps)] == [
        ("GET", f"{root}?state=opened&target_branch=prod&per_page=100"),
        ("POST", root),
    ]
    assert (
        result.pull_request.url == "https://gitlab.acme.io/platform/deploy/env/-/merge_requests/1"
    )
    assert fake.mrs[1]["target_branch"] == "prod"


def test_merge_requests_from_forks_never_pass_for_ours(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    gl.add_mr("promoter/staging", "staging", source_project_id=777)
    gl.add_mr("promoter/staging", "staging")
    heads = sorted(p.head for p in forge.open_pull_requests("staging"))
    assert heads == ["777:promoter/staging", "promoter/staging"]
    assert len(rsps.calls) == 1
