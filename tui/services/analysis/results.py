"""The one results-file writer and reader.

`<results_dir>/<model_slug>/app<N>/<task_id>.json`, schema version RESULTS_SCHEMA. A file
is written to a temporary name in the same folder, flushed to disk and renamed over the
final name, so a reader (or a crash) never sees half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tui.errors import ThesisError

RESULTS_SCHEMA = 1


def results_path(results_dir: Path, model_slug: str, app_number: int, task_id: str) -> Path:
    return results_dir / model_slug / f"app{app_number}" / f"{task_id}.json"


def write_results(path: Path, document: dict[str, Any]) -> None:
    """Write atomically; a ThesisError names the folder when it cannot be written."""
    document = {"schema_version": RESULTS_SCHEMA, **document}
    data = json.dumps(document, indent=1, default=str, ensure_ascii=False).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", dir=path.parent)
    except OSError as exc:
        raise ThesisError(
            f"Cannot write results to {path.parent}: {exc.strerror or exc} (see THESIS_RESULTS_DIR)"
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
        raise ThesisError(f"Cannot write results to {path}: {exc.strerror or exc}") from None


def read_results(path: Path | str) -> dict[str, Any]:
    """A results file as a dict; a missing or corrupt file is one clear ThesisError."""
    path = Path(path)
    try:
        document = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ThesisError(f"The results file {path} is missing") from None
    except (OSError, ValueError) as exc:
        raise ThesisError(f"The results file {path} cannot be read: {exc}") from None
    if not isinstance(document, dict):
        raise ThesisError(f"The results file {path} is corrupt: not a JSON object")
    version = document.get("schema_version")
    if version != RESULTS_SCHEMA:
        raise ThesisError(
            f"The results file {path} has schema version {version!r}; "
            f"this ThesisApp reads version {RESULTS_SCHEMA}"
        )
    return document
