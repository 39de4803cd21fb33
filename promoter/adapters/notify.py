"""Sending notices to promoter.yaml's `notifications:` targets, through
Apprise (100+ services: Slack, Teams workflows, Discord, Mattermost, email,
JSON webhooks, …) rather than a client per service.

A target that fails — refused, 500, never answers — is logged and never
fails or stalls the command: Apprise is told not to retry, every request
has a connect and a read timeout, and the command waits for all targets
together at most a few seconds (a send still hanging after that is left to
its daemon thread). Apprise is imported only when a notice has a target.

URLs are shown as Apprise's privacy form (`slack://T...2/…`), the values of
`${NAME}` are registered as secrets, and Apprise's own log lines (which may
quote a URL) never reach the terminal unmasked: they are captured and
summarised in one masked warning per failed target.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from promoter.core import masking
from promoter.core.config.model import Config, NotificationTarget
from promoter.core.notify.events import Notice
from promoter.core.notify.notices import Origin, test_notice
from promoter.core.notify.suppress import Suppressor
from promoter.core.notify.urls import expand, missing, variables
from promoter.errors import InputError, Problem

log = logging.getLogger("promoter.notify")

TIMEOUT = 4.0
"""Seconds for connecting, and again for reading the answer, per request."""
DEADLINE = 10.0
"""Seconds a command waits for all its targets together."""


@dataclass(frozen=True)
class Delivery:
    target: int
    """1-based position in `notifications:` (what `notify test --target` takes)."""
    shown: str
    """The URL as it may be printed (privacy form, or the scheme only)."""
    event: str
    ok: bool
    detail: str = ""


@dataclass
class Notifier:
    """Tells a config's targets about notices. One per process; a
    long-running one (agent, serve) has a `suppressor`, so a repeat within a
    target's window is dropped."""

    environ: Mapping[str, str]
    origin: Origin = field(default_factory=Origin)
    repo_url: str | None = None
    """The environment repository: commit links point at its web pages."""
    suppressor: Suppressor | None = None
    timeout: float = TIMEOUT
    deadline: float = DEADLINE

    @classmethod
    def for_run(
        cls, environ: Mapping[str, str], repo_url: str | None, *, long_running: bool = False
    ) -> Notifier:
        """The notifier of one command (or, `long_running`, of a server)."""
        return cls(
            environ,
            Origin.from_environ(environ),
            repo_url,
            Suppressor() if long_running else None,
        )

    def by(self, trigger: str | None) -> Notifier:
        """The same notifier (state, suppression) for notices someone else set off."""
        return replace(self, origin=self.origin.by(trigger))

    def origin_for(self, config: Config) -> Origin:
        """Who and what, plus how this repository's commits are linked."""
        if self.repo_url is None:
            return self.origin
        from promoter.adapters.forges.remote import detect_kind, parse_remote, web_base

        url = masking.strip_credentials(self.repo_url)[0]
        kind = config.forge.type if config.forge and config.forge.type else None
        if kind is None:
            try:
                kind = detect_kind(parse_remote(url))
            except InputError:
                kind = None
        o = self.origin
        return Origin(o.trigger, o.pipeline, web_base(url), None if kind == "none" else kind)

    def tell(
        self, config: Config, make: Callable[[Origin], Iterable[Notice | None]]
    ) -> list[Delivery]:
        """Build the notices (only when a target could want them) and send them."""
        if not config.notifications:
            return []
        return self.notify(config, make(self.origin_for(config)))

    def notify(self, config: Config, notices: Iterable[Notice | None]) -> list[Delivery]:
        jobs: list[tuple[int, NotificationTarget, Notice]] = []
        for notice in notices:
            if notice is None:
                continue
            for index, target in enumerate(config.notifications, start=1):
                if not target.wants(notice.event, notice.environment):
                    continue
                if self.suppressor is not None and not self.suppressor.admit(
                    (index, target.url, notice.key()), target.window
                ):
                    log.debug(
                        "not repeating %s to target %d within its window", notice.event, index
                    )
                    continue
                jobs.append((index, target, notice))
        return self._send(jobs)

    def test(self, config: Config, only: int | None = None) -> list[Delivery]:
        notice = test_notice(self.origin)
        jobs = [
            (index, target, notice)
            for index, target in enumerate(config.notifications, start=1)
            if only is None or index == only
        ]
        return self._send(jobs)

    def _send(self, jobs: list[tuple[int, NotificationTarget, Notice]]) -> list[Delivery]:
        if not jobs:
            return []
        results: dict[int, Delivery] = {}
        # One thread per target, its notices in order (a chat shows "opened"
        # before "superseded"); targets in parallel, so one slow target
        # delays no other.
        queues: dict[int, list[int]] = {}
        for slot, (index, _, _) in enumerate(jobs):
            queues.setdefault(index, []).append(slot)

        def drain(slots: list[int]) -> None:
            for slot in slots:
                self._deliver(slot, *jobs[slot], results)

        threads = [
            threading.Thread(target=drain, args=(slots,), name=f"notify-{index}", daemon=True)
            for index, slots in queues.items()
        ]  # daemon: a target that never answers must not hold the exit
        for thread in threads:
            thread.start()
        end = time.monotonic() + self.deadline
        for thread in threads:
            thread.join(max(0.0, end - time.monotonic()))
        out = []
        for slot, (index, target, notice) in enumerate(jobs):
            delivery = results.get(slot) or Delivery(
                index, _scheme_only(target.url), notice.event, False,
                f"no answer within {self.deadline:g}s",
            )  # fmt: skip
            if not delivery.ok:
                log.warning(
                    "notification %s to target %d (%s) failed: %s",
                    notice.event, index, delivery.shown, delivery.detail,
                )  # fmt: skip
            out.append(delivery)
        return out

    def _deliver(
        self,
        slot: int,
        index: int,
        target: NotificationTarget,
        notice: Notice,
        results: dict[int, Delivery],
    ) -> None:
        shown = _scheme_only(target.url)
        absent = missing(target.url, self.environ)
        if absent:
            results[slot] = Delivery(
                index, shown, notice.event, False,
                f"environment variable {absent[0]} is not set (the URL uses ${{{absent[0]}}})",
            )  # fmt: skip
            return
        for name in variables(target.url):
            masking.register(self.environ.get(name))
        try:
            ok, shown, detail = _apprise_send(
                expand(target.url, self.environ), notice, self.timeout
            )
        except Exception as err:  # a bug in a plugin must not fail the command
            ok, detail = False, f"{type(err).__name__}: {masking.mask(str(err))}"
        results[slot] = Delivery(index, masking.mask(shown), notice.event, ok, detail)


