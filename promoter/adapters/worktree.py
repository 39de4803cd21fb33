"""An environment repository's working tree: read what runs where, plan and
write image edits. Files are read and written byte-for-byte (no newline
translation), and a multi-file edit is all-or-nothing."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from promoter.core.config.model import Config, Service
from promoter.core.edit import (
    Change,
    Found,
    Target,
    add_kustomize_image,
    edit_text,
    find_references,
    is_kustomization_file,
)
from promoter.core.edit.setters import has_markers
from promoter.core.images import ImageRef
from promoter.core.repo_files import read_repository_file
from promoter.errors import EditError, FileSystemError, InputError

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class FileEdit:
    path: str
    """Relative to the repository root, with forward slashes."""
    old_text: str
    new_text: str
    changes: tuple[Change, ...]


def target_for(service: Service) -> Target:
    return Target(
        service=service.name,
        repository=service.image,
        image_policy=service.image_policy,
        helm_keys=service.keys,
        chart=service.chart,
    )


def read_text(path: Path, root: Path | None = None) -> str:
    """A repository file's text (see core.repo_files: inside the repository,
    a regular file, bounded in size); `root` defaults to the file's folder."""
    data = read_repository_file(str(path), str(root or path.parent))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text ({err.reason})") from err


def _inside(root: Path, rel: str) -> Path:
    """`root/rel`, refusing a path that leaves the repository or passes
    through a symbolic link: editing through a link would change what the
    link points at — another environment's file, or one outside the repo."""
    clean = rel.strip("/")
    full = root / clean
    real_root = _real(root)
    lexical = Path(os.path.normpath(real_root / clean))
    if lexical != real_root and real_root not in lexical.parents:
        raise InputError(
            f"path {rel!r} leaves the repository", hint="fix the path in promoter.yaml"
        )
    if _has_link(real_root, lexical.relative_to(real_root).parts):
        raise InputError(
            f"path {rel!r} is or passes through a symbolic link; promoter edits only "
            "real files, so that an edit cannot change another environment",
            hint="point the service's path in promoter.yaml at the real file or directory",
        )
    return full


@functools.lru_cache(maxsize=64)
def _real(root: Path) -> Path:
    # Resolved once per root: `status` asks for thousands of paths in one.
    return root.resolve()


def _has_link(real_root: Path, parts: tuple[str, ...]) -> bool:
    """Whether a component of `real_root/parts` is a symbolic link (one lstat
    per component, up to the first that does not exist)."""
    current = real_root
    for part in parts:
        current = current / part
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return True
        except FileNotFoundError:
            return False
        except OSError:
            return False  # not a directory on the way, etc.: nothing is linked
    return False


