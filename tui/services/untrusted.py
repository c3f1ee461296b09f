"""Reading files we do not trust: an app's own files, results and model lists.

Every read here has a size limit, reads regular files only (a FIFO or `/dev/zero` would
hang or exhaust memory), and for an app's files never follows a symlink out of the app's
folder. YAML is checked before it is built: nesting depth, alias expansion (a few hundred
bytes of anchors can stand for billions of nodes) and self-reference are refused, and what
comes back holds only JSON types. JSON too deep to parse is refused, not a RecursionError.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import stat
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

from tui.errors import ThesisError

MAX_YAML_BYTES = 512 * 1024
"""Largest compose file read; real ones are a few KiB."""
MAX_DEPTH = 64
"""Deepest nesting of YAML or JSON we build (after aliases are expanded)."""
MAX_NODES = 100_000
"""Most YAML nodes a document may stand for once its aliases are expanded."""


class UntrustedInputError(ThesisError):
    """A file or document refused before it could do harm: too big, too deep, not regular.

    `reason` is the bare why ("not a regular file"), for callers that word the rest."""

    title = "Refused input"

    def __init__(self, msg: str, reason: str = "") -> None:
        super().__init__(msg)
        self.reason = reason or msg


def read_regular(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (a FIFO or device is refused
    without blocking on it). Errors read "Cannot read <what> <path>: <reason>"."""

    def refused(reason: str) -> UntrustedInputError:
        return UntrustedInputError(f"Cannot read {what} {path}: {reason}", reason)

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise refused(exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise refused("Is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise refused("not a regular file")
        if info.st_size > limit:
            raise refused(f"larger than {_size(limit)}")
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # grew while we read it
                raise refused(f"larger than {_size(limit)}")
        return b"".join(chunks)
    except OSError as exc:
        raise refused(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def inside(root: Path, path: Path, what: str) -> Path:
    """`path` with its symlinks resolved; refused when it leads out of `root`."""
    base = root.resolve()
    resolved = (base / path).resolve()
    if not resolved.is_relative_to(base):
        raise UntrustedInputError(f"{what} {path} is outside the app's folder")
    return resolved


def read_app_file(root: Path, path: Path, limit: int, what: str) -> bytes:
    """A file of the app at `root`: a regular file inside its folder, symlinks included."""
    return read_regular(inside(root, path, what), limit, what)


def _size(limit: int) -> str:
    return f"{limit // (1 << 20)} MiB" if limit >= 1 << 20 else f"{limit // 1024} KiB"


# --- YAML ---------------------------------------------------------------------------------


def load_yaml(text: str | bytes, what: str) -> Any:
    """A YAML document of plain JSON types, or UntrustedInputError / yaml.YAMLError."""
    if len(text) > MAX_YAML_BYTES:
        raise UntrustedInputError(f"{what} is larger than {_size(MAX_YAML_BYTES)}")
    _check_events(text, what)
    node = yaml.compose(text, Loader=_Loader)
    if node is None:
        return None
    _check_expansion(node, what)
    document = yaml.SafeLoader("").construct_document(node)
    return plain(document)


def _check_events(text: str | bytes, what: str) -> None:
    """Nesting depth from the parser's events, before any tree is built (libyaml's composer
    recurses in C: a 100,000-deep document would crash the process)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise UntrustedInputError(f"{what} is nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_expansion(root: yaml.Node, what: str) -> None:
    """Refuse a document whose aliases expand past MAX_NODES nodes or MAX_DEPTH levels, or
    that contains itself."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            raise UntrustedInputError(f"{what} has an anchor that contains itself")
        if depth > MAX_DEPTH:
            raise UntrustedInputError(f"{what} is nested deeper than {MAX_DEPTH} levels")
        total = 1
        if isinstance(node, yaml.SequenceNode | yaml.MappingNode):
            on_path.add(key)
            children = (
                node.value
                if isinstance(node, yaml.SequenceNode)
                else [part for pair in node.value for part in pair]
            )
            for child in children:
                total += size(child, depth + 1)
                if total > MAX_NODES:
                    raise UntrustedInputError(
                        f"{what} expands to more than {MAX_NODES:,} nodes (an alias bomb?)"
                    )
            on_path.discard(key)
        sizes[key] = total
        return total

    size(root, 0)


def plain(value: Any) -> Any:
    """`value` with only JSON types every database stores: dates and bytes as text, mapping
    keys as strings, sets as lists, NaN and infinities as text, NUL characters (which
    PostgreSQL refuses in text) as U+FFFD."""
    if isinstance(value, dict):
        return {str(plain(key)): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        return plain(value.decode("utf-8", "replace"))
    if isinstance(value, _dt.date | _dt.datetime):
        return value.isoformat()
    return str(value)


# --- JSON ---------------------------------------------------------------------------------


def load_json(data: str | bytes, what: str) -> Any:
    """JSON, with a document nested too deep refused as one clear error."""
    try:
        return json.loads(data)
    except RecursionError:
        raise UntrustedInputError(
            f"{what} is nested too deeply to read", "nested too deeply to read"
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UntrustedInputError(f"{what} is not valid JSON: {exc}", str(exc)) from None
