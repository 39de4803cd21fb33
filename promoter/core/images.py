"""Image references: parsing, validation and normalisation.

The grammar is distribution/reference's (reference.go), with docker's rules
for telling a registry host from a path and for Docker Hub names
(normalize.go), and the OCI image-spec's digest grammar:

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path                    (at most 255 characters)
    domain     := host [ ":" port ]
    host       := domain-name | "[" IPv6 address "]"
    port       := [0-9]+
    path       := component ( "/" component )*
    component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" encoded
    algorithm  := [a-z0-9]+ ( [+._-] [a-z0-9]+ )*
    encoded    := sha256: [a-f0-9]{64} | sha512: [a-f0-9]{128} | other: [a-zA-Z0-9=_-]{32,}

The first component of a name is a registry host only when it contains "." or
":", is exactly "localhost", or is a bracketed IPv6 literal; otherwise the
image lives on Docker Hub. So `nginx`, `docker.io/nginx`,
`index.docker.io/library/nginx` and `docker.io/library/nginx` all name the
same image, while `localhost:5000/app:1.2` is repository `localhost:5000/app`
with tag `1.2`.

Repositories are always kept exactly as written (files are edited by splicing
text, so rewriting `nginx` to `docker.io/library/nginx` would be an unasked-for
change); only `ImageRef.canonical` / `normalise_repository` normalise, for
matching.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from promoter.errors import ImageRefError

__all__ = [
    "DEFAULT_REGISTRY",
    "ImageRef",
    "format_reference",
    "looks_like_reference",
    "normalise_repository",
    "parse_reference",
    "parse_repository",
    "validate_digest",
    "validate_tag",
]

DEFAULT_REGISTRY = "docker.io"
"""Where a repository with no registry host lives (Docker Hub)."""

# Docker Hub answers under several names; all of them mean the same images.
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
# Docker Hub's single-component names are the "official images" namespace.
_OFFICIAL_PREFIX = "library/"

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


class _Problem(NamedTuple):
    """What is wrong (quoting the offending part) and how to fix it."""

    what: str
    hint: str


class _Parts(NamedTuple):
    repository: str
    tag: str | None
    digest: str | None


# --------------------------------------------------------------------------- checks
# Each returns a _Problem instead of raising, so that `looks_like_reference`
# (called on every YAML scalar while scanning files) pays for no exceptions
# and always agrees with `parse_reference`.


def _char_problem(value: str, bad: re.Pattern[str], subject: str, allowed: str) -> _Problem | None:
    found = bad.search(value)
    if found is None:
        return None
    ch, at = found.group(), found.start()
    if ch.isspace():
        return _Problem(
            f"{subject} contains whitespace ({ch!r} at position {at})",
            "remove spaces, tabs and line breaks; values taken from YAML, files or shell "
            "variables often carry a stray trailing newline or space",
        )
    hint = f"only {allowed} are allowed"
    if any(c in value for c in "${}%<>"):
        hint += "; this looks like an unexpanded variable or template - render it first"
    return _Problem(f"{subject} contains {ch!r} (at position {at}), which is not allowed", hint)


def _tag_problem(tag: str) -> _Problem | None:
    if not tag:
        return _Problem(
            f"tag {tag!r} is empty", "write a tag such as '1.4.2', or leave the tag out"
        )
    bad = _char_problem(tag, _NOT_TAG_CHAR, f"tag {tag!r}", "letters, digits, '_', '.' and '-'")
    if bad is not None:
        return bad
    if tag[0] in ".-":
        return _Problem(
            f"tag {tag!r} starts with {tag[0]!r}; a tag must start with a letter, digit or '_'",
            f"drop the leading {tag[0]!r}",
        )
    if len(tag) > _TAG_MAX:
        return _Problem(
            f"tag {tag!r} is {len(tag)} characters long; the limit is {_TAG_MAX}",
            f"use a tag of at most {_TAG_MAX} characters",
        )
    assert _TAG.fullmatch(tag), tag  # the checks above cover the whole grammar
    return None


def _digest_problem(digest: str) -> _Problem | None:
    example = "write it as 'sha256:' followed by 64 lowercase hex digits"
    if not digest:
        return _Problem(f"digest {digest!r} is empty", example)
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
        return _Problem(f"digest {digest!r} has no ':' between algorithm and value", example)
    if not algorithm:
        return _Problem(f"digest {digest!r} has no algorithm before ':'", example)
    if not _ALGORITHM.fullmatch(algorithm):
        return _Problem(
            f"digest {digest!r} has an invalid algorithm {algorithm!r}",
            "an algorithm is lowercase letters and digits, optionally joined by "
            "'+', '.', '_' or '-' (e.g. 'sha256')",
        )
    if not encoded:
        return _Problem(f"digest {digest!r} has no value after ':'", example)
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
            return _Problem(what, hint)
        if len(encoded) != expected:
            return _Problem(
                f"digest {digest!r} has {len(encoded)} hex digits after '{algorithm}:'; "
                f"{algorithm} needs exactly {expected}",
                "copy the full digest (e.g. from `docker buildx imagetools inspect` or your "
                "build's output); it may have been truncated",
            )
        return None
    if not _ENCODED.fullmatch(encoded):
        ch = next(c for c in encoded if not _ENCODED.fullmatch(c))
        return _Problem(
            f"digest {digest!r} contains {ch!r} in its value",
            "a digest value is letters, digits, '=', '_' and '-'",
        )
    if len(encoded) < 32:
        return _Problem(
            f"digest {digest!r} has a {len(encoded)}-character value; at least 32 are needed",
            "copy the full digest; it may have been truncated",
        )
    return None


def _split_name(name: str) -> tuple[str | None, str]:
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


def _domain_problem(domain: str) -> _Problem | None:
    hint_ipv6 = "write an IPv6 registry host in brackets, e.g. '[::1]:5000/app'"
    if domain.startswith("["):
        end = domain.find("]")
        if end == -1:
            return _Problem(f"registry host {domain!r} opens '[' without a closing ']'", hint_ipv6)
        host, rest = domain[: end + 1], domain[end + 1 :]
        if not _is_ipv6(host[1:-1]):
            return _Problem(f"registry host {host!r} is not a valid IPv6 address", hint_ipv6)
        if not rest:
            return None
        if not rest.startswith(":"):
            return _Problem(
                f"registry {domain!r} has {rest!r} after the IPv6 address",
                "only ':port' may follow the closing ']'",
            )
        return _port_problem(domain, rest[1:])
    host, colon, port = domain.partition(":")
    if not all(_DOMAIN_LABEL.fullmatch(label) for label in host.split(".")):
        return _Problem(
            f"registry host {host!r} is not a valid host name",
            "a host name is dot-separated labels of letters, digits and '-', each starting "
            "and ending with a letter or digit (underscores are not allowed)",
        )
    return _port_problem(domain, port) if colon else None


def _port_problem(domain: str, port: str) -> _Problem | None:
    if _PORT.fullmatch(port):
        return None
    if not port:
        return _Problem(
            f"registry {domain!r} has ':' but no port number after it",
            "write the port (e.g. ':5000') or remove the ':'",
        )
    return _Problem(
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


def _name_problem(name: str) -> _Problem | None:
    if not name:
        return _Problem(
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
        return _Problem(
            f"the repository name is {len(name)} characters long; the limit is {_NAME_MAX}",
            "use a shorter repository name",
        )
    if name.startswith("/"):
        return _Problem(f"repository {name!r} starts with '/'", "remove the leading '/'")
    if name.endswith("/"):
        return _Problem(f"repository {name!r} ends with '/'", "remove the trailing '/'")
    if "//" in name:
        return _Problem(
            f"repository {name!r} contains '//' (an empty path component)",
            "use a single '/' between components",
        )
    if name.startswith("[") and "/" not in name:
        return _Problem(
            f"repository {name!r} is a registry host with no repository path after it",
            "add the path after the host, e.g. '[::1]:5000/app'",
        )
    domain, path = _split_name(name)
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
        return _Problem(
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
            return _Problem(f"repository path component {component!r} is invalid", hint)
    # docker refuses these so that an image ID is never mistaken for a name.
    if _IMAGE_ID.fullmatch(name):
        return _Problem(
            f"repository {name!r} is 64 hex digits, which is an image ID, not a name",
            "to pin a digest write 'repository@sha256:<hex>'",
        )
    return None


def _split_reference(text: str) -> _Parts | _Problem:
    """Split and check `text`; never raises."""
    if not text:
        return _Problem("it is empty", f"write an image reference, e.g. {_EXAMPLE}")
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
        return _Problem("it ends with '@' but has no digest after it", "add the digest or drop '@'")
    if "@" in digest:
        return _Problem("it contains more than one '@'", _SHAPE)
    if name_and_tag.startswith("[") and "/" not in name_and_tag:
        # Without this the last ':' inside the brackets would be read as a tag.
        return _Problem(
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
            return _Problem(
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
            return _Problem(
                "it has ':' but no tag after it",
                "write the tag after the ':' (e.g. ':1.4.2') or remove the ':'",
            )
    problem = _name_problem(name)
    if problem is None and tag is not None:
        problem = _tag_problem(tag)
    if problem is None and at:
        problem = _digest_problem(digest)
    if problem is not None:
        return problem
    return _Parts(name, tag, digest if at else None)


def _require_str(value: object, what: str) -> None:
    # YAML hands over numbers and booleans for unquoted scalars (`tag: 1.10`
    # is the float 1.1); say so instead of failing with a TypeError.
    if not isinstance(value, str):
        raise ImageRefError(
            f"{what} must be a string, got {type(value).__name__} {value!r}",
            hint='quote it in YAML (e.g. tag: "1.10"); unquoted it is read as a number',
        )


# --------------------------------------------------------------------------- API


@dataclass(frozen=True)
class ImageRef:
    """A validated image reference: repository (as written), tag, digest.

    Construction validates every part and raises ImageRefError, so an
    ImageRef always prints as a reference that parses back to itself.
    """

    repository: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        _require_str(self.repository, "image repository")
        problem = _name_problem(self.repository)
        if problem is not None:
            raise ImageRefError(
                f"invalid image repository {self.repository!r}: {problem.what}",
                hint=problem.hint,
            )
        if self.tag is not None:
            validate_tag(self.tag)
        if self.digest is not None:
            validate_digest(self.digest)

    @property
    def registry(self) -> str:
        """The registry host[:port], lowercased; "docker.io" when none is written."""
        return _normalise(self.repository)[0]

    @property
    def path(self) -> str:
        """The repository path without the registry ("library/nginx" for "nginx")."""
        return _normalise(self.repository)[1]

    @property
    def canonical(self) -> str:
        """The fully qualified repository, for matching: "docker.io/library/nginx"."""
        registry, path = _normalise(self.repository)
        return f"{registry}/{path}"

    def same_repository(self, other: ImageRef | str) -> bool:
        """Do both name the same repository (tags and digests ignored)?

        A string may be a repository or a whole reference; an invalid one
        raises ImageRefError.
        """
        if isinstance(other, str):
            other = _parse_cached(other)
        return self.canonical == other.canonical

    def with_version(self, tag: str | None, digest: str | None) -> ImageRef:
        """The same repository (as written) at a new tag and/or digest."""
        return ImageRef(self.repository, tag, digest)

    def __str__(self) -> str:
        out = self.repository
        if self.tag is not None:
            out += f":{self.tag}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out


@lru_cache(maxsize=4096)
def _normalise(repository: str) -> tuple[str, str]:
    """(registry, path) of an already validated repository."""
    domain, path = _split_name(repository)
    # Host names are case-insensitive (so is IPv6 hex); paths are not.
    registry = DEFAULT_REGISTRY if domain is None else domain.lower()
    if registry in _DOCKER_HUB_ALIASES:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = _OFFICIAL_PREFIX + path
    return registry, path


def parse_reference(text: str) -> ImageRef:
    """Parse "[host[:port]/]path[:tag][@digest]"; raises ImageRefError."""
    _require_str(text, "an image reference")
    parts = _split_reference(text)
    if isinstance(parts, _Problem):
        raise ImageRefError(f"invalid image reference {text!r}: {parts.what}", hint=parts.hint)
    return ImageRef(*parts)


# Matching compares one configured repository with many scalars: parse it once.
_parse_cached = lru_cache(maxsize=1024)(parse_reference)


def parse_repository(text: str) -> str:
    """Check that `text` is a repository with no tag or digest; return it as written."""
    _require_str(text, "an image repository")
    parts = _split_reference(text)
    if isinstance(parts, _Problem):
        raise ImageRefError(f"invalid image repository {text!r}: {parts.what}", hint=parts.hint)
    repository, tag, digest = parts
    if digest is not None:
        drop = f"'@{digest}'" if tag is None else f"':{tag}@{digest}'"
        raise ImageRefError(
            f"invalid image repository {text!r}: a repository must not include a digest; "
            f"drop {drop}, leaving {repository!r}",
            hint="give the bare repository here; tags and digests are set separately",
        )
    if tag is not None:
        hint = "give the bare repository here; tags and digests are set separately"
        if "." in repository or repository == "localhost":
            # "localhost:5000" parses as repository "localhost", tag "5000".
            hint = (
                f"if {text!r} is a registry host and port, add the repository path after it, "
                f"e.g. '{text}/app'"
            )
        raise ImageRefError(
            f"invalid image repository {text!r}: a repository must not include a tag; "
            f"drop ':{tag}', leaving {repository!r}",
            hint=hint,
        )
    return repository


def normalise_repository(repository: str) -> str:
    """The canonical name of a repository, for matching.

    The registry host is lowercased and Docker Hub's aliases become
    "docker.io"; a single-component Docker Hub path gains "library/".
    `nginx`, `docker.io/nginx` and `index.docker.io/library/nginx` all give
    "docker.io/library/nginx". Raises ImageRefError if `repository` is not a
    bare repository.
    """
    registry, path = _normalise(parse_repository(repository))
    return f"{registry}/{path}"


def validate_tag(tag: str) -> str:
    """Return `tag` if it is a valid tag; raise ImageRefError otherwise."""
    _require_str(tag, "an image tag")
    problem = _tag_problem(tag)
    if problem is not None:
        raise ImageRefError(f"invalid image tag: {problem.what}", hint=problem.hint)
    return tag


def validate_digest(digest: str) -> str:
    """Return `digest` if it is a valid "algorithm:encoded" digest; raise otherwise."""
    _require_str(digest, "an image digest")
    problem = _digest_problem(digest)
    if problem is not None:
        raise ImageRefError(f"invalid image digest: {problem.what}", hint=problem.hint)
    return digest


def format_reference(repository: str, tag: str | None, digest: str | None) -> str:
    """Format `repository[:tag][@digest]`, validating every part (raises ImageRefError)."""
    return str(ImageRef(repository, tag, digest))


def looks_like_reference(text: str) -> bool:
    """True exactly when `parse_reference(text)` would succeed; never raises.

    Note that every bare lowercase word ("nginx", "true", "3") is a valid
    reference to a Docker Hub image, so callers scanning YAML must still match
    the repository they are looking for.
    """
    return isinstance(text, str) and isinstance(_split_reference(text), _Parts)
