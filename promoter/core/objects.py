"""Rendered Kubernetes objects, as plain data: what a renderer produced, keyed
the way the applier keys its inventory, and per-object diffs with Secret
values masked (for the PR comment, `/diff` and `promoter diff`).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from promoter.core.yaml_checks import DuplicateKey, TooLarge, check_document
from promoter.errors import ExitCode, PromoterError

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MASK = "*****"
"""What a Secret value is shown as (as Argo CD's UI shows it): keys kept."""
CHANGED = "***** (changed)"
"""A Secret value a diff's new side holds that differs from its old side."""


class RenderError(PromoterError):
    """kustomize failed, or a manifest is not valid YAML."""

    exit_code = ExitCode.APPLY
    default_hint = "fix the manifests so that they render (e.g. `kubectl kustomize DIR`)"


@dataclass(frozen=True)
class Obj:
    """One rendered object, keyed the way an applier keys its inventory."""

    api_version: str
    kind: str
    namespace: str
    name: str
    body: dict[str, Any]
    source: str = field(default="", compare=False)
    """Where it was rendered from (a file, or the service's path), for
    messages that must say which file to fix."""

    @property
    def key(self) -> str:
        group = self.api_version.rpartition("/")[0]
        return f"{group}/{self.kind}/{self.namespace}/{self.name}"


def objects_from_yaml(text: str, where: str, source: str = "") -> list[Obj]:
    """The objects (documents with apiVersion and kind) of a YAML stream."""
    return objects_from_docs(load_all(text, where), source)


def load_all(text: str, where: str) -> list[Any]:
    """Every document of a YAML stream as data (PyYAML, libyaml when it is
    there), each checked first: a duplicate key is YamlError (exit 2), an
    alias bomb RenderError (exit 8) — before anything is built from it."""
    from promoter.core.yamlnodes import ALIAS_HINT, duplicate_key_error

    loader = _LOADER(text)
    try:
        docs = []
        while loader.check_node():
            node = loader.get_node()
            try:
                check_document(node, cycles=False, aliases="*" in text)
            except DuplicateKey as err:
                raise duplicate_key_error(err, where) from None
            except TooLarge as err:
                raise RenderError(f"{where}: refused: {err}", hint=ALIAS_HINT) from None
            docs.append(loader.construct_document(node))
        return docs
    except yaml.YAMLError as err:
        raise RenderError(f"{where}: not valid YAML: {err}") from err
    finally:
        loader.dispose()


def objects_from_docs(docs: Iterable[Any], source: str = "") -> list[Obj]:
    """The objects (mappings with apiVersion and kind) among parsed documents."""
    out = []
    for doc in docs:
        if isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc:
            meta = doc.get("metadata") or {}
            out.append(
                Obj(
                    str(doc["apiVersion"]),
                    str(doc["kind"]),
                    str(meta.get("namespace") or ""),
                    str(meta.get("name") or ""),
                    doc,
                    source,
                )
            )
    return out


def masked(obj: Obj, changed: Collection[tuple[str, str]] = ()) -> dict[str, Any]:
    """The object with Secret values replaced, so nothing printed shows them;
    the (field, key) pairs in `changed` read CHANGED instead of MASK."""
    body = dict(obj.body)
    if obj.kind == "Secret":
        for part in SECRET_FIELDS:
            if isinstance(body.get(part), dict):
                body[part] = {k: CHANGED if (part, k) in changed else MASK for k in body[part]}
    return body


SECRET_FIELDS = ("data", "stringData")


def changed_secret_values(old: Obj, new: Obj) -> set[tuple[str, str]]:
    """(field, key) of the Secret values both sides hold and that differ."""
    if old.kind != "Secret" or new.kind != "Secret":
        return set()
    out = set()
    for part in SECRET_FIELDS:
        a, b = old.body.get(part), new.body.get(part)
        if isinstance(a, dict) and isinstance(b, dict):
            out |= {(part, k) for k in a.keys() & b.keys() if a[k] != b[k]}
    return out


def diff(before: Iterable[Obj], after: Iterable[Obj], *, context: int = 3) -> dict[str, str]:
    """A unified diff per changed object (key -> diff text), secrets masked."""
    old = {o.key: o for o in before}
    new = {o.key: o for o in after}
    out = {}
    for key in sorted(old.keys() | new.keys()):
        changed = changed_secret_values(old[key], new[key]) if key in old and key in new else set()
        a = _dump(old[key]) if key in old else ""
        b = _dump(new[key], changed) if key in new else ""
        if a != b:
            out[key] = "".join(
                difflib.unified_diff(
                    a.splitlines(keepends=True),
                    b.splitlines(keepends=True),
                    fromfile=f"a/{key}" if key in old else "/dev/null",
                    tofile=f"b/{key}" if key in new else "/dev/null",
                    n=context,
                )
            )
    return out


def _dump(obj: Obj, changed: Collection[tuple[str, str]] = ()) -> str:
    return str(yaml.safe_dump(masked(obj, changed), sort_keys=True, default_flow_style=False))
