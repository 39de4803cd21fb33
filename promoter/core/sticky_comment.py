"""The one sticky PR comment: plan, policy results and the rendered diff of
the target environment, kept under the forge's size limit."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from promoter.core.carry import Carried
from promoter.core.chatops.events import STICKY_MARKER
from promoter.core.masking import excerpt
from promoter.core.plans import PlanItem
from promoter.core.policy import report as policy_report
from promoter.core.policy.engine import Report

_ROOM = 2_000  # for the plan, the policy table and the truncation notes
POLICY_DATA = "<!-- promoter:policy "
# The policy results again, for programs (the dashboard): base64 JSON, so no
# reason text can close the HTML comment or be rendered by the forge.
_POLICY_DATA = re.compile(re.escape(POLICY_DATA) + r"([A-Za-z0-9+/=]+) -->")


def policy_data(report: Report) -> str:
    results = [
        {"rule": r.rule, "status": r.status, "subject": r.subject, "reason": r.reason}
        for r in report.results
    ]
    data = {"verdict": report.verdict, "target": report.target_env, "results": results}
    return POLICY_DATA + base64.b64encode(json.dumps(data).encode()).decode() + " -->"


def policy_results(body: str | None) -> dict[str, Any] | None:
    """The results a sticky comment carries; None when it has none (an older
    comment, or not ours)."""
    match = _POLICY_DATA.search(body or "")
    if match is None:
        return None
    try:
        data = json.loads(base64.b64decode(match[1], validate=True))
    except (binascii.Error, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _plan(items: list[PlanItem], target: str) -> str:
    lines = [f"| service | current in {target} | new |", "|---|---|---|"]
    for i in items:
        current = str(i.current) if i.current else "-"
        lines.append(f"| {i.service} | `{current}` | `{i.new}` |")
    carried = [f"- {i.service}: {_carried(c)}" for i in items for c in i.carried]
    if carried:
        lines += ["", "**Carried with the version** (`promote:` in promoter.yaml)", "", *carried]
    return "\n".join(lines)


def _carried(c: Carried) -> str:
    def inert(text: str | None) -> str:
        # Repository text, quoted in a comment: bounded, token-shaped words masked.
        return "`" + excerpt(text or "(none)").replace("`", "'") + "`"

    if c.kind == "file":
        return f"{inert(c.file)} {'changes' if c.old else 'is added'} (copied from upstream)"
    return f"{inert(c.file)} {inert(c.at)}: {inert(c.old)} → {inert(c.new)}"


def _diff_section(diffs: Mapping[str, str], budget: int) -> str:
    if not diffs:
        return "_The rendered manifests do not change._"
    parts = []
    per_object = max(budget // max(len(diffs), 1), 400)
    for key, text in diffs.items():
        shown = text
        if len(text) > per_object:
            kept = text[:per_object].rsplit("\n", 1)[0]
            omitted = text[len(kept) :].count("\n")
            shown = f"{kept}\n… {omitted} more line(s) not shown (comment size limit)\n"
        parts.append(
            f"<details><summary><code>{key}</code></summary>\n\n```diff\n{shown}```\n</details>"
        )
    return "\n\n".join(parts)


def body(
    title: str,
    items: list[PlanItem],
    target: str,
    report: Report,
    diffs: Mapping[str, str],
    *,
    limit: int,
    render_error: str | None = None,
) -> str:
    head = "\n\n".join(
        [
            f"{STICKY_MARKER}\n{policy_data(report)}",
            f"## promoter: {title}",
            "### Plan",
            _plan(items, target),
            policy_report.markdown(report).rstrip(),
            f"### Rendered changes in `{target}`",
        ]
    )
    if render_error:
        diff_text = f"⚠️ could not render: {render_error}"
    else:
        diff_text = _diff_section(diffs, max(limit - len(head) - _ROOM, 0))
    text = f"{head}\n\n{diff_text}\n"
    if len(text) > limit:  # many objects: drop diffs, keep the verdict
        text = f"{head}\n\n_{len(diffs)} objects change; the diff is too large to show here._\n"
    return text
