"""A dry run's record: what a command would have pushed, opened, commented
or set, in order. Git and the forge are still *read* (and a push is
rehearsed with `git push --dry-run`, so auth and fast-forwards are
checked); only the writes are replaced by entries here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Rehearsal"]

BODY_INDENT = "    "


@dataclass
class Rehearsal:
    actions: list[dict[str, Any]] = field(default_factory=list)
    """One entry per write, e.g. {"action": "push", "branch": ..., ...}."""

    def note(self, action: str, summary: str, **details: Any) -> None:
        self.actions.append({"action": action, "summary": summary, **details})

    def text(self) -> str:
        """`dry run: …` and one line per write; bodies and patches indented."""
        if not self.actions:
            return "dry run: nothing would be pushed, opened or posted"
        lines = ["dry run: nothing was pushed, opened or posted; promoter would:"]
        for entry in self.actions:
            lines.append(f"  {entry['summary']}")
            shown = entry.get("patch") or entry.get("body")
            if shown:
                lines += [
                    (BODY_INDENT + line).rstrip() for line in str(shown).rstrip("\n").splitlines()
                ]
        return "\n".join(lines)

    def to_json(self, result: object) -> dict[str, Any]:
        return {"dry_run": True, "would": self.actions, "result": result}
