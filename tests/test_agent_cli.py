"""`promoter agent` and `promoter diff` end to end (CLI → git → render →
the fake API server), the poll loop's git economy, and what the agent
reports: commit statuses, /metrics, /healthz, /status."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from promoter.adapters.agent_source import GitSource, LocalSource
from promoter.adapters.http.agent_status import StatusServer
from promoter.adapters.metrics import Metrics
from promoter.adapters.render import renderer
from promoter.adapters.render.renderer import render
from promoter.core.applier.result import RoundResult
from promoter.errors import ExitCode
from promoter.workflows.agent import Agent, AgentOptions, CommitStatus
from tests.agent_helpers import Cluster, configmap, deployment, make_repo
from tests.conftest import GIT_ENV, git, make_remote
from tests.fakeforge import github_fake
from tests.kubefake import FakeKube

pytest_plugins = ["tests.agent_fixtures"]

Run = Callable[..., Result]


@dataclass
class StatusRecorder:
    """A forge's set_status, recorded."""

    calls: list[tuple[str, str, str, str]] = field(default_factory=list)

    def set_status(
        self, sha: str, context: str, state: str, description: str, target_url: str | None = None
    ) -> None:
        self.calls.append((sha, context, state, description))


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeKube]:
    with FakeKube(auto_ready=True) as kube:
        yield kube
        assert not kube.internal_errors, kube.internal_errors[0]


def write(root: Path, name: str, *docs: dict[str, Any]) -> None:
    path = root / "clusters" / "dev" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n".join(yaml.safe_dump(d) for d in docs), encoding="utf-8")


# -- the CLI ----------------------------------------------------------------------------------


def test_agent_once_applies_a_working_tree(run: Run, fake: FakeKube, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "env")
    write(repo, "app", configmap("settings"), deployment("web"))
    kubeconfig = fake.write_kubeconfig(tmp_path / "kubeconfig")

    result = run("agent", "--env", "dev", "--repo", str(repo), "--kubeconfig", str(kubeconfig),
                 "--once")  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "dev @ working tree: ok — applied 2 of 2" in result.output
    assert "created apps/Deployment/default/web" in result.output
    assert fake.get_object("v1", "ConfigMap", "default", "promoter-inventory-dev") is not None
    assert fake.count("apply", "deployments", field_manager="promoter") == 1


