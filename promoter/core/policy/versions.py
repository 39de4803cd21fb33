"""How two image references compare as versions, and how one is named in
a policy message."""

from __future__ import annotations

from promoter.core.images import ImageRef


def same_version(a: ImageRef, b: ImageRef) -> bool:
    """The digest decides when both have one; otherwise the tag."""
    if a.digest and b.digest:
        return a.digest == b.digest
    return a.tag is not None and a.tag == b.tag


def version(ref: ImageRef) -> str:
    """`1.4.2`, or a short digest for digest-only references."""
    if ref.tag is not None:
        return ref.tag
    return f"{ref.digest[:19]}…" if ref.digest else "(no tag)"
