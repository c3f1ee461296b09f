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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.errors import ScanError
from tui.services.analysis.findings import Finding, severity
from tui.services.analysis.process import ToolMissing, last_line, run_tool
from tui.services.analysis.sources import Reports, ScanContext, Source, ToolReport

UNREACHABLE = "database unreachable"
_NETWORK_ERRORS = re.compile(
    r"ENOTFOUND|ECONNREFUSED|EAI_AGAIN|ETIMEDOUT|ECONNRESET|audit endpoint returned an error"
    r"|Method Not Allowed|network|getaddrinfo|Connection",
    re.IGNORECASE,
)


async def pip_audit(scan: ScanContext, sources: list[Source]) -> Reports:
    reports = scan.per_source(sources, "pip-audit", "requirements", "no requirements file")
    try:
        import pip_audit as _  # noqa: F401 - only asks whether it is installed
    except ImportError:
        raise ToolMissing("pip-audit is not installed (pip install pip-audit)") from None

    async def audit(source: Source, requirements: Path, report: ToolReport) -> None:
        listed = read_requirements(requirements)
        report.unchecked.extend(
            f"{source.relative(requirements)}:{line.number} {line.text[:80]} ({line.problem})"
            for line in listed
            if line.problem
        )
        pinned = [line for line in listed if not line.problem]
        if not pinned:
            return
        document = await _run_pip_audit(scan, requirements, pinned)
        _pip_audit_file(scan, source, requirements, report, document, pinned)

    reports = await _each_file(scan, "pip-audit", sources, "requirements", reports, audit)
    for report in reports.values():
        settle_unchecked(report, "requirements")
    return reports


class _Skip(Exception):
    pass


def settle_unchecked(report: ToolReport, what: str) -> None:
    """An audit that checked nothing is `skipped`, one that left lines out `partial`; both
    say which lines, so "0 vulnerabilities" is never read into what was not checked."""
    if not report.unchecked or report.status != "ok":
        return
    shown = "; ".join(report.unchecked[:5])
    more = f" and {len(report.unchecked) - 5} more" if len(report.unchecked) > 5 else ""
    if report.checked:
        report.status = "partial"
        report.reason = f"{len(report.unchecked)} {what} not checked: {shown}{more}"
    else:
        report.status = "skipped"
        report.reason = f"no pinned {what} to check: {shown}{more}"


async def _each_file(
    scan: ScanContext,
    tool: str,
    sources: list[Source],
    attribute: str,
    reports: Reports,
    audit: Callable[[Source, Path, ToolReport], Awaitable[None]],
) -> Reports:
    """Audit each app's files of one kind. `_Skip` ends that app's audit as skipped, a
    ScanError fails that app's audit alone, and a database found unreachable for one app
    skips the rest without asking again."""
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
            except ScanError as exc:
                report.status, report.reason = "failed", str(exc)
                report.findings.clear()
                break
    return reports


_COMMENT = re.compile(r"(^|\s)#.*$")
_PINNED = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?P<extras>\[[A-Za-z0-9._,\s-]*\])?"
    r"\s*===?\s*(?P<version>[A-Za-z0-9][A-Za-z0-9._+!-]*)\s*(?P<marker>;[^#]*)?$"
)
MAX_REQUIREMENTS_BYTES = 1 << 20


@dataclass(frozen=True)
class Requirement:
    """One requirement line: `problem` says why pip-audit cannot check it, or is empty."""

    number: int
    text: str
    name: str = ""
    problem: str = ""

    @property
    def key(self) -> str:
        return canonical_name(self.name)


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(path: Path) -> list[Requirement]:
    """The lines of a requirements file, each pinned (`name==1.2`) or not with the reason.

    Options, includes (`-r`, `-e`, `--index-url`), URLs and ranges are never handed to
    pip-audit: an app's `-r /etc/…` or index URL must not steer a tool on this host.
    """
    with open(path, "rb") as handle:
        raw = handle.read(MAX_REQUIREMENTS_BYTES + 1)
    if len(raw) > MAX_REQUIREMENTS_BYTES:
        raise _Skip(f"{path.name} is larger than {MAX_REQUIREMENTS_BYTES // 1024} KiB")
    listed: list[Requirement] = []
    joined, start = "", 0
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not joined:
            start = number
        if line.endswith("\\"):
            joined += line[:-1] + " "
            continue
        text = _COMMENT.sub("", joined + line).strip()
        joined = ""
        if not text:
            continue
        requirement, _, options = text.partition(" --")
        if text.startswith("-"):
            listed.append(Requirement(start, text, problem="an option or include, not followed"))
            continue
        if options and not options.startswith("hash"):
            listed.append(Requirement(start, text, problem="carries pip options"))
            continue
        match = _PINNED.match(requirement.strip())
        if match is None:
            listed.append(Requirement(start, text, problem="no pinned version"))
        else:
            listed.append(Requirement(start, match.group(0).strip(), match.group("name")))
    return listed


