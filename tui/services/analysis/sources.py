"""What the static tools read and what they report: the shared vocabulary of a scan.

An app's `Source` (its files by kind, found without following links or reading dependency
folders), one tool's `ToolReport` for one app, and `ScanContext`, what an audit needs from
the scan that runs it. security.py and audits.py both build on these; neither imports the
other's module for them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tui.services.analysis.findings import Finding
from tui.services.apps import SKIP_DIRS as SCANNER_SKIP_DIRS

if TYPE_CHECKING:
    from tui.config import Settings
    from tui.services.analysis.findings import SourceExcerpts

SKIP_DIRS = SCANNER_SKIP_DIRS | {"env", ".next"}
"""The scanner's dependency and build folders, plus two more no analyzer should read."""
PYTHON = frozenset({".py"})
JAVASCRIPT = frozenset({".js", ".jsx", ".mjs", ".cjs"})


@dataclass
class Source:
    """The files of one app that the tools read."""

    root: Path
    python: list[Path] = field(default_factory=list)
    javascript: list[Path] = field(default_factory=list)
    requirements: list[Path] = field(default_factory=list)
    package_json: list[Path] = field(default_factory=list)

    def relative(self, path: Path | str) -> str:
        return Path(path).resolve().relative_to(self.root).as_posix()

    @property
    def empty(self) -> bool:
        return not (self.python or self.javascript or self.requirements or self.package_json)


def regular_files(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """The app's regular files in name order, with their lstat: symlinks are neither followed
    nor listed, and dependency, build and hidden folders are skipped."""
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            path = Path(directory, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                yield path, info


def collect_source(root: Path) -> Source:
    """The files each tool reads, from `regular_files`."""
    root = root.resolve()
    source = Source(root)
    for path, _info in regular_files(root):
        name = path.name
        suffix = path.suffix.lower()
        if suffix in PYTHON:
            source.python.append(path)
        elif suffix in JAVASCRIPT and not name.endswith(".min.js"):
            source.javascript.append(path)
        elif name.startswith("requirements") and suffix == ".txt":
            source.requirements.append(path)
        elif name == "package.json":
            source.package_json.append(path)
    return source


@dataclass
class ToolReport:
    """What one tool did for one app: `ok`, `partial` (some input not checked, listed in
    `unchecked`), `skipped` (with the reason) or `failed`."""

    tool: str
    status: str
    reason: str = ""
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0
    """How many items an audit could check (dependencies); 0 for the other tools."""
    unchecked: list[str] = field(default_factory=list)
    """What an audit could not check, each with where and why."""

    def as_dict(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "status": self.status,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
            "findings": len(self.findings),
        }
        if self.unchecked:
            described["unchecked"] = list(self.unchecked)
        return described


Reports = dict[Path, ToolReport]


class ScanContext(Protocol):
    """What an audit (audits.py) uses of the scan that runs it (security.SecurityScan)."""

    settings: Settings
    unreachable: dict[str, str]
    excerpts: SourceExcerpts

    def per_source(
        self, sources: list[Source], tool: str, attribute: str, nothing: str
    ) -> Reports: ...
