"""What a tenant's agent may touch: `applier: {promoter: {namespaces,
clusterScoped}}` checked against the prepared render, before anything is
written. The cluster's RBAC (through `serviceAccount` impersonation) is
the real fence; this check makes a render that would cross it fail whole
and early, naming every object and the file it came from, instead of
half-applying until the first 403.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from promoter.core.applier.errors import ApplierError
from promoter.core.config.model import AgentSettings
from promoter.core.objects import Obj


class TenancyError(ApplierError):
    """The render holds objects this environment's agent may not manage."""


@dataclass(frozen=True)
class Scope:
    """An environment's tenancy with `{env}` filled in."""

    namespaces: frozenset[str] | None = None
    cluster_scoped: frozenset[str] | None = None
    service_account: tuple[str, str] | None = None
    """(namespace, name)."""

    @property
    def restricted(self) -> bool:
        return self.namespaces is not None or self.cluster_scoped is not None

    @property
    def username(self) -> str | None:
        """The Kubernetes user name the agent impersonates."""
        if self.service_account is None:
            return None
        return "system:serviceaccount:{}:{}".format(*self.service_account)


def scope_for(tenancy: AgentSettings | None, env: str) -> Scope:
    if tenancy is None:
        return Scope()

    def fill(names: Sequence[str] | None) -> frozenset[str] | None:
        return None if names is None else frozenset(n.replace("{env}", env) for n in names)

    account = None
    if tenancy.service_account:
        namespace, _, name = tenancy.service_account.replace("{env}", env).partition("/")
        account = (namespace, name)
    return Scope(fill(tenancy.namespaces), fill(tenancy.cluster_scoped), account)


def allows(scope: Scope, key: str) -> bool:
    """Whether an object key (`group/Kind/namespace/name`; no namespace:
    cluster-scoped) is inside the scope."""
    if not scope.restricted:
        return True
    group, kind, namespace, _ = key.split("/")
    if namespace:
        return scope.namespaces is None or namespace in scope.namespaces
    return bool({kind, f"{kind}.{group}" if group else kind} & (scope.cluster_scoped or set()))


def refusals(objs: Sequence[Obj], scope: Scope) -> list[str]:
    """One line per object outside the scope (objects already prepared:
    namespaced ones carry their namespace, cluster-scoped ones none)."""
    out = []
    for obj in objs:
        if allows(scope, obj.key):
            continue
        source = f" (from {obj.source})" if obj.source else ""
        if obj.namespace:
            allowed = ", ".join(sorted(scope.namespaces or ())) or "none"
            why = f"namespace {obj.namespace!r} is not allowed ({allowed})"
        else:
            why = f"cluster-scoped {obj.kind} is not in clusterScoped"
        out.append(f"{obj.key}{source}: {why}")
    return out


OUTSIDE = "outside this environment's applier.promoter namespaces/clusterScoped; left alone"
"""Why prune skips an object the inventory tracks from before the scope narrowed."""


def check_scope(objs: Sequence[Obj], scope: Scope, env: str) -> None:
    problems = refusals(objs, scope)
    if problems:
        raise TenancyError(
            f"{len(problems)} object(s) are outside what the agent of {env} may manage; "
            "nothing was applied or pruned:\n" + "\n".join(f"  {p}" for p in problems),
            hint="move them into an allowed namespace, or widen applier.promoter.namespaces / "
            "clusterScoped in promoter.yaml (and the RBAC of its service account)",
        )
