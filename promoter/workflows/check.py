"""`promoter check`: gather the facts policy rules need (git, forge,
registry, files), evaluate the target environment's policies, and report —
locally for a planned promotion, or on a PR as a commit status plus the
sticky comment."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from promoter.adapters.carried import carried_between
from promoter.adapters.git import GitRepo
from promoter.adapters.render.renderer import render_service
from promoter.adapters.scratch import scratch_dir
from promoter.adapters.snapshots import Snapshot, env_paths, from_ref, history
from promoter.adapters.worktree import yaml_files
from promoter.core import sticky_comment
from promoter.core.chatops.events import STICKY_MARKER
from promoter.core.config.loader import load_config
from promoter.core.config.model import Config, Environment, Service
from promoter.core.forge import APPLY_STATUS_CONTEXT, POLICY_STATUS_CONTEXT, Forge, PullRequest
from promoter.core.images import ImageRef, parse_reference
from promoter.core.notify.notices import check_failed
from promoter.core.objects import RenderError, load_all
from promoter.core.objects import diff as object_diff
from promoter.core.plans import PlanItem, same_version_text
from promoter.core.policy.engine import Report, evaluate
from promoter.core.policy.facts import (
    Approval,
    Facts,
    Item,
    ObjectSummary,
    RegistryFacts,
    items_from_plan,
)
from promoter.core.policy.report import status_line
from promoter.core.pr_records import read_record
from promoter.core.trailers import Deployment
from promoter.errors import InputError, PromoterError
from promoter.workflows.controller_facts import ReaderFactory, controller_reports, kube_reader
from promoter.workflows.plan import check_hop, local_env_ref, local_plan, snapshot_at
from promoter.workflows.workspace import Workspace, env_ref


class Registry(Protocol):
    """What the image-exists rule needs from a registry client."""

    def exists(self, ref: ImageRef) -> bool: ...
    def resolve_digest(self, ref: ImageRef) -> str: ...


def registry_client() -> Registry:
    """The real registry client, imported (with requests) only when a rule asks."""
    from promoter.adapters.registry import RegistryClient

    return RegistryClient()


@dataclass
class Checked:
    report: Report
    items: list[PlanItem]


def _needs(env: Environment, rule: str) -> bool:
    return any(p.rule == rule for p in env.policies)


def registry_facts(
    items: Iterable[PlanItem | Item], client: Callable[[], Registry]
) -> dict[str, RegistryFacts]:
    """Ask the registry about each new reference; failures become errors
    (the rule then fails), never 'missing' and never 'present'."""
    registry = client()
    out = {}
    for item in items:
        try:
            found = registry.exists(item.new)
            digest = registry.resolve_digest(item.new) if found and item.new.tag else None
            out[item.service] = RegistryFacts(exists=found, digest=digest or item.new.digest)
        except PromoterError as err:
            out[item.service] = RegistryFacts(error=err.message)
    return out


def object_summaries(
    root: Path, config: Config, env: str, services: list[Service]
) -> tuple[ObjectSummary, ...]:
    """Secrets-relevant facts of the env's files (values never leave here)."""
    out = []
    for rel in env_paths(config, env, services):
        path = root / rel
        files = yaml_files(path) if path.is_dir() else [path] if path.is_file() else []
        for file in files:
            try:
                docs = load_all(file.read_text(encoding="utf-8"), str(file))
            except (PromoterError, UnicodeDecodeError):
                continue  # the editors report malformed files; here they hold no facts
            for doc in docs:
                if not isinstance(doc, dict) or "kind" not in doc:
                    continue
                meta = doc.get("metadata") or {}
                out.append(
                    ObjectSummary(
                        kind=str(doc["kind"]),
                        name=str(meta.get("name") or ""),
                        namespace=meta.get("namespace"),
                        api_version=str(doc.get("apiVersion") or "v1"),
                        has_data=bool(doc.get("data") or doc.get("stringData")),
                        sops=isinstance(doc.get("sops"), dict),
                        clear_keys=_clear_keys(doc) if isinstance(doc.get("sops"), dict) else (),
                        file=file.relative_to(root).as_posix(),
                    )
                )
    return tuple(out)


def _clear_keys(doc: dict[str, Any]) -> tuple[str, ...]:
    """`data`/`stringData` keys of a SOPS-encrypted document whose values are
    not SOPS ciphertext."""
    out = []
    for part in ("data", "stringData"):
        values = doc.get(part)
        if isinstance(values, dict):
            out += [
                f"{part}.{key}"
                for key, value in values.items()
                if not (isinstance(value, str) and value.startswith("ENC[AES256_GCM,"))
            ]
    return tuple(out)


