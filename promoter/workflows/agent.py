"""The agent's poll loop: where the desired state comes from, and when.

Every `interval` (or at once when woken by `POST /trigger`, e.g. from the
forge's push webhook): `git ls-remote` the environment's branch (one small
request); fetch (shallow, blob-less, into the clone kept between rounds)
only when the commit moved; then run a reconcile round whether or not it
moved, because drift happens in the cluster, not in Git. The round is cheap
when nothing changed (see apply_round.py).

The commit status is set when the revision or the outcome changes, not
every round: a status per minute per commit would bury the forge's list.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from promoter.adapters.agent_source import GitSource, LocalSource, Source
from promoter.adapters.forges import make_forge_for
from promoter.adapters.http.agent_status import StatusServer
from promoter.adapters.kube import Kube
from promoter.adapters.metrics import Metrics
from promoter.adapters.notify import Notifier
from promoter.adapters.render.renderer import render_environment
from promoter.adapters.render.sops import decryption_keys, keys_from_secret
from promoter.adapters.scratch import scratch_dir
from promoter.core.applier.result import RoundResult
from promoter.core.applier.tenancy import scope_for
from promoter.core.config.loader import load_config
from promoter.core.config.model import AgentSettings, Config
from promoter.core.forge import APPLY_STATUS_CONTEXT
from promoter.core.notify.events import Notice
from promoter.core.notify.notices import Origin, drift_detected, from_round
from promoter.core.objects import Obj, RenderError
from promoter.errors import ExitCode, InputError, PromoterError
from promoter.workflows.apply_round import Reconciler, Settings

log = logging.getLogger("promoter.applier")


@dataclass(frozen=True)
class AgentOptions:
    env: str
    interval: float = 60.0
    paths: tuple[str, ...] = ()
    once: bool = False


class Agent:
    def __init__(
        self,
        source: Source,
        reconciler: Reconciler,
        options: AgentOptions,
        *,
        status: CommitStatus | None = None,
        metrics: Metrics | None = None,
        stop: threading.Event | None = None,
        on_round: Callable[[RoundResult], None] | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.source = source
        self.reconciler = reconciler
        self.options = options
        self.status = status or CommitStatus(None)
        self.metrics = metrics or Metrics(options.env)
        self.stop = stop or threading.Event()
        self.wake = threading.Event()
        """Set to start the next round now (a webhook's `POST /trigger`)."""
        self.on_round = on_round
        self.notifier = notifier
        self._reported: tuple[str | None, bool, str] | None = None
        self._told: tuple[str | None, bool, str] | None = None
        """(revision, ok, phase) last notified: a failure is told once per commit."""
        self._config: Config | None = None

    def round(self) -> RoundResult:
        env = self.options.env
        try:
            directory, revision = self.source.update()
        except PromoterError as err:
            result = RoundResult(env, phase="fetch", error=str(err), exit_code=int(err.exit_code))
            log.error("%s: fetching the desired state failed: %s", env, err)
            self.metrics.record(result)
            return result
        if self._reported is None or self._reported[0] != revision:
            self.status.pending(revision, env)
        # The revision's own promoter.yaml says what this agent may touch.
        settings = self._settings(directory)
        rec = self.reconciler
        rec.settings = replace(rec.settings, scope=scope_for(settings, env))

        not_applied: list[tuple[str, str]] = []

        def desired() -> list[Obj]:
            commit = revision if self.source.pristine else None
            with self._decryption(settings):
                rendering = render_environment(directory, env, self.options.paths, commit=commit)
            not_applied.extend(rendering.not_applied)
            return rendering.objects

        result = self.reconciler.run(desired, revision)
        result.not_applied = not_applied
        # Re-post when the commit or the verdict changes; "applied 0 of N"
        # after "applied N of N" is the same good news.
        outcome = (revision, result.ok, result.error or "")
        if outcome != self._reported:
            self.status.done(result)
            self._reported = outcome
        self.metrics.record(result)
        self._notify(result)
        return result

    def _notify(self, result: RoundResult) -> None:
        """What changed since the last round, once: a failure is told when it
        starts (or moves to another commit or phase), not every round, and
        its end as `apply.succeeded` ("recovered"); drift once per window."""
        if self.notifier is None or self._config is None or result.dry_run:
            return
        state = (result.revision, result.ok, result.phase)
        told, self._told = self._told, state
        recovered = result.ok and told is not None and not told[1]

        def notices(origin: Origin) -> list[Notice | None]:
            news = from_round(origin, result, recovered) if state != told else None
            return [news, drift_detected(origin, result)]

        self.notifier.tell(self._config, notices)

    def _settings(self, root: Path) -> AgentSettings | None:
        try:
            self._config = load_config(root)
            return self._config.environment(self.options.env).agent
        except PromoterError:
            # No (valid) promoter.yaml: the render says why before any request
            # is sent; a --path round without one has no agent settings.
            self._config = None
            return None

    @contextmanager
    def _decryption(self, settings: AgentSettings | None) -> Iterator[None]:
        """The SOPS keys of `decryption.secretRef`, read (as the account the
        round acts as, in its namespace) for the render in the block."""
        if settings is None or not settings.decryption_secret:
            yield
            return
        rec = self.reconciler
        name = settings.decryption_secret.replace("{env}", self.options.env)
        shown = f"{rec.default_namespace}/{name}"
        found = rec.kube.get("v1", "Secret", rec.default_namespace, name)
        if found is None:
            raise RenderError(
                f"decryption Secret {shown} (applier.promoter.decryption.secretRef) not found",
                hint=f"kubectl -n {rec.default_namespace} create secret generic {name} "
                "--from-file=key.agekey=PATH-TO-AGE-KEY",
            )
        with scratch_dir("promoter-sops-") as tmp:
            keys = keys_from_secret(found.get("data") or {}, Path(tmp) / "gnupg", shown)
            with decryption_keys(keys):
                yield

    def run(self) -> RoundResult:
        """Rounds every interval until `stop` is set (or once); the last result."""
        while True:
            result = self.round()
            if self.on_round is not None:
                self.on_round(result)
            if self.options.once or self.stop.is_set():
                return result
            self.wake.wait(self.options.interval)
            self.wake.clear()
            if self.stop.is_set():
                return result
            self.metrics.beat()

    def shutdown(self) -> None:
        """End the loop after the current round (SIGTERM)."""
        self.stop.set()
        self.wake.set()

    def trigger(self) -> None:
        """Run the next round now instead of at the end of the interval."""
        self.wake.set()


def exit_code(result: RoundResult) -> int:
    return int(ExitCode.OK) if result.ok else result.exit_code or int(ExitCode.APPLY)


# --- reporting: `promoter/apply` on the applied commit
# Reporting never fails a round: a forge outage is logged, and the cluster
# state is what it is whether or not the forge heard about it.


class StatusSink(Protocol):
    """The part of a Forge the agent uses."""

    def set_status(
        self,
        sha: str,
        context: str,
        state: str,
        description: str,
        target_url: str | None = None,
    ) -> None: ...


class CommitStatus:
    """`promoter/apply` pending → success/failure on the applied commit."""

    def __init__(self, sink: StatusSink | None, target_url: str | None = None) -> None:
        self.sink = sink
        self.target_url = target_url

    def pending(self, sha: str | None, env: str) -> None:
        self._send(sha, "pending", f"applying to {env}")

    def done(self, result: RoundResult) -> None:
        state = "success" if result.ok else "failure"
        self._send(result.revision, state, f"{result.env}: {result.summary()}")

    def _send(self, sha: str | None, state: str, description: str) -> None:
        if self.sink is None or not sha:
            return
        try:
            self.sink.set_status(sha, APPLY_STATUS_CONTEXT, state, description, self.target_url)
        except PromoterError as err:
            log.warning(
                "could not set the %s status on %s: %s", APPLY_STATUS_CONTEXT, sha[:12], err
            )


# --- running the agent as `promoter agent` is configured


@dataclass(frozen=True)
class AgentRequest:
    """Everything `promoter agent` is told (see its --help)."""

    env: str
    repo: Path
    paths: tuple[str, ...] = ()
    kubeconfig: Path | None = None
    context: str | None = None
    inventory_namespace: str | None = None
    repo_url: str | None = None
    branch: str | None = None
    interval: float = 60.0
    once: bool = False
    dry_run: bool = False
    self_heal: bool = True
    force_conflicts: bool = True
    allow_empty: bool = False
    prune_allow: frozenset[str] = frozenset()
    health_timeout: float = 300.0
    metrics_port: int | None = None
    metrics_host: str = "0.0.0.0"
    commit_status: bool = True
    forge: str | None = None
    api_url: str | None = None
    workdir: Path | None = None


def run_agent(
    request: AgentRequest,
    *,
    on_round: Callable[[RoundResult], None] | None = None,
    on_listening: Callable[[str], None] | None = None,
) -> RoundResult:
    """Run rounds until stopped (SIGTERM ends the loop after the current
    round), or one round with `once`; the last round's result."""
    if request.interval <= 0 and not request.once:
        raise InputError("--interval must be positive")
    settings = Settings(
        request.env,
        self_heal=request.self_heal,
        dry_run=request.dry_run,
        allow_empty=request.allow_empty,
        prune_allow=request.prune_allow,
        inventory_namespace=request.inventory_namespace,
        health_timeout=request.health_timeout,
        # Poll often enough that a short timeout still sees a few polls.
        health_poll=min(2.0, max(0.2, request.health_timeout / 10)),
    )
    options = AgentOptions(
        request.env, interval=request.interval, paths=request.paths, once=request.once
    )
    url = request.repo_url
    with (
        _workdir(request.workdir) as work,
        connect(request.kubeconfig, request.context, request.force_conflicts) as kube,
    ):
        source: Source = (
            GitSource(url, work, request.env, branch=request.branch, environ=dict(os.environ))
            if url
            else LocalSource(request.repo)
        )
        # A dry run's "success" would tell healthy-upstream a version ran that never did.
        report = request.commit_status and not request.dry_run and url is not None
        sink = _LazyForge(url, request.forge, request.api_url, source) if report and url else None
        metrics = Metrics(request.env)
        notifier = Notifier.for_run(os.environ, url, long_running=not request.once)
        agent = Agent(
            source,
            Reconciler(kube, settings),
            options,
            status=CommitStatus(sink),
            metrics=metrics,
            on_round=None if request.once else on_round,
            notifier=notifier.by("promoter agent"),
        )
        server = None
        if request.metrics_port is not None:
            stale = 3 * request.interval + request.health_timeout + 60
            server = StatusServer(
                metrics,
                request.metrics_port,
                host=request.metrics_host,
                stale_after=stale,
                on_trigger=agent.trigger,
            )
            server.start()
            if on_listening is not None:
                on_listening(f"http://{request.metrics_host}:{server.port}/metrics")
        if not request.once:
            # SIGTERM (how a pod is stopped) ends the loop after the current round.
            signal.signal(signal.SIGTERM, lambda *_: agent.shutdown())
        try:
            return agent.run()
        finally:
            if server is not None:
                server.stop()


@contextmanager
def connect(kubeconfig: Path | None, context: str | None, force: bool = True) -> Iterator[Kube]:
    """The cluster's API, closed (and its discovery cache removed) afterwards."""
    kube = Kube.connect(kubeconfig, context, force=force)
    try:
        yield kube
    finally:
        kube.close()


@contextmanager
def _workdir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with scratch_dir("promoter-agent-") as tmp:
        yield Path(tmp)


class _LazyForge:
    """The forge is built on first use, from the promoter.yaml of the clone
    (its `forge:` block), which only exists after the first fetch."""

    def __init__(self, url: str, kind: str | None, api_url: str | None, source: Source) -> None:
        self.url, self.kind, self.api_url, self.source = url, kind, api_url, source
        self._sink: StatusSink | None = None

    def set_status(
        self, sha: str, context: str, state: str, description: str, target_url: str | None = None
    ) -> None:
        if self._sink is None:
            config = load_config(self.source.root)
            self._sink = make_forge_for(config, self.kind, self.url, self.api_url, dict(os.environ))
        self._sink.set_status(sha, context, state, description, target_url)
