"""Everything policy rules may look at, as plain data.

Adapters (git, forge, registry, render) gather a `Facts` before any rule
runs; rules never do I/O. A field that is None was *not gathered* (no PR
yet, registry unreachable, ...): a rule that needs it reports `error`, which
fails the check, never passes it. An empty tuple/mapping means "gathered,
and there is nothing".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from promoter.core.controllers import ControllerState
from promoter.core.images import ImageRef
from promoter.core.plans import PlanItem
from promoter.core.trailers import Deployment

__all__ = [
    "APPLY_STATES",
    "KINDS",
    "Approval",
    "Facts",
    "Item",
    "ObjectSummary",
    "RegistryFacts",
    "items_from_plan",
]

KINDS = ("promotion", "rollback", "bump")
APPLY_STATES = ("success", "failure", "error", "pending")
"""Commit status states of the applier's `promoter/apply` context (GitHub's
four; GitLab's `failed`/`canceled` are mapped to `failure` by the adapter)."""
REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "DISMISSED", "COMMENTED")


@dataclass(frozen=True)
class Item:
    """One service the proposal changes in the target environment."""

    service: str
    new: ImageRef
    """The reference the proposal puts into the target environment."""
    current: ImageRef | None = None
    """What the target environment runs now (None: the service is new there)."""


@dataclass(frozen=True)
class RegistryFacts:
    """What the registry said about an item's new reference."""

    exists: bool | None = None
    """The tag (or digest) was found; None: not asked."""
    digest: str | None = None
    """The manifest digest the tag resolves to (`sha256:...`), when found."""
    error: str | None = None
    """Why the registry could not answer (unreachable, denied): the check errors."""


@dataclass(frozen=True)
class Approval:
    """One review of the pull/merge request (GitHub review, GitLab approval)."""

    user: str
    state: str = "APPROVED"
    """One of REVIEW_STATES; a user's latest non-COMMENTED review is their verdict."""
    submitted_at: datetime | None = None
    commit_sha: str | None = None
    """The head commit the review was given on (GitHub); None when the forge
    does not say (GitLab): then `submitted_at` is compared with `head_date`."""
    teams: tuple[str, ...] = ()
    """The reviewer's GitHub team slugs / GitLab group paths among those the
    rules name (adapters only need to ask about those)."""

    def __post_init__(self) -> None:
        if self.submitted_at is not None and self.submitted_at.utcoffset() is None:
            raise ValueError("Approval.submitted_at must be time-zone aware")
        object.__setattr__(self, "teams", tuple(self.teams))


@dataclass(frozen=True)
class ObjectSummary:
    """One object the target environment renders to, reduced to what the
    secrets rule needs (values never leave the adapter)."""

    kind: str
    name: str
    namespace: str | None = None
    api_version: str = "v1"
    has_data: bool = False
    """`data` or `stringData` holds at least one key."""
    sops: bool = False
    """The file carries a SOPS `sops:` block."""
    clear_keys: tuple[str, ...] = ()
    """With `sops`: the data/stringData keys whose values are not SOPS
    ciphertext (`ENC[…]`) — a file edited by hand after it was encrypted."""
    file: str | None = None
    """Repository-relative file the object comes from, for the fix hint."""


@dataclass(frozen=True)
class ControllerReport:
    """One Argo CD / Flux object of the source environment, and what the
    environment's files say at the commit it is synced to."""

    state: ControllerState
    runs: Mapping[str, ImageRef] | None = None
    """service -> image at `state.revision`; None when it names no commit,
    or one the environment repository does not have."""


@dataclass(frozen=True)
class Facts:
    """The proposal under check and everything around it."""

    kind: str
    """promotion, rollback or bump, as the adapter established it (from the
    PR's branch and record); rollbacks are verified against target history."""
    target_env: str
    items: tuple[Item, ...]
    now: datetime
    """The moment of the check; must be time-zone aware."""
    source_env: str | None = None
    """The target's `from` in promoter.yaml; None for a first environment."""
    source_history: tuple[Deployment, ...] | None = None
    """Deployments in the source environment (any order, any service), from
    its commits' Promoter-* trailers."""
    source_current: Mapping[str, ImageRef] | None = None
    """service -> what the source environment runs now (read from Git)."""
    target_history: tuple[Deployment, ...] | None = None
    """Deployments in the target environment (a rollback must go back to one)."""
    apply_statuses: Mapping[str, str] | None = None
    """Source-environment commit sha -> state of its `promoter/apply` status
    (APPLY_STATES); a sha without an entry has no report."""
    controllers: tuple[ControllerReport, ...] | None = None
    """The source environment's Argo CD / Flux objects when they apply it
    (`applier:`); None: promoter's agent does, and `apply_statuses` tell."""
    registry: Mapping[str, RegistryFacts] | None = None
    """service -> registry facts about the item's new reference."""
    approvals: tuple[Approval, ...] | None = None
    """Reviews on the PR; None: no PR (e.g. a local `promoter check`)."""
    require_reviews: bool = False
    """Without a PR, rules that read reviews fail (True) or are skipped as
    not evaluated (False, the default of a local check)."""
    author: str | None = None
    """The PR's author (never counts as an approver)."""
    head_sha: str | None = None
    """The PR's head commit."""
    head_date: datetime | None = None
    """When the head commit was pushed/committed (aware)."""
    labels: tuple[str, ...] | None = None
    """The PR's labels; None: no PR."""
    target_objects: tuple[ObjectSummary, ...] | None = None
    """What the target environment renders to after the change."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("Facts.now must be time-zone aware")
        if self.head_date is not None and self.head_date.utcoffset() is None:
            raise ValueError("Facts.head_date must be time-zone aware")
        object.__setattr__(self, "items", tuple(self.items))
        for name in ("source_history", "target_history", "approvals", "labels", "target_objects"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        for name in ("source_current", "apply_statuses", "registry"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, MappingProxyType(dict(value)))


def items_from_plan(plan: list[PlanItem]) -> tuple[Item, ...]:
    """The facts' items for a promotion plan."""
    return tuple(Item(i.service, i.new, i.current) for i in plan)
