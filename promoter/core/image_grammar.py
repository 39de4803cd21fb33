"""The grammar of image references, as checks that never raise.

distribution/reference's grammar (reference.go) with docker's rules for
telling a registry host from a path (normalize.go), and the OCI image-spec's
digest grammar; `promoter.core.images` has the grammar written out and the
`ImageRef` built on these checks.

Each check returns a `RefProblem` (what is wrong, quoting the offending
part, and how to fix it) instead of raising, so that `looks_like_reference`
(called on every YAML scalar while scanning files) pays for no exceptions and
always agrees with `parse_reference`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

_NAME_MAX = 255  # distribution's NameTotalLengthMax
_TAG_MAX = 128

# Explicit ASCII classes throughout: Python's \w and str.isdigit() accept
# Unicode letters and digits, which the grammar (and registries) do not.
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_LABEL = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?")
_IPV6_CHARS = re.compile(r"[a-fA-F0-9:]+")
_PORT = re.compile(r"[0-9]+")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ALGORITHM = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*")
_LOWER_HEX = re.compile(r"[a-f0-9]+")
_ANY_HEX = re.compile(r"[a-fA-F0-9]+")
_ENCODED = re.compile(r"[a-zA-Z0-9=_-]+")
_IMAGE_ID = re.compile(r"[a-f0-9]{64}")

# The first character that can never appear in the given part. Checked before
# any structural parsing so that stray whitespace or shell syntax gets a
# message about that character, not about some grammar rule it happens to break.
_NOT_REFERENCE_CHAR = re.compile(r"[^A-Za-z0-9._:/@+=\[\]-]")
_NOT_NAME_CHAR = re.compile(r"[^A-Za-z0-9._:/\[\]-]")
_NOT_TAG_CHAR = re.compile(r"[^A-Za-z0-9_.-]")
_NOT_DIGEST_CHAR = re.compile(r"[^A-Za-z0-9:+._=-]")

_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha512": 128}

_EXAMPLE = "'ghcr.io/acme/api:1.4.2'"
_SHAPE = "an image reference is [registry[:port]/]path[:tag][@algorithm:digest]"


class RefProblem(NamedTuple):
    """What is wrong (quoting the offending part) and how to fix it."""

    what: str
    hint: str


class RefParts(NamedTuple):
    repository: str
    tag: str | None
    digest: str | None


def _char_problem(
    value: str, bad: re.Pattern[str], subject: str, allowed: str
) -> RefProblem | None:
    found = bad.search(value)
    if found is None:
        return None
    ch, at = found.group(), found.start()
    if ch.isspace():
        return RefProblem(
            f"{subject} contains whitespace ({ch!r} at position {at})",
            "remove spaces, tabs and line breaks; values taken from YAML, files or shell "
            "variables often carry a stray trailing newline or space",
        )
    hint = f"only {allowed} are allowed"
    if any(c in value for c in "${}%<>"):
        hint += "; this looks like an unexpanded variable or template - render it first"
    return RefProblem(f"{subject} contains {ch!r} (at position {at}), which is not allowed", hint)


def tag_problem(tag: str) -> RefProblem | None:
    if not tag:
        return RefProblem(
            f"tag {tag!r} is empty", "write a tag such as '1.4.2', or leave the tag out"
        )
    bad = _char_problem(tag, _NOT_TAG_CHAR, f"tag {tag!r}", "letters, digits, '_', '.' and '-'")
    if bad is not None:
        return bad
    if tag[0] in ".-":
        return RefProblem(
            f"tag {tag!r} starts with {tag[0]!r}; a tag must start with a letter, digit or '_'",
            f"drop the leading {tag[0]!r}",
        )
    if len(tag) > _TAG_MAX:
        return RefProblem(
            f"tag {tag!r} is {len(tag)} characters long; the limit is {_TAG_MAX}",
            f"use a tag of at most {_TAG_MAX} characters",
        )
    assert _TAG.fullmatch(tag), tag  # the checks above cover the whole grammar
    return None


def digest_problem(digest: str) -> RefProblem | None:
    example = "write it as 'sha256:' followed by 64 lowercase hex digits"
    if not digest:
        return RefProblem(f"digest {digest!r} is empty", example)
    bad = _char_problem(
        digest,
        _NOT_DIGEST_CHAR,
        f"digest {digest!r}",
        "letters, digits, ':', '+', '.', '_', '=' and '-'",
    )
    if bad is not None:
        return bad
    algorithm, colon, encoded = digest.partition(":")
    if not colon:
        return RefProblem(f"digest {digest!r} has no ':' between algorithm and value", example)
    if not algorithm:
        return RefProblem(f"digest {digest!r} has no algorithm before ':'", example)
    if not _ALGORITHM.fullmatch(algorithm):
        return RefProblem(
            f"digest {digest!r} has an invalid algorithm {algorithm!r}",
            "an algorithm is lowercase letters and digits, optionally joined by "
            "'+', '.', '_' or '-' (e.g. 'sha256')",
        )
    if not encoded:
        return RefProblem(f"digest {digest!r} has no value after ':'", example)
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is not None:
        if not _LOWER_HEX.fullmatch(encoded):
            if _ANY_HEX.fullmatch(encoded):
                what = f"digest {digest!r} uses uppercase hex digits"
                hint = f"{algorithm} digests are written in lowercase: {digest.lower()!r}"
            else:
                ch = next(c for c in encoded if c not in "0123456789abcdef")
                what = f"digest {digest!r} contains {ch!r}, which is not a hex digit"
                hint = f"a {algorithm} digest is exactly {expected} lowercase hex digits"
            return RefProblem(what, hint)
        if len(encoded) != expected:
            return RefProblem(
                f"digest {digest!r} has {len(encoded)} hex digits after '{algorithm}:'; "
                f"{algorithm} needs exactly {expected}",
                "copy the full digest (e.g. from `docker buildx imagetools inspect` or your "
                "build's output); it may have been truncated",
            )
        return None
    if not _ENCODED.fullmatch(encoded):
        ch = next(c for c in encoded if not _ENCODED.fullmatch(c))
        return RefProblem(
            f"digest {digest!r} contains {ch!r} in its value",
            "a digest value is letters, digits, '=', '_' and '-'",
        )
    if len(encoded) < 32:
        return RefProblem(
            f"digest {digest!r} has a {len(encoded)}-character value; at least 32 are needed",
            "copy the full digest; it may have been truncated",
        )
    return None


def split_name(name: str) -> tuple[str | None, str]:
    """(domain or None, path), by docker's rule for spotting a registry host."""
    slash = name.find("/")
    if slash == -1:
        return None, name
    first = name[:slash]
    # "[" cannot start a path component, so treating it as a host only makes
    # the error about a malformed IPv6 literal clearer.
    if "." in first or ":" in first or first == "localhost" or first.startswith("["):
        return first, name[slash + 1 :]
    return None, name


