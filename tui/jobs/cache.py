"""When a task need not run: an earlier analysis of the same content stands for it.

The key of a task is a hash of its app, its type, its options (as the type's schema spelled them
out), the app's content hashed when the task runs (not at the last scan), and the versions
and configuration files of the tools the type uses. A completed analysis stored under the
same key, with its results file on disk, is reused instead of running again; a changed file
changes the content hash of that app only.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
from pathlib import Path
from typing import Any

from tui.db.models import AnalysisType
from tui.services.analysis.registry import KINDS

PYTHON_TOOLS = ("bandit", "pylint", "pip-audit", "locust")
REVIEW_PROMPT_VERSION = "1"
"""Bumped when the AI review's prompt changes, so earlier reviews are not reused."""


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@functools.cache
def tools_fingerprint(analyzers_dir: str) -> str:
    """The versions of the static tools and a hash of our configurations of them."""
    parts: dict[str, Any] = {name: _version(name) for name in PYTHON_TOOLS}
    folder = Path(analyzers_dir)
    try:
        eslint = json.loads((folder / "node_modules/eslint/package.json").read_text())
        parts["eslint"] = str(eslint.get("version"))
    except (OSError, ValueError, AttributeError):
        parts["eslint"] = "absent"
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*")):
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 1 << 20:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    parts["configs"] = digest.hexdigest()[:16]
    return json.dumps(parts, sort_keys=True)


def cache_key(
    app: tuple[str, int],
    kind: AnalysisType,
    config: dict[str, Any],
    content: str,
    analyzers_dir: Path | str,
) -> str | None:
    """The key of a task of `app` (model slug, number), or None for a type whose result
    depends on more than the code (a load test, a dynamic scan, a smoke test: the app's
    runtime). The app is part of the key: two apps with the same files still each have
    their own analysis, which is what reports count per app."""
    entry = KINDS[kind]
    if not entry.cacheable:
        return None
    tools = tools_fingerprint(str(analyzers_dir)) if entry.static else REVIEW_PROMPT_VERSION
    document = json.dumps(
        {
            "app": list(app),
            "type": str(kind),
            "config": config,
            "content": content,
            "tools": tools,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(document.encode()).hexdigest()