def test_agent_applies_the_example_repo_then_a_bump(
    run: Run, fake: FakeKube, env_repo: Path, tmp_path: Path
) -> None:
    kubeconfig = str(fake.write_kubeconfig(tmp_path / "kubeconfig"))
    base = ("agent", "--env", "dev", "--repo", str(env_repo), "--kubeconfig", kubeconfig, "--once")

    first = run(*base)  # api through real kustomize, web as plain manifests
    bumped = run("set-image", "--env", "dev", "--service", "api", "--tag", "1.4.2",
                 "--repo", str(env_repo))  # fmt: skip
    second = run(*base)

    assert first.exit_code == 0, first.output
    assert "created apps/Deployment/default/api" in first.output
    assert "created apps/Deployment/default/web" in first.output
    # worker: its values file rendered with the example's chart by the Helm engine.
    assert "created apps/Deployment/default/worker" in first.output
    worker = fake.get_object("apps/v1", "Deployment", "default", "worker")
    assert worker is not None and worker["spec"]["replicas"] == 2
    assert worker["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "registry.example.com:5000/team/worker:2.1.0"
    )
    assert bumped.exit_code == 0, bumped.output
    assert second.exit_code == 0, second.output
    assert "configured apps/Deployment/default/api" in second.output
    assert "web" not in second.output
    api = fake.get_object("apps/v1", "Deployment", "default", "api")
    assert api is not None
    assert api["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/api:1.4.2"


def test_agent_once_exit_codes(run: Run, cluster: Cluster, tmp_path: Path) -> None:
    repo, ns = cluster.repo, cluster.namespace
    cluster.write("app", deployment("web"))
    cluster.hold_rollouts()  # nothing rolls the Deployment out
    kubeconfig = str(cluster.kubeconfig_here(tmp_path / "kubeconfig"))
    base = ("agent", "--env", "dev", "--repo", str(repo), "--kubeconfig", kubeconfig, "--once")

    stuck = run(*base, "--health-timeout", "1s")
    (repo / "clusters" / "dev" / "bad.yaml").write_text("a: [\n", encoding="utf-8")
    broken = run(*base)
    unknown_env = run("agent", "--env", "qa", "--repo", str(repo), "--kubeconfig", kubeconfig,
                      "--once")  # fmt: skip

    assert stuck.exit_code == ExitCode.HEALTH, stuck.output
    assert f"apps/Deployment/{ns}/web: InProgress" in stuck.output
    assert broken.exit_code == ExitCode.APPLY, broken.output
    assert "render failed" in broken.output and "not valid YAML" in broken.output
    assert unknown_env.exit_code == ExitCode.INPUT, unknown_env.output


def test_agent_dry_run_json(run: Run, cluster: Cluster, tmp_path: Path) -> None:
    repo, ns = cluster.repo, cluster.namespace
    cluster.write("app", configmap("settings"))
    kubeconfig = str(cluster.kubeconfig_here(tmp_path / "kubeconfig"))
    base = ("agent", "--env", "dev", "--repo", str(repo), "--kubeconfig", kubeconfig, "--once")
    assert run(*base).exit_code == 0
    cluster.write("app", configmap("other"))

    result = run(*base, "--dry-run", "--output", "json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dry_run"] is True and report["ok"] is True
    assert report["created"] == [f"/ConfigMap/{ns}/other"]
    assert report["would_prune"] == [f"/ConfigMap/{ns}/settings"]
    assert cluster.get("v1", "ConfigMap", "other") is None
    assert cluster.get("v1", "ConfigMap", "settings") is not None


def test_agent_once_from_a_remote(run: Run, cluster: Cluster, tmp_path: Path) -> None:
    source = make_repo(tmp_path / "source")
    write(source, "app", configmap("settings"))
    remote = make_remote(tmp_path, source)
    kubeconfig = str(cluster.kubeconfig_here(tmp_path / "kubeconfig"))

    result = run("agent", "--env", "dev", "--repo-url", remote.url, "--kubeconfig", kubeconfig,
                 "--once", "--output", "json")  # fmt: skip

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["revision"] == remote.head()
    assert report["created"] == [f"/ConfigMap/{cluster.namespace}/settings"]


def test_agent_sets_the_commit_status_on_github(run: Run, fake: FakeKube, tmp_path: Path) -> None:
    source = make_repo(tmp_path / "source")
    config = source / "promoter.yaml"
    config.write_text("forge:\n  type: github\n  repository: acme/env\n" + config.read_text())
    write(source, "app", configmap("settings"))
    remote = make_remote(tmp_path, source)
    kubeconfig = str(fake.write_kubeconfig(tmp_path / "kubeconfig"))
    token = "ghp_agenttoken0123456789"

    with github_fake(repo="acme/env", token=token) as gh:
        result = run("agent", "--env", "dev", "--repo-url", remote.url, "--kubeconfig",
                     kubeconfig, "--once", env={"GITHUB_TOKEN": token})  # fmt: skip
        dry = run("agent", "--env", "dev", "--repo-url", remote.url, "--kubeconfig",
                  kubeconfig, "--once", "--dry-run", env={"GITHUB_TOKEN": token})  # fmt: skip

    assert result.exit_code == 0, result.output
    assert dry.exit_code == 0, dry.output
    posted = gh.statuses[remote.head()]
    assert [(s["context"], s["state"]) for s in posted] == [
        ("promoter/apply", "pending"),
        ("promoter/apply", "success"),  # and nothing from the dry run
    ]
    assert posted[1]["description"] == "dev: applied 1 of 1"


def test_diff_shows_changes_masks_secrets_and_shows_prunes(
    run: Run, cluster: Cluster, tmp_path: Path
) -> None:
    repo, ns = cluster.repo, cluster.namespace
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "stringData": {"password": "hunter2-old"},
    }
    cluster.write("app", configmap("settings", level="info"), secret, configmap("old"))
    kubeconfig = str(cluster.kubeconfig_here(tmp_path / "kubeconfig"))
    base = ("--env", "dev", "--repo", str(repo), "--kubeconfig", kubeconfig)
    assert run("agent", *base, "--once").exit_code == 0
    assert "no differences (3 objects)" in run("diff", *base).output
    before = cluster.snapshot(("v1", "ConfigMap"), ("v1", "Secret"))

    secret["stringData"] = {"password": "hunter2-new"}
    cluster.write("app", configmap("settings", level="debug"), secret)
    result = run("diff", *base)

    assert result.exit_code == 1, result.output  # kubectl diff: 1 = differences found
    out = result.output
    assert f"--- a//ConfigMap/{ns}/settings" in out
    assert "-  level: info" in out and "+  level: debug" in out
    assert "+++ /dev/null" in out and f"a//ConfigMap/{ns}/old" in out  # would be pruned
    assert "hunter2" not in out and "aHVudGVy" not in out  # neither plain nor base64
    assert f"+++ b//Secret/{ns}/creds" in out and "+  password: '***** (changed)'" in out
    assert cluster.snapshot(("v1", "ConfigMap"), ("v1", "Secret")) == before  # diff wrote nothing
    if cluster.fake is not None:
        # Only the agent wrote: 3 objects and the inventory twice (before the apply, after).
        assert cluster.fake.count("apply", dry_run=False) == 3 + 2

    as_json = run("diff", *base, "--output", "json")
    assert as_json.exit_code == 1, as_json.output
    report = json.loads(as_json.stdout)
    assert report["env"] == "dev" and report["objects"] == 2
    changed = {d["key"]: d for d in report["differences"]}
    assert {f"/ConfigMap/{ns}/settings", f"/ConfigMap/{ns}/old"} <= set(changed)
    assert changed[f"/ConfigMap/{ns}/old"]["action"] == "prune"
    assert changed[f"/ConfigMap/{ns}/settings"]["action"] == "update"
    assert "+  level: debug" in changed[f"/ConfigMap/{ns}/settings"]["diff"]
    assert "hunter2" not in as_json.stdout


