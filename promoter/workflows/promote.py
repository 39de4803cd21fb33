"""`promote`: read the source and target environments from the remote, plan
the hop (folding in competing PRs' services), and hand each target's plan to
`open_pr.propose` — one pull request per hop."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promoter.adapters.scratch import scratch_dir
from promoter.core.forge import Forge
from promoter.core.plans import PlanItem
from promoter.core.pr_records import ProposalResult
from promoter.workflows.open_pr import propose
from promoter.workflows.plan import HopPlanner, select_services
from promoter.workflows.workspace import Workspace


@dataclass
class PromoteRequest:
    source: str
    targets: tuple[str, ...]
    services: tuple[str, ...]
    all: bool = False
    draft: bool = False


def promote(ws: Workspace, forge: Forge, request: PromoteRequest) -> list[ProposalResult]:
    with scratch_dir("promoter-snap-") as tmp:
        planner = HopPlanner(ws, request.source, request.targets, Path(tmp))
        selected = select_services(ws.config, request.services, request.all)
        results = []
        for target in planner.targets:

            def replan(names: set[str], _t: str = target.name) -> list[PlanItem]:
                return planner.items(_t, names)

            items = replan({s.name for s in selected})
            if not items:
                results.append(ProposalResult(target.name, "", []))
                continue
            results.append(propose(ws, forge, target, items, draft=request.draft, replan=replan))
        return results
