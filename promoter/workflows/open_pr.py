"""Turn plan items into one pull request per target environment: a branch
`promoter/<env>/<services>` cut from the environment's branch, one commit per
service with trailers, a force-with-lease push, and an upsert of the PR.

Re-running updates the same branch and PR; an open promoter PR that touches
one of the same services is folded in (promotion) or closed (rollback), so a
service never has two competing PRs for one environment.
"""

from __future__ import annotations

from collections.abc import Callable

from promoter.adapters.carried import write_carried
from promoter.adapters.worktree import plan_set_image, write_edits
from promoter.core.commit_messages import proposal_message
from promoter.core.config.model import CONFIG_FILENAMES, Environment
from promoter.core.forge import Forge, PullRequest, PullRequestSpec
from promoter.core.notify.notices import from_proposal
from promoter.core.plans import PlanItem
from promoter.core.pr_records import (
    ProposalResult,
    body,
    branch_name,
    is_promoter_branch,
    labels,
    read_record,
    record_for,
    title,
)
from promoter.errors import GitError
from promoter.workflows.api_commits import CommitsByApi, api_committer, publish
from promoter.workflows.workspace import Workspace, env_ref

MAX_WIDENING_ROUNDS = 5


def _services_of(pr: PullRequest) -> set[str]:
    record = read_record(pr.body)
    if record is not None:
        return set(record.services)
    # A PR whose body lost its block: the branch name still says.
    tail = pr.head.split("/", 2)[-1].removeprefix("rollback-")
    return set(tail.split("+"))


def propose(
    ws: Workspace,
    forge: Forge,
    target: Environment,
    items: list[PlanItem],
    *,
    kind: str = "promotion",
    draft: bool = False,
    replan: Callable[[set[str]], list[PlanItem]] | None = None,
) -> ProposalResult:
    base = ws.branch_of(target)
    ours = [pr for pr in forge.open_pull_requests(base) if is_promoter_branch(pr.head, target.name)]
    services = {i.service for i in items}
    if kind == "promotion" and replan is not None:
        # Fold in competing promotion PRs so their other services are not lost.
        for _ in range(MAX_WIDENING_ROUNDS):
            wider = set(services)
            for pr in ours:
                theirs = _services_of(pr)
                if theirs & wider and not pr.head.split("/", 2)[-1].startswith("rollback-"):
                    wider |= theirs
            if wider == services:
                break
            items = replan(wider)
            services = {i.service for i in items}
    branch = branch_name(target.name, services, kind)
    result = ProposalResult(target.name, branch, items)
    existing = next((pr for pr in ours if pr.head == branch), None)
    competing = [pr for pr in ours if pr.head != branch and _services_of(pr) & services]

    api = None if ws.repo.rehearsal else api_committer(ws.config, lambda: forge)
    result.pushed, result.commit = _push_branch(ws, target, branch, items, kind, api)
    previous = read_record(existing.body) if existing else None
    closed_notes = [
        f"#{pr.number} ({', '.join(sorted(_services_of(pr)))})" for pr in competing if pr.number
    ]
    record = record_for(items, kind, previous, closed_notes)
    spec = PullRequestSpec(
        head=branch,
        base=base,
        title=title(items, kind),
        body=body(items, record),
        draft=draft or target.draft,
        labels=labels(target.name, target.labels, kind),
        reviewers=target.reviewers,
        team_reviewers=target.team_reviewers,
        assignees=target.assignees,
        auto_merge=target.auto_merge,
    )
    outcome = (
        forge.update_pull_request(existing, spec) if existing else forge.create_pull_request(spec)
    )
    result.pull_request = outcome.pull_request
    result.created, result.updated = outcome.created, outcome.updated
    result.actions += outcome.actions
    result.warnings += outcome.warnings
    for pr in competing:
        number = outcome.pull_request.number
        forge.close_pull_request(
            pr,
            f"Superseded by #{number}, which now carries "
            f"{', '.join(sorted(services))} for {target.name}.",
        )
        result.closed.append(pr.number)
    if ws.notifier is not None:
        ws.notifier.tell(ws.config, lambda origin: from_proposal(origin, result, kind))
    return result


def _push_branch(
    ws: Workspace,
    target: Environment,
    branch: str,
    items: list[PlanItem],
    kind: str,
    api: CommitsByApi | None,
) -> tuple[bool, str]:
    """Build the branch from the target's tip; push (or, `api`, make the
    commits through GitHub's API) unless the remote branch already holds
    exactly this content. (whether something was pushed, the branch's
    commit on the remote)."""
    repo = ws.repo
    expected = repo.remote_branch(branch)
    tip = env_ref(ws, target)
    repo.switch(branch, tip)
    paths = [ws.config.path_for(i.service, target.name) for i in items]
    carried = [c.file for i in items for c in i.carried]
    repo.checkout_only([*CONFIG_FILENAMES, *paths, *carried])
    for item in items:
        service = ws.config.service(item.service)
        edits = plan_set_image(
            ws.root, ws.config, target.name, service, item.new.tag, item.new.digest
        )
        if not edits and not item.carried:
            continue
        write_edits(ws.root, edits)
        # The settings travel in the version's commit: one revert undoes both.
        changed = [e.path for e in edits] + write_carried(ws.root, item.carried)
        repo.commit(changed, proposal_message(item, kind, ws.environ), ws.identity)
    if expected is not None and repo.same_tree("HEAD", f"refs/remotes/origin/{branch}"):
        return False, expected
    if api is not None:
        base = repo.out("rev-parse", tip)
        moved, sha = publish(repo, api, branch, base, expected=expected, force=True)
        if moved is not None:
            raise GitError(
                f"branch {branch!r} changed while promoter rebuilt it: {moved}; nothing was "
                "overwritten",
                hint="run the command again: it rebuilds the branch from what is there now",
            )
        return True, sha
    repo.push_branch(branch, expected)
    return True, repo.head()
