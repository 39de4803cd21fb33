"""Unit tests for promoter.core.edit: what the golden files do not show."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from promoter.core.edit import Change, HelmKeys, Target, add_kustomize_image, edit_text
from promoter.core.edit import find_references as find
from promoter.core.edit.model import Splice, apply_splices
from promoter.core.edit.scalars import needs_quotes
from promoter.core.yamlnodes import compose_all, get, line_of, scalar_span
from promoter.errors import EditError, ImageRefError, YamlError

API = Target("api", "ghcr.io/acme/api")
OLD = "sha256:" + "0123456789abcdef" * 4
NEW = "sha256:" + "fedcba9876543210" * 4

# --------------------------------------------------------------------------- no-op


def test_already_at_the_tag_is_a_no_op() -> None:
    text = "images:\n- name: ghcr.io/acme/api\n  newTag: 1.0  # c\n"
    result = edit_text(text, "kustomization.yaml", API, "1.0", None)
    assert result.text == text
    assert not result.changed
    assert result.changes == ()
    assert result.references == 1


def test_already_at_tag_and_digest_is_a_no_op() -> None:
    text = f"image: ghcr.io/acme/api:1.0@{OLD}\n"
    result = edit_text(text, "values.yaml", API, "1.0", OLD)
    assert (result.text, result.changed, result.references) == (text, False, 1)


def test_same_tag_but_stale_digest_is_a_change() -> None:
    text = f"image: ghcr.io/acme/api:1.0@{OLD}\n"
    result = edit_text(text, "values.yaml", API, "1.0", None)
    assert result.text == "image: ghcr.io/acme/api:1.0\n"
    assert result.changes == (
        Change("values.yaml", 1, f"ghcr.io/acme/api:1.0@{OLD}", "ghcr.io/acme/api:1.0"),
    )


def test_no_reference_at_all() -> None:
    text = "image: ghcr.io/acme/other:1.0\n"
    result = edit_text(text, "values.yaml", API, "2.0", None)
    assert (result.text, result.changed, result.references) == (text, False, 0)


def test_some_references_current_some_not() -> None:
    text = "a: ghcr.io/acme/api:2.0\nb: ghcr.io/acme/api:1.0\n"
    result = edit_text(text, "values.yaml", API, "2.0", None)
    assert result.text == "a: ghcr.io/acme/api:2.0\nb: ghcr.io/acme/api:2.0\n"
    assert result.references == 2
    assert [c.line for c in result.changes] == [2]


# --------------------------------------------------------------------------- find_references

MIXED = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: ghcr.io/acme/api:1.0@{OLD}
      containers:
      - name: api
        image: docker.io/acme/api:9
      - name: real
        image: 'ghcr.io/acme/api:1.0'  # {{"$promoter": "api"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: c}}
data:
  TAG: "1.0"  # {{"$promoter": "api:tag"}}
"""


def test_find_references_kinds_lines_refs() -> None:
    found = find(MIXED, "api.yaml", API)
    assert [(f.kind, f.line, str(f.ref)) for f in found] == [
        ("manifest", 9, f"ghcr.io/acme/api:1.0@{OLD}"),
        ("setter", 14, "ghcr.io/acme/api:1.0"),
        ("setter", 20, "ghcr.io/acme/api:1.0"),
    ]
    assert [(f.sets_tag, f.sets_digest) for f in found] == [
        (True, True),
        (True, True),
        (True, False),
    ]


def test_find_references_kustomize_ref_is_what_the_entry_produces() -> None:
    text = f"images:\n- name: api\n  newName: ghcr.io/acme/api\n  newTag: '3'\n  digest: {OLD}\n"
    (f,) = find(text, "kustomization.yaml", API)
    assert (f.kind, f.line, str(f.ref)) == ("kustomize", 4, f"ghcr.io/acme/api:3@{OLD}")


def test_find_references_helm_pair_with_registry() -> None:
    text = "image:\n  registry: ghcr.io/\n  repository: acme/api\n  tag: 7\n"
    (f,) = find(text, "values.yaml", API)
    assert (f.kind, f.line, str(f.ref)) == ("helm", 4, "ghcr.io/acme/api:7")


def test_find_references_compose() -> None:
    text = "services:\n  web:\n    image: ghcr.io/acme/api\n"
    (f,) = find(text, "compose.yaml", API)
    assert (f.kind, f.line, str(f.ref)) == ("compose", 3, "ghcr.io/acme/api")


