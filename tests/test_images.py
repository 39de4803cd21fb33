"""Image references: grammar, normalisation, error messages."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from promoter.core.images import (
    ImageRef,
    format_reference,
    looks_like_reference,
    normalise_repository,
    parse_reference,
    parse_repository,
    validate_digest,
    validate_tag,
)
from promoter.errors import ExitCode, ImageRefError, InputError

SHA256 = "sha256:" + "0123456789abcdef" * 4
SHA512 = "sha512:" + "fedcba9876543210" * 8
OTHER_DIGEST = "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564"  # OCI spec example


def _error(call: object, *args: object) -> ImageRefError:
    assert callable(call)
    with pytest.raises(ImageRefError) as info:
        call(*args)
    return info.value


# ------------------------------------------------------------------ valid references

# text, repository, tag, digest, registry, path
VALID = [
    ("nginx", "nginx", None, None, "docker.io", "library/nginx"),
    ("nginx:1.25", "nginx", "1.25", None, "docker.io", "library/nginx"),
    ("a:1", "a", "1", None, "docker.io", "library/a"),
    ("library/nginx:latest", "library/nginx", "latest", None, "docker.io", "library/nginx"),
    ("acme/api", "acme/api", None, None, "docker.io", "acme/api"),
    ("foo_bar/baz", "foo_bar/baz", None, None, "docker.io", "foo_bar/baz"),
    ("ghcr.io/acme/api:1.4.2", "ghcr.io/acme/api", "1.4.2", None, "ghcr.io", "acme/api"),
    ("example.com/a", "example.com/a", None, None, "example.com", "a"),
    ("localhost/app", "localhost/app", None, None, "localhost", "app"),
    ("localhost:5000/app", "localhost:5000/app", None, None, "localhost:5000", "app"),
    ("localhost:5000/app:5000", "localhost:5000/app", "5000", None, "localhost:5000", "app"),
    ("localhost:5000/app:1.2", "localhost:5000/app", "1.2", None, "localhost:5000", "app"),
    (
        "registry.example.com:5000/team/worker",
        "registry.example.com:5000/team/worker",
        None,
        None,
        "registry.example.com:5000",
        "team/worker",
    ),
    (f"host:5000/a/b:1@{SHA256}", "host:5000/a/b", "1", SHA256, "host:5000", "a/b"),
    ("127.0.0.1:5000/app:v2", "127.0.0.1:5000/app", "v2", None, "127.0.0.1:5000", "app"),
    ("[::1]:5000/app", "[::1]:5000/app", None, None, "[::1]:5000", "app"),
    ("[::1]/app:v1", "[::1]/app", "v1", None, "[::1]", "app"),
    (
        f"[2001:db8::1]:443/team/app@{SHA256}",
        "[2001:db8::1]:443/team/app",
        None,
        SHA256,
        "[2001:db8::1]:443",
        "team/app",
    ),
    ("[FE80::1]:5000/app", "[FE80::1]:5000/app", None, None, "[fe80::1]:5000", "app"),
    (
        "Registry.Example.COM/team/app",
        "Registry.Example.COM/team/app",
        None,
        None,
        "registry.example.com",
        "team/app",
    ),
    (f"nginx@{SHA256}", "nginx", None, SHA256, "docker.io", "library/nginx"),
    (f"nginx:1@{SHA512}", "nginx", "1", SHA512, "docker.io", "library/nginx"),
    (f"a/b@{OTHER_DIGEST}", "a/b", None, OTHER_DIGEST, "docker.io", "a/b"),
    (
        "a__b/c-d/e---f/g.h/i_j",
        "a__b/c-d/e---f/g.h/i_j",
        None,
        None,
        "docker.io",
        "a__b/c-d/e---f/g.h/i_j",
    ),
    ("localhost", "localhost", None, None, "docker.io", "library/localhost"),
    ("example.com", "example.com", None, None, "docker.io", "library/example.com"),
    ("localhost:5000", "localhost", "5000", None, "docker.io", "library/localhost"),
    ("a:_tag", "a", "_tag", None, "docker.io", "library/a"),
    ("a:V1.0-RC_2", "a", "V1.0-RC_2", None, "docker.io", "library/a"),
    ("a:" + "x" * 128, "a", "x" * 128, None, "docker.io", "library/a"),
    ("docker.io/nginx", "docker.io/nginx", None, None, "docker.io", "library/nginx"),
    ("index.docker.io/acme/api", "index.docker.io/acme/api", None, None, "docker.io", "acme/api"),
    (
        "DOCKER.IO/library/nginx",
        "DOCKER.IO/library/nginx",
        None,
        None,
        "docker.io",
        "library/nginx",
    ),
    ("9/8:7", "9/8", "7", None, "docker.io", "9/8"),
]


@pytest.mark.parametrize(("text", "repository", "tag", "digest", "registry", "path"), VALID)
def test_parse_valid(
    text: str, repository: str, tag: str | None, digest: str | None, registry: str, path: str
) -> None:
    ref = parse_reference(text)
    assert ref == ImageRef(repository, tag, digest)
    assert (ref.repository, ref.tag, ref.digest) == (repository, tag, digest)
    assert ref.registry == registry
    assert ref.path == path
    assert ref.canonical == f"{registry}/{path}"
    assert normalise_repository(repository) == f"{registry}/{path}"


@pytest.mark.parametrize("text", [row[0] for row in VALID])
def test_round_trip(text: str) -> None:
    assert str(parse_reference(text)) == text
    assert looks_like_reference(text)


def test_name_of_255_characters_is_accepted() -> None:
    name = "ghcr.io/" + "a" * (255 - len("ghcr.io/"))
    assert len(name) == 255
    assert parse_reference(name + ":1").repository == name


# ------------------------------------------------------------------ normalisation

NGINX_SPELLINGS = [
    "nginx",
    "nginx:1.25",
    f"nginx@{SHA256}",
    "library/nginx",
    "docker.io/nginx",
    "docker.io/library/nginx",
    "index.docker.io/nginx",
    "index.docker.io/library/nginx:latest",
    "registry-1.docker.io/library/nginx",
    "DOCKER.IO/library/nginx",
    "Index.Docker.IO/nginx",
]


@pytest.mark.parametrize("spelling", NGINX_SPELLINGS)
def test_docker_hub_spellings_are_one_repository(spelling: str) -> None:
    ref = parse_reference(spelling)
    assert ref.canonical == "docker.io/library/nginx"
    assert ref.same_repository("nginx")
    assert parse_reference("docker.io/library/nginx:9").same_repository(ref)
    # The repository is kept as written; only `canonical` normalises.
    assert str(ref) == spelling


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("nginx", "ghcr.io/library/nginx"),
        ("nginx", "localhost/nginx"),
        ("nginx", "nginx2"),
        ("nginx", "library/nginx/x"),
        ("acme/api", "ghcr.io/acme/api"),
        ("acme/api", "library/acme/api"),
        ("localhost:5000/app", "localhost:5001/app"),
        ("localhost:5000/app", "localhost/app"),
        ("docker.io:443/nginx", "nginx"),  # a port makes it another host
        ("docker.io.evil.com/nginx", "nginx"),
        ("ghcr.io/acme/api", "ghcr.io/acme/api-worker"),
        ("[::1]:5000/app", "[::2]:5000/app"),
    ],
)
def test_different_repositories_do_not_match(left: str, right: str) -> None:
    assert not parse_reference(left).same_repository(right)
    assert not parse_reference(right).same_repository(parse_reference(left))
    assert normalise_repository(left) != normalise_repository(right)


@pytest.mark.parametrize(
    ("repository", "canonical"),
    [
        ("nginx", "docker.io/library/nginx"),
        ("acme/api", "docker.io/acme/api"),
        ("GHCR.io/acme/api", "ghcr.io/acme/api"),
        ("localhost:5000/app", "localhost:5000/app"),
        ("localhost/app", "localhost/app"),
        ("[FE80::1]:5000/a/b", "[fe80::1]:5000/a/b"),
        ("registry-1.docker.io/x", "docker.io/library/x"),
        ("registry-1.docker.io:5000/x", "registry-1.docker.io:5000/x"),
    ],
)
def test_normalise_repository(repository: str, canonical: str) -> None:
    assert normalise_repository(repository) == canonical
    assert ImageRef(repository).canonical == canonical


def test_same_repository_ignores_tag_and_digest_of_a_string() -> None:
    ref = parse_reference("ghcr.io/acme/api:1.0")
    assert ref.same_repository(f"GHCR.IO/acme/api:2.0@{SHA256}")


def test_same_repository_rejects_an_invalid_string() -> None:
    err = _error(parse_reference("nginx").same_repository, "Nginx")
    assert "'Nginx'" in err.message


# ------------------------------------------------------------------ invalid references

WHITESPACE = [
    " nginx",
    "nginx ",
    "nginx\n",
    "nginx:1.0\r\n",
    "\tnginx",
    "ngi nx",
    "nginx:1 .0",
    "ghcr.io/acme/api:1.0\r",
    "nginx\u00a0",
    f"nginx@{SHA256}\n",
    "ghcr.io /acme/api",
]


@pytest.mark.parametrize("text", WHITESPACE)
def test_whitespace_is_rejected(text: str) -> None:
    err = _error(parse_reference, text)
    assert repr(text) in err.message
    assert "whitespace" in err.message
    # repr() keeps the message on one line, with the culprit visible.
    assert "\n" not in err.message and "\r" not in err.message
    assert not looks_like_reference(text)


SHELL = list(";|&$`<>()'\"\\*?!{}#~%^,")


@pytest.mark.parametrize("ch", SHELL)
@pytest.mark.parametrize("template", ["nginx{}", "{}nginx", "nginx:1.0{}rm", "ghcr.io/a{}b/c"])
def test_shell_metacharacters_are_rejected(ch: str, template: str) -> None:
    text = template.replace("{}", ch)
    err = _error(parse_reference, text)
    assert repr(text) in err.message
    assert repr(ch) in err.message
    assert "not allowed" in err.message
    assert err.hint
    assert not looks_like_reference(text)


@pytest.mark.parametrize(
    "text", ["ghcr.io/acme/api:${TAG}", "$IMAGE", "ghcr.io/acme/api:{{.Values.tag}}", "%(x)s"]
)
def test_unexpanded_templates_are_called_out(text: str) -> None:
    err = _error(parse_reference, text)
    assert repr(text) in err.message
    assert err.hint is not None and "unexpanded" in err.hint


# text, a fragment the message must contain
INVALID = [
    ("", "empty"),
    ("nginx:", "no tag"),
    ("nginx@", "no digest"),
    (f"nginx:@{SHA256}", "no tag"),
    ("nginx:1.0:", "no tag"),
    ("/nginx", "starts with '/'"),
    ("nginx/", "ends with '/'"),
    ("a//b", "'//'"),
    ("ghcr.io//a", "'//'"),
    ("//", "starts with '/'"),
    (":1.0", "repository name is missing"),
    (f"@{SHA256}", "repository name is missing"),
    ("Nginx", "must be lowercase"),
    ("acme/API", "must be lowercase"),
    ("ghcr.io/Acme/api:1", "must be lowercase"),
    ("Acme/api", "must be lowercase"),
    ("a" * 256, "256 characters"),
    ("ghcr.io/" + "a" * 248 + ":1", "256 characters"),
    ("nginx:" + "a" * 129, "129 characters"),
    ("nginx:.hidden", "starts with '.'"),
    ("nginx:-rc", "starts with '-'"),
    ("nginx:1+2", "'+'"),
    ("nginx:a=b", "'='"),
    ("nginx:a[0]", "'['"),
    ("nginx:1.0é", "'é'"),
    ("ngïnx", "'ï'"),
    ("nginx\x00", "'\\x00'"),
    ("a:b:c", "'a:b'"),
    ("a/b:c/d", "'b:c'"),
    ("_a", "'_a'"),
    ("a-", "'a-'"),
    ("a_/b", "'a_'"),
    ("a..b", "'a..b'"),
    ("a.-b", "'a.-b'"),
    ("a___b", "'a___b'"),
    ("a+b", "'+'"),
    ("nginx@sha256:aa@sha256:bb", "more than one '@'"),
    ("localhost:/app", "no port"),
    ("localhost:50a0/app", "'50a0'"),
    ("host:5000:6000/app", "'5000:6000'"),
    ("my_registry.com/app", "not a valid host name"),
    ("-bad.com/app", "not a valid host name"),
    ("bad-.com/app", "not a valid host name"),
    ("a..b.com/app", "not a valid host name"),
    (".com/app", "not a valid host name"),
    ("[::1/app", "closing ']'"),
    ("[::g]/app", "not a valid IPv6"),
    ("[1:2:3:4:5:6:7:8:9]/app", "not a valid IPv6"),
    ("[]/app", "not a valid IPv6"),
    ("[::ffff:1.2.3.4]/app", "not a valid IPv6"),
    ("[fe80::1%eth0]/app", "'%'"),
    ("[::1]x/app", "after the IPv6 address"),
    ("[::1]:/app", "no port"),
    ("[::1]:50x/app", "'50x'"),
    ("[::1]", "no repository path"),
    ("[::1]:5000", "no repository path"),
    ("app/[::1]", "'[' outside an IPv6 registry host"),
    ("a[b", "'[' outside an IPv6 registry host"),
    ("[::1]]/app", "']' outside an IPv6 registry host"),
    ("[::1]/a]b", "']' outside an IPv6 registry host"),
    (f"[::1]/app@{SHA256}]", "']' outside an IPv6 registry host"),
    ("0123456789abcdef" * 4, "image ID"),
    # digests
    ("nginx@sha256:" + "a" * 63, "exactly 64"),
    ("nginx@sha256:" + "a" * 65, "exactly 64"),
    ("nginx@sha512:" + "a" * 127, "exactly 128"),
    ("nginx@sha512:" + "a" * 64, "exactly 128"),
    ("nginx@sha256:" + "A" * 64, "uppercase"),
    ("nginx@sha256:" + "g" * 64, "not a hex digit"),
    (f"nginx@{SHA256}:00", "not a hex digit"),
    ("nginx@SHA256:" + "a" * 64, "invalid algorithm"),
    ("nginx@sha-:" + "a" * 64, "invalid algorithm"),
    ("nginx@sha__256:" + "a" * 64, "invalid algorithm"),
    ("nginx@sha256", "no ':'"),
    ("nginx@:" + "a" * 64, "no algorithm"),
    ("nginx@sha256:", "no value"),
    ("nginx@foo:" + "a" * 31, "at least 32"),
    ("nginx@foo:" + "a" * 31 + "+", "'+'"),
]


@pytest.mark.parametrize(("text", "fragment"), INVALID)
def test_invalid_references(text: str, fragment: str) -> None:
    err = _error(parse_reference, text)
    assert repr(text) in err.message
    assert fragment in err.message
    assert err.hint
    assert not looks_like_reference(text)


def test_error_is_an_input_error_with_exit_code_2() -> None:
    err = _error(parse_reference, "nginx:")
    assert isinstance(err, InputError)
    assert err.exit_code is ExitCode.INPUT
    assert int(err.exit_code) == 2
    assert "hint:" in str(err)


def test_uppercase_first_component_hint_explains_host_detection() -> None:
    err = _error(parse_reference, "MyRegistry/app")
    assert err.hint is not None
    assert "'myregistry/app'" in err.hint
    assert "localhost" in err.hint


def test_uppercase_hint_keeps_the_registry_as_written() -> None:
    err = _error(parse_reference, "Ghcr.io/Acme/api")
    assert err.hint is not None and "'Ghcr.io/acme/api'" in err.hint


# ------------------------------------------------------------------ tags and digests


@pytest.mark.parametrize(
    "tag", ["1", "latest", "_", "v1.2.3-rc.1", "A_b-C.d", "x" * 128, "9" * 128]
)
def test_validate_tag_accepts(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize(
    ("tag", "fragment"),
    [
        ("", "empty"),
        ("x" * 129, "129 characters"),
        ("x" * 300, "300 characters"),
        (".1", "starts with '.'"),
        ("-1", "starts with '-'"),
        ("1.0 ", "whitespace"),
        ("1.0\n", "whitespace"),
        ("a/b", "'/'"),
        ("a:b", "':'"),
        ("a@b", "'@'"),
        ("ü", "'ü'"),
        ("1;rm", "';'"),
    ],
)
def test_validate_tag_rejects(tag: str, fragment: str) -> None:
    err = _error(validate_tag, tag)
    assert repr(tag) in err.message
    assert fragment in err.message


def test_tag_length_message_names_the_limit() -> None:
    err = _error(validate_tag, "x" * 129)
    assert "128" in err.message


@pytest.mark.parametrize("digest", [SHA256, SHA512, OTHER_DIGEST, "a.b+c-d_e:" + "Z=_-" * 8])
def test_validate_digest_accepts(digest: str) -> None:
    assert validate_digest(digest) == digest


@pytest.mark.parametrize(
    ("digest", "fragment"),
    [
        ("sha256:" + "a" * 63, "has 63 hex digits"),
        ("sha256:" + "a" * 128, "exactly 64"),
        ("sha512:" + "a" * 64, "exactly 128"),
        ("sha256:" + "a" * 63 + "A", "uppercase"),
        ("sha256:" + "a" * 64 + " ", "whitespace"),
        ("md5:" + "a" * 31, "at least 32"),
        ("+sha:" + "a" * 32, "invalid algorithm"),
        ("sha256" + "a" * 64, "no ':'"),
        ("", "empty"),
        ("sha256:" + "a" * 64 + "@", "'@'"),
    ],
)
def test_validate_digest_rejects(digest: str, fragment: str) -> None:
    err = _error(validate_digest, digest)
    assert repr(digest) in err.message
    assert fragment in err.message


@pytest.mark.parametrize(
    ("call", "value"),
    [(validate_tag, 1.1), (validate_tag, True), (validate_digest, 5), (parse_reference, 3)],
)
def test_non_strings_from_yaml_are_explained(call: object, value: object) -> None:
    err = _error(call, value)
    assert "must be a string" in err.message
    assert repr(value) in err.message


# ------------------------------------------------------------------ ImageRef


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("Nginx",), "must be lowercase"),
        (("nginx:1",), "'nginx:1'"),
        (("nginx", ""), "empty"),
        (("nginx", "a b"), "whitespace"),
        (("nginx", None, "sha256:abc"), "exactly 64"),
        (("",), "missing"),
    ],
)
def test_construction_validates(args: tuple[str, ...], fragment: str) -> None:
    err = _error(ImageRef, *args)
    assert fragment in err.message
    assert repr(args[-1]) in err.message


def test_construction_rejects_non_string_tag() -> None:
    err = _error(ImageRef, "nginx", 1.1)
    assert "must be a string" in err.message


def test_with_version_keeps_repository_as_written() -> None:
    ref = parse_reference("Index.Docker.IO/acme/api:1.0")
    new = ref.with_version("2.0", SHA256)
    assert new == ImageRef("Index.Docker.IO/acme/api", "2.0", SHA256)
    assert str(new) == f"Index.Docker.IO/acme/api:2.0@{SHA256}"
    assert ref.tag == "1.0"  # unchanged


def test_with_version_can_drop_parts() -> None:
    ref = parse_reference(f"ghcr.io/acme/api:1.0@{SHA256}")
    assert str(ref.with_version(None, SHA256)) == f"ghcr.io/acme/api@{SHA256}"
    assert str(ref.with_version("2", None)) == "ghcr.io/acme/api:2"
    assert str(ref.with_version(None, None)) == "ghcr.io/acme/api"


@pytest.mark.parametrize(
    ("tag", "digest", "bad"),
    [
        ("-1", None, "-1"),
        ("1.0\n", None, "1.0\n"),
        ("x" * 129, None, "x" * 129),
        ("1.0", "sha256:" + "a" * 10, "sha256:" + "a" * 10),
        (None, "sha256:" + "A" * 64, "sha256:" + "A" * 64),
    ],
)
def test_with_version_validates(tag: str | None, digest: str | None, bad: str) -> None:
    err = _error(parse_reference("nginx").with_version, tag, digest)
    assert repr(bad) in err.message


def test_image_ref_is_frozen_and_hashable() -> None:
    ref = parse_reference("nginx:1")
    with pytest.raises(AttributeError):
        ref.tag = "2"  # type: ignore[misc]
    assert {ref, parse_reference("nginx:1")} == {ImageRef("nginx", "1")}


# ------------------------------------------------------------------ parse_repository


@pytest.mark.parametrize(
    "text", ["nginx", "ghcr.io/acme/api", "localhost:5000/app", "[::1]:5000/a/b", "GHCR.IO/x"]
)
def test_parse_repository_returns_it_as_written(text: str) -> None:
    assert parse_repository(text) == text


@pytest.mark.parametrize(
    ("text", "drop"),
    [
        ("nginx:1.0", "':1.0'"),
        ("ghcr.io/acme/api:1.4.2", "':1.4.2'"),
        ("localhost:5000/app:5000", "':5000'"),
        (f"nginx@{SHA256}", f"'@{SHA256}'"),
        (f"nginx:1@{SHA256}", f"':1@{SHA256}'"),
    ],
)
def test_parse_repository_rejects_tags_and_digests(text: str, drop: str) -> None:
    err = _error(parse_repository, text)
    assert repr(text) in err.message
    assert f"drop {drop}" in err.message
    assert "must not include a" in err.message


def test_parse_repository_explains_host_and_port() -> None:
    err = _error(parse_repository, "localhost:5000")
    assert err.hint is not None and "'localhost:5000/app'" in err.hint
    err = _error(parse_repository, "registry.example.com:5000")
    assert err.hint is not None and "'registry.example.com:5000/app'" in err.hint


@pytest.mark.parametrize("text", ["", "nginx ", "Nginx", "a//b", "nginx:"])
def test_parse_repository_rejects_invalid(text: str) -> None:
    err = _error(parse_repository, text)
    assert repr(text) in err.message


def test_normalise_repository_rejects_a_tag() -> None:
    err = _error(normalise_repository, "nginx:1")
    assert "drop ':1'" in err.message


# ------------------------------------------------------------------ format_reference


@pytest.mark.parametrize(
    ("repository", "tag", "digest", "expected"),
    [
        ("nginx", None, None, "nginx"),
        ("nginx", "1", None, "nginx:1"),
        ("localhost:5000/app", None, SHA256, f"localhost:5000/app@{SHA256}"),
        ("[::1]:5000/app", "v1", SHA256, f"[::1]:5000/app:v1@{SHA256}"),
    ],
)
def test_format_reference(
    repository: str, tag: str | None, digest: str | None, expected: str
) -> None:
    assert format_reference(repository, tag, digest) == expected
    assert parse_reference(expected) == ImageRef(repository, tag, digest)


@pytest.mark.parametrize(
    ("repository", "tag", "digest"),
    [("nginx:1", "2", None), ("nginx", ".x", None), ("nginx", None, "sha256:x"), ("", "1", None)],
)
def test_format_reference_validates(repository: str, tag: str | None, digest: str | None) -> None:
    _error(format_reference, repository, tag, digest)


# ------------------------------------------------------------------ looks_like_reference


def test_looks_like_reference_never_raises_on_non_strings() -> None:
    assert not looks_like_reference(1.5)  # type: ignore[arg-type]
    assert not looks_like_reference(None)  # type: ignore[arg-type]


# ------------------------------------------------------------------ properties

_LABEL = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
_DOMAIN = st.one_of(
    st.builds(lambda a, b: f"{a}.{b}", _LABEL, _LABEL),
    st.just("localhost"),
    st.builds(
        lambda a: f"[{a}]",
        st.ip_addresses(v=6).map(str).filter(lambda s: "." not in s and "%" not in s),
    ),
)
_PORT = st.integers(min_value=0, max_value=99999).map(str)
_COMPONENT = st.from_regex(r"[a-z0-9]{1,5}((\.|_|__|-{1,3})[a-z0-9]{1,5}){0,2}", fullmatch=True)
_TAG = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", fullmatch=True)
_DIGEST = st.one_of(
    st.from_regex(r"[a-f0-9]{64}", fullmatch=True).map(lambda h: "sha256:" + h),
    st.from_regex(r"[a-f0-9]{128}", fullmatch=True).map(lambda h: "sha512:" + h),
    st.from_regex(r"[a-z0-9]{1,6}([+._-][a-z0-9]{1,6})?:[a-zA-Z0-9=_-]{32,40}", fullmatch=True),
)


@st.composite
def _references(draw: st.DrawFn) -> tuple[str, str, str | None, str | None]:
    path = draw(st.lists(_COMPONENT, min_size=1, max_size=4))
    domain = draw(st.none() | _DOMAIN)
    if domain is not None and draw(st.booleans()):
        domain += ":" + draw(_PORT)
    # Without a host, a first component containing "." would be read as one.
    assume(domain is not None or "." not in path[0])
    repository = "/".join(([domain] if domain else []) + path)
    assume(len(repository) <= 255 and not re.fullmatch(r"[a-f0-9]{64}", repository))
    tag = draw(st.none() | _TAG)
    digest = draw(st.none() | _DIGEST)
    return format_reference(repository, tag, digest), repository, tag, digest


@given(_references())
def test_generated_references_round_trip(case: tuple[str, str, str | None, str | None]) -> None:
    text, repository, tag, digest = case
    ref = parse_reference(text)
    assert ref == ImageRef(repository, tag, digest)
    assert str(ref) == text
    assert looks_like_reference(text)
    assert ref.canonical == normalise_repository(repository)
    assert ref.same_repository(ref.canonical)
    assert ref.canonical == ref.canonical.strip()  # no stray whitespace sneaks in


@given(st.text(alphabet="aZ09.:/@_-+=[]$ \n\u00e9", max_size=24))
def test_looks_like_reference_agrees_with_parse(text: str) -> None:
    try:
        ref = parse_reference(text)
    except ImageRefError as err:
        assert not looks_like_reference(text)
        assert repr(text) in err.message
        assert err.hint
    else:
        assert looks_like_reference(text)
        assert str(ref) == text
        # A parsed repository is itself a valid bare repository.
        assert parse_repository(ref.repository) == ref.repository
