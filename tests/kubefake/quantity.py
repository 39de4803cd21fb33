"""Resource quantities in the canonical form the API server stores.

Follows k8s.io/apimachinery/pkg/api/resource (Quantity): parse
`<signed number><suffix>`, round up to nano precision, then print in the
format of the input (binary SI, decimal SI or decimal exponent) with the
largest suffix that keeps the mantissa an integer: `0.5` -> `500m`,
`1000m` -> `1`, `1536Mi` -> `1536Mi`, `1024Mi` -> `1Gi`, `2000` -> `2k`,
binary values below 1024 or not whole bytes fall back to decimal SI
(`0.5Ki` -> `512`).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, localcontext

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_QUANTITY = re.compile(rf"^({_NUMBER})(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|m|k|M|G|T|P|E|)$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {
    -9: "n",
    -6: "u",
    -3: "m",
    0: "",
    3: "k",
    6: "M",
    9: "G",
    12: "T",
    15: "P",
    18: "E",
}


class QuantityError(ValueError):
    """Not a quantity the API server would accept."""


def parse(text: str) -> tuple[Decimal, str]:
    """(value, format) where format is "BinarySI", "DecimalSI" or "DecimalExponent"."""
    match = _QUANTITY.match(text.strip())
    if not match:
        raise QuantityError(f"quantities must match the regular expression {_QUANTITY.pattern!r}")
    number, suffix = match.groups()
    with localcontext() as ctx:
        ctx.prec = 60
        value = Decimal(number)
        if suffix in _BINARY:
            return value * (Decimal(1024) ** _BINARY[suffix]), "BinarySI"
        if suffix[:1] in ("e", "E") and suffix not in _DECIMAL:
            return value.scaleb(int(suffix[1:])), "DecimalExponent"
        return value.scaleb(_DECIMAL[suffix]), "DecimalSI"


def canonical(raw: object) -> str:
    """The string the API server would store for `raw` (a string or a YAML number)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise QuantityError(f"cannot convert {type(raw).__name__} to a quantity")
    text = raw if isinstance(raw, str) else repr(raw)
    value, fmt = parse(text)
    with localcontext() as ctx:
        ctx.prec = 60
        # No precision below 1n: round up, as Quantity.RoundUp(Nano) does.
        value = value.quantize(Decimal("1e-9"), rounding=ROUND_CEILING)
        if value == 0:
            return "0"
        if fmt == "BinarySI":
            if abs(value) < 1024 or value != value.to_integral_value():
                fmt = "DecimalSI"
            else:
                power = 0
                while power < 6 and value % (Decimal(1024) ** (power + 1)) == 0:
                    power += 1
                mantissa = int(value / (Decimal(1024) ** power))
                suffix = {0: ""} | {v: k for k, v in _BINARY.items()}
                return f"{mantissa}{suffix[power]}"
        exponent = -9
        for candidate in range(18, -10, -3):
            scaled = value.scaleb(-candidate)
            if scaled == scaled.to_integral_value():
                exponent = candidate
                break
        mantissa = int(value.scaleb(-exponent))
        if fmt == "DecimalExponent":
            return f"{mantissa}e{exponent}" if exponent else str(mantissa)
        return f"{mantissa}{_DECIMAL_SUFFIX[exponent]}"
