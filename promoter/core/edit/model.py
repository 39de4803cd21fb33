"""Data the editors share: what to look for, what was found, how to splice."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from promoter.core.config.model import HelmKeys as HelmKeys
from promoter.core.images import ImageRef, parse_reference
from promoter.core.yamlnodes import Node, ScalarNode, line_of
from promoter.errors import EditError, ImageRefError


@dataclass(frozen=True)
class Target:
    """The image of one service, as the editors need to recognise it."""

    service: str
    repository: str
    image_policy: str | None = None
    """Flux `ns:name` policy whose setter markers mean this service."""
    helm_keys: HelmKeys | None = None
    """Explicit dotted key paths for charts with unusual values layouts."""
    chart: str | None = None
    """A chart service (`chart: NAME`): only its chart's pinned versions count."""

    @cached_property
    def name_hint(self) -> str:
        """The repository's last path component: any text referring to the
        image contains it, which makes a cheap test before parsing."""
        return self.repository.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Splice:
    """Replace text[start:end] with `text`. Insertions have start == end."""

    start: int
    end: int
    text: str


Spans = tuple[tuple[int, int], ...]

Rewrite = Callable[[str, str | None, str | None], list[Splice]]
"""Given (the file's text, new tag, new digest), the splices that put them in place."""


@dataclass(frozen=True)
class Found:
    """One reference to the target image inside a file."""

    kind: str
    """Which editor found it: kustomize, manifest, helm, compose, setter."""
    line: int
    ref: ImageRef
    """The reference as it stands now (repository as written in the file)."""
    rewrite: Rewrite = field(compare=False, repr=False)
    key: tuple[int, int] = (0, 0)
    """Span of the main scalar, to drop duplicates (a setter and a manifest
    rule can both see the same `image:` field; an alias repeats a node)."""
    sets_tag: bool = True
    sets_digest: bool = True
    covers: Spans = ()
    """Spans of every scalar the rewrite owns (besides `key`): a kustomize
    entry's `digest`, a Helm `digest` sibling."""
    rename: str | None = None
    """The repository the rewrite writes when it is not `ref.repository`
    (a whole-reference setter on a field naming another or no image)."""

    @property
    def spans(self) -> Spans:
        return (self.key, *self.covers)

    def is_current(self, tag: str | None, digest: str | None) -> bool:
        """Would rewriting to (tag, digest) change nothing this reference holds?"""
        if self.rename is not None:
            return False
        if self.sets_tag and self.ref.tag != tag:
            return False
        return not (self.sets_digest and self.ref.digest != digest)

    def after(self, tag: str | None, digest: str | None) -> ImageRef:
        """The reference as the rewrite leaves it."""
        return ImageRef(
            self.rename or self.ref.repository,
            tag if self.sets_tag else self.ref.tag,
            digest if self.sets_digest else self.ref.digest,
        )


@dataclass(frozen=True)
class Change:
    """One reference changed by an edit, for reports."""

    file: str
    line: int
    old: str
    new: str


@dataclass(frozen=True)
class EditResult:
    text: str
    changes: tuple[Change, ...]
    references: int
    """How many references to the image the file holds (changed or not)."""

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def apply_splices(text: str, splices: Sequence[Splice]) -> str:
    """Apply non-overlapping splices; identical duplicates count once."""
    unique = sorted(set(splices), key=lambda s: (s.start, s.end))
    for before, after in itertools.pairwise(unique):
        if after.start < before.end or (after.start == before.start and after.end == before.end):
            raise EditError(
                f"internal: overlapping edits at characters {before.start}-{before.end} "
                f"and {after.start}-{after.end}",
                hint="please report this file's layout as a bug",
            )
    out = text
    for s in reversed(unique):
        out = out[: s.start] + s.text + out[s.end :]
    return out


def text_of(node: Node | None) -> str | None:
    """A scalar's text; None when absent, empty or null (`~`, `null`, nothing)."""
    if not isinstance(node, ScalarNode) or str(node.tag).endswith(":null"):
        return None
    return str(node.value) or None


class NodeError(EditError):
    """An EditError about one place in a file; the caller adds the file name."""

    def __init__(self, line: int, detail: str, *, hint: str | None = None) -> None:
        super().__init__(f"line {line}: {detail}", hint=hint)
        self.line = line
        self.detail = detail

    def located(self, filename: str) -> EditError:
        return EditError(f"{filename}:{self.line}: {self.detail}", hint=self.hint)


def current_ref(node: Node, repository: str, tag: str | None, digest: str | None) -> ImageRef:
    """The reference a file holds now; a NodeError when a part is not valid
    (a template placeholder, say), since then nobody can tell what runs."""
    try:
        return ImageRef(repository, tag, digest)
    except ImageRefError as err:
        raise NodeError(
            line_of(node),
            f"the image of {repository} here is not a valid reference: {err.message}",
            hint="write a literal tag (promoter does not expand templates or variables)",
        ) from err


def matches(repository: str, target: Target) -> bool:
    """Does `repository` (as written in a file) name the target's image?"""
    try:
        return ImageRef(repository).same_repository(target.repository)
    except ImageRefError:
        return False


def parse_ref(text: str) -> ImageRef | None:
    """A full reference, or None when `text` is not one."""
    try:
        return parse_reference(text)
    except ImageRefError:
        return None
