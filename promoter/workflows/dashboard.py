"""The dashboard's data: read from Git (a working tree, or a clone of a
remote kept between reads) every `--refresh` seconds on a thread of its
own; requests only ever read the last snapshot."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from promoter.adapters.controllers import read_agent_status
from promoter.adapters.git import GitRepo
from promoter.adapters.snapshots import history
from promoter.core.chatops.events import STICKY_MARKER
from promoter.core.config.loader import load_config
from promoter.core.config.model import Config, Environment
from promoter.core.controllers import ControllerState, apply_status_state
from promoter.core.dashboard import Snapshot, build
from promoter.core.forge import APPLY_STATUS_CONTEXT, POLICY_STATUS_CONTEXT, Forge
from promoter.core.masking import strip_credentials
from promoter.core.sticky_comment import policy_results
from promoter.core.trailers import Deployment
from promoter.errors import PromoterError
from promoter.workflows.controller_facts import ReaderFactory, applier_states
from promoter.workflows.plan import local_env_ref
from promoter.workflows.status import remote_status, status_matrix
from promoter.workflows.workspace import env_ref, workspace

log = logging.getLogger("promoter.dashboard")
Reader = Callable[[], Snapshot]
ForgeFactory = Callable[[Config], Forge]


def one_forge(make: ForgeFactory) -> ForgeFactory:
    """`make`, called once: one forge client for the dashboard's life."""
    made: list[Forge] = []

    def forge(config: Config) -> Forge:
        if not made:
            made.append(make(config))
        return made[0]

    return forge


def _extras(
    snapshot: Snapshot,
    config: Config,
    forge: ForgeFactory | None,
    readers: ReaderFactory | None,
    branch_of: Callable[[Environment], str],
    head_of: Callable[[Environment], str | None],
    agents: Mapping[str, str],
) -> Snapshot:
    """Open promotion PRs (one listing per target branch; per PR its
    statuses and its sticky comment, whose hidden block carries each rule's
    result) and the appliers' state, when asked for."""
    host = forge(config) if forge is not None else None
    if host is not None:
        prs: list[dict[str, Any]] = []
        for branch in sorted({branch_of(e) for e in config.environments}):
            for pr in host.open_pull_requests(branch):
                if "promoter" not in pr.labels:
                    continue
                target = next((lb[4:] for lb in pr.labels if lb.startswith("env:")), None)
                statuses = host.commit_statuses(pr.head_sha) if pr.head_sha else {}
                checked = policy_results(host.sticky_comment(pr, STICKY_MARKER)) or {}
                prs.append(
                    {
                        "number": pr.number,
                        "title": pr.title,
                        "url": pr.url,
                        "env": target,
                        "author": pr.author,
                        "draft": pr.draft,
                        "policy": statuses.get(POLICY_STATUS_CONTEXT),
                        "results": checked.get("results") or [],
                    }
                )
        snapshot.pull_requests = prs
    appliers: dict[str, list[ControllerState]] = {}
    for env in config.promotion_order():
        if env.applier is not None:
            if readers is not None:
                appliers[env.name] = applier_states(readers, env)
            continue
        # The bundled agent: its /status when given, else promoter/apply on
        # the environment's newest commit (one request per environment).
        if env.name in agents:
            appliers[env.name] = [read_agent_status(agents[env.name])]
        elif host is not None:
            sha = head_of(env)
            if sha:
                state = host.commit_statuses(sha).get(APPLY_STATUS_CONTEXT)
                appliers[env.name] = [apply_status_state(state, sha)]
    snapshot.appliers = {env: [s.to_json() for s in states] for env, states in appliers.items()}
    return snapshot


def local_reader(
    root: Path,
    *,
    forge: ForgeFactory | None = None,
    readers: ReaderFactory | None = None,
    agents: Mapping[str, str] | None = None,
) -> Reader:
    def read() -> Snapshot:
        config = load_config(root)
        matrix = status_matrix(root, config)
        repo = GitRepo(root)
        past: list[Deployment] = []
        if repo.run("rev-parse", "--verify", "--quiet", "HEAD", check=False)[0] == 0:
            services = list(config.services)
            for env in config.promotion_order():
                ref = local_env_ref(repo, config, env) or "HEAD"
                past += history(repo, config, env.name, ref, services)
        snapshot = build(config, matrix, past)
        snapshot.source = str(root.resolve())
        here = repo.current_branch() if forge is not None else ""

        def head_of(env: Environment) -> str | None:
            ref = local_env_ref(repo, config, env) or "HEAD"
            status, out, _ = repo.run("rev-parse", "--verify", "--quiet", ref, check=False)
            return out.strip() if status == 0 else None

        return _extras(
            snapshot,
            config,
            forge,
            readers,
            lambda env: config.branch_for(env) or here,
            head_of,
            agents or {},
        )

    return read


@contextlib.contextmanager
def remote_reader(
    url: str,
    environ: dict[str, str],
    *,
    forge: ForgeFactory | None = None,
    readers: ReaderFactory | None = None,
    agents: Mapping[str, str] | None = None,
) -> Iterator[Reader]:
    """A clone of `url` kept while the dashboard runs; each read fetches
    every environment's branch and reads it as `status --repo-url` does."""
    with workspace(url, environ) as ws:

        def read() -> Snapshot:
            matrix, _ = remote_status(ws)
            config = ws.config
            services = list(config.services)
            past: list[Deployment] = []
            for env in config.promotion_order():
                past += history(ws.repo, config, env.name, env_ref(ws, env), services)
            snapshot = build(config, matrix, past)
            snapshot.source = strip_credentials(url)[0]

            def head_of(env: Environment) -> str | None:
                return ws.repo.out("rev-parse", env_ref(ws, env)).strip()

            return _extras(snapshot, config, forge, readers, ws.branch_of, head_of, agents or {})

        yield read


class Refresher:
    """Holds the newest snapshot; `version` goes up only when what is shown
    changed, so the page's poll can tell "nothing new" cheaply."""

    def __init__(self, read: Reader, interval: float) -> None:
        self.read, self.interval = read, interval
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._fingerprint: object = None
        self.error: str | None = None
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    @property
    def snapshot(self) -> Snapshot:
        with self._lock:
            assert self._snapshot is not None, "refresh_once() first"
            return self._snapshot

    def refresh_once(self) -> None:
        try:
            fresh = self.read()
        except PromoterError as err:
            # Keep showing the last good state; say what went wrong.
            self.error = err.message
            log.error("dashboard: reading the repository failed: %s", err.message)
            if self._snapshot is None:
                raise
            return
        self.error = None
        with self._lock:
            printed = fresh.fingerprint()
            old = self._snapshot
            version = (old.version if old else 0) + (printed != self._fingerprint)
            self._snapshot, self._fingerprint = replace(fresh, version=version), printed

    def start(self) -> None:
        self.refresh_once()

        def loop() -> None:
            while not self.stop.wait(self.interval):
                self.refresh_once()

        self.thread = threading.Thread(target=loop, name="dashboard-refresh", daemon=True)
        self.thread.start()
