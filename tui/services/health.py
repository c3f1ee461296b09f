"""Health check (the smoke test): does each started service answer HTTP on its port?

Each published service is probed at `http://127.0.0.1:<host port>/` until it answers or
the timeout passes; a container that exits meanwhile ends its probe at once. Each probe is
one `containerized_tests` row with the endpoint, status, timing and result. Any HTTP answer
below 500 counts as healthy; connection resets and refusals while the app starts are
counted apart from the app's own errors. A generated app often listens on another port than
its compose file says — then the result says so plainly instead of hanging.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tui.db.models import AnalysisStatus, ContainerizedTest
from tui.db.types import utcnow
from tui.errors import ContainerError, shown
from tui.services.audit import audited
from tui.services.container_logs import LogSink
from tui.services.containers import ContainerService
from tui.services.docker_engine import docker_errors, engine_reach
from tui.services.docker_names import LABEL_ROLE

PROBE_TIMEOUT = 2.0


@dataclass(frozen=True)
class HealthResult:
    service: str
    url: str
    healthy: bool
    http_status: int | None
    seconds: float
    attempts: int
    connection_errors: int
    error: str | None
    test_id: str = field(default="")

    def summary(self) -> str:
        if self.healthy:
            return (
                f"{self.service} answered {self.http_status} at {self.url} in {self.seconds:.1f}s"
            )
        return f"{self.service}: {self.error}"


def verdict(results: list[HealthResult], *, failure_prefix: str = "") -> str:
    """One line saying each service answered, or ContainerError naming the first that did not."""
    unhealthy = [result for result in results if not result.healthy]
    if unhealthy:
        raise ContainerError(failure_prefix + unhealthy[0].summary())
    return "; ".join(result.summary() for result in results)


def check_health(
    service: ContainerService,
    model_slug: str,
    app_number: int,
    sink: LogSink | None = None,
    *,
    timeout: float | None = None,
    analysis_task_id: int | None = None,
) -> list[HealthResult]:
    """Probe every published service of the app; record and return one result each."""
    target = service.target(model_slug, app_number)
    timeout = service.settings.health_timeout if timeout is None else timeout
    log = sink or (lambda _line: None)
    containers = service.containers_of(target)
    probes = [
        (name, container, port)
        for name, container in sorted(containers.items())
        if (port := target.host_port(container.labels.get(LABEL_ROLE))) is not None
        and (container.attrs.get("HostConfig") or {}).get("PortBindings")
    ]
    if not probes:
        raise ContainerError(
            f"{target.label} has no running service with a published port; start it first"
        )
    results = []
    with (
        audited(
            service.db,
            "container.health",
            resource_id=f"{target.model_slug}/app{target.app_number}",
            application_id=target.id,
        ) as note,
        httpx.Client(timeout=PROBE_TIMEOUT, follow_redirects=False) as client,
    ):
        for name, container, port in probes:
            url = f"http://127.0.0.1:{service.local_port(port)}/"
            log(f"-- health: probing {name} at {url}{_through(service, port)} "
                f"(up to {timeout:g}s)")  # fmt: skip
            started_at = utcnow()
            result = _probe(client, name, container, url, timeout)
            result = _record(service, target.id, result, started_at, analysis_task_id)
            log(("ok: " if result.healthy else "!! ") + result.summary())
            results.append(result)
        note.details["healthy"] = {r.service: r.healthy for r in results}
    return results


def _through(service: ContainerService, port: int) -> str:
    """How a probe reaches the app when its engine is on another machine."""
    host = service.settings.docker_host
    return f" (port {port} of {shown(host)}, tunnelled)" if engine_reach(host) == "ssh" else ""


def _probe(
    client: httpx.Client, name: str, container: Any, url: str, timeout: float
) -> HealthResult:
    started = time.monotonic()
    deadline = started + timeout
    attempts = connection_errors = 0
    pause = 0.05
    last_error = "no answer"
    while True:
        attempts += 1
        try:
            response = client.get(url)
        except httpx.TransportError as exc:
            connection_errors += 1
            last_error = type(exc).__name__
        else:
            healthy = response.status_code < 500
            return HealthResult(
                service=name,
                url=url,
                healthy=healthy,
                http_status=response.status_code,
                seconds=time.monotonic() - started,
                attempts=attempts,
                connection_errors=connection_errors,
                error=None if healthy else f"answered HTTP {response.status_code} at {url}",
            )
        with docker_errors(f"inspect {name}"):
            container.reload()
        if container.status != "running":
            code = (container.attrs.get("State") or {}).get("ExitCode")
            error = f"the container stopped (exit code {code}) before answering at {url}"
        elif time.monotonic() >= deadline:
            exposed = next(iter((container.attrs.get("HostConfig") or {}).get("PortBindings")))
            error = (
                f"no answer at {url} within {timeout:g}s ({last_error}); is the app "
                f"listening on container port {exposed.split('/')[0]} as its compose file says?"
            )
        else:
            time.sleep(pause)  # the app is still starting: poll its port until the deadline
            pause = min(pause * 2, 0.5)
            continue
        return HealthResult(
            service=name,
            url=url,
            healthy=False,
            http_status=None,
            seconds=time.monotonic() - started,
            attempts=attempts,
            connection_errors=connection_errors,
            error=error,
        )


def _record(
    service: ContainerService,
    application_id: int,
    result: HealthResult,
    started_at: Any,
    analysis_task_id: int | None,
) -> HealthResult:
    test_id = f"health-{uuid.uuid4().hex[:12]}"
    with service.db.session() as session:
        session.add(
            ContainerizedTest(
                test_id=test_id,
                application_id=application_id,
                analysis_task_id=analysis_task_id,
                test_type="health",
                service_endpoint=result.url,
                tools_used=["httpx"],
                status=AnalysisStatus.COMPLETED if result.healthy else AnalysisStatus.FAILED,
                submitted_at=started_at,
                started_at=started_at,
                completed_at=utcnow(),
                result_data={
                    "service": result.service,
                    "healthy": result.healthy,
                    "http_status": result.http_status,
                    "attempts": result.attempts,
                    "connection_errors": result.connection_errors,
                    "seconds": round(result.seconds, 3),
                },
                error_message=result.error,
                execution_duration=result.seconds,
            )
        )
    return HealthResult(**{**result.__dict__, "test_id": test_id})
