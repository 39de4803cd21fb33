"""healthy-upstream when Argo CD or Flux applies the source environment.

Healthy means: every Application / Kustomization / HelmRelease listed under
the environment's `applier:` is synced and healthy, *and* the commit it is
synced to carries the version being promoted. Healthy on an older revision
is not enough: that is the old version running well.
"""

from __future__ import annotations

from promoter.core.controllers import DEGRADED, HEALTHY, UNREADABLE
from promoter.core.policy.facts import Facts, Item
from promoter.core.policy.result import ERROR, FAIL, PASS, WARN, Result
from promoter.core.policy.versions import same_version, version

RULE = "healthy-upstream"


def controller_results(facts: Facts) -> list[Result]:
    source = facts.source_env or ""
    reports = facts.controllers or ()
    if not reports:
        return [Result(RULE, FAIL, "", f"{source}'s applier lists no object to read")]
    return [_one(facts, item, source) for item in facts.items]


def _one(facts: Facts, item: Item, source: str) -> Result:
    what = f"{item.service} {version(item.new)}"
    revisions = []
    for report in facts.controllers or ():
        state = report.state
        if state.verdict == UNREADABLE:
            return Result(
                RULE,
                ERROR,
                item.service,
                f"{source}'s applier could not be read: {state.summary}",
                "give this check access to the cluster (--kubeconfig) or to Argo CD's API",
            )
        if state.verdict != HEALTHY:
            hint = (
                f"fix {source} first ({state.name}), or promote a version that runs cleanly"
                if state.verdict == DEGRADED
                else f"wait until {state.name} has synced and is healthy, then run /check again"
            )
            return Result(
                RULE,
                FAIL,
                item.service,
                f"{source}: {state.name} is {state.verdict}: {state.summary} ({what})",
                hint,
            )
        if state.revision is None:
            continue
        short = state.revision[:12]
        if report.runs is None:
            return Result(
                RULE,
                FAIL,
                item.service,
                f"{source}: {state.name} is synced to {short}, which is not a commit of the "
                "environment repository",
                f"point {state.name} at this repository and {source}'s branch",
            )
        running = report.runs.get(item.service)
        if running is None or not same_version(running, item.new):
            runs = (
                f"runs {item.service} {version(running)}" if running else f"has no {item.service}"
            )
            return Result(
                RULE,
                FAIL,
                item.service,
                f"{source}: {state.name} is healthy on {short}, a revision that {runs}, "
                f"not {version(item.new)}",
                f"wait until {state.name} has synced the commit that put {what} into {source}, "
                "then run /check again",
            )
        revisions.append(f"{state.name} at {short}")
    if not revisions:
        names = ", ".join(r.state.name for r in facts.controllers or ())
        return Result(
            RULE,
            WARN,
            item.service,
            f"{source}: {names} ready, but none says which commit it runs ({what} not confirmed)",
            f"list the Kustomization that applies {source} under applier.flux.kustomizations",
        )
    return Result(
        RULE,
        PASS,
        item.service,
        f"{source} is synced and healthy with {what}: {', '.join(revisions)}",
    )