def test_unconfigured_flux_policy_of_another_name_does_not_hide_the_field() -> None:
    # Without `imagePolicy` in the config nobody can say whose marker this is,
    # so the manifest rule still applies.
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        '  - {name: a, image: ghcr.io/acme/api:1.0}  # {"$imagepolicy": "flux:acme-api"}\n'
    )
    result = edit_text(text, "pod.yaml", API, "1.1", None)
    assert result.text == text.replace("api:1.0}", "api:1.1}")
    configured = Target("api", "ghcr.io/acme/api", image_policy="flux:api")
    assert edit_text(text, "pod.yaml", configured, "1.1", None).references == 0


def test_marker_on_its_own_line_marks_nothing() -> None:
    text = 'tag: "1.0"\n# {"$promoter": "api:tag"}\n'
    assert find(text, "values.yaml", API) == []


def test_recursive_aliases_do_not_hang() -> None:
    text = 'loop: &a [ghcr.io/acme/api:1.0, *a]\nx: 1  # {"$promoter": "other"}\n'
    result = edit_text(text, "values.yaml", API, "1.1", None)
    assert result.text == 'loop: &a [ghcr.io/acme/api:1.1, *a]\nx: 1  # {"$promoter": "other"}\n'


# --------------------------------------------------------------------------- Change strings


def test_change_strings_kustomize_digest_dropped() -> None:
    text = f"images:\n- name: ghcr.io/acme/api\n  newTag: '1.0'\n  digest: {OLD}\n"
    result = edit_text(text, "k/kustomization.yaml", API, "1.1", None)
    assert result.changes == (
        Change("k/kustomization.yaml", 3, f"ghcr.io/acme/api:1.0@{OLD}", "ghcr.io/acme/api:1.1"),
    )


def test_change_strings_keep_the_repository_as_written() -> None:
    nginx = Target("nginx", "docker.io/library/nginx")
    result = edit_text("image: nginx:1.25\n", "values.yaml", nginx, "1.27", NEW)
    assert result.changes == (Change("values.yaml", 1, "nginx:1.25", f"nginx:1.27@{NEW}"),)


def test_change_strings_setter_parts() -> None:
    text = (
        f'tag: "1.0"  # {{"$promoter": "api:tag"}}\nsha: {OLD}  # {{"$promoter": "api:digest"}}\n'
    )
    result = edit_text(text, "values.yaml", API, "2.0", NEW)
    assert result.changes == (
        Change("values.yaml", 1, "ghcr.io/acme/api:1.0", "ghcr.io/acme/api:2.0"),
        Change("values.yaml", 2, f"ghcr.io/acme/api@{OLD}", f"ghcr.io/acme/api@{NEW}"),
    )


def test_change_strings_whole_setter_on_another_image_renames() -> None:
    text = 'image: quay.io/old/api:0.9  # {"$promoter": "api"}\n'
    result = edit_text(text, "values.yaml", API, "1.0", None)
    assert result.text == 'image: ghcr.io/acme/api:1.0  # {"$promoter": "api"}\n'
    assert result.changes == (
        Change("values.yaml", 1, "quay.io/old/api:0.9", "ghcr.io/acme/api:1.0"),
    )
    again = edit_text(result.text, "values.yaml", API, "1.0", None)
    assert not again.changed


def test_digest_only_bump_of_a_whole_reference() -> None:
    result = edit_text("image: ghcr.io/acme/api:1.0\n", "values.yaml", API, None, NEW)
    assert result.text == f"image: ghcr.io/acme/api@{NEW}\n"


def test_digest_only_bump_of_a_kustomize_entry_drops_new_tag() -> None:
    # kustomize renders a digest-only entry as name@digest (the base's tag goes).
    text = "images:\n- name: ghcr.io/acme/api\n  newTag: '1.0'\n"
    result = edit_text(text, "kustomization.yaml", API, None, NEW)
    assert result.text == f"images:\n- name: ghcr.io/acme/api\n  digest: {NEW}\n"


# --------------------------------------------------------------------------- errors


def test_block_scalar_value_is_an_edit_error_with_file_and_line() -> None:
    text = "images:\n- name: ghcr.io/acme/api\n  newTag: >-\n    1.0\n"
    with pytest.raises(EditError, match=r"^k/kustomization\.yaml:3: .*block scalar"):
        edit_text(text, "k/kustomization.yaml", API, "1.1", None)


def test_folded_block_image_is_an_edit_error() -> None:
    text = "containers:\n- image: >-\n    ghcr.io/acme/api:1.0\n"
    with pytest.raises(EditError, match=r"^values\.yaml:2: .*block scalar"):
        edit_text(text, "values.yaml", API, "1.1", None)


