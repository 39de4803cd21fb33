"""A Report as people read it: the Markdown table of the sticky PR comment,
the one-line commit status description, and plain text for the terminal."""

from __future__ import annotations

from promoter.core.policy.engine import Report
from promoter.core.policy.result import ERROR, FAIL, PASS, WARN

__all__ = ["ICONS", "MAX_STATUS_LENGTH", "markdown", "status_line", "text"]

ICONS = {PASS: "✅", FAIL: "❌", WARN: "⚠️", ERROR: "❌"}
MAX_STATUS_LENGTH = 140
"""GitHub's limit on a commit status description."""


def _line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    """Table-cell safe: pipes escaped, no line breaks."""
    return _line(text).replace("|", "\\|") or "—"


def markdown(report: Report) -> str:
    """The policy section of the sticky comment."""
    head = f"### Policy checks for `{report.target_env}`: {_verdict_words(report)}"
    if not report.results:
        return f"{head}\n\nNo policies are configured for `{report.target_env}`.\n"
    lines = [
        head,
        "",
        "| | rule | service | result | how to fix |",
        "|---|---|---|---|---|",
    ]
    # Blocking results first, then warnings, then passes: what needs doing on top.
    rank = {FAIL: 0, ERROR: 0, WARN: 1, PASS: 2}
    for r in sorted(report.results, key=lambda r: rank[r.status]):
        fix = r.fix if r.status != PASS else ""
        lines.append(
            f"| {ICONS[r.status]} | `{r.rule}` | {_cell(r.subject)} | {_cell(r.reason)} "
            f"| {_cell(fix)} |"
        )
    errors = sum(1 for r in report.results if r.status == ERROR)
    if errors:
        lines += ["", f"❌ {errors} check(s) could not be made; they count as failures."]
    return "\n".join(lines) + "\n"


def _verdict_words(report: Report) -> str:
    counts = report.counts()
    blocking = counts[FAIL] + counts[ERROR]
    if not report.results:
        return "✅ nothing to check"
    if blocking:
        return f"❌ {blocking} of {len(report.results)} failed"
    if counts[WARN]:
        return f"✅ passed with {counts[WARN]} warning(s)"
    return f"✅ all {len(report.results)} passed"


def status_line(report: Report) -> str:
    """Commit status description, at most 140 characters: the counts, then
    the failing rules (and their services) as far as they fit."""
    counts = report.counts()
    blocking = [r for r in report.results if r.blocks]
    if not report.results:
        line = "no policies configured"
    elif not blocking:
        warned = f", {counts[WARN]} warning(s)" if counts[WARN] else ""
        line = f"all {len(report.results)} checks passed{warned}"
    else:
        parts = [f"{len(blocking)} failed"]
        if counts[WARN]:
            parts.append(f"{counts[WARN]} warning(s)")
        parts.append(f"{counts[PASS]} passed")
        names = ", ".join(
            dict.fromkeys(f"{r.rule} ({r.subject})" if r.subject else r.rule for r in blocking)
        )
        line = f"{', '.join(parts)}: {names}"
    if len(line) > MAX_STATUS_LENGTH:
        line = line[: MAX_STATUS_LENGTH - 1].rstrip(" ,(") + "…"
    return line


def text(report: Report) -> str:
    """Plain lines for a terminal: `❌ soak api: reason` + `   fix: ...`."""
    lines = []
    for r in report.results:
        subject = f" {r.subject}" if r.subject else ""
        lines.append(f"{ICONS[r.status]} {r.rule}{subject}: {_line(r.reason)}")
        if r.fix and r.status != PASS:
            lines.append(f"   fix: {_line(r.fix)}")
    lines.append(f"{report.verdict}: {status_line(report)}")
    return "\n".join(lines) + "\n"
