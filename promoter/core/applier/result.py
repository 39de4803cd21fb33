"""What one reconcile round did: plain data for the CLI, the commit status,
`/status` and the metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promoter.errors import ExitCode

# Phases, in order; `phase` names the one that failed (or "done").
PHASES = (
    "fetch",
    "render",
    "inventory",
    "presync",
    "apply",
    "prune",
    "health",
    "postsync",
    "done",
)


@dataclass(frozen=True)
class Drift:
    key: str
    paths: tuple[str, ...]
    healed: bool


@dataclass
class RoundResult:
    env: str
    revision: str | None = None
    dry_run: bool = False
    ok: bool = False
    phase: str = "render"
    error: str | None = None
    exit_code: int = int(ExitCode.OK)
    desired: int = 0
    created: list[str] = field(default_factory=list)
    configured: list[str] = field(default_factory=list)
    unchanged: int = 0
    checked: int = 0
    """Objects that needed a dry-run this round (see drift.needs_check)."""
    drift: list[Drift] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    would_prune: list[str] = field(default_factory=list)
    prune_skipped: list[tuple[str, str]] = field(default_factory=list)
    not_ready: str | None = None
    not_applied: list[tuple[str, str]] = field(default_factory=list)
    """(path, why): rendered paths that hold nothing the applier can apply."""
    hooks: list[str] = field(default_factory=list)
    """What each sync hook did, in order: `PreSync batch/Job/default/migrate: succeeded`."""
    duration: float = 0.0
    requests: int = 0
    started: float = 0.0

    @property
    def applied(self) -> list[str]:
        return self.created + self.configured

    def summary(self) -> str:
        """One line, for a commit status description (the forge shortens it)."""
        verb = "would apply" if self.dry_run else "applied"
        if not self.ok:
            first = (self.error or "failed").splitlines()[0]
            return f"{self.phase} failed: {first}"
        parts = [f"{verb} {len(self.applied)} of {self.desired}"]
        healed = sum(1 for d in self.drift if d.healed)
        if self.drift:
            parts.append(f"drift {len(self.drift)} ({healed} healed)")
        if self.pruned or self.would_prune:
            parts.append(
                f"{'would prune' if self.dry_run else 'pruned'} "
                f"{len(self.pruned or self.would_prune)}"
            )
        if self.prune_skipped:
            parts.append(f"kept {len(self.prune_skipped)}")
        if self.not_applied:
            parts.append(f"not applied {len(self.not_applied)} path(s)")
        return ", ".join(parts)

    def text(self) -> str:
        """The human report `promoter agent --once` prints."""
        rev = (self.revision or "working tree")[:12]
        head = f"{self.env} @ {rev}: {'ok' if self.ok else 'FAILED'} — {self.summary()}"
        lines = [head]
        mark = "~ " if self.dry_run else ""
        lines += [f"  {mark}created {k}" for k in self.created]
        lines += [f"  {mark}configured {k}" for k in self.configured]
        for d in self.drift:
            what = "healed" if d.healed else "drifted"
            lines.append(f"  {what} {d.key}: {', '.join(d.paths)}")
        lines += [f"  pruned {k}" for k in self.pruned]
        lines += [f"  would prune {k}" for k in self.would_prune]
        lines += [f"  kept {k}: {why}" for k, why in self.prune_skipped]
        lines += [f"  not applied {path}: {why}" for path, why in self.not_applied]
        lines += [f"  hook {line}" for line in self.hooks]
        if self.not_ready:
            lines += ["  " + line for line in self.not_ready.splitlines()]
        if self.error and not self.ok:
            lines += ["  " + line for line in self.error.splitlines()]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "revision": self.revision,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "phase": self.phase,
            "error": self.error,
            "summary": self.summary(),
            "desired": self.desired,
            "created": self.created,
            "configured": self.configured,
            "unchanged": self.unchanged,
            "checked": self.checked,
            "drift": [
                {"key": d.key, "paths": list(d.paths), "healed": d.healed} for d in self.drift
            ],
            "pruned": self.pruned,
            "would_prune": self.would_prune,
            "prune_skipped": [{"key": k, "reason": r} for k, r in self.prune_skipped],
            "not_ready": self.not_ready,
            "not_applied": [{"path": p, "reason": r} for p, r in self.not_applied],
            "hooks": self.hooks,
            "duration_seconds": round(self.duration, 3),
            "requests": self.requests,
            "started": self.started,
        }
