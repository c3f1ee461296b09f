"""Static security analysis: bandit, pylint, eslint, pip-audit and npm audit on app sources.

Nothing here imports or runs the generated code. bandit (bandit_run.py), pylint and eslint
run as subprocesses that only parse it, with *our* configuration (`analyzers/pylintrc`,
`analyzers/eslint.config.mjs`) passed explicitly, so an app's own pylintrc (init-hook) or
eslint.config.js (JavaScript) is never loaded; inline suppressions (`# nosec`,
`/* eslint-disable */`) are ignored.

Many apps are scanned with one process per tool: a scan takes every app's files at once and
hands each app the findings under its folder. Starting pylint costs ~1 s and bandit's CLI
0.15 s here, so a per-app process would cost minutes over a few hundred apps.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from tui.config import Settings
from tui.errors import ScanError
from tui.services.analysis.findings import Finding, SourceExcerpts, severity
from tui.services.analysis.process import TIMED_OUT, ToolMissing, last_line, run_tool
from tui.services.analysis.sources import Reports, Source, ToolReport

Log = Callable[[str], None]

TOOL_FLAGS = {
    "bandit": "bandit_enabled",
    "pylint": "pylint_enabled",
    "eslint": "eslint_enabled",
    "pip-audit": "safety_enabled",
    "npm-audit": "npm_audit_enabled",
}
"""Seed 001's per-tool columns; pip-audit takes the place of safety (same job, offline-honest)."""

PYLINT_FAILED = 32
"""pylint's exit bit for a usage error; the other bits only say which kinds of message it gave."""


PROFILES = {
    "security": ("pylintrc", "eslint.config.mjs"),
    "quality": ("pylintrc-quality", "eslint-quality.config.mjs"),
}
"""(pylint rcfile, eslint config) in the analyzers folder for each static analysis type: the
security one keeps correctness and security checks, the quality one adds style, refactoring
and maintainability advice."""


