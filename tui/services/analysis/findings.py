"""One shape for every analyzer's findings, the one severity function, and the one line
that says what an analysis found (`describe_summary`).

Every tool's raw level goes through `severity()`, and the severity columns of a task are
counted from the same list of findings that is written to its results file, so a table and
its drill-down never disagree.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low", "info")
"""Most to least severe. Tables sort by this order, not alphabetically."""

SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

_ESLINT_SECURITY_RULES = frozenset({"no-eval", "no-implied-eval", "no-new-func", "no-script-url"})
_PYLINT = {"fatal": "high", "error": "medium", "warning": "low"}
_PYLINT_SECURITY = frozenset({"eval-used", "exec-used"})
_BANDIT = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
_WAPITI = {4: "critical", 3: "high", 2: "medium", 1: "low"}
_AUDIT = {
    "critical": "critical",
    "high": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "info": "info",
}


def severity(tool: str, level: str | int | None, *, rule_id: str = "") -> str:
    """Our severity for a tool's own level.

    - bandit: HIGH/MEDIUM/LOW as they are.
    - pylint: fatal → high, error → medium, warning → low, the rest info; eval-used and
      exec-used are high whatever their type.
    - eslint: the security plugin's rules and eval-like core rules are high; other errors
      (2) medium, warnings (1) low.
    - npm audit: its own critical/high/moderate/low; pip-audit reports no level: high.
    - zap: risk High/Medium/Low/Informational.
    - wapiti: level 4 critical, 3 high, 2 medium, 1 low, 0 info.
    """
    if tool == "bandit":
        return _BANDIT.get(str(level).upper(), "info")
    if tool == "pylint":
        if rule_id in _PYLINT_SECURITY:
            return "high"
        return _PYLINT.get(str(level), "info")
    if tool == "eslint":
        if rule_id.startswith("security/") or rule_id in _ESLINT_SECURITY_RULES:
            return "high"
        return {2: "medium", 1: "low"}.get(level if isinstance(level, int) else -1, "info")
    if tool in ("npm-audit", "pip-audit"):
        return _AUDIT.get(str(level or "high").lower(), "high")
    if tool == "zap":
        return {"high": "high", "medium": "medium", "low": "low"}.get(str(level).lower(), "info")
    if tool == "wapiti":
        return _WAPITI.get(level if isinstance(level, int) else -1, "info")
    return "info"


@dataclass
class Finding:
    tool: str
    rule_id: str
    severity: str
    message: str
    file: str = ""
    """Relative to the app's folder, with `/`."""
    line: int | None = None
    confidence: str = ""
    code: str = ""
    """The lines around `line`, each as `<number> <text>`."""
    link: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Finding:
        """A finding from a results file; ValueError when it is not one (a file with the
        right schema version but the wrong shape must not crash a screen)."""
        if not isinstance(data, dict):
            raise ValueError(f"a finding is {type(data).__name__}, not an object")
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        for name, value in known.items():
            wanted = int if name == "line" else str
            if name == "line" and value is None:
                continue
            if not isinstance(value, wanted) or isinstance(value, bool):
                raise ValueError(f"a finding's {name} is {type(value).__name__}")
        missing = {"tool", "rule_id", "severity", "message"} - set(known)
        if missing:
            raise ValueError(f"a finding has no {', '.join(sorted(missing))}")
        return cls(**known)


def count_severities(findings: list[Finding]) -> dict[str, int]:
    counts = Counter(finding.severity for finding in findings)
    return {name: counts.get(name, 0) for name in SEVERITIES}


def count_tools(findings: list[Finding]) -> dict[str, int]:
    """Findings per tool, by the tool's name (a tool that ran and found nothing is absent:
    the summary's `tools` says which ran)."""
    return dict(sorted(Counter(finding.tool for finding in findings).items()))


def by_severity(finding: Finding) -> tuple[int, str, int, str, str]:
    """Most severe first, then by place: the order results files and tables use."""
    return (
        SEVERITY_RANK.get(finding.severity, 9),
        finding.file,
        finding.line or 0,
        finding.tool,
        finding.rule_id,
    )


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=by_severity)


@dataclass
class SourceExcerpts:
    """Reads the lines around a finding, each file once; never follows a symlink."""

    context: int = 1
    _lines: dict[Path, list[str]] = field(default_factory=dict)

    def around(self, path: Path, line: int | None) -> str:
        if not line:
            return ""
        lines = self._lines.get(path)
        if lines is None:
            try:
                lines = [] if path.is_symlink() else path.read_text("utf-8", "replace").splitlines()
            except OSError:
                lines = []
            self._lines[path] = lines
        first = max(line - self.context, 1)
        last = min(line + self.context, len(lines))
        return "\n".join(f"{number} {lines[number - 1]}" for number in range(first, last + 1))


def headline(summary: dict[str, Any]) -> str | None:
    """A few characters saying how an analysis came out, for a table's Result column: its
    findings (security, quality, scans), endpoints passed (functional), services up (smoke),
    requests per second (load test), score (AI review), spend (generation); None when the
    summary says none of these (or says them in the wrong shape)."""

    def number(key: str) -> float | None:
        value = summary.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return value if math.isfinite(value) else None

    def fraction(key: str) -> str | None:
        value = summary.get(key)
        return value if isinstance(value, str) and _FRACTION.fullmatch(value) else None

    if (total := number("total_findings")) is not None:
        return f"{total:.0f}"
    if (passed := fraction("endpoints_passed")) is not None:
        return f"{passed} passed"
    if (up := fraction("healthy")) is not None:
        return f"{up} up"
    if (rate := number("requests_per_second")) is not None:
        return f"{rate:,.0f} req/s"
    if (score := number("score")) is not None:
        return f"score {score:.0f}"
    if (cost := number("cost")) is not None and "calls" in summary:
        return f"{cost:.4f} USD"
    return None


_FRACTION = re.compile(r"\d{1,9}/\d{1,9}")


def describe_summary(summary: dict[str, Any]) -> str:
    """One line of a task's summary for logs, the CLI and notifications."""
    if "total_findings" in summary:
        counts = ", ".join(
            f"{summary.get(name, 0)} {name}"
            for name in ("critical", "high", "medium", "low", "info")
            if summary.get(name)
        )
        total = summary["total_findings"]
        noun = "finding" if total == 1 else "findings"
        return f"{total} {noun}" + (f" ({counts})" if counts else "")
    if {"calls", "tokens", "cost"} <= summary.keys():  # a generation
        try:
            return (f"{int(summary['calls'])} calls · {int(summary['tokens']):,} tokens · "
                    f"{float(summary['cost']):.4f} USD")  # fmt: skip
        except (TypeError, ValueError):
            pass  # a damaged summary: said as it is, below
    parts = [f"{key.replace('_', ' ')} {value}" for key, value in summary.items()
             if isinstance(value, int | float | str)]  # fmt: skip
    return ", ".join(parts) or "done"
