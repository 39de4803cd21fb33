"""The PR bot: payload parsing, command parsing, and `promoter bot --event`
end to end (a real bare remote for git, the stateful forge fakes for the APIs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import promoter.adapters.forges.session
import promoter.workflows.bot
from promoter.core.chatops.commands import Command, parse_command
from promoter.core.chatops.events import (
    REPLY_MARKER,
    STICKY_MARKER,
    Event,
    Ignored,
    detect_forge,
    parse_event,
)
from promoter.core.chatops.replies import finish, refusal
from promoter.core.masking import register
from promoter.errors import InputError
from tests.conftest import EXAMPLE, Remote, git, make_remote
from tests.fakeforge import FakeGitHub, SleepRecorder, github_fake, gitlab_fake

TOKEN = "ghp_botTOKEN1234567"
GH_CLONE = "https://github.com/acme/env.git"
GL_CLONE = "https://gitlab.com/acme/env.git"

# --- payloads shaped like the documented webhooks ----------------------------------------------


def _gh_user(login: str) -> dict[str, Any]:
    return {
        "login": login,
        "id": 1000 + len(login),
        "node_id": f"U_{login}",
        "type": "Bot" if login.endswith("[bot]") else "User",
        "site_admin": False,
        "html_url": f"https://github.com/{login}",
    }


def _gh_repository(repo: str, clone_url: str) -> dict[str, Any]:
    owner, name = repo.split("/")
    return {
        "id": 4242,
        "node_id": "R_kgDOfake",
        "name": name,
        "full_name": repo,
        "private": True,
        "owner": _gh_user(owner),
        "html_url": f"https://github.com/{repo}",
        "url": f"https://api.github.com/repos/{repo}",
        "clone_url": clone_url,
        "ssh_url": f"git@github.com:{repo}.git",
        "default_branch": "main",
    }


def github_comment_payload(
    body: str,
    *,
    user: str = "alice",
    number: int = 1,
    comment_id: int = 9001,
    action: str = "created",
    on_pull_request: bool = True,
    repo: str = "acme/env",
    clone_url: str = GH_CLONE,
) -> dict[str, Any]:
    """An `issue_comment` delivery, as GitHub sends it (and writes to
    $GITHUB_EVENT_PATH)."""
    api = f"https://api.github.com/repos/{repo}"
    issue: dict[str, Any] = {
        "url": f"{api}/issues/{number}",
        "html_url": f"https://github.com/{repo}/pull/{number}",
        "id": 70000 + number,
        "number": number,
        "title": "Promote api 1.4.2 → staging",
        "user": _gh_user("promoter-bot"),
        "labels": [{"name": "promoter"}],
        "state": "open",
        "comments": 1,
        "author_association": "MEMBER",
        "body": "Promotes from **dev** to **staging**.",
    }
    if on_pull_request:
        issue["pull_request"] = {
            "url": f"{api}/pulls/{number}",
            "html_url": f"https://github.com/{repo}/pull/{number}",
            "diff_url": f"https://github.com/{repo}/pull/{number}.diff",
            "patch_url": f"https://github.com/{repo}/pull/{number}.patch",
            "merged_at": None,
        }
    return {
        "action": action,
        "issue": issue,
        "comment": {
            "url": f"{api}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{repo}/pull/{number}#issuecomment-{comment_id}",
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "user": _gh_user(user),
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "author_association": "MEMBER",
            "body": body,
        },
        "repository": _gh_repository(repo, clone_url),
        "sender": _gh_user(user),
    }


def github_pull_request_payload(
    *,
    action: str = "synchronize",
    number: int = 1,
    head: str = "promoter/staging/api",
    head_repo: str = "acme/env",
    repo: str = "acme/env",
    clone_url: str = GH_CLONE,
    merged: bool = False,
) -> dict[str, Any]:
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/{repo}/pulls/{number}",
            "number": number,
            "state": "closed" if action == "closed" else "open",
            "title": "Promote api 1.4.2 → staging",
            "user": _gh_user("promoter-bot"),
            "merged": merged,
            "draft": False,
            "head": {"ref": head, "sha": "a" * 40, "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "sha": "b" * 40, "repo": {"full_name": repo}},
        },
        "before": "c" * 40,
        "after": "a" * 40,
        "repository": _gh_repository(repo, clone_url),
        "sender": _gh_user("alice"),
    }


def _gl_user(username: str) -> dict[str, Any]:
    return {
        "id": 100 + len(username),
        "name": username.title(),
        "username": username,
        "avatar_url": None,
        "email": "[REDACTED]",
    }


def _gl_project(project: str, clone_url: str) -> dict[str, Any]:
    return {
        "id": 42,
        "name": project.rsplit("/", 1)[-1],
        "web_url": f"https://gitlab.com/{project}",
        "git_ssh_url": f"git@gitlab.com:{project}.git",
        "git_http_url": clone_url,
        "namespace": project.rsplit("/", 1)[0],
        "path_with_namespace": project,
        "default_branch": "main",
        "visibility_level": 0,
    }


def gitlab_note_payload(
    body: str,
    *,
    user: str = "alice",
    iid: int = 1,
    note_id: int = 501,
    noteable_type: str = "MergeRequest",
    action: str | None = "create",
    system: bool = False,
    project: str = "acme/env",
    clone_url: str = GL_CLONE,
) -> dict[str, Any]:
    """A Note Hook delivery on a merge request."""
    attrs: dict[str, Any] = {
        "id": note_id,
        "note": body,
        "noteable_type": noteable_type,
        "author_id": 101,
        "created_at": "2026-01-01 00:00:00 UTC",
        "updated_at": "2026-01-01 00:00:00 UTC",
        "project_id": 42,
        "system": system,
        "noteable_id": 9000 + iid,
        "discussion_id": "d" * 40,
        "type": None,
        "url": f"https://gitlab.com/{project}/-/merge_requests/{iid}#note_{note_id}",
    }
    if action is not None:
        attrs["action"] = action
    return {
        "object_kind": "note",
        "event_type": "note",
        "user": _gl_user(user),
        "project_id": 42,
        "project": _gl_project(project, clone_url),
        "object_attributes": attrs,
        "repository": {
            "name": "env",
            "url": clone_url,
            "homepage": f"https://gitlab.com/{project}",
        },
        "merge_request": {
            "id": 9000 + iid,
            "iid": iid,
            "title": "Promote api 1.4.2 → staging",
            "source_branch": "promoter/staging/api",
            "target_branch": "main",
            "source_project_id": 42,
            "target_project_id": 42,
            "state": "opened",
        },
    }


def gitlab_mr_payload(
    *,
    action: str = "update",
    iid: int = 1,
    state: str = "opened",
    source_project_id: int = 42,
    project: str = "acme/env",
    clone_url: str = GL_CLONE,
) -> dict[str, Any]:
    """A Merge Request Hook delivery."""
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": _gl_user("alice"),
        "project": _gl_project(project, clone_url),
        "object_attributes": {
            "id": 9000 + iid,
            "iid": iid,
            "action": action,
            "state": state,
            "title": "Promote api 1.4.2 → staging",
            "source_branch": "promoter/staging/api",
            "target_branch": "main",
            "source_project_id": source_project_id,
            "target_project_id": 42,
            "url": f"https://gitlab.com/{project}/-/merge_requests/{iid}",
        },
        "labels": [],
        "changes": {},
        "repository": {"name": "env", "url": clone_url},
    }


# --- events -------------------------------------------------------------------------------------


def test_github_comment_on_a_pull_request() -> None:
    event = parse_event(github_comment_payload("/check", user="bob", number=7, comment_id=55))
    assert event == Event(
        forge="github",
        kind="comment",
        pr_number=7,
        comment_id=55,
        author="bob",
        body="/check",
        action="created",
        repo_url=GH_CLONE,
        repository="acme/env",
    )


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened"])
def test_github_pull_request_events_run_a_check(action: str) -> None:
    event = parse_event(github_pull_request_payload(action=action, number=3))
    assert isinstance(event, Event)
    assert (event.kind, event.pr_number, event.action, event.comment_id) == (
        "pull_request",
        3,
        action,
        None,
    )


def test_gitlab_note_on_a_merge_request() -> None:
    event = parse_event(gitlab_note_payload("/promote prod-eu", user="bob", iid=4, note_id=77))
    assert event == Event(
        forge="gitlab",
        kind="comment",
        pr_number=4,
        comment_id=77,
        author="bob",
        body="/promote prod-eu",
        action="create",
        repo_url=GL_CLONE,
        repository="acme/env",
    )
    # Older GitLab sends no `action` on notes: only creations are sent at all.
    assert isinstance(parse_event(gitlab_note_payload("/check", action=None)), Event)


@pytest.mark.parametrize(("action", "state"), [("open", "opened"), ("update", "opened")])
def test_gitlab_merge_request_events_run_a_check(action: str, state: str) -> None:
    event = parse_event(gitlab_mr_payload(action=action, state=state, iid=5))
    assert isinstance(event, Event)
    assert (event.forge, event.kind, event.pr_number) == ("gitlab", "pull_request", 5)


OWN_REPLY = f"{REPLY_MARKER}\nSorry @bob, `/promote prod-eu` can only be run by …"


@pytest.mark.parametrize(
    ("payload", "event_name", "reason"),
    [
        (github_comment_payload("/check", on_pull_request=False), None, "not on a pull request"),
        (github_comment_payload("/check", action="edited"), None, "only new comments"),
        (github_comment_payload("/check", action="deleted"), None, "only new comments"),
        (github_comment_payload(OWN_REPLY), None, "own comment"),
        (github_comment_payload(f"{STICKY_MARKER}\n## promoter: /check"), None, "own comment"),
        (github_comment_payload("/check"), "push", "'push' is not one"),
        (github_pull_request_payload(action="closed", merged=False), None, "only"),
        (github_pull_request_payload(action="labeled"), None, "only"),
        (github_pull_request_payload(head_repo="mallory/env"), None, "fork"),
        ({**github_pull_request_payload(), "review": {"id": 1}}, None, "unknown type"),
        ({"zen": "Keep it simple.", "hook_id": 1, **github_pull_request_payload()}, "ping", "ping"),
        (gitlab_note_payload("/check", noteable_type="Issue"), None, "not on an MR"),
        (gitlab_note_payload("/check", action="update"), None, "only new notes"),
        (gitlab_note_payload("/check", system=True), None, "system note"),
        (gitlab_note_payload(OWN_REPLY), None, "own comment"),
        (gitlab_mr_payload(action="close", state="closed"), None, "only"),
        (gitlab_mr_payload(source_project_id=99), None, "fork"),
        ({"object_kind": "pipeline", "object_attributes": {}}, None, "'pipeline'"),
    ],
)
def test_ignored_events(payload: dict[str, Any], event_name: str | None, reason: str) -> None:
    parsed = parse_event(payload, event_name=event_name)
    assert isinstance(parsed, Ignored)
    assert reason in parsed.reason


def test_shape_decides_the_forge_unless_told() -> None:
    assert detect_forge(github_comment_payload("/check")) == "github"
    assert detect_forge(gitlab_note_payload("/check")) == "gitlab"
    with pytest.raises(InputError, match="not a GitHub or GitLab webhook payload"):
        detect_forge({"hello": "world"})
    with pytest.raises(InputError, match="not a JSON object"):
        parse_event(["/check"])
    # Told "gitlab", a GitHub payload is a GitLab payload of no kind the bot handles.
    assert isinstance(parse_event(github_comment_payload("/check"), forge="gitlab"), Ignored)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("comment", "id"), None, "`id` is missing"),
        (("comment", "id"), True, "`id` is missing or not a number"),
        (("issue", "number"), "7", "`number` is missing or not a number"),
        (("comment", "user"), None, "`user` is missing"),
        (("repository", "clone_url"), None, "`clone_url` is missing"),
    ],
)
def test_malformed_github_payloads(path: tuple[str, str], value: object, message: str) -> None:
    payload = github_comment_payload("/check")
    payload[path[0]][path[1]] = value
    with pytest.raises(InputError, match=message):
        parse_event(payload)


def test_malformed_gitlab_payload() -> None:
    payload = gitlab_note_payload("/check")
    del payload["merge_request"]
    with pytest.raises(InputError, match="`merge_request` is missing"):
        parse_event(payload)


# --- commands ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("LGTM, thanks!", None),
        ("", None),
        ("see /etc/hosts", None),
        ("/etc/hosts is broken", None),
        ("> /promote prod-eu\nquoted, not asked", None),
        ("```\n/promote prod-eu\n```", None),
        ("~~~sh\n/rollback\n~~~\n", None),
        ("/check", Command("check", "/check")),
        ("  /CHECK  ", Command("check", "/CHECK")),
        ("/diff", Command("diff", "/diff")),
        # A command counts only as the comment's first non-blank line:
        ("Looks good.\n/promote prod-eu", None),
        ("\n\n/promote prod-eu\nthanks", Command("promote", "/promote prod-eu", ("prod-eu",))),
        ("    /promote prod", None),  # an indented code block
        ("<!--\n/promote prod\n-->", None),  # a hidden HTML comment
        (">>>\n/promote prod\n>>>", None),  # a GitLab multi-line quote
        ("> q\n/promote prod", None),  # a lazy blockquote continuation
        ("````\n```\n/promote prod\n````", None),
        (
            "/promote prod-eu, prod-us",
            Command("promote", "/promote prod-eu, prod-us", ("prod-eu", "prod-us")),
        ),
        (
            "/promote prod-eu prod-us prod-eu",
            Command("promote", "/promote prod-eu prod-us prod-eu", ("prod-eu", "prod-us")),
        ),
        # Only the first command line counts.
        ("/check\n/promote prod-eu", Command("check", "/check")),
        ("```\n/check\n```\n/diff", None),
        ("/rollback", Command("rollback", "/rollback")),
        ("/rollback api", Command("rollback", "/rollback api", service="api")),
        (
            "/rollback api --to 1.3.9",
            Command("rollback", "/rollback api --to 1.3.9", service="api", to_tag="1.3.9"),
        ),
        ("/rollback --to=1.0.0", Command("rollback", "/rollback --to=1.0.0", to_tag="1.0.0")),
        ("/merge now", Command("help", "/merge now", problem="unknown command /merge")),
    ],
)
def test_command_parsing(body: str, expected: Command | None) -> None:
    assert parse_command(body) == expected


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("/promote", "needs the environment"),
        ("/promote prod;rm", "not an environment name"),
        ("/rollback api web", "at most one service"),
        ("/rollback --to", "--to needs a tag"),
        ("/rollback --to 1.0 --to 2.0", "--to given twice"),
        ("/rollback --to bad/tag", "bad/tag"),
        ("/rollback --force", "unknown option '--force'"),
        ("/check now", "/check takes no arguments"),
    ],
)
def test_malformed_commands_ask_for_help(body: str, problem: str) -> None:
    command = parse_command(body)
    assert command is not None and command.name == "help"
    assert problem in (command.problem or "")


def test_a_long_command_is_quoted_shortened() -> None:
    command = parse_command("/promote " + "x" * 500)
    assert command is not None and len(command.text) == 120 and command.text.endswith("…")


def test_replies_render_user_input_inert_and_masked() -> None:
    text = refusal("bob", "/promote `@everyone` <b>x</b>", ["acme/sre"])
    assert "`/promote '@everyone' <b>x</b>`" in text  # one code span: no mention, no HTML
    assert "members of `acme/sre`" in text
    register("ghp_secretSECRETsecret")
    body = finish("failed: https://x:ghp_secretSECRETsecret@github.com/a/b " + "y" * 500, 200)
    assert body.startswith(REPLY_MARKER + "\n")
    assert "ghp_secretSECRETsecret" not in body
    assert len(body) <= 200 and body.endswith("(reply shortened)\n")


# --- end to end ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(promoter.adapters.forges.session, "sleep", SleepRecorder())


@pytest.fixture(autouse=True)
def no_actions_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """Results must not depend on running inside GitHub Actions."""
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    monkeypatch.delenv("GITHUB_EVENT_NAME", raising=False)


GITHUB = "forge:\n  type: github\n  repository: acme/env"
GITLAB = "forge:\n  type: gitlab\n  repository: acme/env"
PERMISSIONS = {"alice": "write", "bob": "read", "carol": "read"}
ENV = {"GITHUB_TOKEN": TOKEN, "GITLAB_TOKEN": TOKEN}


def _remote(tmp_path: Path, forge: str) -> Remote:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(config.read_text().replace("defaults:\n", f"{forge}\ndefaults:\n"))
    return make_remote(tmp_path, source)


def _bump_and_promote(run, remote: Remote) -> None:
    for args in (
        ("bump", "--repo-url", remote.url, "--env", "dev", "--service", "api", "--tag", "1.4.2"),
        ("promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging", "--all"),
    ):
        result = run(*args, env=ENV)
        assert result.exit_code == 0, result.output


def _merge(remote: Remote, tmp_path: Path, branch: str) -> None:
    """Merge a promotion branch into main as the forge would."""
    work = tmp_path / f"merge-{branch.replace('/', '-')}"
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    git("merge", "--quiet", "--no-ff", "-m", f"Merge {branch}", f"origin/{branch}", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)


def _refs(remote: Remote) -> str:
    return git("for-each-ref", "--format=%(refname) %(objectname)", cwd=remote.path)


def _bot(run, tmp_path: Path, payload: dict[str, Any], *args: str) -> Any:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return run("bot", "--event", str(path), *args, env=ENV)


def _comment(gh: FakeGitHub, body: str, user: str, remote: Remote, number: int = 1) -> dict:
    """`user` comments on PR `number`; the delivery GitHub would send for it."""
    seeded = gh.add_comment(number, body, user=user)
    return github_comment_payload(
        body, user=user, number=number, comment_id=seeded["id"], clone_url=remote.url
    )


def _reactions(gh: FakeGitHub, payload: dict[str, Any]) -> list[str]:
    return [r["content"] for r in gh.reactions.get(payload["comment"]["id"], [])]


def _bot_replies(gh: FakeGitHub, number: int = 1) -> list[str]:
    return [c["body"] for c in gh.comments.get(number, []) if c["body"].startswith(REPLY_MARKER)]


def test_read_only_user_gets_one_refusal_and_nothing_else(run, tmp_path) -> None:
    remote = _remote(tmp_path, GITHUB)
    with github_fake(repo="acme/env", token=TOKEN, permissions=PERMISSIONS) as gh:
        _bump_and_promote(run, remote)
        before = _refs(remote)
        payload = _comment(gh, "/promote staging", "bob", remote)
        gh.reset_log()

        result = _bot(run, tmp_path, payload)

        assert result.exit_code == 0, result.output
        assert "refused (/promote staging)" in result.stdout
        (reply,) = _bot_replies(gh)
        assert "Sorry @bob, `/promote staging` can only be run by people with write access" in (
            reply
        )
        assert _reactions(gh, payload) == ["confused"]
        # Nothing else: no status, no PR, no branch, no sticky comment; the only
        # writes were the reply and the reaction.
        assert gh.statuses == {}
        assert [p["number"] for p in gh.open_pulls()] == [1]
        assert _refs(remote) == before
        assert len(gh.comments[1]) == 2  # bob's and the reply
        writes = [(c.method, c.path) for c in gh.calls if c.method != "GET"]
        assert writes == [
            ("POST", "/repos/acme/env/issues/1/comments"),
            ("POST", f"/repos/acme/env/issues/comments/{payload['comment']['id']}/reactions"),
        ]


def test_gitlab_reporter_is_refused_without_a_clone(run, tmp_path) -> None:
    """The refusal needs no repository at all: the clone URL points nowhere."""
    nowhere = (tmp_path / "no-such-repo.git").as_uri()
    with gitlab_fake(project="acme/env", token=TOKEN, members={"bob": 20}) as gl:
        mr = gl.add_mr("promoter/staging/api", "main", description="<!-- promoter:plan {} -->")
        note = gl.add_note(mr["iid"], "/rollback", author="bob")
        payload = gitlab_note_payload(
            "/rollback", user="bob", iid=mr["iid"], note_id=note["id"], clone_url=nowhere
        )
        result = _bot(run, tmp_path, payload)
        assert result.exit_code == 0, result.output
        replies = [n["body"] for n in gl.notes[mr["iid"]] if n["body"].startswith(REPLY_MARKER)]
        assert len(replies) == 1 and "Sorry @bob, `/rollback`" in replies[0]
        assert [a["name"] for a in gl.award_emoji[note["id"]]] == ["confused"]
        assert gl.statuses == {} and len(gl.open_mrs()) == 1


def test_write_user_check_sets_status_and_sticky_comment(run, tmp_path) -> None:
    remote = _remote(tmp_path, GITHUB)
    teams = {"acme/sre": {"carol"}}
    with github_fake(repo="acme/env", token=TOKEN, permissions=PERMISSIONS, teams=teams) as gh:
        _bump_and_promote(run, remote)
        head = gh.pulls[1]["head"]["sha"]
        payload = _comment(gh, "/check", "alice", remote)

        result = _bot(run, tmp_path, payload, "-o", "json")

        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["outcome"] == "done" and data["command"] == "/check"
        assert gh.latest_statuses(head)["promoter/policy"]["state"] == "success"
        (sticky,) = [c for c in gh.comments[1] if c["body"].startswith(STICKY_MARKER)]
        assert "| api | `ghcr.io/acme/api:1.0.0` | `ghcr.io/acme/api:1.4.2` |" in sticky["body"]
        assert _reactions(gh, payload) == ["eyes", "+1"]
        assert _bot_replies(gh) == []  # the sticky comment is the answer

        # carol has only read access, but is in a team allowed to command.
        diff = _comment(gh, "/diff", "carol", remote)
        refused = _bot(run, tmp_path, diff)
        assert "refused" in refused.stdout
        allowed = _bot(run, tmp_path, diff, "--allow-team", "acme/sre")
        assert allowed.exit_code == 0, allowed.output
        assert "done (/diff)" in allowed.stdout
        assert "Rendered changes" in _bot_replies(gh)[-1]
        assert _reactions(gh, diff) == ["confused", "eyes", "+1"]
        assert len([c for c in gh.comments[1] if c["body"].startswith(STICKY_MARKER)]) == 1


def test_promote_opens_the_next_hop_once_merged(run, tmp_path) -> None:
    remote = _remote(tmp_path, GITHUB)
    with github_fake(repo="acme/env", token=TOKEN, permissions=PERMISSIONS) as gh:
        _bump_and_promote(run, remote)

        early = _comment(gh, "/promote prod-eu", "alice", remote)
        result = _bot(run, tmp_path, early)
        assert result.exit_code == 0 and "failed" in result.stdout
        assert "#1 is open, not merged" in _bot_replies(gh)[-1]
        assert _reactions(gh, early) == ["eyes", "confused"]
        assert len(gh.open_pulls()) == 1

        gh.merge(1)
        _merge(remote, tmp_path, "promoter/staging/api")

        wrong = _comment(gh, "/promote prod", "alice", remote)
        _bot(run, tmp_path, wrong)
        assert "prod is not promoted from staging" in _bot_replies(gh)[-1]
        assert "environments promoted from staging: prod-eu, prod-us" in _bot_replies(gh)[-1]

        payload = _comment(gh, "/promote prod-eu", "alice", remote)
        result = _bot(run, tmp_path, payload)
        assert result.exit_code == 0, result.output
        (pr,) = gh.open_pulls()
        assert pr["head"]["ref"] == "promoter/prod-eu/api"
        assert pr["title"] == "Promote api 1.4.2 → prod-eu"
        reply = _bot_replies(gh)[-1]
        assert f"`prod-eu`: opened #{pr['number']} {pr['html_url']} (api)" in reply
        assert _reactions(gh, payload) == ["eyes", "+1"]
        assert 'newTag: "1.4.2"' in remote.show(
            "apps/api/overlays/prod-eu/kustomization.yaml", "promoter/prod-eu/api"
        )


def test_rollback_opens_a_rollback_pr(run, tmp_path) -> None:
    remote = _remote(tmp_path, GITHUB)
    with github_fake(repo="acme/env", token=TOKEN, permissions=PERMISSIONS) as gh:
        _bump_and_promote(run, remote)
        gh.merge(1)
        _merge(remote, tmp_path, "promoter/staging/api")

        never = _comment(gh, "/rollback api --to 0.0.1", "alice", remote)
        _bot(run, tmp_path, never)
        assert "never ran '0.0.1' in staging" in _bot_replies(gh)[-1]
        assert _reactions(gh, never) == ["eyes", "confused"]
        assert gh.open_pulls() == []

        payload = _comment(gh, "/rollback", "alice", remote)
        result = _bot(run, tmp_path, payload)
        assert result.exit_code == 0, result.output
        (pr,) = gh.open_pulls()
        assert pr["head"]["ref"] == "promoter/staging/rollback-api"
        assert pr["title"] == "Roll back api to 1.0.0 in staging"
        assert f"opened #{pr['number']} {pr['html_url']}" in _bot_replies(gh)[-1]
        assert _reactions(gh, payload) == ["eyes", "+1"]


def test_pull_request_event_checks_promoter_prs_only(run, tmp_path) -> None:
    remote = _remote(tmp_path, GITHUB)
    with github_fake(repo="acme/env", token=TOKEN, permissions=PERMISSIONS) as gh:
        _bump_and_promote(run, remote)
        human = gh.add_pull("fix-readme", "main", body="Typo.")
        head = gh.pulls[1]["head"]["sha"]

        ignored = _bot(
            run, tmp_path, github_pull_request_payload(number=human["number"], clone_url="/x")
        )
        assert ignored.exit_code == 0 and "not a promoter pull request" in ignored.stdout

        result = _bot(run, tmp_path, github_pull_request_payload(number=1, clone_url=remote.url))
        assert result.exit_code == 0, result.output
        assert gh.latest_statuses(head)["promoter/policy"]["state"] == "success"
        assert _bot_replies(gh) == [] and gh.reactions == {}


def test_bot_ignores_its_own_comments(run, tmp_path) -> None:
    with github_fake(repo="acme/env", token=TOKEN, permissions=PERMISSIONS) as gh:
        for body in (f"{REPLY_MARKER}\n/promote prod-eu", f"{STICKY_MARKER}\n/check"):
            result = _bot(run, tmp_path, github_comment_payload(body))
            assert result.exit_code == 0, result.output
            assert "ignored" in result.stdout and "own comment" in result.stdout
        no_command = _bot(run, tmp_path, github_comment_payload("Nice work!"))
        assert "no command in the comment" in no_command.stdout
        assert gh.request_count == 0


def test_unknown_command_gets_usage(run, tmp_path) -> None:
    with github_fake(repo="acme/env", token=TOKEN, permissions=PERMISSIONS) as gh:
        gh.add_pull("promoter/staging/api", "main")
        seeded = gh.add_comment(1, "/merge", user="alice")
        payload = github_comment_payload("/merge", comment_id=seeded["id"], clone_url="/none")
        result = _bot(run, tmp_path, payload)
        assert result.exit_code == 0, result.output
        (reply,) = _bot_replies(gh)
        assert "unknown command /merge" in reply and "`/promote <env>[, <env>…]`" in reply
        assert _reactions(gh, payload) == ["confused"]


def test_a_bug_is_reported_on_the_pr_and_raised(run, tmp_path, monkeypatch) -> None:
    def broken(ctx: Any, command: Command) -> tuple[str, bool]:
        raise RuntimeError(f"boom with {TOKEN}")

    monkeypatch.setitem(promoter.workflows.bot._RUNNERS, "check", broken)
    with github_fake(repo="acme/env", token=TOKEN, permissions=PERMISSIONS) as gh:
        gh.add_pull("promoter/staging/api", "main")
        seeded = gh.add_comment(1, "/check", user="alice")
        payload = github_comment_payload("/check", comment_id=seeded["id"], clone_url="/none")
        result = _bot(run, tmp_path, payload)
        assert result.exit_code == 70  # the CLI's internal-error code, traceback masked
        assert "boom with" in result.stderr and TOKEN not in result.stderr
        (reply,) = _bot_replies(gh)
        assert "internal error in promoter" in reply and "boom" not in reply
        assert _reactions(gh, payload) == ["eyes", "confused"]


def test_gitlab_note_check(run, tmp_path) -> None:
    remote = _remote(tmp_path, GITLAB)
    with gitlab_fake(project="acme/env", token=TOKEN, members={"alice": 30}) as gl:
        _bump_and_promote(run, remote)
        (mr,) = gl.open_mrs()
        note = gl.add_note(mr["iid"], "/check", author="alice")
        payload = gitlab_note_payload(
            "/check", iid=mr["iid"], note_id=note["id"], clone_url=remote.url
        )
        result = _bot(run, tmp_path, payload)
        assert result.exit_code == 0, result.output
        assert gl.latest_statuses(mr["sha"])["promoter/policy"]["status"] == "success"
        assert any(n["body"].startswith(STICKY_MARKER) for n in gl.notes[mr["iid"]])
        assert [a["name"] for a in gl.award_emoji[note["id"]]] == ["eyes", "thumbsup"]


# --- the command line ---------------------------------------------------------------------------


def test_event_file_problems_are_exit_2(run, tmp_path, monkeypatch) -> None:
    missing = run("bot", "--event", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2 and "cannot read the event file" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert run("bot", "--event", str(bad)).exit_code == 2
    bad.write_text(json.dumps({"hello": "world"}))
    unknown = run("bot", "--event", str(bad))
    assert unknown.exit_code == 2 and "not a GitHub or GitLab webhook payload" in unknown.stderr
    nothing = run("bot")
    assert nothing.exit_code == 2 and "--event FILE" in nothing.stderr


def test_event_path_and_name_come_from_github_actions(run, tmp_path, monkeypatch) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(github_comment_payload("/check")))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request_review")
    result = run("bot", "-o", "json")
    assert result.exit_code == 0, result.output
    assert "'pull_request_review' is not one the bot handles" in json.loads(result.stdout)["reason"]


def test_forge_failures_are_exit_6_and_masked(run, tmp_path) -> None:
    with github_fake(repo="acme/env", token="ghp_theRIGHTtoken99"):
        result = _bot(run, tmp_path, github_comment_payload("/check", clone_url="/none"))
    assert result.exit_code == 6, result.output
    assert TOKEN not in result.output


def test_a_gitlab_delivery_cannot_act_on_a_listed_github_repository() -> None:
    from promoter.core.chatops.events import Event
    from promoter.workflows.bot import served_url

    urls = ["https://github.com/acme/env.git", "https://gitlab.example.com/acme/env.git"]

    def event(url: str) -> Event:
        return Event("gitlab", "comment", 1, 2, "bob", "/check", "create", url, "acme/env")

    assert served_url(urls, event(urls[0])) is None  # a GitLab token must not reach GitHub
    assert served_url(urls, event(urls[1])) == urls[1]


def test_dry_run_decides_as_the_real_run_and_writes_nothing(run, tmp_path) -> None:
    """`bot --dry-run` reads the forge and git as a real run does (so the
    same command is accepted or refused), and prints the PR it would open,
    the reply and the reactions instead of sending them."""
    remote = _remote(tmp_path, GITHUB)
    with github_fake(repo="acme/env", token=TOKEN, permissions=PERMISSIONS) as gh:
        _bump_and_promote(run, remote)
        gh.merge(1)
        _merge(remote, tmp_path, "promoter/staging/api")
        payload = _comment(gh, "/promote prod-eu", "alice", remote)
        before, replies = _refs(remote), _bot_replies(gh)
        gh.reset_log()

        result = _bot(run, tmp_path, payload, "--dry-run")

        assert result.exit_code == 0, result.output
        assert [(c.method, c.path) for c in gh.calls if c.method != "GET"] == []
        assert _refs(remote) == before and _bot_replies(gh) == replies
        assert gh.open_pulls() == [] and _reactions(gh, payload) == []
        out = result.stdout
        assert "dry run: nothing was pushed, opened or posted; promoter would:" in out
        assert "push 1 commit(s) to branch promoter/prod-eu/api" in out
        assert '+    newTag: "1.4.2"' in out
        assert "open a github pull request promoter/prod-eu/api → main: " in out
        assert "Promote api 1.4.2 → prod-eu" in out
        assert f"react eyes to comment {payload['comment']['id']} on #1" in out
        assert "comment on #1:" in out

        data = json.loads(_bot(run, tmp_path, payload, "--dry-run", "-o", "json").stdout)
        assert data["dry_run"] is True and data["result"]["command"] == "/promote prod-eu"
        assert [w["action"] for w in data["would"]] == [
            "add_reaction",
            "push",
            "open_pull_request",
            "comment",
            "add_reaction",
        ]
        # The real run afterwards does exactly that.
        real = _bot(run, tmp_path, payload)
        assert real.exit_code == 0, real.output
        (pr,) = gh.open_pulls()
        assert pr["title"] == "Promote api 1.4.2 → prod-eu"