def yaml_files(directory: Path) -> list[Path]:
    """The YAML files directly in `directory` (not recursive), sorted."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as err:
        raise FileSystemError(f"cannot list {directory}: {err.strerror}") from err
    # Symbolic links are skipped for the reason _inside gives.
    return [
        Path(e.path)
        for e in entries
        if e.is_file(follow_symlinks=False)
        and (e.name.endswith(YAML_SUFFIXES) or is_kustomization_file(e.name))
    ]


def plan_set_image(
    root: Path,
    config: Config,
    env: str,
    service: Service,
    tag: str | None,
    digest: str | None,
) -> list[FileEdit]:
    """The edits that make `service` run (tag, digest) in `env`; nothing written."""
    rel = config.path_for(service, env)
    full = _inside(root, rel)
    target = target_for(service)
    image = str(ImageRef(service.image, tag, digest))
    if full.is_dir():
        files = yaml_files(full)
        edits, references = _edit_files(root, files, target, tag, digest)
        if references:
            return edits
        kustomizations = [f for f in files if is_kustomization_file(f.name)]
        if kustomizations:
            path = kustomizations[0]
            text = read_text(path, root)
            result = add_kustomize_image(text, _rel(root, path), target, tag, digest)
            return [FileEdit(_rel(root, path), text, result.text, result.changes)]
        raise EditError(
            f"{rel}/: no YAML file references {service.image} and there is no "
            "kustomization.yaml to add an `images:` entry to; nothing was written",
            hint=f"reference the image in {rel}/, add a kustomization.yaml, "
            "or point the service's path in promoter.yaml elsewhere",
        )
    if full.is_file():
        edits, references = _edit_files(root, [full], target, tag, digest)
        if references:
            return edits
        raise EditError(
            f"{rel}: no reference to {service.image} found; nothing was written (wanted {image})",
            hint="add the image to the file once (or a setter marker "
            f'`# {{"$promoter": "{service.name}"}}`), then promoter keeps it updated',
        )
    raise EditError(
        f"{rel}: no such file or directory (path of service {service.name!r} in "
        f"environment {env!r}); nothing was written",
        hint="create it, or fix `path`/`paths` for the service in promoter.yaml",
    )


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _edit_files(
    root: Path, files: Iterable[Path], target: Target, tag: str | None, digest: str | None
) -> tuple[list[FileEdit], int]:
    edits = []
    references = 0
    for path in files:
        text = read_text(path, root)
        rel = _rel(root, path)
        result = edit_text(text, rel, target, tag, digest)
        references += result.references
        if result.changed:
            new_text = result.text
            if _SOPS_FILE.search(text):
                # A text edit would break the MAC: SOPS writes the values itself.
                from promoter.adapters.sops_edit import sops_set_edit

                new_text = sops_set_edit(path, rel, text, result.text)
            edits.append(FileEdit(rel, text, new_text, result.changes))
    return edits, references


# A document SOPS wrote: its top-level `sops:` block (YAML or JSON) with a MAC.
_SOPS_FILE = re.compile(r'(?ms)^(sops:\s*$|\{.*"sops":\s*\{).*\bmac\b')


def write_edits(root: Path, edits: list[FileEdit]) -> None:
    """Write every edit or none: each new text is staged in a temporary file
    beside its target, then all are renamed into place; a failure part-way
    restores the files already replaced and removes every temporary file."""
    staged: list[tuple[Path, str]] = []
    try:
        for edit in edits:
            path = root / edit.path
            if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
                raise FileSystemError(
                    f"cannot write {edit.path}: permission denied; nothing was written",
                    hint="check the file's and its directory's permissions",
                )
            staged.append((path, _stage(path, edit)))
    except BaseException:
        _remove(tmp for _, tmp in staged)
        raise
    done: list[tuple[Path, str]] = []
    try:
        for (path, tmp), edit in zip(staged, edits, strict=True):
            os.replace(tmp, path)
            done.append((path, edit.old_text))
    except OSError as err:
        for path, old in done:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(old)
        _remove(tmp for _, tmp in staged[len(done) :])
        failed = edits[len(done)].path
        raise FileSystemError(
            f"cannot write {failed}: {err.strerror}; nothing was written"
        ) from err


def _stage(path: Path, edit: FileEdit) -> str:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as err:
        raise FileSystemError(
            f"cannot write {edit.path}: {err.strerror}; nothing was written"
        ) from err
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(edit.new_text)
        os.chmod(tmp, os.stat(path).st_mode & 0o7777)
    except OSError as err:
        _remove([tmp])
        raise FileSystemError(
            f"cannot write {edit.path}: {err.strerror}; nothing was written"
        ) from err
    return tmp


def _remove(paths: Iterable[str]) -> None:
    for tmp in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


@dataclass(frozen=True)
class Deployed:
    """What one service runs in one environment, as the repository says."""

    image: ImageRef | None
    files: tuple[str, ...]
    conflicting: tuple[str, ...] = ()
    """Distinct references when the files disagree with each other."""


def read_deployed(root: Path, config: Config, env: str, service: Service) -> Deployed:
    try:
        rel = config.path_for(service, env)
    except InputError:
        return Deployed(None, ())
    full = _inside(root, rel)
    if full.is_dir():
        files = yaml_files(full)
    elif full.is_file():
        files = [full]
    else:
        return Deployed(None, ())
    target = target_for(service)
    found: list[tuple[str, Found]] = []
    for path in files:
        text = read_text(path, root)
        # Cheap pre-filter: most files of a large repo never name this image.
        if not _may_reference(text, target):
            continue
        rel_path = _rel(root, path)
        found += [(rel_path, f) for f in find_references(text, rel_path, target)]
    if not found:
        return Deployed(None, ())
    image = _combine([f for _, f in found], target)
    distinct = sorted({str(f.ref) for _, f in found if f.sets_tag and f.sets_digest})
    return Deployed(
        image,
        tuple(dict.fromkeys(p for p, _ in found)),
        tuple(distinct) if len(distinct) > 1 else (),
    )


def _may_reference(text: str, target: Target) -> bool:
    if target.helm_keys is not None:  # explicit keys need not name the image
        return True
    return target.name_hint in text or has_markers(text)


def _combine(found: list[Found], target: Target) -> ImageRef:
    # Setter markers may split a reference over several fields (name, tag,
    # digest); whole references win, parts fill in what they say.
    whole = [f for f in found if f.sets_tag and f.sets_digest]
    if whole:
        return whole[0].ref
    tag = next((f.ref.tag for f in found if f.sets_tag), None)
    digest = next((f.ref.digest for f in found if f.sets_digest), None)
    return ImageRef(target.repository, tag, digest)
