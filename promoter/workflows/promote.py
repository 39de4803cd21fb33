"""`promote`: read the source and target environments from the remote, plan
the hop (folding in competing PRs' services), and hand each target's plan to
`open_pr.propose` — one pull request per hop."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from promoter.adapters.snapshots import Snapshot, from_ref, history
from promoter.core.forge import Forge
from promoter.core.plans import PlanItem, with_provenance
from promoter.core.pr_records import ProposalResult
from promoter.workflows.open_pr import propose
from promoter.workflows.plan import check_hop, plan_between, select_services
from promoter.workflows.workspace import Workspace, env_ref


@dataclass
class PromoteRequest:
    source: str
    targets: tuple[str, ...]
    services: tuple[str, ...]
    all: bool = False
    draft: bool = False


def promote(ws: Workspace, forge: Forge, request: PromoteRequest) -> list[ProposalResult]:
    config = ws.config
    source = config.environment(request.source)
    targets = [config.environment(t) for t in dict.fromkeys(request.targets)]
    for target in targets:
        check_hop(config, source, target)
    selected = select_services(config, request.services, request.all)
    everything = list(config.services)  # snapshots cover all: widening may need any
    with tempfile.TemporaryDirectory(prefix="promoter-snap-") as tmp:
        scratch = Path(tmp)
        source_ref = env_ref(ws, source)
        source_snap = from_ref(ws.repo, config, source, source_ref, everything, scratch)
        source_history = history(ws.repo, config, source.name, source_ref, everything)
        results = []
        for target in targets:
            target_snap = from_ref(
                ws.repo, config, target, env_ref(ws, target), everything, scratch
            )

            def replan(names: set[str], _t: Snapshot = target_snap) -> list[PlanItem]:
                chosen = [s for s in everything if s.name in names]
                return with_provenance(plan_between(source_snap, _t, chosen), source_history)

            items = replan({s.name for s in selected})
            if not items:
                results.append(ProposalResult(target.name, "", []))
                continue
            results.append(propose(ws, forge, target, items, draft=request.draft, replan=replan))
        return results
