"""`forge: {commitMethod: api}`: bumps and promotion branches committed
through GitHub's Git Data API (the GitHub fake applies them to the real
bare repository), as a GitHub App: verified commits, the no-lost-update
guarantee kept (a moved branch: re-apply and retry; a promotion branch that
changed meanwhile is never overwritten)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import promoter.adapters.forges.session
from promoter.adapters.forges import github_app
from promoter.core.config.loader import parse_config
from promoter.errors import ConfigError
from tests.conftest import EXAMPLE, Remote, git, make_remote
from tests.fake_git_data import BOT, GitData
from tests.fake_github_app import FakeApp, rsa_key
from tests.fakeforge import SleepRecorder, github_fake

KEY = rsa_key()
FORGE = "forge:\n  type: github\n  repository: acme/env\n  commitMethod: api\n"


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(promoter.adapters.forges.session, "sleep", SleepRecorder())
    github_app.forget()
    yield
    github_app.forget()


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(config.read_text().replace("defaults:\n", FORGE + "defaults:\n"))
    return make_remote(tmp_path, source)


def push_elsewhere(remote: Remote, tmp_path: Path, path: str, old: str, new: str) -> None:
    """Someone else's commit lands on main."""
    work = tmp_path / f"other-{len(list(tmp_path.iterdir()))}"
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    file = work / path
    file.write_text(file.read_text().replace(old, new))
    git("commit", "--quiet", "-am", f"someone: {new}", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)


def ok(run, *args: str, env: dict[str, str]) -> Any:
    result = run(*args, "-o", "json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


BUMP = ("bump", "--env", "dev", "--service", "api", "--tag", "1.4.2")
API_KUSTOMIZATION = "apps/api/overlays/dev/kustomization.yaml"


def test_a_bump_is_a_verified_commit_made_by_the_app(run, remote: Remote, tmp_path) -> None:
    before = remote.head()
    with github_fake(repo="acme/env") as gh:
        app, data = FakeApp(gh, key=KEY), GitData(gh, remote.path)
        bumped = ok(run, *BUMP, "--repo-url", remote.url, env=app.environ(installation=True))

    sha = bumped["commit"]
    assert remote.head() == sha and sha in data.verified
    assert data.ref_updates == [("heads/main", sha, False)]  # a fast-forward, never forced
    assert (
        git("log", "-1", "--format=%an <%ae>|%P", cwd=remote.path)
        == f"{BOT[0]} <{BOT[1]}>|{before}"
    )
    message = remote.log()
    assert message.startswith("Bump api to 1.4.2 in dev\n")
    assert "Promoter-Service: api" in message and "Promoter-To: ghcr.io/acme/api:1.4.2" in message
    changed = git("diff", "--stat", before, sha, cwd=remote.path)
    assert (
        API_KUSTOMIZATION in changed and "1 file changed, 1 insertion(+), 1 deletion(-)" in changed
    )
    assert [c.path for c in app.jwt_calls] == ["/app/installations/77/access_tokens"]


def test_a_branch_that_moved_is_re_applied_not_lost(run, remote: Remote, tmp_path) -> None:
    with github_fake(repo="acme/env") as gh:
        app, data = FakeApp(gh, key=KEY), GitData(gh, remote.path)
        data.hooks["update"] = lambda: push_elsewhere(
            remote, tmp_path, "apps/web/overlays/dev/deployment.yaml", "web:0.9.0", "web:1.1.0"
        )
        bumped = ok(run, *BUMP, "--repo-url", remote.url, env=app.environ(installation=True))

    assert bumped["attempts"] == 2
    assert remote.head() == bumped["commit"]
    assert 'newTag: "1.4.2"' in remote.show(API_KUSTOMIZATION)
    assert "ghcr.io/acme/web:1.1.0" in remote.show("apps/web/overlays/dev/deployment.yaml")
    assert [force for _, _, force in data.ref_updates] == [False]


def test_promotion_branches_are_made_and_updated_through_the_api(run, remote: Remote) -> None:
    with github_fake(repo="acme/env") as gh:
        app, data = FakeApp(gh, key=KEY), GitData(gh, remote.path)
        env = app.environ(installation=True)
        ok(run, *BUMP, "--repo-url", remote.url, env=env)
        promote = ("promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging", "--all")
        (first,) = ok(run, *promote, env=env)
        (again,) = ok(run, *promote, env=env)  # nothing new: no commit, no ref update
        ok(run, "bump", "--repo-url", remote.url, "--env", "dev", "--service", "api",
           "--tag", "1.5.0", env=env)  # fmt: skip
        (third,) = ok(run, *promote, env=env)
        (pr,) = gh.open_pulls()

    branch = "heads/promoter/staging/api"
    assert [(ref, force) for ref, _, force in data.ref_updates if ref == branch] == [
        (branch, False),  # created
        (branch, True),  # rebuilt from staging's tip: forced, under the lease
    ]
    assert first["pushed"] and not again["pushed"] and third["pushed"]
    assert remote.head("promoter/staging/api") == third["commit"] in data.verified
    assert 'newTag: "1.5.0"' in remote.show(
        "apps/api/overlays/staging/kustomization.yaml", "promoter/staging/api"
    )
    assert pr["head"]["ref"] == "promoter/staging/api"


def test_a_promotion_branch_changed_meanwhile_is_not_overwritten(
    run, remote: Remote, tmp_path
) -> None:
    with github_fake(repo="acme/env") as gh:
        app, data = FakeApp(gh, key=KEY), GitData(gh, remote.path)
        env = app.environ(installation=True)
        ok(run, *BUMP, "--repo-url", remote.url, env=env)
        promote = ("promote", "--repo-url", remote.url, "--from", "dev", "--to", "staging", "--all")
        ok(run, *promote, env=env)
        ok(run, "bump", "--repo-url", remote.url, "--env", "dev", "--service", "api",
           "--tag", "1.5.0", env=env)  # fmt: skip

        def someone_pushes_the_branch() -> None:
            work = tmp_path / "hand"
            git("clone", "--quiet", "--branch", "promoter/staging/api", remote.url, str(work),
                cwd=tmp_path)  # fmt: skip
            git("commit", "--quiet", "--allow-empty", "-m", "by hand", cwd=work)
            git("push", "--quiet", "origin", "HEAD", cwd=work)

        data.hooks["tree"] = someone_pushes_the_branch
        result = run(*promote, env=env)

    assert result.exit_code == 3, result.output
    assert "changed while promoter rebuilt it" in result.stderr
    assert git("log", "-1", "--format=%s", "promoter/staging/api", cwd=remote.path) == "by hand"


@pytest.mark.parametrize(
    ("forge", "message"),
    [
        ("forge: {type: gitlab, commitMethod: api}", "commitMethod: api is GitHub's Git Data API"),
        ("forge: {type: github, commitMethod: graphql}", "must be one of git, api"),
    ],
)
def test_commit_method_is_validated(forge: str, message: str) -> None:
    text = (EXAMPLE / "promoter.yaml").read_text().replace("defaults:\n", forge + "\ndefaults:\n")
    with pytest.raises(ConfigError, match=message):
        parse_config(text)
    assert parse_config(text.replace(forge, "forge: {type: github}")).forge.commit_method == "git"
