"""Load tests with locust (headless, as a subprocess) against an app's running backend.

locust patches the process with gevent, so it never runs inside ours. Its CSV output is
read instead of its JSON, which has neither percentiles nor an aggregate row. Connection
errors (resets, refused) are counted apart from the app's own failures (HTTP errors), so
a flaky network does not read as a bad app.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from tui.db.models import AnalysisStatus, PerformanceTest, utcnow
from tui.errors import ScanError
from tui.services.analysis.options import PerformanceOptions, parse_options
from tui.services.analysis.process import last_line, run_tool

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
CONNECTION_ERROR = re.compile(
    r"Connection(Reset|Refused|Aborted)|RemoteDisconnected|ConnectTimeout|Connection reset",
    re.IGNORECASE,
)


def load_options(options: dict[str, Any]) -> dict[str, Any]:
    """Users, spawn rate (users/s), duration (s) and endpoints, checked by the type's schema
    (a task stored before the schema may hold other types' options too: they are ignored)."""
    fields = PerformanceOptions.model_fields
    mine = {key: value for key, value in options.items() if key in fields}
    return parse_options(PerformanceOptions, mine, "performance").model_dump()


async def load_test(url: str, options: dict[str, Any], timeout: float, log: Any) -> dict[str, Any]:
    """Run locust against `url`; return the metrics (see `read_stats`)."""
    options = load_options(options)
    log(
        f"-- locust: {options['users']} users (+{options['spawn_rate']:g}/s) for "
        f"{options['duration']}s on {url} {', '.join(options['endpoints'])}"
    )
    with tempfile.TemporaryDirectory(prefix="thesis-locust-") as scratch:
        prefix = Path(scratch, "run")
        argv = [
            sys.executable, "-m", "locust",
            "-f", str(LOCUSTFILE),
            "--headless", "--only-summary",
            "--users", str(options["users"]),
            "--spawn-rate", str(options["spawn_rate"]),
            "--run-time", f"{options['duration']}s",
            "--stop-timeout", "2",
            "--host", url,
            "--csv", str(prefix),
            "--exit-code-on-error", "0",
            "--loglevel", "WARNING",
        ]  # fmt: skip
        env = {**os.environ, "THESIS_LOAD_ENDPOINTS": json.dumps(options["endpoints"])}
        output = await run_tool(argv, timeout=options["duration"] + timeout, cwd=scratch, env=env)
        if output.returncode != 0:
            raise ScanError(f"locust failed (exit {output.returncode}): {last_line(output.stderr)}")
        return read_stats(prefix, options)


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise ScanError(f"locust wrote no {path.name}")
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def read_stats(prefix: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Metrics from locust's `_stats.csv`, `_stats_history.csv` and `_failures.csv`."""
    rows = _read_csv(prefix.with_name(prefix.name + "_stats.csv"))
    aggregate = next((row for row in rows if row.get("Name") == "Aggregated"), None)
    if aggregate is None:
        raise ScanError("locust's stats have no Aggregated row")
    total = int(aggregate["Request Count"] or 0)
    if total == 0:
        raise ScanError("the load test made no requests: is the backend answering?")

    def stats(row: dict[str, str]) -> dict[str, Any]:
        requests = int(row["Request Count"] or 0)
        failures = int(row["Failure Count"] or 0)
        return {
            "requests": requests,
            "failures": failures,
            "requests_per_second": _number(row["Requests/s"]),
            "avg_ms": _number(row["Average Response Time"]),
            "min_ms": _number(row["Min Response Time"]),
            "max_ms": _number(row["Max Response Time"]),
            "p50_ms": _number(row["50%"]),
            "p95_ms": _number(row["95%"]),
            "p99_ms": _number(row["99%"]),
            "error_rate": failures / requests if requests else 0.0,
        }

    failures = _read_csv(prefix.with_name(prefix.name + "_failures.csv"))
    connection_errors = sum(
        int(row.get("Occurrences") or 0)
        for row in failures
        if CONNECTION_ERROR.search(row.get("Error", ""))
    )
    history = _read_csv(prefix.with_name(prefix.name + "_stats_history.csv"))
    timeline = [
        {
            "t": int(row["Timestamp"]),
            "users": int(row["User Count"] or 0),
            "requests_per_second": _number(row["Requests/s"]),
            "failures_per_second": _number(row["Failures/s"]),
            "p95_ms": _number(row["95%"]),
        }
        for row in history
        if row.get("Name") == "Aggregated"
    ]
    overall = stats(aggregate)
    return {
        **overall,
        "connection_errors": connection_errors,
        "app_errors": overall["failures"] - connection_errors,
        "config": options,
        "endpoints": {row["Name"]: stats(row) for row in rows if row.get("Name") != "Aggregated"},
        "failure_details": [
            {
                "endpoint": row.get("Name"),
                "error": row.get("Error"),
                "occurrences": int(row.get("Occurrences") or 0),
            }
            for row in failures
        ],
        "timeline": timeline,
    }


def performance_row(ref: Any, status: AnalysisStatus, metrics: dict[str, Any], seconds: float,
                    error: str | None) -> PerformanceTest:  # fmt: skip
    return PerformanceTest(
        application_id=ref.application_id,
        analysis_task_id=ref.id,
        status=status,
        test_type="load_test",
        test_config=metrics.get("config"),
        results=metrics or None,
        execution_time=seconds,
        error_message=error,
        completed_at=utcnow(),
        requests_per_second=metrics.get("requests_per_second"),
        average_response_time=metrics.get("avg_ms"),
        min_response_time=metrics.get("min_ms"),
        max_response_time=metrics.get("max_ms"),
        p50_response_time=metrics.get("p50_ms"),
        p95_response_time=metrics.get("p95_ms"),
        p99_response_time=metrics.get("p99_ms"),
        error_rate=metrics.get("error_rate"),
        total_requests=metrics.get("requests"),
        failed_requests=metrics.get("failures"),
    )
