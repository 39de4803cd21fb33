"""GitHub adapter, the calls `promoter check` and the PR bot make: one pull
request, commit statuses, the sticky comment, reviews, teams, permissions,
reactions. Every request's method, URL and JSON body is asserted against the
stateful fake, and so is the request count."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import responses

from promoter.adapters.forges import Approval, CommentResult, make_forge
from promoter.adapters.forges.github import GitHubForge
from promoter.adapters.forges.session import RetryPolicy
from promoter.core.forge import Forge, PullRequest
from promoter.errors import ForgeError
from tests.fakeforge import FakeGitHub, SleepRecorder, fake_sha, sent

TOKEN = "ghp_FAKEtoken0123456789abcdef"
API = "https://api.github.com:443"
REPO = f"{API}/repos/acme/env"
SHA = fake_sha("acme/env", "promoter/staging")
MARK = "<!-- promoter:sticky -->"
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeper() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def gh(rsps: responses.RequestsMock) -> FakeGitHub:
    return FakeGitHub(
        rsps,
        repo="acme/env",
        token=TOKEN,
        teams={"acme/sre": {"alice", "bob"}, "acme/platform": {"carol"}},
        permissions={
            "root": "admin",
            "mona": "maintain",
            "carol": "write",
            "tri": "triage",
            "bob": "read",
            "eve": "none",
        },
    )


@pytest.fixture
def forge(gh: FakeGitHub, sleeper: SleepRecorder) -> Forge:
    return make_forge(
        None,
        "https://github.com/acme/env.git",
        environ={"GITHUB_TOKEN": TOKEN},
        policy=RetryPolicy(sleep=sleeper),
    )


@pytest.fixture
def pr(forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock) -> PullRequest:
    """Pull request #1, read through the forge; the log starts empty after it."""
    gh.add_pull("promoter/staging", "staging")
    pull = forge.get_pull_request(1)
    rsps.calls.reset()
    return pull


def body(text: str) -> str:
    return f"{MARK}\n{text}\n"


# -- get_pull_request -----------------------------------------------------------


