"""Tenancy: `applier: {promoter: {namespaces, clusterScoped, serviceAccount}}`.

The refusal of objects outside the allowed namespaces and kinds runs on
the fake and on the real server (`cluster`). The RBAC tests need what only
a real kube-apiserver has — authorization and impersonation — so they run
there alone: the tenant's account gets deploy/tenant/ (rendered by real
kustomize) in its namespace, the agent's own account only the right to
impersonate it, with a token the server issued (TokenRequest).
"""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from promoter.adapters.kube import Kube
from promoter.adapters.render.renderer import render
from promoter.core.applier.tenancy import Scope, scope_for
from promoter.core.config.loader import load_config
from promoter.errors import ExitCode
from tests.agent_helpers import Cluster, Sleeps, configmap, fast_kube, make_repo, service
from tests.realkube import E2E_KUBECONFIG, RealCluster

pytest_plugins = ["tests.agent_fixtures"]

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
Run = Callable[..., Result]


def cluster_role(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    }


# -- the agent's own check, before any request that writes -------------------------------


def test_objects_outside_the_tenancy_are_refused_before_anything_is_written(
    cluster: Cluster,
) -> None:
    role = f"{cluster.namespace}-reader"
    cluster.write("app", configmap("ok"), configmap("elsewhere", ns="kube-system"))
    cluster.write("rbac", cluster_role(role))
    scope = Scope(namespaces=frozenset({cluster.namespace}))

    result = cluster.round(scope=scope)

    assert not result.ok and result.phase == "render", result.text()
    assert result.exit_code == ExitCode.APPLY
    error = result.error or ""
    assert "2 object(s) are outside what the agent of dev may manage" in error
    assert "nothing was applied or pruned" in error
    assert "/ConfigMap/kube-system/elsewhere (from " in error
    assert "clusters/dev/app.yaml): namespace 'kube-system' is not allowed" in error
    assert f"rbac.authorization.k8s.io/ClusterRole//{role} (from " in error
    assert "clusters/dev/rbac.yaml): cluster-scoped ClusterRole is not in clusterScoped" in error
    assert f"/ConfigMap/{cluster.namespace}/ok" not in error
    assert cluster.snapshot() == {}  # nothing, not even the inventory
    assert cluster.get("rbac.authorization.k8s.io/v1", "ClusterRole", role, None) is None

    # Allowed by name (Kind or Kind.group), in the allowed namespace: applied.
    cluster.remove("app")
    cluster.write("app", configmap("ok"))
    kinds = frozenset({"ClusterRole.rbac.authorization.k8s.io"})
    wider = Scope(frozenset({cluster.namespace}), kinds)
    try:
        applied = cluster.round(scope=wider)
        assert applied.ok, applied.text()
        assert cluster.get("rbac.authorization.k8s.io/v1", "ClusterRole", role, None) is not None
    finally:
        if cluster.real:  # cluster-scoped: the namespace's deletion leaves it
            cluster.kube.delete(f"rbac.authorization.k8s.io/ClusterRole//{role}")


def test_a_narrowed_scope_leaves_what_it_no_longer_covers_alone(cluster: Cluster) -> None:
    """Objects applied before the scope excluded their namespace are neither
    read nor pruned (as the tenant, that would be a 403 every round): they
    are reported, untracked, and stay."""
    other = f"{cluster.namespace}-old"
    cluster.kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    cluster.write("app", configmap("settings"), configmap("legacy", ns=other))
    assert cluster.round().ok
    cluster.write("app", configmap("settings"))  # legacy left Git, and the scope narrows

    result = cluster.round(scope=Scope(namespaces=frozenset({cluster.namespace})))

    assert result.ok, result.text()
    legacy = f"/ConfigMap/{other}/legacy"
    assert result.pruned == [] and [k for k, _ in result.prune_skipped] == [legacy]
    assert "outside this environment's applier.promoter" in result.prune_skipped[0][1]
    assert cluster.get("v1", "ConfigMap", "legacy", other) is not None
    assert cluster.inventory().keys == {f"/ConfigMap/{cluster.namespace}/settings"}


