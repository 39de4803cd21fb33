"""One rule's verdict on one subject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ERROR", "FAIL", "PASS", "SKIP", "STATUSES", "WARN", "Result"]

PASS = "pass"
FAIL = "fail"
WARN = "warn"
"""Reported, never blocking."""
ERROR = "error"
"""The facts the rule needs could not be gathered: counts as a failure."""
SKIP = "skipped"
"""The rule's facts do not exist where the check ran (approvals in a local
check): neither a pass nor a failure, and said so."""
STATUSES = (PASS, FAIL, WARN, ERROR, SKIP)


@dataclass(frozen=True)
class Result:
    rule: str
    status: str
    subject: str
    """The service the result is about; '' for the proposal as a whole."""
    reason: str
    """What was found, specific enough to act on."""
    fix: str = ""
    """How to make the rule pass ('' when it passes)."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}")

    @property
    def blocks(self) -> bool:
        return self.status in (FAIL, ERROR)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": self.status,
            "subject": self.subject,
            "reason": self.reason,
            "fix": self.fix,
        }