def test_get_pull_request_is_one_get_with_all_fields(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    gh.add_pull("promoter/prod", "prod")
    seeded = gh.add_pull(
        "promoter/staging", "staging", title="T", body="B", labels=("promoter",), user="ci-bot"
    )
    pr = forge.get_pull_request(2)
    assert sent(rsps) == [("GET", f"{REPO}/pulls/2", None)]
    assert (pr.number, pr.head, pr.base, pr.title, pr.body) == (
        2,
        "promoter/staging",
        "staging",
        "T",
        "B",
    )
    assert (pr.state, pr.labels, pr.author) == ("open", ("promoter",), "ci-bot")
    assert pr.head_sha == seeded["head"]["sha"]
    assert pr.merged_at is None
    assert pr.head_committed_at is None  # not in GitHub's PR JSON; no extra request


def test_get_pull_request_tells_merged_from_closed(forge: Forge, gh: FakeGitHub) -> None:
    gh.add_pull("promoter/staging", "staging", state="merged")
    gh.add_pull("promoter/staging-2", "staging", state="closed")
    merged, closed = forge.get_pull_request(1), forge.get_pull_request(2)
    assert (merged.state, merged.merged_at) == ("merged", WHEN)
    assert (closed.state, closed.merged_at) == ("closed", None)


def test_get_pull_request_404_names_the_pull_request(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    with pytest.raises(ForgeError) as caught:
        forge.get_pull_request(99)
    assert caught.value.message == (
        "GitHub found no pull request #99 in acme/env (Not Found): it does not exist or the "
        "token cannot see it"
    )
    assert caught.value.hint == "check that pull request #99 in acme/env exists"
    assert len(rsps.calls) == 1


# -- statuses ---------------------------------------------------------------------


def test_set_status_posts_state_context_description_and_url(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    forge.set_status(
        SHA, "promoter/policy", "failure", "2 of 5 checks failed", "https://ci.example/1"
    )
    forge.set_status(SHA, "promoter/apply", "pending", "applying")
    assert sent(rsps) == [
        (
            "POST",
            f"{REPO}/statuses/{SHA}",
            {
                "state": "failure",
                "context": "promoter/policy",
                "description": "2 of 5 checks failed",
                "target_url": "https://ci.example/1",
            },
        ),
        (
            "POST",
            f"{REPO}/statuses/{SHA}",
            {"state": "pending", "context": "promoter/apply", "description": "applying"},
        ),
    ]
    latest = gh.latest_statuses(SHA)
    assert latest["promoter/policy"]["target_url"] == "https://ci.example/1"
    assert latest["promoter/apply"]["state"] == "pending"


def test_set_status_shortens_long_descriptions_to_what_github_accepts(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    # GitHub answers 422 past 140 characters; the fake does too.
    forge.set_status(SHA, "promoter/policy", "success", "word " * 60)
    [(_, _, data)] = sent(rsps)
    assert len(data["description"]) == 140
    assert data["description"].endswith("word…")
    assert rsps.calls[0].response.status_code == 201


def test_set_status_twice_in_the_same_state_is_fine_on_github(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    for _ in range(2):
        forge.set_status(SHA, "promoter/apply", "pending", "applying")
    assert [r.response.status_code for r in rsps.calls] == [201, 201]
    assert len(gh.statuses[SHA]) == 2


@pytest.mark.parametrize("state", ["failed", "SUCCESS", "running", ""])
def test_set_status_refuses_states_outside_our_vocabulary(
    forge: Forge, rsps: responses.RequestsMock, state: str
) -> None:
    with pytest.raises(ValueError, match="unknown commit status state"):
        forge.set_status(SHA, "promoter/apply", state, "x")
    assert len(rsps.calls) == 0


def test_set_status_403_says_which_permission_is_missing(forge: Forge, gh: FakeGitHub) -> None:
    gh.fail(403, {"message": "Resource not accessible by integration"})
    with pytest.raises(ForgeError) as caught:
        forge.set_status(SHA, "promoter/apply", "success", "ok")
    assert caught.value.message == (
        f"GitHub refused to set status promoter/apply on {SHA[:12]} in acme/env "
        "(Resource not accessible by integration): the token lacks permission"
    )
    assert caught.value.hint is not None
    assert "`statuses: write`" in caught.value.hint


def test_commit_statuses_reads_the_latest_state_per_context_in_one_request(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    gh.add_status(SHA, "ci/build", "pending")
    gh.add_status(SHA, "ci/build", "success")
    gh.add_status(SHA, "promoter/apply", "failure")
    gh.add_status(SHA, "security/scan", "error")
    gh.add_status(fake_sha("other"), "promoter/apply", "success")
    assert forge.commit_statuses(SHA) == {
        "ci/build": "success",
        "promoter/apply": "failure",
        "security/scan": "error",
    }
    assert sent(rsps) == [("GET", f"{REPO}/commits/{SHA}/status?per_page=100", None)]


def test_commit_statuses_of_a_commit_without_any(
    forge: Forge, rsps: responses.RequestsMock
) -> None:
    assert forge.commit_statuses(SHA) == {}
    assert len(rsps.calls) == 1


def test_commit_statuses_pages_past_a_hundred_contexts(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    gh.add_status(SHA, "promoter/apply", "failure")  # the oldest: on the last page
    for i in range(130):
        gh.add_status(SHA, f"ci/job-{i:03d}", "success")
    statuses = forge.commit_statuses(SHA)
    assert len(statuses) == 131
    assert statuses["promoter/apply"] == "failure"
    assert sent(rsps) == [
        ("GET", f"{REPO}/commits/{SHA}/status?per_page=100", None),
        ("GET", f"{REPO}/commits/{SHA}/status?page=2&per_page=100", None),
    ]


def test_own_status_round_trips(forge: Forge) -> None:
    for state in ("pending", "success", "failure", "error"):
        forge.set_status(SHA, f"promoter/{state}", state, state)
    assert forge.commit_statuses(SHA) == {
        f"promoter/{s}": s for s in ("pending", "success", "failure", "error")
    }


# -- the sticky comment -------------------------------------------------------------


def test_sticky_comment_is_created_then_left_alone_then_edited_never_doubled(
    forge: Forge, gh: FakeGitHub, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    gh.add_comment(1, "LGTM", user="alice")
    listing = ("GET", f"{REPO}/issues/1/comments?per_page=100", None)

    first = forge.upsert_comment(pr, MARK, body("all checks passed"))
    created = len(rsps.calls)
    again = forge.upsert_comment(pr, MARK, body("all checks passed"))
    unchanged = len(rsps.calls) - created
    edited = forge.upsert_comment(pr, MARK, body("1 check failed"))

    comment_id = gh.comments[1][1]["id"]
    assert (created, unchanged) == (2, 1)
    assert sent(rsps) == [
        listing,
        ("POST", f"{REPO}/issues/1/comments", {"body": body("all checks passed")}),
        listing,
        listing,
        ("PATCH", f"{REPO}/issues/comments/{comment_id}", {"body": body("1 check failed")}),
    ]
    assert first == CommentResult(comment_id, created=True, updated=False)
    assert again == CommentResult(comment_id, created=False, updated=False)
    assert edited == CommentResult(comment_id, created=False, updated=True)
    assert [c["body"] for c in gh.comments[1]] == ["LGTM", body("1 check failed")]
    assert gh.edits == {comment_id: 1}


def test_sticky_comment_found_on_the_second_page(
    forge: Forge, gh: FakeGitHub, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    for i in range(120):
        gh.add_comment(1, f"/check please ({i})", user="alice")
    sticky = gh.add_comment(1, body("old report"))
    result = forge.upsert_comment(pr, MARK, body("new report"))
    assert sent(rsps) == [
        ("GET", f"{REPO}/issues/1/comments?per_page=100", None),
        ("GET", f"{REPO}/issues/1/comments?page=2&per_page=100", None),
        ("PATCH", f"{REPO}/issues/comments/{sticky['id']}", {"body": body("new report")}),
    ]
    assert result == CommentResult(sticky["id"], created=False, updated=True)
    assert len(gh.comments[1]) == 121


def test_sticky_comment_on_the_first_page_needs_no_second(
    forge: Forge, gh: FakeGitHub, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    sticky = gh.add_comment(1, body("report"))
    for i in range(150):
        gh.add_comment(1, f"chatter {i}", user="alice")
    assert forge.upsert_comment(pr, MARK, body("report")).id == sticky["id"]
    assert len(rsps.calls) == 1


def test_sticky_comment_ignores_line_end_and_trailing_space_differences(
    forge: Forge, gh: FakeGitHub, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    # Edited in the web UI, GitHub stores CRLF.
    gh.add_comment(1, body("a\nb").replace("\n", "\r\n"))
    result = forge.upsert_comment(pr, MARK, body("a\nb") + "\n\n")
    assert not result.updated
    assert len(rsps.calls) == 1


def test_sticky_comment_prefers_our_own_once_we_know_who_we_are(
    forge: Forge, gh: FakeGitHub, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    gh.add_pull("promoter/prod", "prod")
    forge.upsert_comment(pr, MARK, body("staging report"))  # creates: we learn our login
    # On #2 someone pasted our marker into their own comment before ours.
    gh.add_comment(2, body("copied by hand"), user="mallory")
    ours = gh.add_comment(2, body("prod report"))
    rsps.calls.reset()
    result = forge.upsert_comment(forge.get_pull_request(2), MARK, body("prod report v2"))
    assert [(m, u) for m, u, _ in sent(rsps)] == [
        ("GET", f"{REPO}/pulls/2"),
        ("GET", f"{REPO}/issues/2/comments?per_page=100"),
        ("PATCH", f"{REPO}/issues/comments/{ours['id']}"),
    ]
    assert result.id == ours["id"]
    assert gh.comments[2][0]["body"] == body("copied by hand")


def test_sticky_comment_without_knowing_ourselves_takes_the_oldest_marked(
    forge: Forge, gh: FakeGitHub, pr: PullRequest
) -> None:
    first = gh.add_comment(1, body("one"))
    second = gh.add_comment(1, body("two"))
    assert forge.upsert_comment(pr, MARK, body("three")).id == first["id"]
    assert second["body"] == body("two")


def test_sticky_comment_longer_than_github_allows_is_refused_before_sending(
    forge: Forge, gh: FakeGitHub, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    limit = forge.max_comment_length
    assert limit == 65_536
    with pytest.raises(ValueError, match="65537 characters exceeds GitHub's limit of 65536"):
        forge.upsert_comment(pr, MARK, MARK + "x" * (limit - len(MARK) + 1))
    assert len(rsps.calls) == 0
    # Exactly the limit is accepted, by us and by GitHub.
    result = forge.upsert_comment(pr, MARK, MARK + "x" * (limit - len(MARK)))
    assert result.created
    assert rsps.calls[-1].response.status_code == 201


def test_github_refuses_comments_over_its_limit(
    forge: Forge, gh: FakeGitHub, pr: PullRequest
) -> None:
    # Why upsert_comment checks first: GitHub's own answer is a 422.
    with pytest.raises(ForgeError, match=r"body is too long \(maximum is 65536 characters\)"):
        forge.comment(pr, "x" * 65_537)
    assert 1 not in gh.comments


def test_sticky_body_must_carry_its_marker(
    forge: Forge, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    with pytest.raises(ValueError, match="does not contain its marker"):
        forge.upsert_comment(pr, MARK, "report without the marker")
    with pytest.raises(ValueError, match="non-empty marker"):
        forge.upsert_comment(pr, " ", "report")
    assert len(rsps.calls) == 0


# -- reviews ------------------------------------------------------------------------


def test_approvals_are_the_submitted_reviews_oldest_first(
    forge: Forge, gh: FakeGitHub, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    old = fake_sha("old head")
    gh.add_review(1, "alice", "APPROVED", commit_id=old, submitted_at="2026-01-01T10:00:00Z")
    gh.add_review(1, "bob", "CHANGES_REQUESTED", submitted_at="2026-01-01T11:00:00Z")
    gh.add_review(1, "carol", "COMMENTED", submitted_at="2026-01-01T12:00:00Z")
    gh.add_review(1, "dave", "DISMISSED", submitted_at="2026-01-01T13:00:00Z")
    gh.add_review(1, "erin", "PENDING")  # a draft, only visible to erin's own token
    ghost = gh.add_review(1, "gone", "APPROVED", submitted_at="2026-01-01T14:00:00Z")
    ghost["user"] = None  # a deleted account

    def at(hour: int) -> datetime:
        return datetime(2026, 1, 1, hour, tzinfo=UTC)

    assert forge.approvals(pr) == [
        Approval("alice", "APPROVED", old, at(10)),
        Approval("bob", "CHANGES_REQUESTED", SHA, at(11)),
        Approval("carol", "COMMENTED", SHA, at(12)),
        Approval("dave", "DISMISSED", SHA, at(13)),
        Approval("ghost", "APPROVED", SHA, at(14)),
    ]
    assert sent(rsps) == [("GET", f"{REPO}/pulls/1/reviews?per_page=100", None)]


def test_approvals_page_past_a_hundred_reviews(
    forge: Forge, gh: FakeGitHub, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    for i in range(104):
        gh.add_review(1, f"user{i}", "COMMENTED")
    gh.add_review(1, "alice", "APPROVED")
    reviews = forge.approvals(pr)
    assert len(reviews) == 105
    assert reviews[-1].user == "alice"
    assert [u for _, u, _ in sent(rsps)] == [
        f"{REPO}/pulls/1/reviews?per_page=100",
        f"{REPO}/pulls/1/reviews?page=2&per_page=100",
    ]


# -- teams and permissions ---------------------------------------------------------


def test_team_members_are_fetched_once_per_team(forge: Forge, rsps: responses.RequestsMock) -> None:
    assert forge.team_members("acme/sre") == {"alice", "bob"}
    assert forge.team_members("sre") == {"alice", "bob"}  # the repository owner's org
    assert forge.team_members("@acme/SRE") == {"alice", "bob"}
    assert forge.team_members("platform") == {"carol"}
    assert sent(rsps) == [
        ("GET", f"{API}/orgs/acme/teams/sre/members?per_page=100", None),
        ("GET", f"{API}/orgs/acme/teams/platform/members?per_page=100", None),
    ]


def test_team_members_cache_cannot_be_changed_by_the_caller(forge: Forge) -> None:
    forge.team_members("sre").add("mallory")
    assert forge.team_members("sre") == {"alice", "bob"}


def test_team_members_page_past_a_hundred(
    forge: Forge, gh: FakeGitHub, rsps: responses.RequestsMock
) -> None:
    gh.teams["acme/everyone"] = {f"user{i:03d}" for i in range(150)}
    assert len(forge.team_members("everyone")) == 150
    assert len(rsps.calls) == 2


def test_unknown_team_says_what_the_token_needs(forge: Forge) -> None:
    with pytest.raises(ForgeError) as caught:
        forge.team_members("acme/typo")
    assert caught.value.message == (
        "GitHub found no team acme/typo (Not Found): it does not exist or the token cannot see it"
    )
    assert caught.value.hint == (
        "check that team acme/typo exists; the token needs `read:org` (classic token) or "
        "`members: read` (fine-grained token / GitHub App)"
    )


def test_a_team_name_with_two_slashes_is_refused(forge: Forge) -> None:
    with pytest.raises(ValueError, match="not a GitHub team"):
        forge.team_members("acme/parent/child")


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("root", "admin"),
        # `permission` says "write" and "read" for these: the role name is read.
        ("mona", "maintain"),
        ("tri", "triage"),
        ("carol", "write"),
        ("@bob", "read"),
        ("eve", "none"),  # exists, no access
        ("nobody", "none"),  # no such user: 404
    ],
)
def test_permission(forge: Forge, rsps: responses.RequestsMock, user: str, expected: str) -> None:
    assert forge.permission(user) == expected
    assert sent(rsps) == [("GET", f"{REPO}/collaborators/{user.lstrip('@')}/permission", None)]


def test_permission_of_a_custom_role_is_its_base_role(forge: Forge, gh: FakeGitHub) -> None:
    gh.permissions["sec"] = "security-manager"
    assert forge.permission("sec") == "read"


def test_permission_with_a_bad_token_is_an_error_not_none(forge: Forge, gh: FakeGitHub) -> None:
    gh.token = "another"
    with pytest.raises(ForgeError, match="GitHub rejected the token"):
        forge.permission("bob")


# -- reactions ------------------------------------------------------------------------


def test_add_reaction_acknowledges_a_command_once(
    forge: Forge, gh: FakeGitHub, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    command = gh.add_comment(1, "/promote", user="alice")
    forge.add_reaction(pr, command["id"], "eyes")
    forge.add_reaction(pr, command["id"], "eyes")  # a re-delivered webhook
    forge.add_reaction(pr, command["id"], "+1")
    url = f"{REPO}/issues/comments/{command['id']}/reactions"
    assert sent(rsps) == [
        ("POST", url, {"content": "eyes"}),
        ("POST", url, {"content": "eyes"}),
        ("POST", url, {"content": "+1"}),
    ]
    assert [r.response.status_code for r in rsps.calls] == [201, 200, 201]
    assert [r["content"] for r in gh.reactions[command["id"]]] == ["eyes", "+1"]


def test_add_reaction_refuses_unknown_kinds(
    forge: Forge, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    with pytest.raises(ValueError, match="unknown reaction 'thumbsup'"):
        forge.add_reaction(pr, 1, "thumbsup")
    assert len(rsps.calls) == 0


def test_add_reaction_to_a_missing_comment(forge: Forge, pr: PullRequest) -> None:
    with pytest.raises(ForgeError, match="GitHub found no comment 404 in acme/env"):
        forge.add_reaction(pr, 404, "rocket")


# -- the machinery applies to the new calls too ----------------------------------------


def test_new_calls_retry_5xx_like_the_others(
    forge: Forge, gh: FakeGitHub, pr: PullRequest, sleeper: SleepRecorder
) -> None:
    gh.add_review(1, "alice")
    gh.fail(502, {"message": "Server Error"}, path="/reviews")
    assert [a.user for a in forge.approvals(pr)] == ["alice"]
    assert sleeper.waits == [1.0]


def test_request_count_counts_the_new_calls(forge: Forge, pr: PullRequest) -> None:
    assert isinstance(forge, GitHubForge)
    before = forge.request_count
    forge.upsert_comment(pr, MARK, body("x"))
    forge.commit_statuses(SHA)
    assert forge.request_count - before == 3
