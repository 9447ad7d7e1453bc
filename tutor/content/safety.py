"""Limits on what an import may read, and the readers that enforce them: uploads, zip archives, YAML.

An upload is untrusted input. Everything here fails with :class:`ContentError` and a sentence an admin can act on,
before anything is written. The limits are documented in docs/formats.md and docs/operations.md.
"""

from __future__ import annotations

import json
import stat
import zipfile
import zlib
from dataclasses import dataclass
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
# YAML: bytes of text once aliases are expanded, as a multiple of the file's own size. Counting nodes is not enough:
# one alias to a long hint, repeated, turns kilobytes into megabytes with few nodes. A file without aliases never
# expands, and past RATIO_FLOOR_BYTES the same ratio as a zip member applies; MAX_FILE_BYTES caps it whatever the size.
MAX_YAML_EXPANSION_RATIO = 100
# JSON and YAML nesting. A problem set nests about ten levels; a thousand levels only exhaust the parsers' stacks.
MAX_NESTING_DEPTH = 100
# Files an archive may carry that are not content and are skipped (macOS and Windows add them).
_JUNK_PARTS = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db"})
_CHUNK = 1 * MIB


def nul_message(line: int, column: int) -> str:
    return (
        f"contains a NUL byte at line {line}, column {column}: a problem-set file is plain text, and NUL bytes mean "
        "a binary file or one saved as UTF-16; save it as UTF-8 text"
    )


def nul_in_text(text: str, *, first_line: int = 1) -> str | None:
    """The NUL message for ``text`` (whose first line is ``first_line`` of its file), or None when it has none."""
    at = text.find("\x00")
    if at < 0:
        return None
    line_start = text.rfind("\n", 0, at) + 1
    return nul_message(first_line + text.count("\n", 0, at), at - line_start + 1)


def nul_in_file(path: Path) -> str | None:
    """The NUL message for the file at ``path`` (read in chunks, up to MAX_FILE_BYTES), or None."""
    lines = 1
    offset = 0
    last_newline = -1
    with path.open("rb") as fh:
        while offset <= MAX_FILE_BYTES and (chunk := fh.read(_CHUNK)):
            at = chunk.find(b"\x00")
            end = len(chunk) if at < 0 else at
            lines += chunk.count(b"\n", 0, end)
            newline = chunk.rfind(b"\n", 0, end)
            if newline >= 0:
                last_newline = offset + newline
            if at >= 0:
                return nul_message(lines, offset + at - last_newline)
            offset += len(chunk)
    return None


