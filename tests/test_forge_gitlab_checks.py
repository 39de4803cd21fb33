"""GitLab adapter, the calls `promoter check` and the MR bot make: one merge
request, commit statuses (with GitLab's refusal to re-post a state), the
sticky note, approvals, groups, roles, award emoji. Every request's method,
URL and JSON body is asserted against the stateful fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import responses

from promoter.adapters.forges import Approval, CommentResult, make_forge
from promoter.adapters.forges.gitlab import GitLabForge
from promoter.adapters.forges.session import RetryPolicy
from promoter.core.forge import Forge, PullRequest
from promoter.errors import ForgeError
from tests.fakeforge import FakeGitLab, SleepRecorder, fake_sha, sent

TOKEN = "glpat-FAKEtoken0123456789"
API = "https://gitlab.com/api/v4"
PROJECT = f"{API}/projects/acme%2Fenv"
MRS = f"{PROJECT}/merge_requests"
SHA = fake_sha("acme/env", "promoter/staging")
STATUS = f"{PROJECT}/statuses/{SHA}"
STATUSES = f"{PROJECT}/repository/commits/{SHA}/statuses?per_page=100"
NOTES = f"{MRS}/1/notes?per_page=100&sort=asc"
MARK = "<!-- promoter:sticky -->"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleeper() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def gl(rsps: responses.RequestsMock) -> FakeGitLab:
    return FakeGitLab(
        rsps,
        project="acme/env",
        token=TOKEN,
        users={"alice": 7, "bob": 8, "stranger": 9},
        groups={"acme/sre": {"alice", "bob"}, "acme/platform/oncall": {"carol"}},
        members={"owner": 50, "mona": 40, "alice": 30, "bob": 20, "plan": 15, "guest": 10},
    )


@pytest.fixture
def forge(gl: FakeGitLab, sleeper: SleepRecorder) -> Forge:
    return make_forge(
        None,
        "https://gitlab.com/acme/env.git",
        environ={"GITLAB_TOKEN": TOKEN},
        policy=RetryPolicy(sleep=sleeper),
    )


@pytest.fixture
def pr(forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock) -> PullRequest:
    """Merge request !1, read through the forge; the log starts empty after it."""
    gl.add_mr("promoter/staging", "staging")
    mr = forge.get_pull_request(1)
    rsps.calls.reset()
    return mr


def body(text: str) -> str:
    return f"{MARK}\n{text}\n"


# -- get_pull_request -----------------------------------------------------------


def test_get_pull_request_is_one_get_with_all_fields(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    gl.add_mr("promoter/prod", "prod")
    seeded = gl.add_mr(
        "promoter/staging",
        "staging",
        title="Draft: T",
        description="B",
        labels=("promoter",),
        author="ci-bot",
    )
    pr = forge.get_pull_request(2)
    assert sent(rsps) == [("GET", f"{MRS}/2", None)]
    assert (pr.number, pr.head, pr.base, pr.title, pr.body, pr.draft) == (
        2,
        "promoter/staging",
        "staging",
        "Draft: T",
        "B",
        True,
    )
    assert (pr.state, pr.labels, pr.author, pr.head_sha) == (
        "open",
        ("promoter",),
        "ci-bot",
        seeded["sha"],
    )
    assert pr.merged_at is None
    assert pr.head_committed_at is None


def test_get_pull_request_of_a_merged_one(forge: Forge, gl: FakeGitLab) -> None:
    gl.add_mr("promoter/staging", "staging")
    gl.merge(1)
    gl.mrs[1]["merged_at"] = "2026-01-01T12:30:00.000Z"
    gl.add_mr("promoter/staging-2", "staging", state="closed")
    merged, closed = forge.get_pull_request(1), forge.get_pull_request(2)
    assert (merged.state, merged.merged_at) == ("merged", datetime(2026, 1, 1, 12, 30, tzinfo=UTC))
    assert (closed.state, closed.merged_at) == ("closed", None)


def test_get_pull_request_404_names_the_merge_request(forge: Forge) -> None:
    with pytest.raises(ForgeError) as caught:
        forge.get_pull_request(99)
    assert caught.value.message == (
        "GitLab found no merge request !99 in acme/env (404 Not Found): it does not exist or "
        "the token cannot see it"
    )


# -- statuses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [("pending", "pending"), ("success", "success"), ("failure", "failed"), ("error", "failed")],
)
def test_set_status_speaks_gitlab_states(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock, ours: str, theirs: str
) -> None:
    forge.set_status(SHA, "promoter/policy", ours, "checked", "https://ci.example/1")
    assert sent(rsps) == [
        (
            "POST",
            STATUS,
            {
                "state": theirs,
                "name": "promoter/policy",
                "description": "checked",
                "target_url": "https://ci.example/1",
            },
        )
    ]
    assert gl.latest_statuses(SHA)["promoter/policy"]["status"] == theirs


def test_set_status_without_url_and_with_a_long_description(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    forge.set_status(SHA, "promoter/apply", "success", "applied\n" + "x" * 300)
    [(_, _, data)] = sent(rsps)
    assert set(data) == {"state", "name", "description"}
    assert data["description"].startswith("applied xxx")
    assert len(data["description"]) == 140
    assert data["description"].endswith("…")


def test_reposting_a_pending_status_is_tolerated(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    forge.set_status(SHA, "promoter/apply", "pending", "applying")
    forge.set_status(SHA, "promoter/apply", "pending", "applying")  # a re-run
    forge.set_status(SHA, "promoter/apply", "success", "applied")
    assert [(m, u) for m, u, _ in sent(rsps)] == [("POST", STATUS)] * 3
    second = rsps.calls[1].response
    assert second.status_code == 400
    assert "Cannot transition status via :enqueue from :pending" in second.text
    assert [s["status"] for s in gl.statuses[SHA]] == ["success"]  # one status, moved on


def test_posting_pending_onto_a_running_status_is_tolerated(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    gl.add_status(SHA, "promoter/apply", "running")
    forge.set_status(SHA, "promoter/apply", "pending", "applying")
    assert rsps.calls[0].response.status_code == 400
    assert "from :running" in rsps.calls[0].response.text
    assert forge.commit_statuses(SHA) == {"promoter/apply": "pending"}


def test_a_finished_status_gets_a_new_one(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    forge.set_status(SHA, "promoter/apply", "failure", "failed")
    forge.set_status(SHA, "promoter/apply", "pending", "retrying")
    assert [r.response.status_code for r in rsps.calls] == [201, 201]
    assert [s["status"] for s in gl.statuses[SHA]] == ["failed", "pending"]


def test_a_refused_transition_to_another_state_is_an_error(forge: Forge, gl: FakeGitLab) -> None:
    gl.fail(
        400,
        {"message": "Cannot transition status via :enqueue from :success (Reason(s): x)"},
        method="POST",
    )
    with pytest.raises(ForgeError) as caught:
        forge.set_status(SHA, "promoter/apply", "pending", "applying")
    assert caught.value.message == (
        f"GitLab refused to set status promoter/apply on {SHA[:12]} in acme/env: HTTP 400 "
        "(Cannot transition status via :enqueue from :success (Reason(s): x))"
    )


def test_other_400s_are_errors(forge: Forge, gl: FakeGitLab) -> None:
    gl.fail(400, {"message": "400 Bad request - ref is missing"}, method="POST")
    with pytest.raises(ForgeError, match="HTTP 400"):
        forge.set_status(SHA, "promoter/apply", "success", "ok")


def test_set_status_refuses_gitlab_words(forge: Forge, rsps: responses.RequestsMock) -> None:
    with pytest.raises(ValueError, match="unknown commit status state 'failed'"):
        forge.set_status(SHA, "promoter/apply", "failed", "x")
    assert len(rsps.calls) == 0


def test_commit_statuses_map_gitlab_states_to_ours(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    gl.add_status(SHA, "promoter/apply", "failed")
    gl.add_status(SHA, "promoter/apply", "success")  # the latest counts
    gl.add_status(SHA, "build", "running")
    gl.add_status(SHA, "test", "failed")
    gl.add_status(SHA, "deploy", "canceled")
    gl.add_status(SHA, "lint", "pending")
    gl.add_status(fake_sha("other"), "promoter/apply", "failed")
    assert forge.commit_statuses(SHA) == {
        "promoter/apply": "success",
        "build": "pending",
        "test": "failure",
        "deploy": "error",
        "lint": "pending",
    }
    assert sent(rsps) == [("GET", STATUSES, None)]


def test_commit_statuses_page_past_a_hundred(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    for i in range(120):
        gl.add_status(SHA, f"job-{i:03d}", "success")
    gl.add_status(SHA, "promoter/apply", "failed")
    statuses = forge.commit_statuses(SHA)
    assert len(statuses) == 121
    assert statuses["promoter/apply"] == "failure"
    assert [u for _, u, _ in sent(rsps)] == [STATUSES, f"{STATUSES}&page=2"]


# -- the sticky note ----------------------------------------------------------------


def test_sticky_note_is_created_then_left_alone_then_edited_never_doubled(
    forge: Forge, gl: FakeGitLab, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    gl.add_note(1, "LGTM", author="alice")
    first = forge.upsert_comment(pr, MARK, body("all checks passed"))
    created = len(rsps.calls)
    again = forge.upsert_comment(pr, MARK, body("all checks passed"))
    unchanged = len(rsps.calls) - created
    edited = forge.upsert_comment(pr, MARK, body("1 check failed"))

    note_id = gl.notes[1][1]["id"]
    assert (created, unchanged) == (2, 1)
    assert sent(rsps) == [
        ("GET", NOTES, None),
        ("POST", f"{MRS}/1/notes", {"body": body("all checks passed")}),
        ("GET", NOTES, None),
        ("GET", NOTES, None),
        ("PUT", f"{MRS}/1/notes/{note_id}", {"body": body("1 check failed")}),
    ]
    assert first == CommentResult(note_id, created=True, updated=False)
    assert again == CommentResult(note_id, created=False, updated=False)
    assert edited == CommentResult(note_id, created=False, updated=True)
    assert [n["body"] for n in gl.notes[1]] == ["LGTM", body("1 check failed")]
    assert gl.edits == {note_id: 1}


def test_sticky_note_lists_oldest_first_and_finds_ours_on_page_two(
    forge: Forge, gl: FakeGitLab, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    # Newest first (GitLab's default) would put a later copy ahead of ours.
    for i in range(110):
        gl.add_note(1, f"chatter {i}", author="alice")
    ours = gl.add_note(1, body("old"))
    gl.add_note(1, f"quoting: {body('old')}", author="alice")
    result = forge.upsert_comment(pr, MARK, body("new"))
    assert [(m, u) for m, u, _ in sent(rsps)] == [
        ("GET", NOTES),
        ("GET", f"{NOTES}&page=2"),
        ("PUT", f"{MRS}/1/notes/{ours['id']}"),
    ]
    assert result.id == ours["id"]


def test_sticky_note_skips_system_notes(
    forge: Forge, gl: FakeGitLab, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    system = gl.add_note(1, f"changed the description {MARK}", system=True)
    result = forge.upsert_comment(pr, MARK, body("report"))
    assert result.created
    assert [m for m, _, _ in sent(rsps)] == ["GET", "POST"]
    assert system["body"] == f"changed the description {MARK}"


def test_sticky_note_prefers_our_own_once_we_know_who_we_are(
    forge: Forge, gl: FakeGitLab, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    gl.add_mr("promoter/prod", "prod")
    forge.upsert_comment(pr, MARK, body("staging"))  # creates: we learn our username
    gl.add_note(2, body("pasted by hand"), author="mallory")
    ours = gl.add_note(2, body("prod"))
    rsps.calls.reset()
    result = forge.upsert_comment(forge.get_pull_request(2), MARK, body("prod v2"))
    assert result.id == ours["id"]
    assert sent(rsps)[-1] == ("PUT", f"{MRS}/2/notes/{ours['id']}", {"body": body("prod v2")})
    assert gl.notes[2][0]["body"] == body("pasted by hand")


def test_sticky_note_longer_than_gitlab_allows_is_refused_before_sending(
    forge: Forge, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    limit = forge.max_comment_length
    assert limit == 1_000_000
    with pytest.raises(ValueError, match="exceeds GitLab's limit of 1000000"):
        forge.upsert_comment(pr, MARK, MARK + "x" * (limit - len(MARK) + 1))
    assert len(rsps.calls) == 0
    assert forge.upsert_comment(pr, MARK, MARK + "x" * (limit - len(MARK))).created


def test_gitlab_refuses_notes_over_its_limit(forge: Forge, gl: FakeGitLab, pr: PullRequest) -> None:
    with pytest.raises(ForgeError, match=r"is too long \(maximum is 1000000 characters\)"):
        forge.comment(pr, "x" * 1_000_001)
    assert 1 not in gl.notes


# -- approvals ----------------------------------------------------------------------


def test_approvals_name_no_commit(
    forge: Forge, gl: FakeGitLab, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    gl.approve(1, "alice", approved_at="2026-01-02T09:15:00.123Z")
    gl.approve(1, "bob", approved_at=None)  # older GitLab: no time
    assert forge.approvals(pr) == [
        Approval(
            "alice",
            "APPROVED",
            commit_sha=None,
            submitted_at=datetime(2026, 1, 2, 9, 15, 0, 123000, tzinfo=UTC),
        ),
        Approval("bob", "APPROVED", commit_sha=None, submitted_at=None),
    ]
    assert sent(rsps) == [("GET", f"{MRS}/1/approvals", None)]


def test_no_approvals(forge: Forge, pr: PullRequest) -> None:
    assert forge.approvals(pr) == []


# -- groups and roles ----------------------------------------------------------------


def test_group_members_are_fetched_once_per_group(
    forge: Forge, rsps: responses.RequestsMock
) -> None:
    assert forge.team_members("acme/sre") == {"alice", "bob"}
    assert forge.team_members("@acme/SRE/") == {"alice", "bob"}
    assert forge.team_members("acme/platform/oncall") == {"carol"}
    assert sent(rsps) == [
        ("GET", f"{API}/groups/acme%2Fsre/members/all?per_page=100", None),
        ("GET", f"{API}/groups/acme%2Fplatform%2Foncall/members/all?per_page=100", None),
    ]


def test_group_members_page_past_a_hundred(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock
) -> None:
    gl.groups["acme/everyone"] = {f"user{i:03d}" for i in range(130)}
    assert len(forge.team_members("acme/everyone")) == 130
    assert [u for _, u, _ in sent(rsps)] == [
        f"{API}/groups/acme%2Feveryone/members/all?per_page=100",
        f"{API}/groups/acme%2Feveryone/members/all?per_page=100&page=2",
    ]


def test_unknown_group(forge: Forge) -> None:
    with pytest.raises(ForgeError) as caught:
        forge.team_members("acme/typo")
    assert caught.value.message == (
        "GitLab found no group acme/typo (404 Group Not Found): it does not exist or the "
        "token cannot see it"
    )
    assert caught.value.hint is not None
    assert "`read_api`" in caught.value.hint


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("owner", "admin"),
        ("mona", "maintain"),
        ("alice", "write"),
        ("bob", "read"),
        ("plan", "read"),
        ("guest", "read"),
    ],
)
def test_permission_from_the_access_level(
    forge: Forge, gl: FakeGitLab, rsps: responses.RequestsMock, user: str, expected: str
) -> None:
    assert forge.permission(user) == expected
    assert sent(rsps) == [
        ("GET", f"{API}/users?username={user}", None),
        ("GET", f"{PROJECT}/members/all/{gl.users[user]}", None),
    ]


def test_permission_of_strangers_and_unknown_users_is_none(
    forge: Forge, rsps: responses.RequestsMock
) -> None:
    assert forge.permission("stranger") == "none"  # a user, not a member: 404
    assert forge.permission("nobody") == "none"  # no such user: no member call
    assert [u for _, u, _ in sent(rsps)] == [
        f"{API}/users?username=stranger",
        f"{PROJECT}/members/all/9",
        f"{API}/users?username=nobody",
    ]


def test_permission_reuses_the_user_id_cache(forge: Forge, rsps: responses.RequestsMock) -> None:
    forge.permission("alice")
    forge.permission("@alice")
    assert [u for _, u, _ in sent(rsps)] == [
        f"{API}/users?username=alice",
        f"{PROJECT}/members/all/7",
        f"{PROJECT}/members/all/7",
    ]


def test_permission_with_a_bad_token_is_an_error_not_none(forge: Forge, gl: FakeGitLab) -> None:
    gl.token = "another"
    with pytest.raises(ForgeError, match="GitLab rejected the token"):
        forge.permission("alice")


# -- award emoji ---------------------------------------------------------------------


def test_add_reaction_awards_gitlab_emoji_once(
    forge: Forge, gl: FakeGitLab, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    command = gl.add_note(1, "/promote", author="alice")
    for kind in ("+1", "+1", "eyes", "rocket", "confused"):
        forge.add_reaction(pr, command["id"], kind)
    url = f"{MRS}/1/notes/{command['id']}/award_emoji"
    assert sent(rsps) == [
        ("POST", url, {"name": "thumbsup"}),
        ("POST", url, {"name": "thumbsup"}),
        ("POST", url, {"name": "eyes"}),
        ("POST", url, {"name": "rocket"}),
        ("POST", url, {"name": "confused"}),
    ]
    # GitLab answers the repeated award with a 404; that is not an error.
    assert rsps.calls[1].response.status_code == 404
    assert [a["name"] for a in gl.award_emoji[command["id"]]] == [
        "thumbsup",
        "eyes",
        "rocket",
        "confused",
    ]


def test_add_reaction_to_a_missing_note(forge: Forge, pr: PullRequest) -> None:
    with pytest.raises(ForgeError) as caught:
        forge.add_reaction(pr, 12345, "eyes")
    assert caught.value.message == (
        "GitLab found no note 12345 on !1 (404 Note Not Found): it does not exist or the token "
        "cannot see it"
    )


def test_add_reaction_refuses_unknown_kinds(
    forge: Forge, pr: PullRequest, rsps: responses.RequestsMock
) -> None:
    with pytest.raises(ValueError, match="unknown reaction 'thumbsup'"):
        forge.add_reaction(pr, 1, "thumbsup")
    assert len(rsps.calls) == 0


# -- the machinery applies to the new calls too ---------------------------------------


def test_new_calls_wait_out_rate_limits_like_the_others(
    forge: Forge, gl: FakeGitLab, pr: PullRequest, sleeper: SleepRecorder
) -> None:
    gl.approve(1, "alice")
    gl.fail(429, {"message": "Retry later"}, headers={"Retry-After": "3"}, path="/approvals")
    assert [a.user for a in forge.approvals(pr)] == ["alice"]
    assert sleeper.waits == [3.0]


def test_request_count_counts_the_new_calls(forge: Forge, pr: PullRequest) -> None:
    assert isinstance(forge, GitLabForge)
    before = forge.request_count
    forge.upsert_comment(pr, MARK, body("x"))
    forge.commit_statuses(SHA)
    assert forge.request_count - before == 3
