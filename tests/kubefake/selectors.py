"""Label and field selectors with the grammar of k8s.io/apimachinery.

Label selectors: comma-separated requirements `k=v`, `k==v`, `k!=v`,
`k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not exist),
`k>1`, `k<1`. Field selectors: `path=v`, `path==v`, `path!=v` over the
fields each resource supports (see `FIELD_SELECTORS`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_KEY = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(([^()]*)\)$")
_EQUALITY = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*({_VALUE})$")
_COMPARE = re.compile(rf"^({_KEY})\s*([<>])\s*(-?\d+)$")
_EXISTS = re.compile(rf"^(!?)\s*({_KEY})$")


class SelectorError(ValueError):
    """An unparsable selector (the API server answers 400 BadRequest)."""


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str
    """one of =, !=, in, notin, exists, !, >, <"""
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if not present or value is None or not re.fullmatch(r"-?\d+", value):
            return False
        bound = int(self.values[0])
        return int(value) > bound if self.op == ">" else int(value) < bound


def _split(text: str) -> list[str]:
    """Split at commas outside parentheses."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def parse_label_selector(text: str | None) -> list[Requirement]:
    if not text or not text.strip():
        return []
    requirements: list[Requirement] = []
    for raw in _split(text):
        part = raw.strip()
        if match := _SET.match(part):
            values = tuple(v.strip() for v in match.group(3).split(","))
            if not all(re.fullmatch(_VALUE, v) for v in values):
                raise SelectorError(f"invalid label value in {part!r}")
            requirements.append(Requirement(match.group(1), match.group(2), values))
        elif match := _EQUALITY.match(part):
            op = "!=" if match.group(2) == "!=" else "="
            requirements.append(Requirement(match.group(1), op, (match.group(3),)))
        elif match := _COMPARE.match(part):
            requirements.append(Requirement(match.group(1), match.group(2), (match.group(3),)))
        elif match := _EXISTS.match(part):
            op = "!" if match.group(1) else "exists"
            requirements.append(Requirement(match.group(2), op))
        else:
            raise SelectorError(f"unable to parse requirement: {part!r}")
    return requirements


def labels_match(requirements: list[Requirement], labels: Mapping[str, str] | None) -> bool:
    return all(r.matches(labels or {}) for r in requirements)


def _dig(obj: Mapping[str, Any], *path: str) -> str:
    value: Any = obj
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return "" if value is None else str(value)


def _getter(*path: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda obj: _dig(obj, *path)


COMMON_FIELDS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "metadata.name": _getter("metadata", "name"),
    "metadata.namespace": _getter("metadata", "namespace"),
}
FIELD_SELECTORS: dict[str, dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "Pod": {
        "spec.nodeName": _getter("spec", "nodeName"),
        "spec.serviceAccountName": _getter("spec", "serviceAccountName"),
        "status.phase": _getter("status", "phase"),
    },
    "Secret": {"type": _getter("type")},
    "Namespace": {"status.phase": _getter("status", "phase")},
    "Job": {"status.successful": _getter("status", "succeeded")},
    "Event": {
        "involvedObject.kind": _getter("involvedObject", "kind"),
        "involvedObject.name": _getter("involvedObject", "name"),
        "reason": _getter("reason"),
    },
}

FieldTerm = tuple[Callable[[Mapping[str, Any]], str], bool, str]


def parse_field_selector(text: str | None, kind: str) -> list[FieldTerm]:
    """(getter, equal?, value) terms; unsupported fields raise SelectorError as the API does."""
    if not text or not text.strip():
        return []
    fields = {**COMMON_FIELDS, **FIELD_SELECTORS.get(kind, {})}
    terms: list[FieldTerm] = []
    for raw in text.split(","):
        match = re.fullmatch(r"\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*", raw)
        if not match:
            raise SelectorError(f"invalid field selector: {raw!r}")
        field, op, value = match.groups()
        if field not in fields:
            raise SelectorError(f'field label not supported: "{field}"')
        terms.append((fields[field], op != "!=", value))
    return terms


def fields_match(terms: list[FieldTerm], obj: Mapping[str, Any]) -> bool:
    return all((getter(obj) == value) == equal for getter, equal, value in terms)