def _scheme_only(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://…" if sep else "(no scheme)"


_quiet = threading.Lock()


def _apprise() -> Any:
    import apprise  # only a command with a target pays for the import (~0.3 s)

    with _quiet:
        # Apprise's lines may quote a URL; each result carries them, and
        # promoter logs them masked, once per failed target.
        logging.getLogger("apprise").propagate = False
    return apprise


_TYPES = {"success": "SUCCESS", "warning": "WARNING", "failure": "FAILURE", "info": "INFO"}


def _apprise_send(url: str, notice: Notice, timeout: float) -> tuple[bool, str, str]:
    """(sent, URL as shown, why not)."""
    apprise = _apprise()
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return False, _scheme_only(url), "Apprise does not understand this URL (check its form)"
    shown = str(plugin.url(privacy=True)).split("?", 1)[0]
    plugin.socket_connect_timeout = timeout
    plugin.socket_read_timeout = timeout
    client = apprise.Apprise(asset=apprise.AppriseAsset(app_id="promoter", app_desc="promoter"))
    client.add(plugin)
    result = client.notify(
        body=notice.body(),
        title=notice.title(),
        notify_type=getattr(apprise.NotifyType, _TYPES[notice.severity]),
        body_format=apprise.NotifyFormat.MARKDOWN,
        timeout=2 * timeout + 1,
        log_level=logging.WARNING,
    )
    if result:
        return True, shown, ""
    why = "; ".join(dict.fromkeys(masking.mask(e.message) for e in result.logs()))
    return False, shown, why or f"Apprise says {result.status.name.lower()}"


def target_problems(config: Config, environ: Mapping[str, str]) -> list[Problem]:
    """`config validate`: every target's variables are set and Apprise
    understands the URL they make (nothing is sent)."""
    problems = []
    for index, target in enumerate(config.notifications):
        where = f"notifications[{index}]: url"
        absent = missing(target.url, environ)
        if absent:
            names = ", ".join(absent)
            problems.append(
                Problem(
                    config.file,
                    target.line,
                    f"{where} uses ${{{absent[0]}}}, but {names} "
                    f"{'is' if len(absent) == 1 else 'are'} not set in the environment",
                )
            )
            continue
        for name in variables(target.url):
            masking.register(environ.get(name))
        if _apprise().Apprise.instantiate(expand(target.url, environ)) is None:
            problems.append(
                Problem(
                    config.file,
                    target.line,
                    f"{where}: Apprise does not understand {_scheme_only(target.url)} "
                    "(unknown service or malformed URL)",
                )
            )
    return problems