def test_diff_exits_like_kubectl_diff(run: Run, cluster: Cluster, tmp_path: Path) -> None:
    cluster.write("app", configmap("settings"))
    kubeconfig = str(cluster.kubeconfig_here(tmp_path / "kubeconfig"))
    base = ("--env", "dev", "--repo", str(cluster.repo), "--kubeconfig", kubeconfig)
    assert run("diff", *base).exit_code == 1  # not applied yet: a creation
    assert run("agent", *base, "--once").exit_code == 0
    same = run("diff", *base)
    assert same.exit_code == 0 and "no differences" in same.output
    assert json.loads(run("diff", *base, "-o", "json").stdout)["differences"] == []


def test_diff_is_an_error_when_the_api_fails(run: Run, fake: FakeKube, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "env")
    write(repo, "app", configmap("settings"))
    kubeconfig = str(fake.write_kubeconfig(tmp_path / "kubeconfig"))
    base = ("--env", "dev", "--repo", str(repo), "--kubeconfig", kubeconfig)
    fake.fail_next("GET", status=500, times=50)
    broken = run("diff", *base)
    assert broken.exit_code > 1, broken.output  # an error is never 0 or 1


# -- the poll loop ---------------------------------------------------------------------------


def _push(remote_path: Path, tmp: Path, name: str, doc: dict[str, Any]) -> str:
    work = tmp / f"work-{name}"
    git("clone", "--quiet", str(remote_path), str(work), cwd=tmp)
    write(work, name, doc)
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", f"add {name}", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def test_git_source_fetches_only_when_the_branch_moved(
    fake_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    write(fake_cluster.repo, "app", configmap("settings"))
    remote = make_remote(tmp_path, fake_cluster.repo)
    source = GitSource(remote.url, tmp_path / "work", "dev")
    statuses = StatusRecorder()
    agent = Agent(source, fake_cluster.reconciler(), AgentOptions("dev"),
                  status=CommitStatus(statuses))  # fmt: skip
    renders: list[Path] = []
    real_render = renderer._render_environment

    def counting(root: Path, *args: Any) -> Any:
        renders.append(root)
        return real_render(root, *args)

    monkeypatch.setattr(renderer, "_render_environment", counting)

    seeded = remote.head()
    first = agent.round()
    second = agent.round()
    sha = _push(remote.path, tmp_path, "more", configmap("more"))
    third = agent.round()

    assert first.ok and second.ok and third.ok, third.text()
    assert (first.revision, second.revision, third.revision) == (seeded, seeded, sha)
    assert source.fetches == 2  # the clone, then one fetch for the new commit
    assert len(renders) == 2  # round two's commit was already rendered: no renderer ran
    assert third.created == ["/ConfigMap/default/more"]
    # Statuses only when the revision or the outcome changed: not for round two.
    assert [(s[0], s[2]) for s in statuses.calls] == [
        (first.revision, "pending"),
        (first.revision, "success"),
        (sha, "pending"),
        (sha, "success"),
    ]
    assert all(s[1] == "promoter/apply" for s in statuses.calls)
    assert statuses.calls[3][3] == "dev: applied 1 of 2"