def _domain_problem(domain: str) -> RefProblem | None:
    hint_ipv6 = "write an IPv6 registry host in brackets, e.g. '[::1]:5000/app'"
    if domain.startswith("["):
        end = domain.find("]")
        if end == -1:
            return RefProblem(
                f"registry host {domain!r} opens '[' without a closing ']'", hint_ipv6
            )
        host, rest = domain[: end + 1], domain[end + 1 :]
        if not _is_ipv6(host[1:-1]):
            return RefProblem(f"registry host {host!r} is not a valid IPv6 address", hint_ipv6)
        if not rest:
            return None
        if not rest.startswith(":"):
            return RefProblem(
                f"registry {domain!r} has {rest!r} after the IPv6 address",
                "only ':port' may follow the closing ']'",
            )
        return _port_problem(domain, rest[1:])
    host, colon, port = domain.partition(":")
    if not all(_DOMAIN_LABEL.fullmatch(label) for label in host.split(".")):
        return RefProblem(
            f"registry host {host!r} is not a valid host name",
            "a host name is dot-separated labels of letters, digits and '-', each starting "
            "and ending with a letter or digit (underscores are not allowed)",
        )
    return _port_problem(domain, port) if colon else None


def _port_problem(domain: str, port: str) -> RefProblem | None:
    if _PORT.fullmatch(port):
        return None
    if not port:
        return RefProblem(
            f"registry {domain!r} has ':' but no port number after it",
            "write the port (e.g. ':5000') or remove the ':'",
        )
    return RefProblem(
        f"registry port {port!r} in {domain!r} is not a number",
        "a port is digits only, e.g. 'registry.example.com:5000/team/app'",
    )


