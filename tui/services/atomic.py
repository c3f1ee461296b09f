"""Writing a file so that a reader never sees half of it: a temporary file beside it,
flushed to disk, then renamed over it."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from tui.errors import ThesisError


def write_atomically(path: Path, data: bytes, *, what: str, hint: str = "") -> None:
    """Write `data` to `path` whole or not at all; a ThesisError says which `what` could not
    be written where (and `hint`, e.g. the setting that names the folder).

    Only a regular file is replaced: renaming over a device, a pipe or a link would replace
    that node itself (`--output /dev/full` turned the device into a file), so those are
    refused, and left as they are."""
    after = f" ({hint})" if hint else ""
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise ThesisError(
                f"Cannot write {what} to {path}: it is not a regular file "
                "(a device, a pipe, a link or a folder); name a file"
            )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", dir=path.parent)
    except OSError as exc:
        raise ThesisError(
            f"Cannot write {what} to {path.parent}: {exc.strerror or exc}{after}"
        ) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ThesisError(f"Cannot write {what} to {path}: {exc.strerror or exc}") from None
