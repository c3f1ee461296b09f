"""The comparison of models at a study's size, against a plain count of the same tables.

Builds 300 models x 30 apps = 9,000 apps with 100,000 analyses (on SQLite, and on
PostgreSQL when THESIS_TEST_POSTGRES_URL is set, in a schema of its own), gives every
analysis a summary like its type's runner writes and every app its lines of code, then
times `thesis report models`'s report (every type, every model, 2,000 bootstrap resamples
per interval) against `SELECT count(*)` over the apps and the analyses, and the default
ranking of it (with its rank intervals over resamples of the apps). Target (issue 14): the
report in <= 1 s.

    python benchmarks/bench_reports.py
    python benchmarks/bench_reports.py --models 30      # a quick run
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import bindparam, func, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_apps_listing import study_arguments, study_databases, timed

from tui.db import Database
from tui.db.tables import analysis_tasks, generated_applications
from tui.services.reports.compare import model_report
from tui.services.reports.rank import RANK_RESAMPLES, parse_criteria, rank_models


def summary(kind: str, i: int) -> dict:
    """What the runner of `kind` writes, varied by `i`."""
    if kind in ("security", "quality", "zap"):
        return {"total_findings": i % 40, "critical": i % 2, "high": i % 7, "medium": i % 5,
                "low": i % 11, "info": i % 3}  # fmt: skip
    if kind == "performance":
        return {"requests_per_second": 50.0 + i % 300, "p95_ms": 20 + i % 500,
                "error_rate": (i % 10) / 100}  # fmt: skip
    if kind == "ai_review":
        return {"score": i % 101, "requirements_met": f"{i % 5}/4", "issues": i % 9}
    return {"healthy": f"{i % 3}/2"}


def add_summaries(db: Database) -> None:
    t, g = analysis_tasks.c, generated_applications.c
    with db.read() as connection:
        rows = connection.execute(select(t.id, t.task_type)).all()
        apps = connection.scalars(select(g.id)).all()
    with db.write() as connection:
        connection.execute(
            update(analysis_tasks).where(t.id == bindparam("row")).values(summary=bindparam("s")),
            [{"row": row.id, "s": summary(str(row.task_type), row.id)} for row in rows],
        )
        connection.execute(
            update(generated_applications)
            .where(g.id == bindparam("row"))
            .values(app_metadata=bindparam("m")),
            [{"row": app, "m": {"lines_of_code": 200 + app % 900}} for app in apps],
        )


def measure(db: Database, label: str, repeat: int) -> None:
    t, g = analysis_tasks.c, generated_applications.c

    def count() -> None:
        with db.read() as connection:
            connection.scalar(select(func.count(g.id)))
            connection.scalar(select(func.count(t.id)))

    report = model_report(db)
    ours = timed(lambda: model_report(db), repeat)
    floor = timed(count, repeat)
    print(f"\n{label}: {len(report.models)} models, {sum(m.apps for m in report.models):,} apps")
    print(f"  report of every model and type   {ours:8.0f} ms   (target <= 1,000 ms)")
    print(f"  SELECT count(*) of apps, analyses {floor:7.1f} ms   "
          f"report / count {ours / floor:.0f}x")  # fmt: skip
    criteria = parse_criteria(report, None, None)
    ranking = timed(lambda: rank_models(report, criteria), max(repeat // 2, 1))
    print(f"  ranking (TOPSIS, ±20 % weights, {RANK_RESAMPLES} resamples of the apps) "
          f"{ranking:6.0f} ms")  # fmt: skip


def main() -> None:
    args = study_arguments(__doc__.splitlines()[0], repeat=5)
    for label, db in study_databases(args):
        if db is None:
            print(f"\n{label}: skipped (set THESIS_TEST_POSTGRES_URL)")
            continue
        add_summaries(db)
        measure(db, label, args.repeat)


if __name__ == "__main__":
    main()