def read_text(path: Path, *, source: str | None = None) -> str:
    """A UTF-8 text file, refused when larger than MAX_FILE_BYTES, not UTF-8, or holding NUL bytes."""
    label = source or path.name
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ContentError(label, [f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(label, [f"not UTF-8 text (byte {exc.start}): save the file as UTF-8"]) from exc
    nul = nul_in_text(text)
    if nul is not None:
        raise ContentError(label, [nul])
    return text


def read_json(path: Path, *, source: str | None = None) -> Any:
    label = source or path.name
    text = read_text(path, source=label)
    return parse_json(text, source=label)


def too_deep_message() -> str:
    return f"nested more than {MAX_NESTING_DEPTH} levels deep; a problem set needs about ten"


def nested_too_deep(value: Any, limit: int | None = None) -> bool:
    """Whether lists and objects in ``value`` nest more than ``limit`` (MAX_NESTING_DEPTH) levels deep.

    Walked with an explicit stack, since the point is to refuse values too deep for recursive code.
    """
    limit = MAX_NESTING_DEPTH if limit is None else limit
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_json(text: str, *, source: str) -> Any:
    """Parse JSON, refusing documents nested more than MAX_NESTING_DEPTH levels deep."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContentError(source, [f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]) from exc
    except RecursionError as exc:
        raise ContentError(source, [too_deep_message()]) from exc
    except ValueError as exc:
        raise ContentError(source, [f"not valid JSON: {exc}"]) from exc
    if nested_too_deep(data):
        raise ContentError(source, [too_deep_message()])
    return data


class _Loader(yaml.SafeLoader):
    """The safe loader (plain data only: no Python objects, no tags that run code)."""


@dataclass
class _Expansion:
    """What a YAML node stands for once every alias in it is expanded: values, and bytes of scalar text."""

    nodes: int = 1
    text_bytes: int = 0

    def add(self, other: _Expansion) -> None:
        self.nodes += other.nodes
        self.text_bytes += other.text_bytes


def yaml_text_limit(file_bytes: int) -> int:
    """Bytes of text a YAML file of ``file_bytes`` may expand to through its aliases."""
    return min(MAX_FILE_BYTES, max(RATIO_FLOOR_BYTES, MAX_YAML_EXPANSION_RATIO * file_bytes))


def _expanded(root: yaml.Node, *, max_nodes: int, max_bytes: int) -> _Expansion:
    """The size of the document once every alias is expanded, stopping as soon as a limit is passed.

    An alias is a reference to an anchored node, so a few lines (the "billion laughs") can stand for billions of
    nodes, or for gigabytes of text with few nodes; sizes are memoized per node, so this costs one pass over the
    nodes actually written. The composer has already refused (by recursion) what is far too deep; this counts
    depth exactly.
    """
    sizes: dict[int, _Expansion] = {}

    def size(node: yaml.Node, depth: int) -> _Expansion:
        if depth > MAX_NESTING_DEPTH and isinstance(node, yaml.CollectionNode):
            raise ContentError("", [too_deep_message()])
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = _Expansion()
        if isinstance(node, yaml.ScalarNode):
            total.text_bytes = len(node.value.encode("utf-8", "surrogatepass"))
        children = (
            node.value
            if isinstance(node, yaml.SequenceNode)
            else [part for pair in node.value for part in pair]
            if isinstance(node, yaml.MappingNode)
            else []
        )
        for child in children:
            total.add(size(child, depth + 1))
            if total.nodes > max_nodes or total.text_bytes > max_bytes:
                break
        sizes[id(node)] = total
        return total

    return size(root, 1)


def parse_yaml(text: str, *, source: str) -> Any:
    """Parse YAML with the safe loader, refusing documents nested more than MAX_NESTING_DEPTH levels or whose aliases
    expand beyond MAX_YAML_NODES values or :func:`yaml_text_limit` bytes of text."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        file_bytes = len(text.encode("utf-8", "surrogatepass"))
        max_bytes = yaml_text_limit(file_bytes)
        try:
            expanded = _expanded(node, max_nodes=MAX_YAML_NODES, max_bytes=max_bytes)
        except ContentError as exc:
            raise ContentError(source, exc.problems) from exc
        if expanded.nodes > MAX_YAML_NODES:
            raise ContentError(
                source,
                [f"YAML expands to more than {MAX_YAML_NODES:,} values (aliases repeated too often); refused"],
            )
        if expanded.text_bytes > max_bytes:
            raise ContentError(
                source,
                [
                    f"YAML aliases repeated too often: this {file_bytes:,}-byte file expands to more than "
                    f"{max_bytes:,} bytes of text (a file may expand to {MAX_YAML_EXPANSION_RATIO} times its size, "
                    f"at least {RATIO_FLOOR_BYTES // MIB} MiB and at most {MAX_FILE_BYTES // MIB} MiB); refused"
                ],
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ContentError(source, [f"not valid YAML: {exc}"]) from exc
    except RecursionError as exc:
        raise ContentError(source, [too_deep_message()]) from exc
    finally:
        if loader is not None:
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
        # Every path the archive makes a folder (its own folder entries and the parents of every member), and the
        # paths it makes files: one name cannot be both, and a file cannot come twice (which copy would count?).
        folders: set[PurePosixPath] = set()
        files: set[PurePosixPath] = set()
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
            folders.update(path.parents)
            if info.is_dir():
                folders.add(path)
            elif path in files:
                problems.append(f"{path}: appears twice in the archive")
            else:
                files.add(path)
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
        problems += [f"{path}: is both a file and a folder in the archive" for path in sorted(files & folders)]
        if problems:
            raise ContentError(source, problems)
        written = 0
        root = dest.resolve()
        for info, path in members:
            target = (root / Path(*path.parts)).resolve()
            if root not in target.parents:
                raise ContentError(source, [f"{info.filename!r}: path leaves the archive's folder"])
            member_bytes = 0
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
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