def test_git_source_follows_the_environments_branch(
    fake_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    repo = fake_cluster.repo
    config = repo / "promoter.yaml"
    config.write_text(
        config.read_text().replace("  - name: dev\n", "  - name: dev\n    branch: env/{env}\n")
    )
    remote = make_remote(tmp_path, repo)  # main: no manifests
    work = tmp_path / "branch-work"
    git("clone", "--quiet", str(remote.path), str(work), cwd=tmp_path)
    git("checkout", "--quiet", "-b", "env/dev", cwd=work)
    write(work, "app", configmap("on-branch"))
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "dev", cwd=work)
    git("push", "--quiet", "origin", "env/dev", cwd=work)
    source = GitSource(remote.url, tmp_path / "agent-work", "dev")

    result = Agent(source, fake_cluster.reconciler(), AgentOptions("dev")).round()

    assert result.ok, result.text()
    assert result.revision == remote.head("env/dev")
    assert result.created == ["/ConfigMap/default/on-branch"]
    assert source.branch == "env/dev"


def test_failed_round_sets_a_failure_status(fake_cluster: Cluster) -> None:
    c = fake_cluster
    (c.env_dir / "bad.yaml").write_text("a: [\n", encoding="utf-8")
    statuses = StatusRecorder()

    class Pinned(LocalSource):
        def update(self) -> tuple[Path, str | None]:
            return self.path, "c0ffee" * 6 + "c0ff"

    agent = Agent(Pinned(c.repo), c.reconciler(), AgentOptions("dev"),
                  status=CommitStatus(statuses))  # fmt: skip
    result = agent.round()

    assert not result.ok
    assert [s[2] for s in statuses.calls] == ["pending", "failure"]
    assert statuses.calls[1][3].startswith("dev: render failed: ")


def test_loop_runs_every_interval_until_stopped(fake_cluster: Cluster) -> None:
    c = fake_cluster
    write(c.repo, "app", configmap("settings"))
    seen: list[RoundResult] = []
    stop = threading.Event()

    def on_round(result: RoundResult) -> None:
        seen.append(result)
        if len(seen) == 3:
            stop.set()

    agent = Agent(LocalSource(c.repo), c.reconciler(), AgentOptions("dev", interval=0.01),
                  stop=stop, on_round=on_round)  # fmt: skip
    worker = threading.Thread(target=agent.run)
    worker.start()
    worker.join(timeout=10)

    assert not worker.is_alive()
    assert [r.ok for r in seen] == [True, True, True]
    assert [len(r.created) for r in seen] == [1, 0, 0]
    assert agent.metrics.rounds == {"success": 3, "failure": 0}