async def _run_pip_audit(
    scan: ScanContext, requirements: Path, pinned: list[Requirement]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="thesis-pip-audit-") as scratch:
        # Only the pinned lines, in a file of ours: pip-audit then reads nothing of the app's.
        checked = Path(scratch, "requirements.txt")
        checked.write_text("".join(f"{line.text}\n" for line in pinned), "utf-8")
        argv = [
            sys.executable, "-m", "pip_audit",
            "--requirement", str(checked),
            "--no-deps", "--disable-pip",
            "--format", "json",
            "--progress-spinner", "off",
            "--timeout", "15",
        ]  # fmt: skip
        output = await run_tool(argv, timeout=scan.settings.tool_timeout, cwd=scratch)
    text = output.stdout.strip()
    if not text or output.returncode not in (0, 1):
        # pip-audit refused the input (exit 1 with nothing on stdout): say why, skip the file.
        raise _Skip(f"cannot audit {requirements.name}: {last_line(output.stderr)}")
    try:
        document = json.loads(text)
    except ValueError:
        raise ScanError(f"pip-audit printed output that is not JSON: {text[:120]!r}") from None
    if not isinstance(document, dict) or not isinstance(document.get("dependencies", []), list):
        raise ScanError("pip-audit printed JSON of an unexpected shape")
    dependencies = [dep for dep in document.get("dependencies") or [] if isinstance(dep, dict)]
    if dependencies and all(dep.get("skip_reason") for dep in dependencies):
        scan.unreachable["pip-audit"] = UNREACHABLE
        raise _Skip(UNREACHABLE)
    document["dependencies"] = dependencies
    return document


def _pip_audit_file(
    scan: ScanContext,
    source: Source,
    requirements: Path,
    report: ToolReport,
    document: dict[str, Any],
    pinned: list[Requirement],
) -> None:
    lines = {line.key: line.number for line in pinned}
    for dependency in document.get("dependencies") or []:
        name = str(dependency.get("name", ""))
        line = lines.get(canonical_name(name))
        if dependency.get("skip_reason"):
            report.unchecked.append(
                f"{source.relative(requirements)}:{line or '?'} {name} "
                f"({str(dependency['skip_reason'])[:80]})"
            )
            continue
        report.checked += 1
        for vuln in dependency.get("vulns") or []:
            if not isinstance(vuln, dict):
                continue
            fixes = ", ".join(map(str, vuln.get("fix_versions") or [])) or "none"
            report.findings.append(
                Finding(
                    tool="pip-audit",
                    rule_id=str(vuln.get("id", "")),
                    severity=severity("pip-audit", None),
                    message=(
                        f"{name} {dependency.get('version', '')}: "
                        f"{str(vuln.get('description') or '').strip()[:300]} (fixed in {fixes})"
                    ),
                    file=source.relative(requirements),
                    line=line,
                    code=scan.excerpts.around(requirements, line),
                    link=f"https://osv.dev/vulnerability/{vuln.get('id', '')}",
                )
            )


async def npm_audit(scan: ScanContext, sources: list[Source]) -> Reports:
    reports = scan.per_source(sources, "npm-audit", "package_json", "no package.json")
    npm = shutil.which("npm")
    if npm is None:
        raise ToolMissing("npm is not installed")

    async def audit(source: Source, package: Path, report: ToolReport) -> None:
        _npm_findings(source, package, report, await _run_npm_audit(scan, npm, package))

    return await _each_file(scan, "npm-audit", sources, "package_json", reports, audit)


async def _run_npm_audit(scan: ScanContext, npm: str, package: Path) -> dict[str, Any]:
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
