"""The events promoter tells people about, and one `Notice` of one of them.

A notice is plain data: which event, which environment, which services went
from which version to which, who or what set it off, and links. Its title
is one short line (chat clients show it as the preview); its body a few
readable lines. Neither ever holds a token or a secret value: the texts
pass through `masking.mask`, and callers give versions and URLs, never
file contents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from promoter.core.masking import mask

EVENTS = (
    "bump.pushed",
    "promotion.opened",
    "promotion.merged",
    "promotion.superseded",
    "rollback.opened",
    "check.failed",
    "apply.succeeded",
    "apply.failed",
    "health.degraded",
    "drift.detected",
    "hook.failed",
    "verify.failed",
)
"""Every event name `notifications[].events` may list, in the order docs show them."""

SEVERITIES = ("info", "success", "warning", "failure")
_SEVERITY = {
    "apply.succeeded": "success",
    "promotion.merged": "success",
    "apply.failed": "failure",
    "hook.failed": "failure",
    "verify.failed": "failure",
    "check.failed": "warning",
    "health.degraded": "warning",
    "drift.detected": "warning",
}
MAX_LISTED = 10
"""Services (or objects) named in a body; the rest are counted."""
MAX_DETAIL = 1500
"""Characters of an error kept in a body: enough for the first lines."""


@dataclass(frozen=True)
class Change:
    """One service's move: from `old` (None: not deployed) to `new`."""

    service: str
    old: str | None
    new: str

    def text(self) -> str:
        return f"{self.service} {self.old or '(none)'} → {self.new}"


@dataclass(frozen=True)
class Notice:
    event: str
    environment: str
    headline: str
    """What happened, as a short phrase: "PR #12 opened", "apply failed"."""
    changes: tuple[Change, ...] = ()
    objects: tuple[str, ...] = ()
    """Kubernetes objects concerned (`Kind/namespace/name`), e.g. what drifted."""
    revision: str | None = None
    """The environment commit the event is about."""
    trigger: str | None = None
    """Who or what set it off: "alice", "pipeline", "promoter agent"."""
    links: tuple[tuple[str, str], ...] = ()
    """(label, URL): commit, pull request, pipeline."""
    detail: str | None = None
    """Why, for failures: the error's first lines."""
    extra: tuple[str, ...] = field(default=())
    """Further body lines (e.g. the failing policy rules)."""

    @property
    def severity(self) -> str:
        return _SEVERITY.get(self.event, "info")

    def key(self) -> tuple[str, str, tuple[str, ...], str]:
        """What makes two notices the same news: (event, environment, object
        set, revision). The object set is the services' versions and the
        objects, so a new version or another object is new news."""
        things = tuple(sorted({c.text() for c in self.changes} | set(self.objects)))
        return self.event, self.environment, things, self.revision or ""

    def title(self) -> str:
        subject = ""
        if len(self.changes) == 1:
            subject = f": {self.changes[0].text()}"
        elif self.changes:
            subject = f": {len(self.changes)} services"
        return mask(f"[{self.environment}] {self.headline}{subject}")

    def body(self) -> str:
        lines = [f"**{self.event}** in `{self.environment}`"]
        shown = self.changes[:MAX_LISTED]
        lines += [f"- {c.text()}" for c in shown]
        if len(self.changes) > len(shown):
            lines.append(f"- … and {len(self.changes) - len(shown)} more")
        objs = self.objects[:MAX_LISTED]
        lines += [f"- {o}" for o in objs]
        if len(self.objects) > len(objs):
            lines.append(f"- … and {len(self.objects) - len(objs)} more objects")
        lines += list(self.extra)
        if self.detail:
            detail = self.detail.strip()
            if len(detail) > MAX_DETAIL:
                detail = detail[: MAX_DETAIL - 1] + "…"
            lines += ["", detail]
        facts = []
        if self.revision:
            facts.append(f"revision {self.revision[:12]}")
        if self.trigger:
            facts.append(f"by {self.trigger}")
        if facts:
            lines += ["", ", ".join(facts)]
        if self.links:
            lines += ["", " · ".join(f"[{label}]({url})" for label, url in self.links)]
        return mask("\n".join(lines))
