"""The one results-file writer and reader.

`<results_dir>/<model_slug>/app<N>/<task_id>.json`, schema version RESULTS_SCHEMA. A file
is written to a temporary name in the same folder, flushed to disk and renamed over the
final name, so a reader (or a crash) never sees half a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from tui.errors import ThesisError
from tui.secrets import redact_value
from tui.services.analysis.findings import Finding
from tui.services.atomic import write_atomically
from tui.services.untrusted import UntrustedInputError, load_json, read_regular

RESULTS_SCHEMA = 1


def results_path(results_dir: Path, model_slug: str, app_number: int, task_id: str) -> Path:
    return results_dir / model_slug / f"app{app_number}" / f"{task_id}.json"


def write_results(path: Path, document: dict[str, Any]) -> None:
    """Write atomically; a ThesisError names the folder when it cannot be written."""
    # Nothing written keeps a secret: a model's answer may echo the key it was sent with.
    document = redact_value({"schema_version": RESULTS_SCHEMA, **document})
    data = json.dumps(document, indent=1, default=str, ensure_ascii=False).encode("utf-8")
    write_atomically(path, data, what="results", hint="see THESIS_RESULTS_DIR")


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _Tool(_Shape):
    status: str
    reason: str | None = ""
    findings: int = 0


class _Endpoint(_Shape):
    requests: float = 0
    requests_per_second: float = 0
    p95_ms: float | None = None
    failures: float = 0


class _Service(_Shape):
    service: str | None = None
    url: str | None = None
    healthy: bool | None = None
    http_status: int | None = None
    error: str | None = None


class _Requirement(_Shape):
    requirement: str = ""
    met: bool | None = None
    evidence: str | None = None


class _Review(_Shape):
    requirements: list[_Requirement] = []
    suggestions: list[str] = []


class _Check(_Shape):
    """One endpoint of a functional test."""

    endpoint: str = ""
    path: str = ""
    expected: int | None = None
    status: int | None = None
    passed: bool = False
    problem: str = ""


class _Metrics(_Shape):
    requests: float = 0
    requests_per_second: float | None = None
    avg_ms: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    error_rate: float = 0
    connection_errors: float = 0
    endpoints: dict[str, _Endpoint] = {}
    services: list[_Service] = []
    review: _Review = _Review()
    checks: list[_Check] = []


class _Document(_Shape):
    """What screens and the CLI read of a results file, with the types they format."""

    config: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    tools: dict[str, _Tool] = {}
    metrics: _Metrics = _Metrics()
    findings: list[Any] = []


MAX_RESULTS_BYTES = 256 * 1024 * 1024
"""Largest results file read; the biggest real ones (thousands of findings) are a few MiB."""


def read_results(path: Path | str) -> dict[str, Any]:
    """A results file as a dict whose `findings` are Finding-shaped and whose `config`,
    `summary`, `tools` and `metrics` are objects; a missing, unreadable, corrupt or
    misshapen file (or a FIFO, a device, one too large or too deep) is one clear
    ThesisError."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise ThesisError(f"The results file {path} is missing")
    try:
        data = read_regular(path, MAX_RESULTS_BYTES, "the results file")
        document = load_json(data, "it")
    except UntrustedInputError as exc:
        raise ThesisError(f"The results file {path} cannot be read: {exc.reason}") from None
    if not isinstance(document, dict):
        raise ThesisError(f"The results file {path} is corrupt: not a JSON object")
    version = document.get("schema_version")
    if version != RESULTS_SCHEMA:
        raise ThesisError(
            f"The results file {path} has schema version {version!r}; "
            f"this ThesisApp reads version {RESULTS_SCHEMA}"
        )
    problem = _shape_problem(document)
    if problem:
        raise ThesisError(f"The results file {path} is corrupt: {problem}")
    return document


def _shape_problem(document: dict[str, Any]) -> str | None:
    try:
        _Document.model_validate(document)
    except PydanticValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        return f"{where}: {error['msg']}"
    for number, item in enumerate(document.get("findings") or []):
        try:
            Finding.from_dict(item)
        except ValueError as exc:
            return f"finding {number + 1}: {exc}"
    return None