def test_malformed_yaml_is_a_yaml_error_with_file_and_line() -> None:
    text = "images:\n- name: ghcr.io/acme/api\n  newTag: [1.0\nresources: x\n"
    with pytest.raises(YamlError, match=r"^overlays/dev/kustomization\.yaml:\d+: malformed YAML"):
        edit_text(text, "overlays/dev/kustomization.yaml", API, "1.1", None)
    with pytest.raises(YamlError, match=r"^values\.yaml:2: malformed YAML"):
        find("a: 1\n  b: 2\n", "values.yaml", API)


def test_template_placeholder_as_current_tag_is_an_edit_error() -> None:
    text = "images:\n- name: ghcr.io/acme/api\n  newTag: ${TAG}\n"
    with pytest.raises(EditError, match=r"^kustomization\.yaml:3: .*not a valid reference"):
        edit_text(text, "kustomization.yaml", API, "1.1", None)


def test_helm_digest_without_tag_is_an_edit_error() -> None:
    text = "image:\n  repository: ghcr.io/acme/api\n  tag: '1.0'\n"
    with pytest.raises(EditError, match=r"^values\.yaml:3: Helm values need a tag"):
        edit_text(text, "values.yaml", API, None, NEW)


def test_edit_needs_a_tag_or_digest_and_valid_ones() -> None:
    with pytest.raises(EditError):
        edit_text("a: 1\n", "values.yaml", API, None, None)
    with pytest.raises(ImageRefError):
        edit_text("a: 1\n", "values.yaml", API, "-bad", None)
    with pytest.raises(ImageRefError):
        edit_text("a: 1\n", "values.yaml", API, "1.0", "sha256:abc")


def test_overlapping_splices_are_refused() -> None:
    with pytest.raises(EditError, match="overlapping"):
        apply_splices("abcdef", [Splice(0, 3, "x"), Splice(2, 4, "y")])
    with pytest.raises(EditError, match="overlapping"):
        apply_splices("abcdef", [Splice(2, 2, "x"), Splice(2, 2, "y")])
    assert apply_splices("abcdef", [Splice(1, 2, "X"), Splice(1, 2, "X"), Splice(4, 4, "+")]) == (
        "aXcd+ef"
    )


# --------------------------------------------------------------------------- add_kustomize_image


def add(text: str, tag: str | None = "1.0", digest: str | None = None) -> str:
    result = add_kustomize_image(text, "kustomization.yaml", API, tag, digest)
    assert result.references == 1
    assert result.changes[0].new == str(
        f"ghcr.io/acme/api{':' + tag if tag else ''}{'@' + digest if digest else ''}"
    )
    return result.text


def test_add_to_block_images() -> None:
    text = "resources:\n  - base\nimages:\n  - name: other  # keep\n    newTag: x\nlabels: []\n"
    assert add(text, "1234") == (
        "resources:\n  - base\nimages:\n  - name: other  # keep\n    newTag: x\n"
        '  - name: ghcr.io/acme/api\n    newTag: "1234"\nlabels: []\n'
    )


def test_add_to_block_images_of_flow_entries() -> None:
    text = "images:\n- {name: other, newTag: x}\n"
    assert add(text, "1.0", NEW) == (
        "images:\n- {name: other, newTag: x}\n"
        f'- {{name: ghcr.io/acme/api, newTag: "1.0", digest: {NEW}}}\n'
    )


def test_add_to_flow_images() -> None:
    text = "images: [{name: other, newTag: x}]  # c\n"
    assert add(text, "2.0") == (
        'images: [{name: other, newTag: x}, {name: ghcr.io/acme/api, newTag: "2.0"}]  # c\n'
    )


def test_add_to_empty_flow_images() -> None:
    assert add("images: []\n", "v2") == "images: [{name: ghcr.io/acme/api, newTag: v2}]\n"


@pytest.mark.parametrize("null", ["", " ~", " null", "  # none yet"])
def test_add_to_null_images(null: str) -> None:
    text = f"resources: [base]\nimages:{null}\nnamePrefix: dev-\n"
    comment = "  # none yet" if "#" in null else ""
    assert add(text, "v2") == (
        f"resources: [base]\nimages:{comment}\n- name: ghcr.io/acme/api\n  newTag: v2\n"
        "namePrefix: dev-\n"
    )


def test_add_without_images_appends_and_keeps_crlf() -> None:
    text = "resources:\r\n- base\r\n"
    assert add(text, "v2", NEW) == (
        f"resources:\r\n- base\r\nimages:\r\n- name: ghcr.io/acme/api\r\n  newTag: v2\r\n"
        f"  digest: {NEW}\r\n"
    )