def test_the_tenancy_in_promoter_yaml(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "env")
    config = repo / "promoter.yaml"
    config.write_text(
        textwrap.dedent(
            """\
            version: 1
            defaults:
              applier:
                promoter:
                  namespaces: ["shop-{env}", shared]
                  clusterScoped: [Namespace, ClusterRole.rbac.authorization.k8s.io]
                  serviceAccount: shop-{env}/deployer
            environments:
              - name: dev
              - name: prod
                from: dev
                applier: {promoter: {serviceAccount: ops/prod-deployer}}
            services:
              - name: app
                image: ghcr.io/acme/app
                path: clusters/{env}
            """
        ),
        encoding="utf-8",
    )
    loaded = load_config(repo)
    dev = scope_for(loaded.environment("dev").agent, "dev")
    assert dev.namespaces == {"shop-dev", "shared"}
    assert dev.cluster_scoped == {"Namespace", "ClusterRole.rbac.authorization.k8s.io"}
    assert dev.username == "system:serviceaccount:shop-dev:deployer"
    prod = scope_for(loaded.environment("prod").agent, "prod")
    assert prod == Scope(service_account=("ops", "prod-deployer")) and not prod.restricted


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ("{promoter: {serviceAccount: deployer}}", "'deployer' needs its namespace"),
        ("{promoter: {clusterScoped: [clusterrole]}}", "'clusterrole' is not a kind"),
        ("{promoter: {namespaces: [Team_A]}}", "'Team_A' is not a Kubernetes object name"),
        ("{promoter: {prune: true}}", "prune"),
        ("{promoter: {}, argocd: {applications: [a]}}", "exactly one of: promoter, argocd, flux"),
    ],
)
def test_a_wrong_tenancy_is_a_validation_error_with_its_line(
    run: Run, tmp_path: Path, block: str, words: str
) -> None:
    repo = make_repo(tmp_path / "env")
    config = repo / "promoter.yaml"
    config.write_text(
        config.read_text().replace("  - name: dev\n", f"  - name: dev\n    applier: {block}\n")
    )
    result = run("config", "validate", "--repo", str(repo))
    assert result.exit_code == ExitCode.INPUT, result.output
    assert words in result.output and "promoter.yaml:4" in result.output, result.output


# -- the cluster's RBAC decides: a real server only ---------------------------------------


@dataclass
class Tenant:
    admin: Kube
    namespace: str
    """The tenant's namespace: `deployer` may manage rbac/role.yaml's kinds here."""
    other: str
    """A namespace the tenant has no rights in."""
    agent_kubeconfig: Path
    """The agent's own account: it may only impersonate `deployer`."""
    repo: Path

    def write_config(self, applier: str) -> None:
        (self.repo / "promoter.yaml").write_text(
            textwrap.dedent(
                f"""\
                version: 1
                environments:
                  - name: dev
                    applier: {applier}
                services:
                  - name: app
                    image: ghcr.io/acme/app
                    path: clusters/{{env}}
                """
            ),
            encoding="utf-8",
        )

    def write(self, name: str, *docs: dict[str, Any]) -> None:
        text = "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)
        (self.repo / "clusters" / "dev" / f"{name}.yaml").write_text(text, encoding="utf-8")

    def agent(self, run: Run) -> Result:
        return run(
            "agent", "--env", "dev", "--repo", str(self.repo), "--once",
            "--kubeconfig", str(self.agent_kubeconfig), "--health-timeout", "20s",
        )  # fmt: skip

    def get(self, kind: str, name: str, namespace: str | None = None) -> Any:
        return self.admin.get("v1", kind, namespace or self.namespace, name)


def _tenant_rbac(team: str, agent_namespace: str) -> list[dict[str, Any]]:
    """deploy/tenant/ as real kustomize renders it, moved to this test's namespaces."""
    out = []
    for obj in render(DEPLOY / "tenant"):
        body = obj.body
        body["metadata"]["namespace"] = team
        for subject in body.get("subjects", []):
            if subject.get("namespace") == "promoter":
                subject["namespace"] = agent_namespace
            elif "namespace" in subject:
                subject["namespace"] = team
        out.append(body)
    return out


def _token(admin: Kube, namespace: str, account: str) -> str:
    """A token the API server signs for `account` (what a pod's projected token is)."""
    answer = admin.dyn.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token",
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
              "spec": {"expirationSeconds": 3600}},
    )  # fmt: skip
    return str(answer.status.token)