# --- local ------------------------------------------------------------------------------


def check_local(
    repo_dir: Path,
    source: str,
    target: str,
    *,
    registry: Callable[[], Registry],
    now: datetime | None = None,
    require_approvals: bool = False,
    controllers: ReaderFactory = kube_reader,
) -> Checked:
    """Evaluate the target's policies for the promotion `plan` would make,
    without a forge: approvals and labels are unknown (the approvals rule is
    reported as not evaluated, or fails with `require_approvals`), and no
    `promoter/apply` status is known (healthy-upstream warns) — unless Argo
    CD or Flux applies the source environment: then they are asked."""
    config = load_config(repo_dir)
    source_env, target_env = config.environment(source), config.environment(target)
    check_hop(config, source_env, target_env)
    items = local_plan(repo_dir, source, target, ())
    repo = GitRepo(repo_dir)
    services = list(config.services)
    with scratch_dir("promoter-check-") as tmp:
        source_ref = local_env_ref(repo, config, source_env)
        target_ref = local_env_ref(repo, config, target_env)
        source_snap = snapshot_at(
            repo, repo_dir, config, source_env, source_ref, services, Path(tmp)
        )
        facts = Facts(
            kind="promotion",
            target_env=target,
            items=items_from_plan(items),
            now=now or datetime.now(UTC),
            source_env=source,
            source_history=tuple(history(repo, config, source, source_ref or "HEAD", services)),
            source_current={k: d.image for k, d in source_snap.deployed.items() if d.image},
            target_history=tuple(history(repo, config, target, target_ref or "HEAD", services)),
            apply_statuses={},
            controllers=controller_reports(
                controllers, repo, config, source_env, services, Path(tmp)
            ),
            require_reviews=require_approvals,
            registry=(
                registry_facts(items, registry) if _needs(target_env, "image-exists") else None
            ),
            target_objects=object_summaries(repo_dir, config, target, services),
        )
    return Checked(evaluate(facts, target_env.policies), items)


# --- on a pull request --------------------------------------------------------------------


def pr_items(pr: PullRequest) -> tuple[str, str | None, str, dict[str, ImageRef]]:
    """(kind, source env, target env, service -> new ref) from the PR's hidden block."""
    record = read_record(pr.body)
    if record is None:
        raise InputError(
            f"#{pr.number} is not a promoter pull request (its description has no "
            "promoter:plan block)",
            hint="check runs on PRs opened by promoter promote/rollback/bump",
        )

    return (
        record.kind,
        record.source,
        record.target,
        {s: parse_reference(ref) for s, ref in record.services.items()},
    )


def approvals_with_teams(forge: Forge, pr: PullRequest, env: Environment) -> tuple[Approval, ...]:
    teams: set[str] = set()
    for policy in env.policies:
        for attr in ("teams", "groups", "override_teams"):
            teams |= set(getattr(policy.options, attr, ()) or ())
    members = {team: forge.team_members(team) for team in sorted(teams)}
    out = []
    for a in forge.approvals(pr):
        in_teams = tuple(
            t for t, users in members.items() if a.user.lower() in {u.lower() for u in users}
        )
        out.append(Approval(a.user, a.state, a.submitted_at, a.commit_sha, in_teams))
    return tuple(out)


def apply_statuses(
    forge: Forge, history_: Iterable[Deployment], refs: Mapping[str, ImageRef]
) -> Mapping[str, str]:
    """`promoter/apply` states of the source commits that put the promoted
    versions in place (one status request per such commit, no more)."""
    out: dict[str, str] = {}
    asked: set[str] = set()
    for d in history_:
        ref = refs.get(d.service)
        if ref is None or d.commit in asked or not same_version_text(d.to_ref, ref):
            continue
        asked.add(d.commit)
        state = forge.commit_statuses(d.commit).get(APPLY_STATUS_CONTEXT)
        if state is not None:
            out[d.commit] = state
    return out


@dataclass
class PullRequestCheck:
    pull_request: PullRequest
    checked: Checked
    comment: str
    state: str