def test_add_without_images_and_without_final_newline() -> None:
    assert add("resources:\n- base", "v2") == (
        "resources:\n- base\nimages:\n- name: ghcr.io/acme/api\n  newTag: v2\n"
    )


def test_add_to_an_empty_file() -> None:
    assert add("", "v2") == "images:\n- name: ghcr.io/acme/api\n  newTag: v2\n"
    assert add("# only a comment\n", "v2") == (
        "# only a comment\nimages:\n- name: ghcr.io/acme/api\n  newTag: v2\n"
    )


def test_add_before_the_document_end_marker() -> None:
    assert add("resources:\n- base\n...\n", "v2") == (
        "resources:\n- base\nimages:\n- name: ghcr.io/acme/api\n  newTag: v2\n...\n"
    )


def test_add_digest_only() -> None:
    assert (
        add("images: []\n", None, NEW) == f"images: [{{name: ghcr.io/acme/api, digest: {NEW}}}]\n"
    )


def test_add_refuses_layouts_it_cannot_extend() -> None:
    with pytest.raises(EditError, match=r"^kustomization\.yaml:1: .*flow mapping"):
        add_kustomize_image("{resources: [base]}\n", "kustomization.yaml", API, "1", None)
    with pytest.raises(EditError, match=r"^kustomization\.yaml:1: .*not a list"):
        add_kustomize_image("images: nginx\n", "kustomization.yaml", API, "1", None)
    flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec: {path: .}\n"
    with pytest.raises(EditError, match=r"spec\.images"):
        add_kustomize_image(flux, "apps.yaml", API, "1", None)


def test_add_reports_the_line_of_the_new_entry() -> None:
    result = add_kustomize_image("resources:\n- base\n", "kustomization.yaml", API, "1", None)
    # The line of a kustomize reference is its newTag line, as for edit_text.
    assert result.changes == (Change("kustomization.yaml", 5, "", "ghcr.io/acme/api:1"),)


# --------------------------------------------------------------------------- positions


def test_scalar_span_skips_anchor_and_tag() -> None:
    text = "a: &x nginx:1.0\nb: !!str 1234\nc: &y # note\n  zz\n"
    doc = compose_all(text, "f.yaml")[0]
    spans = {k: scalar_span(text, get(doc, k)) for k in "abc"}  # type: ignore[arg-type]
    assert {k: text[s.start : s.end] for k, s in spans.items()} == {
        "a": "nginx:1.0",
        "b": "1234",
        "c": "zz",
    }


def test_empty_values_are_placed_after_their_key() -> None:
    text = "a:\n  tag:   # c\n\n  x: 1\n"
    doc = compose_all(text, "f.yaml")[0]
    tag = get(get(doc, "a"), "tag")
    assert tag is not None
    assert line_of(tag) == 2
    assert text[: tag.start_mark.index].endswith("  tag:")


def test_character_offsets_survive_astral_characters_and_bom() -> None:
    text = "\ufeff# 🚀🚀🚀 日本\nimage: ghcr.io/acme/api:1.0 # ✓\n"
    result = edit_text(text, "values.yaml", API, "1.1", None)
    assert result.text == "\ufeff# 🚀🚀🚀 日本\nimage: ghcr.io/acme/api:1.1 # ✓\n"


# --------------------------------------------------------------------------- quoting

# What Go's YAML (kustomize, Helm) or YAML 1.1/1.2 would not read as a string;
# checked against the real kustomize in test_kustomize_render.py.
NON_STRINGS = [
    "1234",
    "3.0",
    "1e3",
    "1E3",
    "0x1F",
    "on",
    "Off",
    "y",
    "NO",
    "true",
    "null",
    "08",
    "1_2",
    "0b101",
    "0o17",
    "017",
    "1.",
    "2024-01-02",
]
STRINGS = ["1.2.3", "v1", "latest", "1a2b3c4", "1.0-rc1", "3.0_1.2", "0x1G", "nan", "inf", "_1a"]


@pytest.mark.parametrize("tag", NON_STRINGS)
def test_tags_that_read_as_non_strings_are_quoted(tag: str) -> None:
    assert needs_quotes(tag)
    result = edit_text('tag: x  # {"$promoter": "api:tag"}\n', "v.yaml", API, tag, None)
    assert result.text == f'tag: "{tag}"  # {{"$promoter": "api:tag"}}\n'


@pytest.mark.parametrize("tag", STRINGS)
def test_plain_safe_tags_stay_plain(tag: str) -> None:
    assert not needs_quotes(tag)


