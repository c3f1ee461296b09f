"""Dynamic scans (`zap` analyses) of an app's running services.

With THESIS_ZAP_URL set, OWASP ZAP scans through its API, driven by the official `zaproxy`
client: `baseline` spiders each published service and waits for the passive scanner;
`full` then runs the active scanner on them too. Without it, a ZAP container started for
the scan does the same when the engine has the ZAP image (zap_container.py), and otherwise
wapiti scans the same URLs (wapiti.py). Either way each alert becomes a Finding, the risks
are counted into a `zap_analyses` row, and a scanner that is missing, unreachable, refuses
the key, times out or answers nonsense fails the task with one line.

The client sends every API call to `http://zap/...` through ZAP itself as an HTTP proxy:
ZAP answers that host from its API. Its blocking calls run in threads, each with a timeout
(the client sets none); the scan polls with a deadline (THESIS_TOOL_TIMEOUT), and on a
timeout or a cancel ZAP is asked to stop the scans this task started. The API key is sent
in ZAP's header and never written to a log, a result or an error message. A scan that did
not finish stores no `zap_analyses` row (as a failed load test stores no performance row):
its task says why.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tui.config import Settings
from tui.db.models import AnalysisStatus, ZapAnalysis, utcnow
from tui.errors import RemoteServiceError, ThesisError, ValidationError
from tui.services.analysis.contract import Outcome, TaskRef
from tui.services.analysis.findings import Finding, count_severities, severity
from tui.services.analysis.process import ToolMissing
from tui.services.analysis.sources import ToolReport
from tui.services.analysis.wapiti import wapiti_scan
from tui.services.analysis.zap_client import ZapClient
from tui.services.analysis.zap_container import local_zap_image, zap_container

SCAN_TYPES = ("baseline", "full")
POLL_SECONDS = 0.5
ALERTS_PAGE = 500
REQUEST_TIMEOUT = 30.0
"""Longest wait for one API answer (a ZAP busy scanning still answers in milliseconds)."""

Log = Callable[[str], None]


def scan_type_of(options: dict[str, Any]) -> str:
    """The task's `zap_scan` option: baseline (the default) or full."""
    scan_type = str(options.get("zap_scan") or "baseline").strip().lower()
    if scan_type not in SCAN_TYPES:
        raise ValidationError(f"Unknown ZAP scan {scan_type!r}; choose baseline or full")
    return scan_type


async def dynamic_scan(
    settings: Settings, urls: list[str], options: dict[str, Any], log: Log
) -> Outcome:
    """Scan `urls` with ZAP (THESIS_ZAP_URL) or wapiti; the task's Outcome either way."""
    scan_type = scan_type_of(options)
    image = None if settings.zap_url else await asyncio.to_thread(local_zap_image, settings)
    tool = "zap" if settings.zap_url or image else "wapiti"
    started = time.monotonic()
    try:
        if settings.zap_url:
            findings, details = await ZapScan(settings, log).run(urls, scan_type)
        elif image is not None:
            async with zap_container(settings, image, log) as (address, key):
                scan = ZapScan(settings, log, address=address, key=key)
                findings, details = await scan.run(urls, scan_type)
            details["container"] = image
        else:
            findings, details = await wapiti_scan(settings, urls, scan_type, log)
    except ToolMissing as exc:
        report = ToolReport(tool, "skipped", str(exc))
        return Outcome(
            AnalysisStatus.FAILED,
            error=f"skipped: {exc}",
            summary={"tools": {tool: f"skipped: {exc}"}},
            tools={tool: report.as_dict()},
        )
    except ThesisError as exc:
        report = ToolReport(tool, "failed", str(exc), time.monotonic() - started)
        return Outcome(AnalysisStatus.FAILED, error=str(exc), tools={tool: report.as_dict()})
    findings = _unique(findings)
    report = ToolReport(tool, "ok", seconds=time.monotonic() - started, findings=findings)
    stored_type = scan_type if tool == "zap" else f"wapiti-{scan_type}"
    log(f"{tool}: {len(findings)} findings on {', '.join(urls)}")
    return Outcome(
        summary={
            "total_findings": len(findings),
            **count_severities(findings),
            "scanner": tool,
            "scan_type": stored_type,
        },
        findings=findings,
        tools={tool: report.as_dict()},
        metrics={"scanner": tool, "scan_type": stored_type, "targets": urls, **details},
        typed_row=lambda ref, outcome, seconds: zap_row(ref, outcome, seconds, urls),
    )


def zap_row(ref: TaskRef, outcome: Outcome, seconds: float, urls: list[str]) -> ZapAnalysis:
    """The `zap_analyses` row; a critical finding (wapiti has them) counts as high risk."""
    counts = count_severities(outcome.findings)
    return ZapAnalysis(
        application_id=ref.application_id,
        analysis_task_id=ref.id,
        status=outcome.status,
        scan_type=outcome.metrics["scan_type"],
        target_url=" ".join(urls)[:200],
        alerts_count=len(outcome.findings),
        high_risk_count=counts["critical"] + counts["high"],
        medium_risk_count=counts["medium"],
        low_risk_count=counts["low"],
        info_count=counts["info"],
        results={"tools": outcome.tools, "summary": outcome.summary, "metrics": outcome.metrics},
        execution_time=seconds,
        error_message=outcome.error,
        completed_at=utcnow(),
    )


def _unique(findings: list[Finding]) -> list[Finding]:
    """ZAP keeps every alert of earlier scans of the same URL: one finding each."""
    seen: dict[tuple[str, ...], Finding] = {}
    for finding in findings:
        key = (finding.tool, finding.rule_id, finding.file, finding.message, finding.code)
        seen.setdefault(key, finding)
    return list(seen.values())


