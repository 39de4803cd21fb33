"""Write a new scalar value in the style of the one it replaces.

A plain scalar stays plain unless the new value would then read as something
other than a string (a tag `1234` or `3.0` would become a number, `on` a
boolean); then it is double-quoted, which is what kustomize and Helm need.
Quoted scalars keep their quote style.
"""

from __future__ import annotations

import re

from promoter.errors import EditError
from promoter.yamlnodes import ScalarNode

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
_PLAIN_UNSAFE_START = set("-?:,[]{}#&*!|>'\"%@`")


def needs_quotes(value: str, *, in_flow: bool = False) -> bool:
    if value == "" or _NON_STRING.match(value):
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
        raise EditError(
            f"line {node.start_mark.line + 1}: the image value is a block scalar "
            f"({style}); promoter rewrites only plain or quoted scalars",
            hint="write the value on one line, e.g. `tag: \"1.2.3\"`",
        )
    return format_new(value, in_flow=in_flow)
