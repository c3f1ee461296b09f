"""wapiti: the dynamic scanner `zap` analyses run when no ZAP daemon is configured.

wapiti3 lives in its own virtual environment (`analyzers/install` makes
`analyzers/wapiti-venv`): its pins clash with ours and it needs Python 3.12 or newer. It runs
as a subprocess per target URL, crawling the site and attacking what it finds with the scan
type's modules; its JSON report becomes Findings.

Everything wapiti keeps between runs (its session database, its config databases, the copy
of each report it makes under `~/.wapiti`) goes to a temporary folder that is removed after
the run, and bug reports (which wapiti sends over the network when it crashes) are off.
A run that crawled no page is a failure (wapiti itself exits 0 with "0 vulnerabilities"),
never an app without findings.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tui.config import Settings
from tui.errors import ScanError
from tui.services.analysis.findings import Finding, severity
from tui.services.analysis.process import ToolMissing, last_line, run_tool

MODULES = {"baseline": "sql,xss", "full": "sql,xss,exec,file,redirect,permanentxss"}
"""wapiti's attack modules per scan type. ssrf, xxe and log4shell are left out: they ask an
endpoint on the internet whether the app called it."""
VENV_EXECUTABLE = Path("wapiti-venv", "bin", "wapiti")
REPORT_SECTIONS = ("vulnerabilities", "anomalies", "additionals")
REQUEST_TIMEOUT = 10
"""Seconds wapiti waits for each answer of the app."""
INSTALL_HINT = "run analyzers/install (or set THESIS_WAPITI_PATH, or THESIS_ZAP_URL to use ZAP)"

Log = Callable[[str], None]


def wapiti_command(settings: Settings) -> str:
    """THESIS_WAPITI_PATH, else the one `analyzers/install` made, else `wapiti` on the PATH."""
    if settings.wapiti_path is not None:
        return str(settings.wapiti_path)
    bundled = settings.analyzers_dir / VENV_EXECUTABLE
    if bundled.is_file():
        return str(bundled)
    found = shutil.which("wapiti")
    if found is None:
        raise ToolMissing(f"wapiti is not installed: {INSTALL_HINT}")
    return found


async def wapiti_scan(
    settings: Settings, urls: list[str], scan_type: str, log: Log
) -> tuple[list[Finding], dict[str, Any]]:
    """Scan each URL in turn; every finding, and what each run did."""
    command = wapiti_command(settings)
    modules = MODULES[scan_type]
    log(f"-- wapiti ({modules}) on {', '.join(urls)}")
    findings: list[Finding] = []
    runs = []
    for url in urls:
        found, run = await _scan_one(command, url, modules, settings.tool_timeout, log)
        findings.extend(found)
        runs.append(run)
    version = next((run["version"] for run in runs if run.get("version")), "")
    return findings, {"version": version, "modules": modules, "runs": runs}


async def _scan_one(
    command: str, url: str, modules: str, timeout: float, log: Log
) -> tuple[list[Finding], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="thesis-wapiti-") as scratch:
        report = Path(scratch, "report.json")
        argv = [
            command,
            "--url", url,
            "--scope", "folder",
            "--module", modules,
            "--format", "json",
            "--output", str(report),
            "--store-session", str(Path(scratch, "session")),
            "--store-config", str(Path(scratch, "config")),
            "--max-scan-time", f"{max(timeout * 0.8, 1):g}",
            "--timeout", str(REQUEST_TIMEOUT),
            "--no-bugreport",
            "--verbose", "1",
        ]  # fmt: skip
        progress = _Progress(log)
        try:
            output = await run_tool(
                argv,
                timeout=timeout,
                cwd=scratch,
                env={**os.environ, "HOME": scratch},
                on_stdout=progress,
                on_stderr=log,
            )
        except ToolMissing as exc:
            raise ToolMissing(f"{exc} ({command}): {INSTALL_HINT}") from None
        if output.returncode != 0:
            reason = last_line(output.stderr) if output.stderr.strip() else progress.last
            raise ScanError(f"wapiti failed on {url} (exit {output.returncode}): {reason}")
        findings, infos = read_report(report, url)
    if not infos.get("crawled_pages_nbr"):
        raise ScanError(
            f"wapiti reached no page of {url} ({progress.problem or 'nothing crawled'}): "
            "is the app answering there?"
        )
    log(f"wapiti: {url}: {infos['crawled_pages_nbr']} pages crawled, {len(findings)} findings")
    return findings, {
        "url": url,
        "version": str(infos.get("version") or ""),
        "crawled_pages": infos["crawled_pages_nbr"],
        "seconds": round(output.seconds, 3),
        "findings": len(findings),
    }


class _Progress:
    """Passes wapiti's progress lines on (not its banner nor each request it sends)."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.last = "no output"
        self.problem = ""
        self._after_rule = False

    def __call__(self, line: str) -> None:
        text = line.strip()
        if text:
            self.last = text[:200]
        if text.startswith("[!]"):
            self.problem = text[4:].strip()[:200]
        if text.startswith(("[*]", "[!]")):
            self.log(f"wapiti: {text[3:].strip()}")
        elif self._after_rule and text:
            self.log(f"wapiti: found {text}")  # the title of a finding follows a `---` line
        self._after_rule = text == "---" or (self._after_rule and not text)


def read_report(path: Path, url: str) -> tuple[list[Finding], dict[str, Any]]:
    """Findings of wapiti's JSON report, and its `infos` (target, version, pages crawled)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ScanError(f"wapiti wrote no report for {url}") from None
    except (OSError, ValueError) as exc:
        raise ScanError(f"wapiti's report for {url} is not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("infos"), dict):
        raise ScanError(f"wapiti's report for {url} has no `infos` section")
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    classifications = data.get("classifications") or {}
    findings = []
    for section in REPORT_SECTIONS:
        for category, entries in (data.get(section) or {}).items():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    findings.append(_finding(category, entry, origin, classifications))
    return findings, data["infos"]


def _finding(
    category: str, entry: dict[str, Any], origin: str, classifications: dict[str, Any]
) -> Finding:
    info = str(entry.get("info") or category)
    parameter = str(entry.get("parameter") or "")
    if parameter and parameter not in info:
        info += f" (parameter {parameter})"
    request = str(entry.get("http_request") or "")
    references = (classifications.get(category) or {}).get("ref") or {}
    links = [link for link in references.values() if isinstance(link, str)]
    level = entry.get("level")
    return Finding(
        tool="wapiti",
        rule_id=category,
        severity=severity("wapiti", level if isinstance(level, int) else None),
        message=info,
        file=f"{origin}{entry.get('path') or '/'}",
        code=request.splitlines()[0] if request else "",
        link=links[0] if links else "https://wapiti-scanner.github.io/",
    )