# --- ZAP ---------------------------------------------------------------------------------


class ZapScan:
    """One scan of an app's URLs through a ZAP daemon."""

    def __init__(
        self,
        settings: Settings,
        log: Log,
        *,
        address: str | None = None,
        key: str | None = None,
        poll: float = POLL_SECONDS,
    ) -> None:
        """ZAP at `address` with `key`; by default THESIS_ZAP_URL and THESIS_ZAP_API_KEY."""
        if key is None:
            key = settings.zap_api_key.get_secret_value().strip() if settings.zap_api_key else ""
        timeout = min(REQUEST_TIMEOUT, settings.tool_timeout)
        self.client = ZapClient(address or settings.zap_url, key, timeout)
        self.timeout = settings.tool_timeout
        self.log = log
        self.poll = poll
        self._deadline = 0.0
        self._running: list[tuple[str, str]] = []
        """(component, scan id) of the scans this task started and ZAP still runs."""

    async def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(method, *args, **kwargs)

    async def run(self, urls: list[str], scan_type: str) -> tuple[list[Finding], dict[str, Any]]:
        self._deadline = time.monotonic() + self.timeout
        version = await self._call(lambda: self.client.core.version)
        self.log(f"-- ZAP {version} at {self.client.where}: {scan_type} scan of {', '.join(urls)}")
        try:
            for url in urls:
                await self._scan("spider", url)
            await self._wait_for_passive_scan()
            if scan_type == "full":
                for url in urls:
                    await self._scan("ascan", url)
        except (asyncio.CancelledError, RemoteServiceError):
            await asyncio.shield(self._stop_running())
            raise
        alerts = [alert for url in urls for alert in await self._alerts(url)]
        return [alert_finding(alert) for alert in alerts], {"version": str(version)}

    async def _scan(self, component: str, url: str) -> None:
        """Start the spider or the active scanner on `url` and wait until it is done."""
        api = self.client.spider if component == "spider" else self.client.ascan
        name = "spider" if component == "spider" else "active scan"
        scan_id = str(await self._call(api.scan, url=url))
        if not scan_id.isdigit():
            raise RemoteServiceError(f"ZAP did not start the {name} of {url}: {scan_id[:200]}")
        self._running.append((component, scan_id))
        shown = -1
        while True:
            progress = _percent(await self._call(api.status, scan_id), f"{component} status")
            if progress != shown:
                self.log(f"zap: {name} of {url}: {progress}%")
                shown = progress
            if progress >= 100:
                self._running.remove((component, scan_id))
                return
            await self._pause(f"the {name} of {url} was at {progress}%")

    async def _wait_for_passive_scan(self) -> None:
        while True:
            left = _percent(
                await self._call(lambda: self.client.pscan.records_to_scan), "pscan records"
            )
            if left == 0:
                self.log("zap: passive scan done")
                return
            await self._pause(f"the passive scanner had {left} records left")

    async def _pause(self, state: str) -> None:
        if time.monotonic() + self.poll > self._deadline:
            raise RemoteServiceError(
                f"ZAP's scan did not finish within {self.timeout:g}s (THESIS_TOOL_TIMEOUT): "
                f"{state}; the scans were stopped"
            )
        await asyncio.sleep(self.poll)

    async def _stop_running(self) -> None:
        """Ask ZAP to stop what this task started; a ZAP gone away is no further error."""
        for component, scan_id in reversed(self._running):
            api = self.client.spider if component == "spider" else self.client.ascan
            try:
                await asyncio.wait_for(self._call(api.stop, scan_id), REQUEST_TIMEOUT)
                self.log(f"zap: stopped {component} scan {scan_id}")
            except (RemoteServiceError, TimeoutError) as exc:
                self.log(f"zap: could not stop {component} scan {scan_id}: {exc}")
        self._running.clear()

    async def _alerts(self, url: str) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = []
        while True:
            page = await self._call(
                self.client.core.alerts, baseurl=url, start=len(alerts), count=ALERTS_PAGE
            )
            if not isinstance(page, list):
                raise RemoteServiceError(f"ZAP's alerts for {url} are not a list")
            alerts.extend(alert for alert in page if isinstance(alert, dict))
            if len(page) < ALERTS_PAGE:
                return alerts


def _percent(value: Any, what: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise RemoteServiceError(f"ZAP answered {what} with {str(value)[:80]!r}") from None


def alert_finding(alert: dict[str, Any]) -> Finding:
    """One ZAP alert as a Finding: its URL as the file, its evidence as the code."""
    name = str(alert.get("alert") or alert.get("name") or "ZAP alert")
    param = str(alert.get("param") or "")
    plugin = str(alert.get("pluginId") or "")
    references = [line.strip() for line in str(alert.get("reference") or "").splitlines()]
    evidence = str(alert.get("evidence") or "")
    attack = str(alert.get("attack") or "")
    return Finding(
        tool="zap",
        rule_id=str(alert.get("alertRef") or plugin),
        severity=severity("zap", alert.get("risk")),
        confidence=str(alert.get("confidence") or "").lower(),
        message=name + (f" (parameter {param})" if param else ""),
        file=str(alert.get("url") or ""),
        code=evidence or (f"attack: {attack}" if attack else ""),
        link=next((ref for ref in references if ref.startswith("http")), "")
        or (f"https://www.zaproxy.org/docs/alerts/{plugin}/" if plugin else ""),
    )
