"""Run an environment's rules over the facts and decide the verdict.

The verdict is `fail` when any result is `fail` or `error` (facts that could
not be gathered never let a check pass), else `pass`; warnings do not block.
A rule configured with `severity: warn` has its fail/error results reported
as warnings. No rules configured: no results, verdict `pass`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from promoter.core.policy.facts import Facts
from promoter.core.policy.result import ERROR, FAIL, PASS, STATUSES, WARN, Result
from promoter.core.policy.rules import RULE_FUNCTIONS
from promoter.core.policy.settings import PolicyConfig

__all__ = ["Report", "evaluate"]


@dataclass(frozen=True)
class Report:
    """Every result of one check, in rule order."""

    target_env: str
    results: tuple[Result, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", tuple(self.results))

    @property
    def verdict(self) -> str:
        return FAIL if any(r.blocks for r in self.results) else PASS

    @property
    def passed(self) -> bool:
        return self.verdict == PASS

    def counts(self) -> dict[str, int]:
        """Results per status, every status present (0 when none)."""
        return {s: sum(1 for r in self.results if r.status == s) for s in STATUSES}

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target_env,
            "verdict": self.verdict,
            "counts": self.counts(),
            "results": [r.to_json() for r in self.results],
        }


def evaluate(facts: Facts, policies: Iterable[PolicyConfig]) -> Report:
    """Run each configured rule (e.g. `config.environment(target).policies`)."""
    results: list[Result] = []
    for policy in policies:
        results += [_with_severity(r, policy) for r in _run(facts, policy)]
    return Report(facts.target_env, tuple(results))


def _run(facts: Facts, policy: PolicyConfig) -> list[Result]:
    rule = RULE_FUNCTIONS.get(policy.rule)
    if rule is None:
        return [
            Result(
                policy.rule,
                ERROR,
                "",
                f"unknown rule {policy.rule!r}",
                "fix the policies in promoter.yaml (`promoter config validate`)",
            )
        ]
    try:
        return rule(facts, policy.options)
    except Exception as err:  # a bug in one rule must fail closed, not crash the rest
        return [
            Result(
                policy.rule,
                ERROR,
                "",
                f"the rule crashed ({type(err).__name__}: {err}); this is a bug in promoter",
                "please report it with this message",
            )
        ]


def _with_severity(result: Result, policy: PolicyConfig) -> Result:
    if policy.severity != WARN or not result.blocks:
        return result
    return replace(result, status=WARN, reason=f"{result.reason} (severity: warn)")