# -- metrics and the status server ---------------------------------------------------------------


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_metrics_healthz_and_status_endpoints() -> None:
    now = [1000.0]
    metrics = Metrics("dev", clock=lambda: now[0])
    ok = RoundResult("dev", "abc123", ok=True, phase="done", desired=3, duration=0.25)
    ok.created = ["/ConfigMap/default/a"]
    ok.started = 990.0
    failed = RoundResult("dev", "def456", phase="apply", error="boom", exit_code=8)
    metrics.record(ok)
    metrics.record(failed)
    server = StatusServer(metrics, 0, host="127.0.0.1", stale_after=60).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        code, text = _get(base + "/metrics")
        assert code == 200
        lines = set(text.splitlines())
        assert 'promoter_agent_last_applied_revision_info{env="dev",revision="abc123"} 1.0' in lines
        assert 'promoter_agent_rounds_total{env="dev",result="failure"} 1.0' in lines
        assert 'promoter_agent_rounds_total{env="dev",result="success"} 1.0' in lines
        assert 'promoter_agent_failures_total{env="dev",phase="apply"} 1.0' in lines
        assert 'promoter_agent_failures_total{env="dev",phase="health"} 0.0' in lines
        assert 'promoter_agent_last_round_success{env="dev"} 0.0' in lines
        assert 'promoter_agent_last_success_timestamp_seconds{env="dev"} 990.0' in lines
        assert "# TYPE promoter_agent_reconcile_duration_seconds histogram" in lines

        assert _get(base + "/healthz") == (200, "ok\n")
        code, body = _get(base + "/status")
        status = json.loads(body)
        assert status["last"]["phase"] == "apply" and status["last_success_revision"] == "abc123"

        now[0] += 61  # the loop stopped turning
        assert _get(base + "/healthz") == (503, "stalled\n")
        assert _get(base + "/nope")[0] == 404
    finally:
        server.stop()


def test_metrics_follow_the_exposition_format_exactly() -> None:
    """The official parser reads every sample back: timestamps to the
    microsecond (not `%g`'s 1.7962e+09), label values with quotes,
    backslashes and line breaks escaped."""
    from prometheus_client.parser import text_string_to_metric_families

    metrics = Metrics('de"v\\x\ny')
    ok = RoundResult('de"v\\x\ny', 'r"1', ok=True, phase="done", desired=3, duration=1.5)
    ok.started = 1796200000.123456
    metrics.record(ok)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.render())
        for s in family.samples
    }
    env = ("env", 'de"v\\x\ny')
    assert samples[("promoter_agent_last_success_timestamp_seconds", (env,))] == 1796200000.123456
    assert samples[("promoter_agent_last_applied_revision_info", (env, ("revision", 'r"1')))] == 1
    assert samples[("promoter_agent_rounds_total", (env, ("result", "success")))] == 1
    assert samples[("promoter_agent_reconcile_duration_seconds_count", (env,))] == 1
    assert samples[("promoter_agent_reconcile_duration_seconds_sum", (env,))] == 1.5


def test_post_trigger_wakes_the_loop_early(fake_cluster: Cluster) -> None:
    c = fake_cluster
    write(c.repo, "app", configmap("settings"))
    rounds: list[threading.Event] = [threading.Event(), threading.Event()]
    seen: list[RoundResult] = []

    def on_round(result: RoundResult) -> None:
        seen.append(result)
        rounds[min(len(seen), 2) - 1].set()

    agent = Agent(LocalSource(c.repo), c.reconciler(), AgentOptions("dev", interval=3600),
                  on_round=on_round)  # fmt: skip
    server = StatusServer(agent.metrics, 0, host="127.0.0.1", on_trigger=agent.trigger).start()
    worker = threading.Thread(target=agent.run)
    worker.start()
    try:
        assert rounds[0].wait(10)
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}/trigger", method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 202
        assert rounds[1].wait(10), "the trigger did not start a round"
    finally:
        agent.shutdown()
        worker.join(timeout=10)
        server.stop()
    assert not worker.is_alive()
    assert len(seen) == 2  # shutdown() ended the hour-long wait at once


