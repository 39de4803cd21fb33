"""Promotion plans: which service moves from which version to which, and
where that version came from (the build behind it) — pure functions of data
the adapters gathered (deployed versions, history). `pr_records` turns a
plan into the pull request that carries it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from promoter.core.carry import Carried
from promoter.core.images import ImageRef, parse_reference
from promoter.core.trailers import Deployment
from promoter.errors import ImageRefError


@dataclass(frozen=True)
class Provenance:
    """Where a version came from: the env-repo commit that put it in the
    source environment and the build pipeline/commit behind it."""

    env_commit: str | None = None
    pipeline: str | None = None
    source_commit: str | None = None


@dataclass(frozen=True)
class PlanItem:
    service: str
    source_env: str
    target_env: str
    new: ImageRef
    current: ImageRef | None
    files: tuple[str, ...] = ()
    provenance: Provenance = field(default_factory=Provenance)
    carried: tuple[Carried, ...] = ()
    """Files and fields of `promote:` that differ and travel with the version."""

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "from": _version(self.current),
            "to": _version(self.new),
            "files": list(self.files),
            "source": self.source_env,
            "target": self.target_env,
            "carried": [c.to_json() for c in self.carried],
        }


def _version(ref: ImageRef | None) -> dict[str, str | None] | None:
    return None if ref is None else {"tag": ref.tag, "digest": ref.digest}


def same_version(a: ImageRef | None, b: ImageRef | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.tag, a.digest) == (b.tag, b.digest)


def plan_item(
    service: str,
    source_env: str,
    target_env: str,
    source: ImageRef | None,
    target: ImageRef | None,
    target_files: tuple[str, ...],
) -> PlanItem | None:
    """The item promoting `service`, or None when there is nothing to do."""
    if source is None or same_version(source, target):
        return None
    return PlanItem(service, source_env, target_env, source, target, target_files)


def provenance(history: Iterable[Deployment], service: str, ref: ImageRef) -> Provenance:
    """The newest history entry that put `ref` in place for `service`."""
    for d in history:
        if d.service == service and same_version_text(d.to_ref, ref):
            return Provenance(d.commit, d.pipeline, d.source_commit)
    return Provenance()


def same_version_text(text: str, ref: ImageRef) -> bool:
    try:
        return same_version(parse_reference(text), ref)
    except ImageRefError:
        return False


def with_provenance(items: list[PlanItem], history: list[Deployment]) -> list[PlanItem]:
    return [replace(i, provenance=provenance(history, i.service, i.new)) for i in items]
