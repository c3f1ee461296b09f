"""Writing a generated app whole or not at all.

The files go into a hidden folder beside the app's (`.app<N>.tmp-<token>`, which scans
skip), are flushed to disk, and the folder is renamed into place; an app already there is
moved aside first (`.app<N>.old-<token>`), put back if the rename fails, and removed after.
A process killed at any moment leaves `app<N>/` whole or absent, never half-written, and
at most a hidden folder that the next generation of that app sweeps away (a replaced app
killed between the two renames waits there as `.app<N>.old-…` until then).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


def sweep(target: Path) -> None:
    """Remove what a killed generation of this app left: its hidden temporary folders."""
    parent = target.parent
    if not parent.is_dir():
        return
    left = (f".{target.name}.tmp-", f".{target.name}.old-")
    for entry in parent.iterdir():
        if entry.name.startswith(left) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def write_app(target: Path, files: dict[str, str]) -> None:
    """Every file into a hidden folder beside `target`, then renamed into place; an existing
    app is moved aside first and removed after."""
    target.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    staging = target.parent / f".{target.name}.tmp-{token}"
    staging.mkdir()
    old: Path | None = None
    try:
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        if target.exists() or target.is_symlink():
            old = target.parent / f".{target.name}.old-{token}"
            os.replace(target, old)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and not target.exists():
            os.replace(old, target)  # the app as it was
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
