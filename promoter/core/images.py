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

from dataclasses import dataclass
from functools import lru_cache

from promoter.core.image_grammar import (
    RefParts,
    RefProblem,
    digest_problem,
    image_name_problem,
    split_name,
    split_reference,
    tag_problem,
)
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
        problem = image_name_problem(self.repository)
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
    domain, path = split_name(repository)
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
    parts = split_reference(text)
    if isinstance(parts, RefProblem):
        raise ImageRefError(f"invalid image reference {text!r}: {parts.what}", hint=parts.hint)
    return ImageRef(*parts)


def reference_or_none(text: str | None) -> ImageRef | None:
    """`text` parsed, or None when it is empty or not a reference (a
    hand-written trailer, say): for readers that show what they can."""
    if not text:
        return None
    try:
        return parse_reference(text)
    except ImageRefError:
        return None


# Matching compares one configured repository with many scalars: parse it once.
_parse_cached = lru_cache(maxsize=1024)(parse_reference)


def parse_repository(text: str) -> str:
    """Check that `text` is a repository with no tag or digest; return it as written."""
    _require_str(text, "an image repository")
    parts = split_reference(text)
    if isinstance(parts, RefProblem):
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
    problem = tag_problem(tag)
    if problem is not None:
        raise ImageRefError(f"invalid image tag: {problem.what}", hint=problem.hint)
    return tag


def validate_digest(digest: str) -> str:
    """Return `digest` if it is a valid "algorithm:encoded" digest; raise otherwise."""
    _require_str(digest, "an image digest")
    problem = digest_problem(digest)
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
    return isinstance(text, str) and isinstance(split_reference(text), RefParts)