def test_deploy_manifests_are_namespace_scoped_and_accepted(cluster: Cluster) -> None:
    deploy = Path(__file__).resolve().parent.parent / "deploy"
    objs = render(deploy)  # real kustomize
    tenant = render(deploy / "tenant")

    kinds = sorted(o.kind for o in objs)
    assert kinds == ["Deployment", "Role", "RoleBinding", "Service", "ServiceAccount"]
    assert {o.namespace for o in objs} == {"promoter"}  # nothing cluster-scoped by default
    pod = next(o for o in objs if o.kind == "Deployment").body["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "promoter-agent"
    assert pod["containers"][0]["args"][0] == "agent"
    assert sorted(o.kind for o in tenant) == ["Role", "Role", "RoleBinding", "RoleBinding",
                                              "ServiceAccount"]  # fmt: skip
    assert {o.namespace for o in tenant} == {"team-a"}
    for name in ("promoter", "team-a"):  # (shared on the real server: applying is idempotent)
        cluster.kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    for obj in [*objs, *tenant]:
        cluster.kube.apply(obj.body, dry_run=True)  # the API server accepts every one


def test_what_the_agent_cannot_apply_is_said_and_counted(
    run: Run, fake: FakeKube, tmp_path: Path
) -> None:
    """The bundled example's worker lives in a Helm values file; without its
    `render: {helm: …}` a plain-YAML render finds no object in it, and the
    round says so instead of reporting "applied 2 of 2" as if that were
    everything."""
    import shutil

    from tests.conftest import EXAMPLE

    repo = tmp_path / "env"
    shutil.copytree(EXAMPLE, repo)
    config = repo / "promoter.yaml"
    text = config.read_text().split("  - name: dash\n")[0]  # the Jsonnet service: not here
    lines = text.splitlines(keepends=True)
    config.write_text(
        "".join(line for line in lines if "render:" not in line and "helm:" not in line)
    )
    kubeconfig = str(fake.write_kubeconfig(tmp_path / "kubeconfig"))
    result = run("agent", "--env", "dev", "--repo", str(repo), "--kubeconfig", kubeconfig, "--once")
    assert result.exit_code == 0, result.output
    assert "not applied 1 path(s)" in result.stdout.splitlines()[0]
    assert "not applied deploy/dev/worker-values.yaml: no Kubernetes object" in result.stdout
    as_json = run(
        "agent",
        "--env",
        "dev",
        "--repo",
        str(repo),
        "--kubeconfig",
        kubeconfig,
        "--once",
        "-o",
        "json",
    )
    (entry,) = json.loads(as_json.stdout)["not_applied"]
    assert entry["path"] == "deploy/dev/worker-values.yaml"


def test_a_broken_chart_stops_the_round_before_anything_is_applied(
    run: Run, cluster: Cluster, env_repo: Path, tmp_path: Path
) -> None:
    """The example's worker renders through its Helm chart. A template that
    fails is Helm's message and exit 8, and neither the other services nor
    a prune happen: nothing is half-applied."""
    pytest.importorskip("helm_python", reason="pip install 'promoter[helm]'")
    kubeconfig = str(cluster.kubeconfig_here(tmp_path / "kubeconfig"))
    base = ("agent", "--env", "dev", "--repo", str(env_repo), "--kubeconfig", kubeconfig, "--once")
    with cluster.controllers():
        first = run(*base)
    assert first.exit_code == 0, first.output
    before = cluster.snapshot()

    (env_repo / "charts/worker/templates/broken.yaml").write_text("x: {{ .Values.no.such }}\n")
    (env_repo / "apps/web/overlays/dev/deployment.yaml").unlink()  # would be pruned
    (env_repo / "apps/api/overlays/dev/kustomization.yaml").write_text(
        (env_repo / "apps/api/overlays/dev/kustomization.yaml")
        .read_text()
        .replace("1.0.0", "9.9.9")
    )  # would be applied
    broken = run(*base)

    assert broken.exit_code == ExitCode.APPLY, broken.output
    assert "helm could not render charts/worker" in broken.output
    assert "worker/templates/broken.yaml:1" in broken.output
    assert cluster.snapshot() == before  # nothing applied, nothing pruned
    assert cluster.get("apps/v1", "Deployment", "web") is not None
