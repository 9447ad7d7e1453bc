"""Limits on what an import may read, and the readers that enforce them: uploads, zip archives, YAML.

An upload is untrusted input. Everything here fails with :class:`ContentError` and a sentence an admin can act on,
before anything is written. The limits are documented in docs/formats.md and docs/operations.md.
"""

from __future__ import annotations

import json
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .errors import ContentError

MIB = 1024 * 1024
# An uploaded file (the page); the whole OATutor jsonl (37 MB) fits.
MAX_UPLOAD_BYTES = 64 * MIB
# One file read from disk or from an archive.
MAX_FILE_BYTES = 64 * MIB
# Zip archives: members, bytes after decompression, and how much a member may expand.
MAX_ARCHIVE_MEMBERS = 50_000
MAX_ARCHIVE_BYTES = 256 * MIB
MAX_COMPRESSION_RATIO = 100
# A member smaller than this is not judged by its ratio: tiny files of repeated text compress very well.
RATIO_FLOOR_BYTES = 1 * MIB
# YAML: nodes after expanding aliases (a 12,000-problem set has about two million).
MAX_YAML_NODES = 5_000_000
# Files an archive may carry that are not content and are skipped (macOS and Windows add them).
_JUNK_PARTS = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db"})
_CHUNK = 1 * MIB


def read_text(path: Path, *, source: str | None = None) -> str:
    """A UTF-8 text file, refused when larger than MAX_FILE_BYTES or not UTF-8."""
    label = source or path.name
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ContentError(label, [f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"])
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(label, [f"not UTF-8 text (byte {exc.start}): save the file as UTF-8"]) from exc


def read_json(path: Path, *, source: str | None = None) -> Any:
    label = source or path.name
    text = read_text(path, source=label)
    return parse_json(text, source=label)


def parse_json(text: str, *, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContentError(source, [f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]) from exc
    except (ValueError, RecursionError) as exc:
        raise ContentError(source, [f"not valid JSON: {exc}"]) from exc


class _Loader(yaml.SafeLoader):
    """The safe loader (plain data only: no Python objects, no tags that run code)."""


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """Nodes in the document once every alias is expanded, stopping as soon as ``limit`` is passed.

    An alias is a reference to an anchored node, so a few lines (the "billion laughs") can stand for billions of
    nodes; the sizes are memoized per node, so this costs one pass over the nodes actually written.
    """
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > 500:
            raise ContentError("", ["YAML nested more than 500 levels deep"])
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child, depth + 1)
                if total > limit:
                    break
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                total += size(key, depth + 1) + size(value, depth + 1)
                if total > limit:
                    break
        sizes[id(node)] = total
        return total

    return size(root, 0)


def parse_yaml(text: str, *, source: str) -> Any:
    """Parse YAML with the safe loader, refusing documents whose aliases expand beyond MAX_YAML_NODES."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            expanded = _expanded_size(node, MAX_YAML_NODES)
        except ContentError as exc:
            raise ContentError(source, exc.problems) from exc
        if expanded > MAX_YAML_NODES:
            raise ContentError(
                source,
                [f"YAML expands to more than {MAX_YAML_NODES:,} values (aliases repeated too often); refused"],
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ContentError(source, [f"not valid YAML: {exc}"]) from exc
    except RecursionError as exc:
        raise ContentError(source, ["YAML nested too deeply"]) from exc
    finally:
        loader.dispose()


def _member_path(name: str) -> PurePosixPath | None:
    """The relative path a member extracts to, or None when its name is unsafe (absolute, ``..``, drive letter)."""
    if "\x00" in name or "\\" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        return None
    return path


def extract_zip(archive: Path, dest: Path, *, source: str) -> list[str]:
    """Extract a zip archive into ``dest`` after checking every member; return the names skipped as junk.

    Refused, before anything is extracted: a file that is not a zip, encrypted members, symbolic links and other
    special files, names that are absolute or climb out with ``..``, more than MAX_ARCHIVE_MEMBERS members, more than
    MAX_ARCHIVE_BYTES in all once decompressed, and members that expand more than MAX_COMPRESSION_RATIO times. The
    sizes in the archive's directory are only claims, so extraction counts the bytes actually written as well.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ContentError(source, [f"not a valid zip archive: {exc}"]) from exc
    skipped: list[str] = []
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ARCHIVE_MEMBERS:
            raise ContentError(source, [f"archive has {len(infos):,} members; the limit is {MAX_ARCHIVE_MEMBERS:,}"])
        problems: list[str] = []
        members: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        declared_total = 0
        for info in infos:
            name = info.filename
            path = _member_path(name)
            if path is None:
                problems.append(f"{name!r}: path leaves the archive's folder")
                continue
            if any(part in _JUNK_PARTS for part in path.parts):
                skipped.append(name)
                continue
            # Unix file type bits, when the archive recorded them (zips made elsewhere often leave them 0).
            file_type = stat.S_IFMT(info.external_attr >> 16)
            if file_type and file_type not in (stat.S_IFREG, stat.S_IFDIR):
                problems.append(f"{name}: symbolic links and special files are not allowed")
                continue
            if info.flag_bits & 0x1:
                problems.append(f"{name}: encrypted members are not supported")
                continue
            if info.is_dir():
                continue
            declared_total += info.file_size
            if info.file_size > MAX_FILE_BYTES:
                problems.append(f"{name}: {info.file_size:,} bytes uncompressed; the limit is {MAX_FILE_BYTES:,}")
            elif info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
                info.compress_size, 1
            ):
                problems.append(f"{name}: expands more than {MAX_COMPRESSION_RATIO} times (a zip bomb?)")
            members.append((info, path))
        if declared_total > MAX_ARCHIVE_BYTES:
            problems.append(f"archive expands to {declared_total:,} bytes; the limit is {MAX_ARCHIVE_BYTES:,}")
        if problems:
            raise ContentError(source, problems)
        written = 0
        root = dest.resolve()
        for info, path in members:
            target = (root / Path(*path.parts)).resolve()
            if root not in target.parents:
                raise ContentError(source, [f"{info.filename!r}: path leaves the archive's folder"])
            target.parent.mkdir(parents=True, exist_ok=True)
            member_bytes = 0
            try:
                with zf.open(info) as src, target.open("wb") as out:
                    while chunk := src.read(_CHUNK):
                        member_bytes += len(chunk)
                        written += len(chunk)
                        if member_bytes > info.file_size or written > MAX_ARCHIVE_BYTES:
                            raise ContentError(source, [f"{info.filename}: larger than the archive says; refused"])
                        out.write(chunk)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
                raise ContentError(source, [f"{info.filename}: cannot be read from the archive: {exc}"]) from exc
    return skipped
