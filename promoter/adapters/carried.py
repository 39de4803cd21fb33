"""Reading and writing what `promote:` carries: the files and fields of a
service that differ between two environments' snapshots, and writing them
into a checkout of the target (files byte for byte, fields by a splice of
the one scalar)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from promoter.core.carry import Carried, carried_path, read_field, write_field
from promoter.core.config.model import Config, Service
from promoter.core.repo_files import read_repository_file
from promoter.errors import InputError

if TYPE_CHECKING:
    from promoter.adapters.snapshots import Snapshot


def _read(root: Path | None, rel: str) -> bytes | None:
    if root is None or not (root / rel).exists():
        return None
    return read_repository_file(str(root / rel), str(root), shown=rel)


def carried_between(
    config: Config, service: Service, source: Snapshot, target: Snapshot, *, strict: bool = True
) -> tuple[Carried, ...]:
    """What moving `service` from `source` to `target` carries besides its
    version (files that differ, fields whose value differs). Not `strict`
    (a rollback to a state from before a file or field existed): what the
    source lacks is left as the target has it."""
    spec = config.carry_for(service)
    if not spec.files and not spec.fields:
        return ()
    src_path = config.path_for(service, source.env)
    dst_path = config.path_for(service, target.env)
    out: list[Carried] = []
    for name in spec.files:
        new = _read(source.root, carried_path(src_path, name))
        if new is None and not strict:
            continue
        if new is None:
            raise InputError(
                f"service {service.name!r}: promote.files: {name} is not in {source.env} "
                f"({carried_path(src_path, name)})",
                hint="add the file there, or remove it from `promote.files`",
            )
        dest = carried_path(dst_path, name)
        old = _read(target.root, dest)
        if old != new:
            out.append(Carried("file", dest, old=None if old is None else "present", new="copied",
                               content=new))  # fmt: skip
    for spec_field in spec.fields:
        src_file = carried_path(src_path, spec_field.file)
        dest = carried_path(dst_path, spec_field.file)
        src_bytes, dst_bytes = _read(source.root, src_file), _read(target.root, dest)
        if src_bytes is None and not strict:
            continue
        if src_bytes is None or dst_bytes is None:
            where = source.env if src_bytes is None else target.env
            raise InputError(
                f"service {service.name!r}: promote.fields: {spec_field.file} is not in {where}",
                hint="a field moves into an existing file: create it once, or use promote.files",
            )
        for path in spec_field.paths:
            try:
                new_value = read_field(src_bytes.decode(), src_file, path)
                old_value = read_field(dst_bytes.decode(), dest, path)
            except ValueError as err:
                raise InputError(f"service {service.name!r}: promote.fields: {err}") from None
            if new_value is None and not strict:
                continue
            if new_value is None or old_value is None:
                where = source.env if new_value is None else target.env
                raise InputError(
                    f"service {service.name!r}: promote.fields: {spec_field.file} in {where} "
                    f"has no value at {path}",
                    hint="add it there once by hand; promotions then move its value",
                )
            if new_value != old_value:
                out.append(Carried("field", dest, at=path, old=old_value, new=new_value))
    return tuple(out)


def write_carried(root: Path, carried: tuple[Carried, ...]) -> list[str]:
    """Write `carried` into the checkout at `root`; the paths written."""
    written: list[str] = []
    for item in carried:
        target = root / item.file
        if item.kind == "file":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.content)
        else:
            assert item.at is not None and item.new is not None
            text = target.read_bytes().decode()
            target.write_bytes(write_field(text, item.file, item.at, item.new).encode())
        written.append(item.file)
    return list(dict.fromkeys(written))


def carried_fingerprint(config: Config, service: Service, env: str, root: Path) -> str | None:
    """A short digest of what `promote:` carries for `service` in `env` (the
    files' bytes, the fields' values as written): two environments running
    one version with different settings differ here. None: nothing carried."""
    spec = config.carry_for(service)
    if not spec.files and not spec.fields:
        return None
    try:
        path = config.path_for(service, env)
    except InputError:
        return None
    digest = hashlib.sha256()
    for name in spec.files:
        digest.update(name.encode() + b"\0" + (_read(root, carried_path(path, name)) or b"-"))
    for spec_field in spec.fields:
        raw = _read(root, carried_path(path, spec_field.file))
        for at in spec_field.paths:
            try:
                value = read_field(raw.decode(), spec_field.file, at) if raw is not None else None
            except ValueError:
                value = None
            digest.update(f"{spec_field.file}\0{at}\0{value}\0".encode())
    return digest.hexdigest()[:12]
