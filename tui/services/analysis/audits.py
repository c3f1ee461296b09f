"""Dependency audits: pip-audit on requirements files, npm audit on package.json.

Both need a vulnerability database on the network. Offline, pip-audit prints "No known
vulnerabilities found" and exits 0 while it skipped every dependency, and npm audit fails
to reach its endpoint: either is recorded as `skipped: database unreachable`, never as
zero findings. A scan asks once; the other apps get the same answer.

Neither tool runs anything of the app's: pip-audit reads pinned requirements without pip
(`--no-deps --disable-pip`), and npm works on a copy of package.json (and its lock file)
in a scratch folder with `--ignore-scripts`, so no `.npmrc` or install script of the app's
is used.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.errors import ScanError
from tui.services.analysis.findings import Finding, severity
from tui.services.analysis.process import ToolMissing, last_line, run_tool
from tui.services.analysis.security import Reports, Source, ToolReport

if TYPE_CHECKING:
    from tui.services.analysis.security import SecurityScan

UNREACHABLE = "database unreachable"
_NETWORK_ERRORS = re.compile(
    r"ENOTFOUND|ECONNREFUSED|EAI_AGAIN|ETIMEDOUT|ECONNRESET|audit endpoint returned an error"
    r"|Method Not Allowed|network|getaddrinfo|Connection",
    re.IGNORECASE,
)


async def pip_audit(scan: SecurityScan, sources: list[Source]) -> Reports:
    reports = scan.per_source(sources, "pip-audit", "requirements", "no requirements file")
    try:
        import pip_audit as _  # noqa: F401 - only asks whether it is installed
    except ImportError:
        raise ToolMissing("pip-audit is not installed (pip install pip-audit)") from None

    async def audit(source: Source, requirements: Path, report: ToolReport) -> None:
        document = await _run_pip_audit(scan, requirements)
        _pip_audit_file(scan, source, requirements, report, document)

    return await _each_file(scan, "pip-audit", sources, "requirements", reports, audit)


class _Skip(Exception):
    pass


async def _each_file(
    scan: SecurityScan,
    tool: str,
    sources: list[Source],
    attribute: str,
    reports: Reports,
    audit: Callable[[Source, Path, ToolReport], Awaitable[None]],
) -> Reports:
    """Audit each app's files of one kind. `_Skip` ends that app's audit as skipped, and a
    database found unreachable for one app skips the rest without asking again."""
    for source in sources:
        report = reports[source.root]
        for path in getattr(source, attribute):
            if tool in scan.unreachable:
                report.status, report.reason = "skipped", scan.unreachable[tool]
                break
            try:
                await audit(source, path, report)
            except _Skip as skip:
                report.status, report.reason = "skipped", str(skip)
                break
    return reports


async def _run_pip_audit(scan: SecurityScan, requirements: Path) -> dict[str, Any]:
    argv = [
        sys.executable, "-m", "pip_audit",
        "--requirement", str(requirements),
        "--no-deps", "--disable-pip",
        "--format", "json",
        "--progress-spinner", "off",
        "--timeout", "15",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="thesis-pip-audit-") as scratch:
        output = await run_tool(argv, timeout=scan.settings.tool_timeout, cwd=scratch)
    if output.returncode not in (0, 1):
        # Unpinned requirements and the like: the tool cannot run on this input.
        raise _Skip(f"cannot audit {requirements.name}: {last_line(output.stderr)}")
    try:
        document = json.loads(output.stdout)
    except ValueError:
        raise ScanError(
            f"pip-audit printed output that is not JSON: {output.stdout[:120]!r}"
        ) from None
    dependencies = document.get("dependencies") or []
    if dependencies and all(dep.get("skip_reason") for dep in dependencies):
        scan.unreachable["pip-audit"] = UNREACHABLE
        raise _Skip(UNREACHABLE)
    return document


def _pip_audit_file(
    scan: SecurityScan,
    source: Source,
    requirements: Path,
    report: ToolReport,
    document: dict[str, Any],
) -> None:
    lines = requirements.read_text("utf-8", "replace").splitlines()
    for dependency in document.get("dependencies") or []:
        name = str(dependency.get("name", ""))
        line = next(
            (n for n, text in enumerate(lines, 1) if text.strip().lower().startswith(name.lower())),
            None,
        )
        for vuln in dependency.get("vulns") or []:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none"
            report.findings.append(
                Finding(
                    tool="pip-audit",
                    rule_id=str(vuln.get("id", "")),
                    severity=severity("pip-audit", None),
                    message=(
                        f"{name} {dependency.get('version', '')}: "
                        f"{(vuln.get('description') or '').strip()[:300]} (fixed in {fixes})"
                    ),
                    file=source.relative(requirements),
                    line=line,
                    code=scan.excerpts.around(requirements, line),
                    link=f"https://osv.dev/vulnerability/{vuln.get('id', '')}",
                )
            )


async def npm_audit(scan: SecurityScan, sources: list[Source]) -> Reports:
    reports = scan.per_source(sources, "npm-audit", "package_json", "no package.json")
    npm = shutil.which("npm")
    if npm is None:
        raise ToolMissing("npm is not installed")

    async def audit(source: Source, package: Path, report: ToolReport) -> None:
        _npm_findings(source, package, report, await _run_npm_audit(scan, npm, package))

    return await _each_file(scan, "npm-audit", sources, "package_json", reports, audit)


async def _run_npm_audit(scan: SecurityScan, npm: str, package: Path) -> dict[str, Any]:
    timeout = scan.settings.tool_timeout
    with tempfile.TemporaryDirectory(prefix="thesis-npm-audit-") as scratch:
        shutil.copyfile(package, Path(scratch, "package.json"))
        lock = package.with_name("package-lock.json")
        if lock.is_file() and not lock.is_symlink():
            shutil.copyfile(lock, Path(scratch, "package-lock.json"))
        else:
            output = await run_tool(
                [npm, "install", "--package-lock-only", "--ignore-scripts", "--no-audit",
                 "--no-fund", "--loglevel=error"],
                timeout=timeout, cwd=scratch,
            )  # fmt: skip
            if output.returncode != 0:
                reason = last_line(output.stderr)
                if _NETWORK_ERRORS.search(output.stderr):
                    scan.unreachable["npm-audit"] = UNREACHABLE
                    raise _Skip(UNREACHABLE)
                raise _Skip(f"cannot resolve {package.name}: {reason}")
        output = await run_tool(
            [npm, "audit", "--json", "--package-lock-only"], timeout=timeout, cwd=scratch
        )
    try:
        document = json.loads(output.stdout)
    except ValueError:
        raise ScanError(
            f"npm audit printed output that is not JSON: {output.stdout[:120]!r}"
        ) from None
    if "vulnerabilities" not in document:
        if _NETWORK_ERRORS.search(json.dumps(document) + output.stderr):
            scan.unreachable["npm-audit"] = UNREACHABLE
            raise _Skip(UNREACHABLE)
        raise ScanError(f"npm audit failed: {document.get('message') or last_line(output.stderr)}")
    return document


def _npm_findings(
    source: Source, package: Path, report: ToolReport, document: dict[str, Any]
) -> None:
    for name, vuln in sorted((document.get("vulnerabilities") or {}).items()):
        advisories = [via for via in vuln.get("via") or [] if isinstance(via, dict)]
        for advisory in advisories or [{}]:
            report.findings.append(
                Finding(
                    tool="npm-audit",
                    rule_id=str(advisory.get("source") or advisory.get("url") or name),
                    severity=severity(
                        "npm-audit", advisory.get("severity") or vuln.get("severity")
                    ),
                    message=f"{name} {vuln.get('range', '')}: "
                    f"{advisory.get('title', 'vulnerable')}",
                    file=source.relative(package),
                    link=str(advisory.get("url", "")),
                )
            )
