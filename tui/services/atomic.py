"""Writing a file so that a reader never sees half of it: a temporary file beside it,
flushed to disk, then renamed over it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from tui.errors import ThesisError


def write_atomically(path: Path, data: bytes, *, what: str, hint: str = "") -> None:
    """Write `data` to `path` whole or not at all; a ThesisError says which `what` could not
    be written where (and `hint`, e.g. the setting that names the folder)."""
    after = f" ({hint})" if hint else ""
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