@pytest.fixture(params=["real"])
def tenant(tmp_path: Path) -> Iterator[Tenant]:
    kubeconfig = os.environ.get(E2E_KUBECONFIG)
    if not kubeconfig:
        pytest.skip(f"RBAC needs a real API server: set {E2E_KUBECONFIG} (scripts/test.sh does)")
    suffix = uuid.uuid4().hex[:8]
    team, other, agent_ns = f"team-{suffix}", f"other-{suffix}", f"promoter-{suffix}"
    admin = fast_kube(Path(kubeconfig), "default", Sleeps(), timeout=30.0)
    real = RealCluster(kubeconfig, admin)
    try:
        for name in (team, other, agent_ns):
            real.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        real.seed(
            {"apiVersion": "v1", "kind": "ServiceAccount",
             "metadata": {"name": "promoter-agent", "namespace": agent_ns}}
        )  # fmt: skip
        for body in _tenant_rbac(team, agent_ns):
            real.seed(body)
        config = yaml.safe_load(Path(kubeconfig).read_text(encoding="utf-8"))
        config["users"][0]["user"] = {"token": _token(admin, agent_ns, "promoter-agent")}
        for context in config["contexts"]:
            context["context"]["namespace"] = agent_ns
        agent_kubeconfig = tmp_path / "agent.kubeconfig"
        agent_kubeconfig.write_text(yaml.safe_dump(config), encoding="utf-8")
        yield Tenant(admin, team, other, agent_kubeconfig, make_repo(tmp_path / "env"))
    finally:
        for name in (team, other, agent_ns):
            admin.delete(f"/Namespace//{name}")
        admin.close()


def test_a_tenant_applies_in_its_namespace_and_is_forbidden_elsewhere(
    run: Run, tenant: Tenant
) -> None:
    t = tenant
    t.write_config(f"{{promoter: {{serviceAccount: {t.namespace}/deployer}}}}")
    t.write("app", configmap("settings", a="1"), service("web"))

    first = t.agent(run)

    assert first.exit_code == 0, first.output
    live = t.get("ConfigMap", "settings")
    assert live is not None and live["data"] == {"a": "1"}  # the tenant's namespace by default
    assert [m["manager"] for m in live["metadata"]["managedFields"]] == ["promoter"]
    assert t.get("ConfigMap", "promoter-inventory-dev") is not None  # the inventory too

    # Git now also wants an object in a namespace the tenant has no rights in.
    t.write("app", configmap("settings", a="2"))
    t.write("intruder", configmap("planted", ns=t.other))

    refused = t.agent(run)

    assert refused.exit_code == ExitCode.APPLY, refused.output
    words = (
        f'User "system:serviceaccount:{t.namespace}:deployer" cannot list resource '
        f'"configmaps" in API group "" in the namespace "{t.other}"'
    )
    assert "HTTP 403" in refused.output and words in refused.output, refused.output
    assert "the account promoter.yaml names (impersonated) lacks RBAC" in refused.output
    assert t.get("ConfigMap", "settings")["data"] == {"a": "1"}  # nothing applied
    assert t.get("Service", "web") is not None  # nothing pruned
    assert t.get("ConfigMap", "planted", t.other) is None


def test_without_impersonation_the_agents_own_account_may_do_nothing(
    run: Run, tenant: Tenant
) -> None:
    t = tenant
    t.write_config("promoter")  # a tenant "removes" the service account from Git
    t.write("app", configmap("settings"))

    result = t.agent(run)

    assert result.exit_code == ExitCode.APPLY, result.output
    assert "HTTP 403" in result.output
    assert "system:serviceaccount:promoter-" in result.output  # the agent itself, refused
    assert t.get("ConfigMap", "settings") is None


def test_cluster_scoped_objects_need_clusterscoped_and_rbac(run: Run, tenant: Tenant) -> None:
    t = tenant
    role = f"{t.namespace}-reader"
    t.write("app", configmap("settings"))
    t.write("rbac", cluster_role(role))

    t.write_config(
        f"{{promoter: {{namespaces: [{t.namespace}], serviceAccount: {t.namespace}/deployer}}}}"
    )
    ours = t.agent(run)  # refused by the agent: no request that writes was sent
    assert ours.exit_code == ExitCode.APPLY, ours.output
    assert f"rbac.authorization.k8s.io/ClusterRole//{role} (from clusters/dev/rbac.yaml)" in (
        ours.output
    )
    assert "is not in clusterScoped" in ours.output

    t.write_config(
        f"{{promoter: {{namespaces: [{t.namespace}], clusterScoped: [ClusterRole],"
        f" serviceAccount: {t.namespace}/deployer}}}}"
    )
    theirs = t.agent(run)  # allowed by promoter.yaml, refused by the cluster's RBAC
    assert theirs.exit_code == ExitCode.APPLY, theirs.output
    assert "HTTP 403" in theirs.output
    assert 'cannot list resource "clusterroles"' in theirs.output
    assert t.admin.get("rbac.authorization.k8s.io/v1", "ClusterRole", None, role) is None
    assert t.get("ConfigMap", "settings") is None
