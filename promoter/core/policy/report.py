"""A Report as people read it: the Markdown table of the sticky PR comment,
the one-line commit status description, and plain text for the terminal."""

from __future__ import annotations

from promoter.core.policy.engine import Report
from promoter.core.policy.result import ERROR, FAIL, PASS, SKIP, WARN

__all__ = ["ICONS", "MAX_STATUS_LENGTH", "markdown", "status_line", "text"]

ICONS = {PASS: "✅", FAIL: "❌", WARN: "⚠️", ERROR: "❌", SKIP: "➖"}
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
    rank = {FAIL: 0, ERROR: 0, WARN: 1, SKIP: 2, PASS: 3}
    for r in sorted(report.results, key=lambda r: rank[r.status]):
        fix = r.fix if r.status not in (PASS, SKIP) else ""
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
    if counts[WARN] or counts[SKIP]:
        return f"✅ passed with {', '.join(_asides(counts))}"
    return f"✅ all {len(report.results)} passed"


def _asides(counts: dict[str, int]) -> list[str]:
    """`1 warning(s)`, `1 not evaluated`: what a pass leaves open."""
    parts = []
    if counts[WARN]:
        parts.append(f"{counts[WARN]} warning(s)")
    if counts[SKIP]:
        parts.append(f"{counts[SKIP]} not evaluated")
    return parts


def status_line(report: Report) -> str:
    """Commit status description, at most 140 characters: the counts, then
    the failing rules (and their services) as far as they fit."""
    counts = report.counts()
    blocking = [r for r in report.results if r.blocks]
    if not report.results:
        line = "no policies configured"
    elif not blocking:
        evaluated = len(report.results) - counts[SKIP]
        passed = f"all {evaluated} checks passed" if evaluated else "nothing evaluated"
        line = ", ".join([passed, *_asides(counts)])
    else:
        parts = [f"{len(blocking)} failed"]
        if counts[WARN]:
            parts.append(f"{counts[WARN]} warning(s)")
        parts.append(f"{counts[PASS]} passed")
        if counts[SKIP]:
            parts.append(f"{counts[SKIP]} not evaluated")
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
        if r.fix and r.status not in (PASS, SKIP):
            lines.append(f"   fix: {_line(r.fix)}")
    lines.append(f"{report.verdict}: {status_line(report)}")
    return "\n".join(lines) + "\n"
