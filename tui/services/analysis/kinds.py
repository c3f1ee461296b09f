"""The analyses that need a running app (smoke, performance, zap) or a model (ai_review).

Each runner takes the service, the task and its log, and returns an Outcome; raising a
ThesisError fails the task with that message. Docker work is blocking SDK calls, so it runs
in a thread; the asyncio task stays cancellable between steps, and locust is killed
outright when cancelled.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tui.db.models import AnalysisStatus
from tui.errors import ScanError
from tui.services.analysis.contract import Outcome, TaskRef
from tui.services.analysis.performance import load_test, performance_row
from tui.services.container_logs import ActionLog

if TYPE_CHECKING:
    from tui.services.analysis.contract import AnalysisContext


async def ensure_running(service: AnalysisContext, ref: TaskRef, log: ActionLog) -> Any:
    """The app's target, started first (through the container service) if it is not up."""
    containers = service.containers
    states = await asyncio.to_thread(containers.service_states, ref.model_slug, ref.app_number)
    if states and all(state.state == "running" for state in states):
        return await asyncio.to_thread(containers.target, ref.model_slug, ref.app_number)
    log("-- the app is not running: starting it")
    return await asyncio.to_thread(containers.start, ref.model_slug, ref.app_number, log)


async def run_smoke(service: AnalysisContext, ref: TaskRef, log: ActionLog) -> Outcome:
    from tui.services.health import check_health

    await ensure_running(service, ref, log)
    results = await asyncio.to_thread(
        check_health,
        service.containers,
        ref.model_slug,
        ref.app_number,
        log,
        analysis_task_id=ref.id,
    )
    healthy = [result for result in results if result.healthy]
    unhealthy = [result for result in results if not result.healthy]
    return Outcome(
        status=AnalysisStatus.FAILED if unhealthy else AnalysisStatus.COMPLETED,
        error=unhealthy[0].summary() if unhealthy else None,
        summary={"healthy": f"{len(healthy)}/{len(results)}"},
        metrics={
            "services": [
                {
                    "service": r.service,
                    "url": r.url,
                    "healthy": r.healthy,
                    "http_status": r.http_status,
                    "seconds": round(r.seconds, 3),
                    "connection_errors": r.connection_errors,
                    "error": r.error,
                    "test_id": r.test_id,
                }
                for r in results
            ]
        },
    )


async def run_performance(service: AnalysisContext, ref: TaskRef, log: ActionLog) -> Outcome:
    target = await ensure_running(service, ref, log)
    states = await asyncio.to_thread(
        service.containers.service_states, ref.model_slug, ref.app_number
    )
    port = target.backend_port
    if port is None or not any(state.host_port == port for state in states):
        raise ScanError(
            f"{ref.model_slug} app {ref.app_number} has no backend service published on its "
            "backend port; nothing to load-test"
        )
    here = await asyncio.to_thread(service.containers.local_port, port)
    metrics = await load_test(
        f"http://127.0.0.1:{here}", ref.config, service.settings.tool_timeout, log
    )
    log(
        f"locust: {metrics['requests']} requests, {metrics['requests_per_second']:.0f} req/s, "
        f"p95 {metrics['p95_ms']} ms, errors {metrics['error_rate']:.1%} "
        f"({metrics['connection_errors']} connection errors)"
    )

    def typed_row(ref: TaskRef, outcome: Outcome, seconds: float) -> Any:
        return performance_row(ref, outcome.status, outcome.metrics, seconds, outcome.error)

    return Outcome(
        summary={
            "requests_per_second": round(metrics["requests_per_second"] or 0.0, 1),
            "p95_ms": metrics["p95_ms"],
            "error_rate": round(metrics["error_rate"], 4),
        },
        metrics=metrics,
        typed_row=typed_row,
    )


async def run_ai_review(service: AnalysisContext, ref: TaskRef, log: ActionLog) -> Outcome:
    from tui.services.analysis.ai_review import review

    return await review(service, ref, log)


async def run_zap(service: AnalysisContext, ref: TaskRef, log: ActionLog) -> Outcome:
    """A dynamic scan of every published service, the frontend first (zap.py)."""
    from tui.services.analysis.zap import dynamic_scan, scan_type_of

    scan_type_of(ref.config)  # a bad option fails before the app is started
    target = await ensure_running(service, ref, log)
    states = await asyncio.to_thread(
        service.containers.service_states, ref.model_slug, ref.app_number
    )
    published = {state.host_port for state in states if state.state == "running"}
    urls = [
        f"http://127.0.0.1:{await asyncio.to_thread(service.containers.local_port, port)}/"
        for port in (target.frontend_port, target.backend_port)
        if port is not None and port in published
    ]
    if not urls:
        raise ScanError(
            f"{ref.model_slug} app {ref.app_number} publishes no running service on its ports; "
            "nothing to scan"
        )
    return await dynamic_scan(service.settings, urls, ref.config, log)
