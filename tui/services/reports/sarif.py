"""Findings as SARIF 2.1.0, for GitHub code scanning, the VS Code SARIF viewer and the like.

One run per analysis type and tool (bandit of the security analyses, pylint of the quality
ones, …), its `automationDetails.id` saying which, so a viewer can tell a security pylint
from a quality one. Every finding becomes a result with its rule, level (critical and high
are errors, medium warnings, low and info notes), message and location: its file relative
to the apps folder (`<model>/app<N>/<file>`, against the `APPS` base) and its line. Findings
come from the analyses' results files; one that cannot be read is counted, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select

from tui.db import Database
from tui.db.tables import (
    AnalysisStatus,
    TaskStatus,
    analysis_tasks,
    batch_tasks,
    generated_applications,
)
from tui.errors import NotFoundError, ThesisError
from tui.services.analysis.findings import Finding
from tui.services.batches import require_job

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


@dataclass(frozen=True)
class SarifLog:
    document: dict[str, Any]
    analyses: int
    findings: int
    unreadable: list[str]
    """Why each results file that could not be read was left out."""


def _analyses(db: Database, job_id: int | None, app: tuple[str, int] | None) -> list[Any]:
    """The completed analyses of the job, or the app's latest completed one of each type."""
    t, g, b = analysis_tasks.c, generated_applications.c, batch_tasks.c
    statement = (
        select(t.task_id, t.task_type, t.results_path, g.model_slug, g.app_number)
        .join(generated_applications, g.id == t.application_id)
        .where(t.status == AnalysisStatus.COMPLETED)
        .order_by(g.model_slug, g.app_number, t.task_type)
    )
    with db.read() as connection:
        if job_id is not None:
            require_job(connection, job_id)
            chosen = select(b.analysis_task_id).where(
                b.job_id == job_id, b.status == TaskStatus.COMPLETED
            )
        else:
            model, number = app or ("", 0)
            app_id = connection.scalar(
                select(g.id).where(g.model_slug == model, g.app_number == number)
            )
            if app_id is None:
                raise NotFoundError(f"No such app: {model} app {number}; see `thesis apps list`")
            chosen = (
                select(func.max(t.id))
                .where(t.application_id == app_id, t.status == AnalysisStatus.COMPLETED)
                .group_by(t.task_type)
            )
        return connection.execute(statement.where(t.id.in_(chosen))).all()


def _location(row: Any, finding: Finding) -> list[dict[str, Any]]:
    if not finding.file:
        return []
    relative = finding.file.replace("\\", "/").lstrip("/")
    if any(part == ".." for part in relative.split("/")):
        return []  # never a path outside the app's folder
    physical: dict[str, Any] = {
        "artifactLocation": {
            "uri": quote(f"{row.model_slug}/app{row.app_number}/{relative}"),
            "uriBaseId": "APPS",
        }
    }
    if finding.line is not None and finding.line >= 1:
        physical["region"] = {"startLine": finding.line}
    return [{"physicalLocation": physical}]


def sarif_log(
    db: Database,
    apps_dir: Path,
    *,
    job_id: int | None = None,
    app: tuple[str, int] | None = None,
) -> SarifLog:
    """The findings of one job's completed analyses, or of one app's latest analysis of
    each type, as a SARIF 2.1.0 log."""
    from tui.services.analysis.results import read_results  # pydantic: for exports only

    if (job_id is None) == (app is None):
        raise ThesisError("Name a job or an app, not both")
    rows = _analyses(db, job_id, app)
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    rule_index: dict[tuple[str, str], dict[str, int]] = {}
    unreadable: list[str] = []
    count = 0
    for row in rows:
        if not row.results_path:
            continue
        try:
            document = read_results(row.results_path)
        except ThesisError as exc:
            unreadable.append(exc.msg)
            continue
        for item in document.get("findings") or []:
            finding = Finding.from_dict(item)
            key = (str(row.task_type), finding.tool or "unknown")
            run = runs.setdefault(key, _run(*key, apps_dir))
            rules = rule_index.setdefault(key, {})
            rule = finding.rule_id or finding.tool or "finding"
            if rule not in rules:
                rules[rule] = len(rules)
                run["tool"]["driver"]["rules"].append({"id": rule})
            run["results"].append(
                {
                    "ruleId": rule,
                    "ruleIndex": rules[rule],
                    "level": LEVELS.get(finding.severity, "note"),
                    "message": {"text": finding.message or rule},
                    "locations": _location(row, finding),
                    "properties": {
                        "severity": finding.severity,
                        "model": row.model_slug,
                        "app": row.app_number,
                        "analysis": row.task_id,
                    },
                }
            )
            count += 1
    document = {"$schema": SCHEMA, "version": "2.1.0", "runs": list(runs.values())}
    return SarifLog(document, len(rows), count, unreadable)


def _run(kind: str, tool: str, apps_dir: Path) -> dict[str, Any]:
    return {
        "tool": {"driver": {"name": tool, "rules": []}},
        "automationDetails": {"id": f"{kind}/{tool}/"},
        "originalUriBaseIds": {"APPS": {"uri": apps_dir.resolve().as_uri() + "/"}},
        "results": [],
    }
