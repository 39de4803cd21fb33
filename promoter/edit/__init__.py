"""Format-preserving editors: pure functions from (text, change) to new text.

`find_references` says where a file refers to a service's image;
`edit_text` rewrites those references to a new tag/digest by splicing only
the changed scalars; `add_kustomize_image` adds an `images:` entry to a
kustomization that has none for the image yet.
"""

from __future__ import annotations

from promoter.edit import compose, helm, kustomize, manifests, setters
from promoter.edit.model import (
    Change,
    EditResult,
    Found,
    HelmKeyPaths,
    Splice,
    Target,
    apply_splices,
)
from promoter.errors import EditError
from promoter.images import ImageRef
from promoter.yamlnodes import Node, SequenceNode, compose_all, get, scalar

__all__ = [
    "Change",
    "EditResult",
    "Found",
    "HelmKeyPaths",
    "Target",
    "add_kustomize_image",
    "edit_text",
    "find_references",
    "is_kustomization_file",
]


def is_kustomization_file(filename: str) -> bool:
    return filename.rsplit("/", 1)[-1] in kustomize.KUSTOMIZATION_FILES


def _find(text: str, filename: str, docs: list[Node], target: Target) -> list[Found]:
    found = setters.find(text, docs, target)  # first, so a marker wins over a rule
    for doc in docs:
        if kustomize.is_kustomization(filename, doc):
            found += kustomize.find(doc, target)
        elif isinstance(doc, SequenceNode):
            found += manifests.find_json_patch(doc, target)
        elif compose.is_compose(filename, doc):
            found += compose.find(doc, target)
        elif manifests.is_manifest(doc) and scalar(get(doc, "kind")) != "HelmRelease":
            found += manifests.find(doc, target)
        else:
            found += helm.find(doc, target)
    seen: set[tuple[int, int]] = set()
    unique = []
    for f in found:
        if f.key not in seen:
            seen.add(f.key)
            unique.append(f)
    return unique


def find_references(text: str, filename: str, target: Target) -> list[Found]:
    """Every reference to the target's image in one file."""
    return _find(text, filename, compose_all(text, filename), target)


def _after(f: Found, tag: str | None, digest: str | None) -> ImageRef:
    return ImageRef(
        f.ref.repository,
        tag if f.sets_tag else f.ref.tag,
        digest if f.sets_digest else f.ref.digest,
    )


def edit_text(
    text: str, filename: str, target: Target, tag: str | None, digest: str | None
) -> EditResult:
    """Point every reference to the target's image at (tag, digest).

    A reference already there is left alone; a new tag without a digest
    drops a stale digest. Only the changed scalars' text is replaced.
    """
    found = find_references(text, filename, target)
    splices: list[Splice] = []
    changes = []
    for f in found:
        if f.is_current(tag, digest):
            continue
        splices += f.rewrite(text, tag, digest)
        changes.append(Change(filename, f.line, str(f.ref), str(_after(f, tag, digest))))
    if not changes:
        return EditResult(text, (), len(found))
    new_text = apply_splices(text, splices)
    _verify(new_text, filename, target, tag, digest, len(found))
    return EditResult(new_text, tuple(changes), len(found))


def add_kustomize_image(
    text: str, filename: str, target: Target, tag: str | None, digest: str | None
) -> EditResult:
    """Add an `images:` entry for the target, as `kustomize edit set image` does."""
    docs = compose_all(text, filename)
    if len(docs) > 1:
        raise EditError(f"{filename}: a kustomization must be a single YAML document")
    doc = docs[0] if docs else None
    new_text = kustomize.add_entry(text, doc, target.repository, tag, digest)
    _verify(new_text, filename, target, tag, digest, 1)
    new = ImageRef(target.repository, tag, digest)
    line = new_text.count("\n", 0, new_text.rfind(target.repository)) + 1
    return EditResult(new_text, (Change(filename, line, "", str(new)),), 1)


def _verify(
    text: str, filename: str, target: Target, tag: str | None, digest: str | None, count: int
) -> None:
    # A safety net, cheap next to a wrong deploy: the edited text must parse
    # and every reference must now say exactly what was asked.
    try:
        after = find_references(text, filename, target)
    except EditError as err:
        raise EditError(f"internal: the edit of {filename} produced invalid YAML: {err}") from err
    if len(after) != count or not all(f.is_current(tag, digest) for f in after):
        raise EditError(
            f"internal: the edit of {filename} did not produce the requested image",
            hint="please report this file's layout as a bug; nothing was written",
        )
