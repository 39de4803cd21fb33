"""The source environment's Argo CD / Flux state as policy facts: each
object's state, and what the environment's files hold at the commit it
reports — so healthy-upstream can tell "healthy with the new version" from
"healthy on an older revision"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from promoter.adapters.controllers import ControllerReader
from promoter.adapters.git import GitRepo
from promoter.adapters.snapshots import from_ref
from promoter.core.config.model import ArgoCDApplier, Config, Environment, Service
from promoter.core.controllers import UNREADABLE, ControllerState
from promoter.core.images import ImageRef
from promoter.core.policy.facts import ControllerReport
from promoter.errors import PromoterError

if TYPE_CHECKING:
    from promoter.adapters.kube import Kube

ReaderFactory = Callable[[], ControllerReader]


def kube_reader(kubeconfig: Path | None = None, context: str | None = None) -> ControllerReader:
    """A reader that connects to the cluster (kubeconfig, $KUBECONFIG,
    ~/.kube/config or in-cluster) only when it first needs to."""

    def connect() -> Kube:
        from promoter.adapters.kube import Kube

        return Kube.connect(kubeconfig, context)

    return ControllerReader(connect)


def runs_at(
    repo: GitRepo,
    config: Config,
    env: Environment,
    sha: str,
    services: list[Service],
    scratch: Path,
) -> dict[str, ImageRef] | None:
    """service -> image in `env`'s files at commit `sha`; None when the
    repository has no such commit."""
    if not repo.has_commit(sha):
        return None
    snap = from_ref(repo, config, env, sha, services, scratch)
    return {name: d.image for name, d in snap.deployed.items() if d.image}


def applier_states(readers: ReaderFactory, env: Environment) -> list[ControllerState]:
    """What `env`'s Argo CD / Flux objects report ([] without `applier:`); a
    controller that cannot be asked is one UNREADABLE state, not an error:
    the caller still has everything else to say."""
    if env.applier is None:
        return []
    reader = readers()
    try:
        return reader.states(env.applier, env.name)
    except PromoterError as err:
        kind = "argocd" if isinstance(env.applier, ArgoCDApplier) else "flux"
        return [ControllerState(kind, kind, UNREADABLE, err.message)]
    finally:
        reader.close()


def controller_reports(
    readers: ReaderFactory,
    repo: GitRepo,
    config: Config,
    env: Environment,
    services: list[Service],
    scratch: Path,
) -> tuple[ControllerReport, ...] | None:
    """None when promoter's own agent applies `env` (no `applier:`)."""
    if env.applier is None:
        return None
    states = applier_states(readers, env)
    seen: dict[str, dict[str, ImageRef] | None] = {}
    out = []
    for state in states:
        runs = None
        if state.revision is not None:
            if state.revision not in seen:
                seen[state.revision] = runs_at(
                    repo, config, env, state.revision, services, scratch / "controllers"
                )
            runs = seen[state.revision]
        out.append(ControllerReport(state, runs))
    return tuple(out)