class SecurityScan:
    """One scan of many apps; `run` gives each app's reports, tool by tool."""

    def __init__(
        self, settings: Settings, log: Log, *, profile: str = "security", jobs: int | None = None
    ) -> None:
        self.settings = settings
        self.log = log
        self.jobs = jobs
        """pylint's processes; None: by the number of files, up to the cores."""
        self.analyzers = settings.analyzers_dir
        self.pylintrc, self.eslint_config = PROFILES[profile]
        self.excerpts = SourceExcerpts()
        self.unreachable: dict[str, str] = {}
        """Vulnerability databases found unreachable in this scan: asked once, not per app."""

    async def run(
        self, sources: list[Source], tools: tuple[str, ...]
    ) -> dict[Path, list[ToolReport]]:
        from tui.services.analysis.audits import npm_audit, pip_audit

        runners: dict[str, Callable[[list[Source]], Awaitable[Reports]]] = {
            "bandit": self.bandit,
            "pylint": self.pylint,
            "eslint": self.eslint,
            "pip-audit": lambda s: pip_audit(self, s),
            "npm-audit": lambda s: npm_audit(self, s),
        }

        async def one(tool: str) -> tuple[Reports, float]:
            self.log(f"-- {tool}")
            started = time.monotonic()
            by_root = await self._attributed(tool, runners[tool], sources)
            self._log_outcome(tool, list(by_root.values()))
            return by_root, time.monotonic() - started

        # The tools run side by side, each a process of its own, so the
        # cores stay busy while the slowest one (pylint) runs.
        async with asyncio.TaskGroup() as group:
            running = {tool: group.create_task(one(tool)) for tool in tools}
        reports: dict[Path, list[ToolReport]] = {source.root: [] for source in sources}
        for tool in tools:
            by_root, seconds = running[tool].result()
            for source in sources:
                report = by_root[source.root]
                report.seconds = report.seconds or seconds
                reports[source.root].append(report)
        return reports

    async def _attributed(
        self,
        tool: str,
        runner: Callable[[list[Source]], Awaitable[Reports]],
        sources: list[Source],
        *,
        hanging: bool = False,
    ) -> Reports:
        """The tool's reports for `sources`, each app's depending only on its own files.

        A run over many apps that fails is split in halves and each half run again, down to
        the apps that make the tool fail; the others keep their findings. When a first half
        timed out throughout and the second times out too (`hanging`), the tool hangs
        whatever it reads: the second half is not split further, which would cost a timeout
        per app.
        """
        try:
            return await runner(sources)
        except ToolMissing as exc:
            return {s.root: ToolReport(tool, "skipped", str(exc)) for s in sources}
        except ScanError as exc:
            if len(sources) == 1 or (hanging and TIMED_OUT in str(exc)):
                return {s.root: ToolReport(tool, "failed", str(exc)) for s in sources}
            failure = exc
        self.log(f"{tool} failed over {len(sources)} apps ({failure}); running it on each half")
        middle = len(sources) // 2
        first = await self._attributed(tool, runner, sources[:middle])
        second = await self._attributed(
            tool, runner, sources[middle:], hanging=_all_timed_out(first.values())
        )
        return {**first, **second}

    def _log_outcome(self, tool: str, reports: list[ToolReport]) -> None:
        if len(reports) == 1:
            report = reports[0]
            if report.status == "ok":
                self.log(f"{tool}: {len(report.findings)} findings in {report.seconds:.1f}s")
            else:
                self.log(f"{tool}: {report.status}: {report.reason}")
            return
        found = sum(len(report.findings) for report in reports)
        states = {report.status for report in reports}
        self.log(f"{tool}: {found} findings over {len(reports)} apps ({', '.join(sorted(states))})")

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def owners(sources: list[Source], attribute: str) -> dict[Path, Source]:
        return {path: source for source in sources for path in getattr(source, attribute)}

    @staticmethod
    def per_source(sources: list[Source], tool: str, attribute: str, nothing: str) -> Reports:
        """An `ok` report for each app with files to check; `skipped` for the others."""
        return {
            s.root: ToolReport(tool, "ok")
            if getattr(s, attribute)
            else ToolReport(tool, "skipped", nothing)
            for s in sources
        }

    # --- bandit (a process of its own: bandit_run.py) ------------------------------------

    async def bandit(self, sources: list[Source]) -> Reports:
        reports = self.per_source(sources, "bandit", "python", "no Python files")
        owners = self.owners(sources, "python")
        if not owners:
            return reports
        argv = [sys.executable, "-m", "tui.services.analysis.bandit_run", *map(str, owners)]
        output = await run_tool(argv, timeout=self.settings.tool_timeout, cwd="/")
        if output.returncode != 0:
            raise ScanError(f"bandit failed (exit {output.returncode}): {last_line(output.stderr)}")
        report = _json(output.stdout, "bandit", expect=dict)
        issues, skipped = report.get("issues") or [], report.get("skipped") or []
        for name, reason in skipped:
            self.log(f"bandit: skipped {name}: {reason}")
        for issue in issues:
            path = Path(issue["filename"])
            source = owners.get(path)
            if source is None:
                continue
            test_id = issue.get("test_id", "")
            cwe = issue.get("issue_cwe") or {}
            reports[source.root].findings.append(
                Finding(
                    tool="bandit",
                    rule_id=test_id,
                    severity=severity("bandit", issue.get("issue_severity")),
                    confidence=str(issue.get("issue_confidence", "")).lower(),
                    message=f"{issue.get('test_name', '')}: {issue.get('issue_text', '')}",
                    file=source.relative(path),
                    line=issue.get("line_number"),
                    code=self.excerpts.around(path, issue.get("line_number")),
                    link=cwe.get("link") or "https://bandit.readthedocs.io/",
                )
            )
        return reports

    # --- pylint (one subprocess for every app) --------------------------------------------

    async def pylint(self, sources: list[Source]) -> Reports:
        reports = self.per_source(sources, "pylint", "python", "no Python files")
        owners = self.owners(sources, "python")
        if not owners:
            return reports
        try:
            import pylint  # noqa: F401 - only asks whether it is installed
        except ImportError:
            raise ToolMissing("pylint is not installed (pip install pylint)") from None
        # Spread over the cores as processes of our own, not pylint's --jobs: its workers
        # are not our children, and would outlive a runner killed with -9.
        processes = self.jobs or min(os.cpu_count() or 1, max(1, len(owners) // 20))
        outputs = await asyncio.gather(*(
            run_tool([
                sys.executable, "-m", "pylint",
                f"--rcfile={self.analyzers / self.pylintrc}",
                "--output-format=json",
                "--jobs=1",
                "--persistent=n",
                "--score=n",
                *map(str, share),
            ], timeout=self.settings.tool_timeout, cwd="/")
            for share in _shares(list(owners), processes)
        ))  # fmt: skip
        messages = []
        for output in outputs:
            if output.returncode & PYLINT_FAILED or output.returncode < 0:
                raise ScanError(
                    f"pylint failed (exit {output.returncode}): {last_line(output.stderr)}"
                )
            messages.extend(_json(output.stdout, "pylint", expect=list))
        for message in messages:
            path = Path("/", message.get("path", ""))
            source = owners.get(path)
            if source is None:
                continue
            symbol = message.get("symbol", "")
            reports[source.root].findings.append(
                Finding(
                    tool="pylint",
                    rule_id=f"{message.get('message-id', '')} {symbol}".strip(),
                    severity=severity("pylint", message.get("type"), rule_id=symbol),
                    message=message.get("message", ""),
                    file=source.relative(path),
                    line=message.get("line"),
                    code=self.excerpts.around(path, message.get("line")),
                    link=f"https://pylint.readthedocs.io/en/stable/search.html?q={symbol}",
                )
            )
        return reports

    # --- eslint (one subprocess for every app) --------------------------------------------

    async def eslint(self, sources: list[Source]) -> Reports:
        reports = self.per_source(sources, "eslint", "javascript", "no JavaScript files")
        owners = self.owners(sources, "javascript")
        if not owners:
            return reports
        program = self.analyzers / "node_modules" / ".bin" / "eslint"
        if not program.exists():
            raise ToolMissing(f"eslint is not installed (npm ci --prefix {self.analyzers})")
        argv = [
            str(program),
            "--config", str(self.analyzers / self.eslint_config),
            "--format", "json",
            "--no-warn-ignored",
            "--no-error-on-unmatched-pattern",
            *map(str, owners),
        ]  # fmt: skip
        # cwd `/`: with --config, ESLint ignores files outside the working directory.
        output = await run_tool(argv, timeout=self.settings.tool_timeout, cwd="/")
        if output.returncode not in (0, 1):
            raise ScanError(f"eslint failed (exit {output.returncode}): {last_line(output.stderr)}")
        for entry in _json(output.stdout, "eslint", expect=list):
            path = Path(entry.get("filePath", ""))
            source = owners.get(path)
            if source is None:
                continue
            for message in entry.get("messages") or []:
                rule = message.get("ruleId") or "parse-error"
                reports[source.root].findings.append(
                    Finding(
                        tool="eslint",
                        rule_id=rule,
                        severity=severity("eslint", message.get("severity"), rule_id=rule),
                        message=message.get("message", ""),
                        file=source.relative(path),
                        line=message.get("line"),
                        code=self.excerpts.around(path, message.get("line")),
                        link=_eslint_link(rule),
                    )
                )
        return reports


def _all_timed_out(reports: Iterable[ToolReport]) -> bool:
    return all(r.status == "failed" and TIMED_OUT in r.reason for r in reports)


def _json(text: str, tool: str, *, expect: type) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        raise ScanError(f"{tool} printed output that is not JSON: {text[:120]!r}") from None
    if not isinstance(value, expect):
        raise ScanError(f"{tool} printed JSON of an unexpected shape")
    return value


def _eslint_link(rule: str) -> str:
    if rule.startswith("security/"):
        return "https://github.com/eslint-community/eslint-plugin-security#rules"
    return f"https://eslint.org/docs/latest/rules/{rule}" if rule != "parse-error" else ""


def _shares(paths: list[Path], count: int) -> list[list[Path]]:
    """`paths` in `count` shares of about equal size in bytes (the largest file first to the
    lightest share), so the processes end together; no share is empty."""
    shares: list[list[Path]] = [[] for _ in range(max(1, min(count, len(paths))))]
    weights = [0] * len(shares)
    sized = []
    for path in paths:
        try:
            sized.append((path.stat().st_size, path))
        except OSError:
            sized.append((0, path))
    for size, path in sorted(sized, key=lambda item: (-item[0], str(item[1]))):
        lightest = weights.index(min(weights))
        shares[lightest].append(path)
        weights[lightest] += size or 1
    return shares
