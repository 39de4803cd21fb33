"""Write a new scalar value in the style of the one it replaces.

A plain scalar stays plain unless the new value would then read as something
other than a string (a tag `1234` or `3.0` would become a number, `on` a
boolean); then it is double-quoted, which is what kustomize and Helm need.
Quoted scalars keep their quote style.
"""

from __future__ import annotations

import re

from promoter.core.edit.model import NodeError
from promoter.core.yamlnodes import ScalarNode, line_of

# YAML 1.1 and 1.2 core-schema resolvers: anything matching reads as non-string.
_NON_STRING = re.compile(
    r"""^(?:
        [-+]?(?:0|[1-9][0-9_]*)                      # int
      | [-+]?0[0-7_]+ | [-+]?0o[0-7]+                 # octal
      | [-+]?0x[0-9a-fA-F_]+ | [-+]?0b[01_]+          # hex, binary
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?  # sexagesimal (1.1)
      | [-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?  # float
      | [-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE
      | on|On|ON|off|Off|OFF
      | null|Null|NULL|~|
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?   # timestamp
    )$""",
    re.VERBOSE,
)
# Go's YAML (sigs.k8s.io/yaml, which kustomize and Helm read with) drops every
# "_" and then tries strconv.ParseInt(s, 0, 64) and a float pattern: so `08`,
# `1_2` and `0b1` are numbers there too, although YAML 1.1 says otherwise.
_GO_NUMBER = re.compile(
    r"""[-+]?(?:
        0[xX][0-9a-fA-F]+ | 0[oO]?[0-7]+ | 0[bB][01]+
      | (?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    )""",
    re.VERBOSE,
)
_PLAIN_UNSAFE_START = set("-?:,[]{}#&*!|>'\"%@`")


def reads_as_non_string(value: str) -> bool:
    """Would a plain scalar `value` load as a number, boolean, null or date?"""
    return bool(_NON_STRING.match(value) or _GO_NUMBER.fullmatch(value.replace("_", "")))


def needs_quotes(value: str, *, in_flow: bool = False) -> bool:
    if value == "" or reads_as_non_string(value):
        return True
    if value[0] in _PLAIN_UNSAFE_START or value != value.strip():
        return True
    if ": " in value or " #" in value or value.endswith(":"):
        return True
    return in_flow and any(c in value for c in ",[]{}")


def double_quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_new(value: str, *, in_flow: bool = False) -> str:
    """A value for a newly inserted key: plain when safe, else double-quoted."""
    return double_quoted(value) if needs_quotes(value, in_flow=in_flow) else value


def render_like(node: ScalarNode, value: str, *, in_flow: bool = False) -> str:
    """`value` written in `node`'s quoting style."""
    style = node.style
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"':
        return double_quoted(value)
    if style in ("|", ">"):
        raise NodeError(
            line_of(node),
            f"the image value is a block scalar ({style}); "
            "promoter rewrites only plain or quoted scalars",
            hint='write the value on one line, e.g. `tag: "1.2.3"`',
        )
    return format_new(value, in_flow=in_flow)