# --------------------------------------------------------------------------- round trips

TAGS = st.from_regex(re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}"), fullmatch=True)
SAFE_TAGS = st.from_regex(
    re.compile(r"v[0-9]{1,3}(\.[0-9]{1,3}){0,2}(-[a-z]{1,5})?"), fullmatch=True
)
DIGESTS = st.none() | st.from_regex(re.compile(r"sha256:[0-9a-f]{64}"), fullmatch=True)

# (file name, text): each holds references at tag 1.0 with no digest.
QUOTED_FIXTURES = [
    (
        "kustomization.yaml",
        "images:  # c\n  - name: ghcr.io/acme/api  # c\n    newTag: '1.0'  # c\n"
        '  - {name: ghcr.io/acme/api, newTag: "1.0"}\n',
    ),
    (
        "kustomization.yaml",
        'images:\r\n- name: ghcr.io/acme/api\r\n  newTag: "1.0"\r\n',
    ),
    (
        "api.yaml",
        "---\r\napiVersion: v1\r\nkind: Pod\r\nmetadata: {name: p}\r\nspec:\r\n  containers:\r\n"
        "  - name: p\r\n    image: ghcr.io/acme/api:1.0  # plain\r\n"
        "  initContainers: [{name: i, image: 'ghcr.io/acme/api:1.0'}]\r\n...\r\n",
    ),
    (
        "values.yaml",
        "image:\n  repository: ghcr.io/acme/api\n  tag: '1.0'\n  digest: ''\n"
        'other: {repository: ghcr.io/acme/api, tag: "1.0"}\n',
    ),
    (
        "compose.yaml",
        "services:\n  api:\n    image: ghcr.io/acme/api:1.0\n",
    ),
    (
        "settings.yaml",
        'full: ghcr.io/acme/api:1.0 # {"$promoter": "api"}\n'
        'tag: "1.0" # {"$promoter": "api:tag"}\n',
    ),
]
PLAIN_FIXTURES = [  # at tag v1.0
    (
        "kustomization.yaml",
        "images:\n    -   name: ghcr.io/acme/api\n        newTag: v1.0   # c\n",
    ),
    (
        "values.yaml",
        "image: {repository: ghcr.io/acme/api, tag: v1.0}\nx:\n  repository: ghcr.io/acme/api\n"
        "  tag: &t v1.0\n",
    ),
]


@settings(max_examples=60, deadline=None)
@given(fixture=st.sampled_from(QUOTED_FIXTURES), tag=TAGS, digest=DIGESTS)
def test_edit_and_edit_back_restores_the_bytes(
    fixture: tuple[str, str], tag: str, digest: str | None
) -> None:
    name, text = fixture
    there = edit_text(text, name, API, tag, digest)
    assert there.changed == ((tag, digest) != ("1.0", None))
    assert there.references == edit_text(text, name, API, "1.0", None).references
    back = edit_text(there.text, name, API, "1.0", None)
    assert back.text == text


@settings(max_examples=40, deadline=None)
@given(fixture=st.sampled_from(PLAIN_FIXTURES), tag=SAFE_TAGS)
def test_plain_tags_round_trip(fixture: tuple[str, str], tag: str) -> None:
    name, text = fixture
    there = edit_text(text, name, API, tag, None)
    assert edit_text(there.text, name, API, "v1.0", None).text == text


@settings(max_examples=80, deadline=None)
@given(tag=TAGS)
def test_any_tag_reads_back_as_that_string(tag: str) -> None:
    text = (
        "images:\n- name: ghcr.io/acme/api\n  newTag: v0\n"
        "values: {tag: v0, repository: ghcr.io/acme/api}\n"
    )
    new = edit_text(text, "kustomization.yaml", API, tag, None).text
    for version in (None, (1, 1)):
        yaml = YAML(typ="safe", pure=True)
        if version:
            yaml.version = version
        assert yaml.load(new)["images"][0]["newTag"] == tag
    values = edit_text(text.replace("images:", "imgs:"), "values.yaml", API, tag, None).text
    assert YAML(typ="safe", pure=True).load(values)["values"]["tag"] == tag


def test_helm_keys_with_merge() -> None:
    text = "base: &b\n  name: ghcr.io/acme/api\napp:\n  <<: *b\n  ver: '1'\n"
    target = Target(
        "api", "ghcr.io/acme/api", helm_keys=HelmKeys(tag="app.ver", repository="app.name")
    )
    assert edit_text(text, "values.yaml", target, "2", None).text == text.replace("'1'", "'2'")