def _is_ipv6(text: str) -> bool:
    # The character check keeps out what ipaddress would accept but the
    # grammar does not: zone ids ("%eth0") and embedded dotted IPv4.
    if not _IPV6_CHARS.fullmatch(text):
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def image_name_problem(name: str) -> RefProblem | None:
    if not name:
        return RefProblem(
            "the repository name is missing",
            f"write the repository before any tag or digest, e.g. {_EXAMPLE}",
        )
    bad = _char_problem(
        name,
        _NOT_NAME_CHAR,
        f"repository {name!r}",
        "letters, digits, '.', '_', '-', '/' and a ':port' on the registry host",
    )
    if bad is not None:
        return bad
    if len(name) > _NAME_MAX:
        return RefProblem(
            f"the repository name is {len(name)} characters long; the limit is {_NAME_MAX}",
            "use a shorter repository name",
        )
    if name.startswith("/"):
        return RefProblem(f"repository {name!r} starts with '/'", "remove the leading '/'")
    if name.endswith("/"):
        return RefProblem(f"repository {name!r} ends with '/'", "remove the trailing '/'")
    if "//" in name:
        return RefProblem(
            f"repository {name!r} contains '//' (an empty path component)",
            "use a single '/' between components",
        )
    if name.startswith("[") and "/" not in name:
        return RefProblem(
            f"repository {name!r} is a registry host with no repository path after it",
            "add the path after the host, e.g. '[::1]:5000/app'",
        )
    domain, path = split_name(name)
    if domain is not None:
        problem = _domain_problem(domain)
        if problem is not None:
            return problem
    if path != path.lower():
        lowered = path.lower() if domain is None else f"{domain}/{path.lower()}"
        hint = f"write it as {lowered!r}"
        first = path.split("/", 1)[0]
        if domain is None and "/" in path and first != first.lower():
            hint += (
                f"; if {first!r} is meant to be a registry host, note that a host is only "
                "recognised when it contains '.' or ':' or is 'localhost'"
            )
        return RefProblem(
            f"repository path {path!r} contains uppercase letters; "
            "repository names must be lowercase",
            hint,
        )
    for component in path.split("/"):
        if not _PATH_COMPONENT.fullmatch(component):
            hint = (
                "path components are lowercase letters and digits, optionally separated by "
                "'.', '_', '__' or dashes, and start and end with a letter or digit"
            )
            if ":" in component:
                hint += "; ':' may only appear before a registry port or before the tag"
            if "[" in component or "]" in component:
                hint += "; brackets only go around an IPv6 registry host followed by '/path'"
            return RefProblem(f"repository path component {component!r} is invalid", hint)
    # docker refuses these so that an image ID is never mistaken for a name.
    if _IMAGE_ID.fullmatch(name):
        return RefProblem(
            f"repository {name!r} is 64 hex digits, which is an image ID, not a name",
            "to pin a digest write 'repository@sha256:<hex>'",
        )
    return None


def split_reference(text: str) -> RefParts | RefProblem:
    """Split and check `text`; never raises."""
    if not text:
        return RefProblem("it is empty", f"write an image reference, e.g. {_EXAMPLE}")
    bad = _char_problem(
        text,
        _NOT_REFERENCE_CHAR,
        "it",
        "letters, digits and '.', '_', '-', ':', '/', '@' (" + _SHAPE + ")",
    )
    if bad is not None:
        return bad
    # '@' appears in no part except as the digest separator, so the first one
    # splits unambiguously.
    name_and_tag, at, digest = text.partition("@")
    if at and not digest:
        return RefProblem(
            "it ends with '@' but has no digest after it", "add the digest or drop '@'"
        )
    if "@" in digest:
        return RefProblem("it contains more than one '@'", _SHAPE)
    if name_and_tag.startswith("[") and "/" not in name_and_tag:
        # Without this the last ':' inside the brackets would be read as a tag.
        return RefProblem(
            "it is a registry host with no repository path after it",
            "add the path after the host, e.g. '[::1]:5000/app:1.0'",
        )
    if "[" in text or "]" in text:
        # Brackets belong only around an IPv6 host; elsewhere they would upset
        # the tag split below (the ':'s inside look like a tag separator).
        head = name_and_tag.split("/", 1)[0]
        stray = next(
            (
                ch
                for i, ch in enumerate(text)
                if (ch == "[" and i != 0) or (ch == "]" and i >= len(head))
            ),
            None,
        )
        if stray is None and text.count("]") > 1:
            stray = "]"
        if stray is not None:
            return RefProblem(
                f"it contains {stray!r} outside an IPv6 registry host",
                "brackets may only enclose an IPv6 address at the very start, "
                "e.g. '[::1]:5000/app'",
            )
    # A tag is introduced by the last ':' after the last '/'; any earlier ':'
    # is a registry port ("localhost:5000/app" has no tag).
    colon = name_and_tag.rfind(":")
    tag: str | None = None
    name = name_and_tag
    if colon > name_and_tag.rfind("/"):
        name, tag = name_and_tag[:colon], name_and_tag[colon + 1 :]
        if not tag:
            return RefProblem(
                "it has ':' but no tag after it",
                "write the tag after the ':' (e.g. ':1.4.2') or remove the ':'",
            )
    problem = image_name_problem(name)
    if problem is None and tag is not None:
        problem = tag_problem(tag)
    if problem is None and at:
        problem = digest_problem(digest)
    if problem is not None:
        return problem
    return RefParts(name, tag, digest if at else None)
