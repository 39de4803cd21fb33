"""Format-preserving editors: pure functions from (text, change) to new text.

`find_references` says where a file refers to a service's image;
`edit_text` rewrites those references to a new tag/digest by splicing only
the changed scalars; `add_kustomize_image` adds an `images:` entry to a
kustomization that has none for the image yet.
"""

from __future__ import annotations

from promoter.core.edit import charts, compose, helm, kustomize, manifests, setters
from promoter.core.edit.kustomize import is_kustomization_file
from promoter.core.edit.model import (
    Change,
    EditResult,
    Found,
    HelmKeys,
    NodeError,
    Target,
    apply_splices,
)
from promoter.core.images import ImageRef, validate_digest, validate_tag
from promoter.core.yamlnodes import Node, SequenceNode, compose_all, get, scalar
from promoter.errors import EditError, InputError

__all__ = [
    "Change",
    "EditResult",
    "Found",
    "HelmKeys",
    "Target",
    "add_kustomize_image",
    "edit_text",
    "find_references",
    "is_kustomization_file",
]


def _find(text: str, filename: str, docs: list[Node], target: Target) -> list[Found]:
    if target.chart is not None:  # a chart's version, never an image
        return [f for doc in docs for f in charts.find(filename, doc, target)]
    rules = [f for doc in docs for f in _rules(filename, doc, target)]
    return _merge(rules, setters.find(text, docs, target))


def _rules(filename: str, doc: Node, target: Target) -> list[Found]:
    """What the editing rule for this kind of document finds."""
    if kustomize.is_kustomization(filename, doc):
        return kustomize.find(doc, target)
    if isinstance(doc, SequenceNode):
        return manifests.find_json_patch(doc, target)
    if compose.is_compose_file(filename, doc):
        return compose.find(doc, target)
    if manifests.is_manifest(doc) and scalar(get(doc, "kind")) != "HelmRelease":
        return manifests.find(doc, target)
    found = helm.find(doc, target)
    if compose.is_compose(filename, doc):  # by shape only: could be values too
        found += compose.find(doc, target)
    return found


def _merge(rules: list[Found], markers: setters.Markers) -> list[Found]:
    """Rules and markers together, one Found per scalar.

    A marker wins over a rule for the field it marks, unless the rule owns
    more than that field (a kustomize entry, a Helm tag with its `digest`
    sibling): then the rule keeps the parts consistent. A field marked as
    another service's is left to that service.
    """
    marked = {m.key for m in markers.found}
    kept = [
        r for r in rules if r.key not in markers.foreign and not (r.key in marked and not r.covers)
    ]
    owned = {s for r in kept for s in r.spans}
    found = kept + [m for m in markers.found if m.key not in owned]
    unique: dict[tuple[int, int], Found] = {}
    for f in found:
        unique.setdefault(f.key, f)
    return sorted(unique.values(), key=lambda f: f.key)


def find_references(text: str, filename: str, target: Target) -> list[Found]:
    """Every reference to the target's image in one file, in file order."""
    try:
        return _find(text, filename, compose_all(text, filename), target)
    except NodeError as err:
        raise err.located(filename) from err


def edit_text(
    text: str, filename: str, target: Target, tag: str | None, digest: str | None
) -> EditResult:
    """Point every reference to the target's image at (tag, digest).

    A reference already there is left alone; a new tag without a digest
    drops a stale digest. Only the changed scalars' text is replaced.
    """
    _check_version(tag, digest)
    found = find_references(text, filename, target)
    pending = [f for f in found if not f.is_current(tag, digest)]
    if not pending:
        return EditResult(text, (), len(found))
    try:
        splices = [s for f in pending for s in f.rewrite(text, tag, digest)]
    except NodeError as err:
        raise err.located(filename) from err
    changes = tuple(
        Change(filename, f.line, str(f.ref), str(f.after(tag, digest))) for f in pending
    )
    new_text = apply_splices(text, splices)
    _verify(new_text, filename, target, tag, digest, len(found))
    return EditResult(new_text, changes, len(found))


def add_kustomize_image(
    text: str, filename: str, target: Target, tag: str | None, digest: str | None
) -> EditResult:
    """Add an `images:` entry for the target, as `kustomize edit set image` does."""
    _check_version(tag, digest)
    docs = compose_all(text, filename)
    if len(docs) > 1:
        raise EditError(f"{filename}: a kustomization must be a single YAML document")
    try:
        new_text = kustomize.add_entry(
            text, docs[0] if docs else None, target.repository, tag, digest
        )
    except NodeError as err:
        raise err.located(filename) from err
    after = _verify(new_text, filename, target, tag, digest, 1)
    new = ImageRef(target.repository, tag, digest)
    return EditResult(new_text, (Change(filename, after[0].line, "", str(new)),), 1)


def _check_version(tag: str | None, digest: str | None) -> None:
    if tag is None and digest is None:
        raise EditError("an image edit needs a tag, a digest or both")
    if tag is not None:
        validate_tag(tag)
    if digest is not None:
        validate_digest(digest)


def _verify(
    text: str, filename: str, target: Target, tag: str | None, digest: str | None, count: int
) -> list[Found]:
    # A safety net, cheap next to a wrong deploy: the edited text must parse
    # and every reference must now say exactly what was asked.
    try:
        after = find_references(text, filename, target)
    except InputError as err:
        raise EditError(
            f"internal: the edit of {filename} produced a file promoter cannot read: {err}",
            hint="please report this file's layout as a bug; nothing was written",
        ) from err
    if len(after) != count or not all(f.is_current(tag, digest) for f in after):
        raise EditError(
            f"internal: the edit of {filename} did not produce the requested image",
            hint="please report this file's layout as a bug; nothing was written",
        )
    return after
