"""What a promotion carries besides the version (`promote: {files, fields}`):
on a copy of the bundled example, a setting added in dev's settings file
reaches staging's in the promotion with the version, environment-only files
stay; a field-only promotion changes one line, byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from promoter.core.carry import field_problem, read_field, write_field
from promoter.core.config.cache import _from_json, _to_json
from promoter.core.config.loader import parse_config
from promoter.errors import ConfigError
from tests.conftest import EXAMPLE, Remote, git, make_remote

WEB = "apps/web/overlays/{env}"
SETTINGS = "cache:\n  size: 10   # MiB\nlog: info\n"
CONFIG = (
    "# env for the web pods\n"
    "env:\n"
    "  - name: LOG_LEVEL\n"
    "    value: info\n"
    "  - name: CACHE_SIZE\n"
    "    value: '10'   # keep quoted\n"
    "replicas: {count: 2}\n"
)


def example(tmp_path: Path, promote: str, files: dict[str, str]) -> Remote:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(config.read_text().replace(
        "  - name: web\n    image: ghcr.io/acme/web\n",
        f"  - name: web\n    image: ghcr.io/acme/web\n    promote: {promote}\n",
    ))  # fmt: skip
    for name, text in files.items():
        for env in ("dev", "staging"):
            (source / WEB.format(env=env) / name).write_text(text)
    return make_remote(tmp_path, source)


def edit_dev(remote: Remote, tmp_path: Path, name: str, old: str, new: str) -> None:
    work = tmp_path / f"edit-{name}"
    shutil.rmtree(work, ignore_errors=True)
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    path = work / WEB.format(env="dev") / name
    path.write_text(path.read_text().replace(old, new))
    git("commit", "--quiet", "-am", f"dev: {new.strip()}", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)


def ok(run, *args: str) -> Any:
    result = run(*args, "-o", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


HOP = ("--from", "dev", "--to", "staging", "--service", "web")


def test_a_setting_added_in_dev_reaches_staging_with_the_version(run, tmp_path) -> None:
    remote = example(tmp_path, "{files: [settings.yaml]}",
                     {"settings.yaml": SETTINGS, "replicas.yaml": "replicas: 3\n"})  # fmt: skip
    ok(run, "bump", "--repo-url", remote.url, "--env", "dev", "--service", "web", "--tag", "2.0")
    edit_dev(remote, tmp_path, "settings.yaml", "log: info\n", "log: info\nfeature: on\n")
    edit_dev(remote, tmp_path, "replicas.yaml", "3", "1")  # environment-only: stays

    (item,) = ok(run, "plan", "--repo-url", remote.url, *HOP)
    assert item["carried"] == [{"kind": "file", "file": "apps/web/overlays/staging/settings.yaml",
                                "field": None, "from": "present", "to": "copied"}]  # fmt: skip
    text = run("plan", "--repo-url", remote.url, *HOP)
    assert "  carries apps/web/overlays/staging/settings.yaml (copied)" in text.stdout
    (result,) = ok(run, "promote", "--repo-url", remote.url, *HOP, "--forge", "none")

    branch = result["branch"]
    staging = WEB.format(env="staging")
    assert remote.show(f"{staging}/settings.yaml", branch) == remote.show(
        f"{WEB.format(env='dev')}/settings.yaml"
    )
    assert remote.show(f"{staging}/replicas.yaml", branch) == "replicas: 3\n"
    assert "ghcr.io/acme/web:2.0" in remote.show(f"{staging}/deployment.yaml", branch)
    # One commit carries both: reverting it takes the setting back with the version.
    changed = git("show", "--name-only", "--format=", branch, cwd=remote.path).split()
    assert sorted(changed) == [f"{staging}/deployment.yaml", f"{staging}/settings.yaml"]
    (again,) = ok(run, "promote", "--repo-url", remote.url, *HOP, "--forge", "none")
    assert again["pushed"] is False  # the same content: nothing new


def test_rollback_puts_the_carried_setting_back(run, tmp_path) -> None:
    remote = example(tmp_path, "{files: [settings.yaml]}", {"settings.yaml": SETTINGS})
    ok(run, "bump", "--repo-url", remote.url, "--env", "dev", "--service", "web", "--tag", "2.0")
    edit_dev(remote, tmp_path, "settings.yaml", "log: info\n", "log: info\nfeature: on\n")
    (promoted,) = ok(run, "promote", "--repo-url", remote.url, *HOP, "--forge", "none")
    work = tmp_path / "merge"
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    git("merge", "--quiet", "--no-ff", "-m", "merge", f"origin/{promoted['branch']}", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)
    staging = WEB.format(env="staging")
    assert "feature: on" in remote.show(f"{staging}/settings.yaml")
    latest = ok(run, "history", "--repo-url", remote.url, "--env", "staging", "--service", "web")[0]
    assert (latest["to"], latest["carried"]) == (
        "ghcr.io/acme/web:2.0",
        [f"{staging}/settings.yaml"],
    )
    text = run("history", "--repo-url", remote.url, "--env", "staging", "--service", "web")
    assert f"    carried {staging}/settings.yaml" in text.stdout

    back = ok(run, "rollback", "--repo-url", remote.url, "--env", "staging", "--service", "web",
              "--forge", "none")  # fmt: skip

    assert [c["file"] for c in back["items"][0]["carried"]] == [f"{staging}/settings.yaml"]
    assert remote.show(f"{staging}/settings.yaml", back["branch"]) == SETTINGS
    assert "ghcr.io/acme/web:0.9.0" in remote.show(f"{staging}/deployment.yaml", back["branch"])


def test_a_field_only_promotion_changes_one_line(run, tmp_path) -> None:
    promote = "{fields: [{file: config.yaml, paths: ['env[name=CACHE_SIZE].value']}]}"
    remote = example(tmp_path, promote, {"config.yaml": CONFIG})
    edit_dev(remote, tmp_path, "config.yaml", "value: '10'", "value: '64'")
    edit_dev(remote, tmp_path, "config.yaml", "count: 2", "count: 1")  # not listed: stays

    (item,) = ok(run, "plan", "--repo-url", remote.url, *HOP)
    assert item["from"] == item["to"]  # the same version: a config-only promotion
    assert item["carried"] == [{"kind": "field", "file": "apps/web/overlays/staging/config.yaml",
                                "field": "env[name=CACHE_SIZE].value", "from": "'10'",
                                "to": "'64'"}]  # fmt: skip
    (result,) = ok(run, "promote", "--repo-url", remote.url, *HOP, "--forge", "none")
    staging = f"{WEB.format(env='staging')}/config.yaml"
    assert remote.show(staging, result["branch"]) == CONFIG.replace("'10'", "'64'")
    diff = git("diff", "--numstat", "main", result["branch"], cwd=remote.path)
    assert diff == f"1\t1\t{staging}"


def test_a_field_missing_in_the_target_is_refused_with_a_hint(run, tmp_path) -> None:
    promote = "{fields: [{file: config.yaml, paths: ['feature.flag']}]}"
    remote = example(tmp_path, promote, {"config.yaml": CONFIG})
    edit_dev(remote, tmp_path, "config.yaml", "replicas:", "feature: {flag: on}\nreplicas:")
    result = run("promote", "--repo-url", remote.url, *HOP, "--forge", "none")
    assert result.exit_code == 2
    assert "config.yaml in staging has no value at feature.flag" in result.stderr
    assert "add it there once by hand" in result.stderr
    assert git("for-each-ref", "--format=%(refname)", cwd=remote.path) == "refs/heads/main"


def test_fields_are_read_and_written_byte_exactly() -> None:
    assert read_field(CONFIG, "c", "env[name=CACHE_SIZE].value") == "'10'"
    assert read_field(CONFIG, "c", "env[0].value") == "info"
    assert read_field(CONFIG, "c", "replicas.count") == "2"
    assert read_field(CONFIG, "c", "env[name=NOPE].value") is None
    assert write_field(CONFIG, "c", "replicas.count", "5") == CONFIG.replace("count: 2", "count: 5")
    with pytest.raises(ValueError, match="is a mapping, not a value"):
        read_field(CONFIG, "c", "replicas")
    with pytest.raises(ValueError, match="is a list"):
        read_field(CONFIG, "c", "env")
    assert field_problem("env[name=X].value") is None
    assert "breaks at character 3" in (field_problem("a..b") or "")


BASE = (EXAMPLE / "promoter.yaml").read_text()


def test_promote_blocks_are_validated_with_their_lines() -> None:
    text = BASE.replace(
        "  - name: web\n    image: ghcr.io/acme/web\n",
        "  - name: web\n    image: ghcr.io/acme/web\n    promote:\n      files: [../../secrets]\n"
        "      fields:\n        - {file: config.yaml, paths: ['a..b']}\n        - {file: x.yaml}\n",
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    found = [f"{p.line}: {p.message}" for p in info.value.problems]
    web = BASE.splitlines().index("  - name: web") + 1
    assert f"{web + 3}: service 'web': promote: files[0]: '../../secrets' must be a path" \
        " inside the service's folder (no leading '/', no '..')" in found  # fmt: skip
    assert any(f.startswith(f"{web + 5}: ") and "'a..b' breaks at character 3" in f for f in found)
    assert any(f.startswith(f"{web + 6}: ") and "needs `file` and `paths`" in f for f in found)


def test_defaults_promote_applies_unless_a_service_says_and_survives_the_cache() -> None:
    text = BASE.replace("defaults:\n", "defaults:\n  promote: {files: [settings.yaml]}\n").replace(
        "  - name: web\n    image: ghcr.io/acme/web\n",
        "  - name: web\n    image: ghcr.io/acme/web\n    promote: {files: [web.env]}\n",
    )
    config = parse_config(text)
    assert config.carry_for(config.service("api")).files == ("settings.yaml",)
    assert config.carry_for(config.service("web")).files == ("web.env",)
    again = _from_json(json.loads(json.dumps(_to_json(config))))
    assert again.default_carry == config.default_carry
    assert again.service("web").carry == config.service("web").carry


def test_the_dashboard_marks_equal_versions_with_other_settings(tmp_path) -> None:
    from promoter.core.config.loader import load_config
    from promoter.core.dashboard import build
    from promoter.workflows.status import status_matrix

    remote = example(tmp_path, "{files: [settings.yaml]}", {"settings.yaml": SETTINGS})
    work = tmp_path / "tree"
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    config = load_config(work)
    same = build(config, status_matrix(work, config), [])
    assert same.cells[("web", "staging")].relation == "equal"
    (work / WEB.format(env="dev") / "settings.yaml").write_text(SETTINGS + "feature: on\n")
    matrix = status_matrix(work, config)
    row = matrix["services"]["web"]
    assert row["dev"]["carried"] != row["staging"]["carried"]
    assert "carried" not in matrix["services"]["api"]["dev"]  # nothing carried for api
    cells = build(config, matrix, []).cells
    assert cells[("web", "staging")].relation == "config"  # same version, other settings
    assert cells[("api", "staging")].relation in ("equal", "behind", "ahead", "differs")


def test_the_sticky_comment_lists_what_the_pr_carries(run, tmp_path, monkeypatch) -> None:
    import promoter.adapters.forges.session
    from tests.fakeforge import SleepRecorder, github_fake

    monkeypatch.setattr(promoter.adapters.forges.session, "sleep", SleepRecorder())
    promote = "{files: [settings.yaml], fields: [{file: config.yaml, paths: [replicas.count]}]}"
    remote = example(tmp_path, promote, {"settings.yaml": SETTINGS, "config.yaml": CONFIG})
    work = tmp_path / "forge"
    git("clone", "--quiet", remote.url, str(work), cwd=tmp_path)
    config = work / "promoter.yaml"
    config.write_text(config.read_text().replace(
        "defaults:\n", "forge:\n  type: github\n  repository: acme/env\ndefaults:\n"
    ))  # fmt: skip
    git("commit", "--quiet", "-am", "forge", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    edit_dev(remote, tmp_path, "settings.yaml", "log: info", "log: debug")
    edit_dev(remote, tmp_path, "config.yaml", "count: 2", "count: 4")
    env = {"GITHUB_TOKEN": "ghp_carryTOKEN1234"}
    with github_fake(repo="acme/env", token=env["GITHUB_TOKEN"]) as gh:
        promoted = run("promote", "--repo-url", remote.url, *HOP, env=env)
        assert promoted.exit_code == 0, promoted.output
        (pr,) = gh.open_pulls()
        assert "**Carried with the version**" in pr["body"]
        assert "- web: apps/web/overlays/staging/config.yaml replicas.count: 2 → 4" in pr["body"]
        checked = run("check", "--repo-url", remote.url, "--pr", str(pr["number"]), env=env)
        assert checked.exit_code in (0, 1), checked.output
        (sticky,) = [c["body"] for c in gh.comments[pr["number"]]]
    assert "**Carried with the version** (`promote:` in promoter.yaml)" in sticky
    staging = WEB.format(env="staging")
    assert f"- web: `{staging}/settings.yaml` changes (copied from upstream)" in sticky
    assert f"- web: `{staging}/config.yaml` `replicas.count`: `2` → `4`" in sticky