def check_pr(
    ws: Workspace,
    forge: Forge,
    number: int,
    *,
    registry: Callable[[], Registry],
    now: datetime | None = None,
    controllers: ReaderFactory = kube_reader,
) -> PullRequestCheck:
    """Evaluate a promoter PR, set `promoter/policy` on its head commit and
    update the sticky comment."""
    pr = forge.get_pull_request(number)
    kind, source, target, refs = pr_items(pr)
    config = ws.config
    target_env = config.environment(target)
    source_env = config.environment(source) if source else None
    services = list(config.services)
    base_ref = env_ref(ws, target_env)
    if ws.repo.remote_branch(pr.head) is None:
        raise InputError(f"the branch {pr.head!r} of #{number} is not in the repository")
    head_ref = f"refs/remotes/origin/{pr.head}"
    with scratch_dir("promoter-check-") as tmp:
        scratch = Path(tmp)
        before = from_ref(ws.repo, config, target_env, base_ref, services, scratch / "base")
        items = [
            PlanItem(
                s,
                source or target,
                target,
                new,
                before.deployed[s].image if s in before.deployed else None,
                before.deployed[s].files if s in before.deployed else (),
            )
            for s, new in sorted(refs.items())
        ]
        source_ref = env_ref(ws, source_env) if source_env else None
        source_history = (
            tuple(history(ws.repo, config, source_env.name, source_ref, services))
            if source_env and source_ref
            else None
        )
        source_snap = (
            from_ref(ws.repo, config, source_env, source_ref, services, scratch / "source")
            if source_env and source_ref
            else None
        )
        head_root = worktree(ws.repo, head_ref, scratch / "head")
        base_root = worktree(ws.repo, base_ref, scratch / "basetree")
        # What the PR carries besides versions: its head's promote: files
        # and fields against the target's, for the sticky comment.
        head = Snapshot(target, head_ref, {}, head_root)
        items = [
            replace(i, carried=carried_between(config, config.service(i.service), head, before,
                                               strict=False))
            for i in items
        ]  # fmt: skip
        facts = Facts(
            kind=kind,
            target_env=target,
            items=items_from_plan(items),
            now=now or datetime.now(UTC),
            source_env=source,
            source_history=source_history,
            source_current=(
                {k: d.image for k, d in source_snap.deployed.items() if d.image}
                if source_snap
                else None
            ),
            target_history=tuple(history(ws.repo, config, target, base_ref, services)),
            apply_statuses=(
                apply_statuses(forge, source_history, refs)
                if source_history and source_env and source_env.applier is None
                else {}
            ),
            controllers=(
                controller_reports(controllers, ws.repo, config, source_env, services, scratch)
                if source_env
                else None
            ),
            registry=(
                registry_facts(items, registry) if _needs(target_env, "image-exists") else None
            ),
            approvals=approvals_with_teams(forge, pr, target_env),
            author=pr.author,
            head_sha=pr.head_sha,
            head_date=_commit_date(ws.repo, head_ref),
            labels=pr.labels,
            target_objects=object_summaries(head_root, config, target, services),
        )
        report = evaluate(facts, target_env.policies)
        diffs, render_error = rendered_diff(base_root, head_root, config, target, services)
    state = "success" if report.passed else "failure"
    if pr.head_sha:
        forge.set_status(pr.head_sha, POLICY_STATUS_CONTEXT, state, status_line(report))
    comment = sticky_comment.body(
        pr.title,
        items,
        target,
        report,
        diffs,
        limit=forge.max_comment_length,
        render_error=render_error,
    )
    forge.upsert_comment(pr, STICKY_MARKER, comment)
    if ws.notifier is not None and not report.passed:
        ws.notifier.tell(config, lambda origin: [check_failed(origin, report, items, pr)])
    return PullRequestCheck(pr, Checked(report, items), comment, state)


def worktree(repo: GitRepo, ref: str, dest: Path) -> Path:
    """A checkout of `ref` (kustomize overlays need their bases too)."""
    repo.run("worktree", "add", "--quiet", "--detach", str(dest), ref, timeout=600)
    # The clone is sparse; a new worktree inherits that, so widen it.
    GitRepo(dest, repo.env).run("sparse-checkout", "disable", timeout=600)
    return dest


def _commit_date(repo: GitRepo, ref: str) -> datetime | None:
    text = repo.out("log", "-1", "--format=%cI", ref)
    return datetime.fromisoformat(text) if text else None


def rendered_diff(
    base: Path, head: Path, config: Config, env: str, services: list[Service]
) -> tuple[dict[str, str], str | None]:
    """Per-object diffs of the target environment, base → head, through the
    renderer the applier uses (kustomize, Helm, Jsonnet or plain YAML)."""
    diffs: dict[str, str] = {}
    try:
        for service in services:
            old = render_service(base, config, env, service)
            new = render_service(head, config, env, service)
            diffs.update(object_diff(old, new))
    except RenderError as err:
        return diffs, err.message
    return diffs, None
