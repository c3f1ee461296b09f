"""Reports: the models compared over a study whose every figure is worked out by hand here."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from conftest import thesis
from sqlalchemy import insert

from tui.db.tables import (
    AnalysisType,
    analysis_tasks,
    batch_jobs,
    batch_tasks,
    generated_applications,
    model_capabilities,
)
from tui.services.analysis.headlines import HEADLINES, headlines
from tui.services.analysis.registry import KINDS
from tui.services.reports.compare import model_report
from tui.services.reports.export import render
from tui.services.reports.stats import bootstrap_mean, bootstrap_ratio, permutation_p

T0 = datetime(2026, 5, 1, tzinfo=UTC)
_ids = count(1)


def add_model(db, slug: str, apps: dict[int, int]) -> dict[int, int]:
    """A model and its apps ({number: lines of code}); returns {number: app id}."""
    with db.write() as connection:
        connection.execute(insert(model_capabilities).values(
            model_id=slug, canonical_slug=slug, provider=slug.split("_")[0],
            display_name=slug, model_name=slug))  # fmt: skip
        ids = {}
        for number, loc in apps.items():
            ids[number] = connection.execute(
                insert(generated_applications).values(
                    model_slug=slug,
                    app_number=number,
                    app_metadata={"lines_of_code": loc, "files": 2},
                )
            ).inserted_primary_key[0]
    return ids


def add_analysis(db, app_id: int, kind: str, summary: dict, *, status: str = "completed",
                 age: int = 0) -> int:  # fmt: skip
    """An analysis `age` minutes older than the newest; returns its id."""
    n = next(_ids)
    with db.write() as connection:
        return connection.execute(
            insert(analysis_tasks).values(
                task_id=f"t-{n}",
                application_id=app_id,
                task_type=kind,
                status=status,
                summary=summary,
                created_at=T0 + timedelta(minutes=n - age * 1000),
            )
        ).inserted_primary_key[0]


def security(total: int, high: int = 0) -> dict:
    return {"total_findings": total, "critical": 0, "high": high, "medium": 0, "low": 0,
            "info": total - high}  # fmt: skip


@pytest.fixture
def study_db(db):
    """The same study on SQLite and on PostgreSQL.

    acme_a: 3 apps (1,000 / 2,000 / 3,000 lines) with 2, 4, 6 security findings (an older
    analysis of app 1 with 100 is not the latest); acme_b: 2 apps with 10 and 20 (a newer
    failed analysis of app 1 does not count); solo_c: one app with 5; idle_d: an app and no
    analysis. Smoke: acme_a's app 1 passed, app 2 failed. Reviews: acme_a's app 1 met 3 of 4
    requirements, app 2 met 1 of 4."""
    a = add_model(db, "acme_a", {1: 1000, 2: 2000, 3: 3000})
    b = add_model(db, "acme_b", {1: 500, 2: 500})
    c = add_model(db, "solo_c", {1: 800})
    add_model(db, "idle_d", {1: 100})
    add_analysis(db, a[1], "security", security(100), age=1)
    for number, total in ((1, 2), (2, 4), (3, 6)):
        add_analysis(db, a[number], "security", security(total, high=total // 2))
    add_analysis(db, b[1], "security", security(10))
    add_analysis(db, b[2], "security", security(20))
    add_analysis(db, b[1], "security", {}, status="failed")
    add_analysis(db, c[1], "security", security(5))
    add_analysis(db, a[1], "smoke", {"healthy": "2/2"})
    add_analysis(db, a[2], "smoke", {"healthy": "1/2"}, status="failed")
    add_analysis(db, a[1], "ai_review", {"score": 80, "requirements_met": "3/4"})
    add_analysis(db, a[2], "ai_review", {"score": 60, "requirements_met": "1/4"})
    return db


def test_every_analysis_type_declares_the_metrics_reports_show() -> None:
    assert set(KINDS) == set(HEADLINES)
    assert all(HEADLINES[kind] for kind in HEADLINES)
    keys = [h.key for h in headlines()]
    assert len(keys) == len(set(keys))


def test_per_model_means_rates_and_counts_match_the_hand_worked_study(study_db) -> None:
    report = model_report(study_db, seed=7)
    assert [m.model for m in report.models] == ["acme_a", "acme_b", "idle_d", "solo_c"]
    a, b, d, c = (report.model(slug) for slug in ("acme_a", "acme_b", "idle_d", "solo_c"))
    assert (a.apps, a.analysed, b.apps, b.analysed, d.apps, d.analysed) == (3, 3, 2, 2, 1, 0)
    assert a.metrics["security.findings"].mean == pytest.approx(4.0)  # (2 + 4 + 6) / 3
    assert a.metrics["security.high"].mean == pytest.approx(2.0)  # (1 + 2 + 3) / 3
    assert a.metrics["security.findings_per_kloc"].mean == pytest.approx(2.0)  # 12 / 6,000 lines
    assert b.metrics["security.findings"].mean == pytest.approx(15.0)  # the failed one is not
    assert a.metrics["apps.loc"].mean == pytest.approx(2000.0)
    assert a.metrics["smoke.deployable"].mean == pytest.approx(0.5)  # passed, failed
    assert a.metrics["smoke.deployable"].apps == 2
    assert a.metrics["ai_review.requirements"].mean == pytest.approx(0.5)  # (3/4 + 1/4) / 2
    assert a.metrics["ai_review.score"].mean == pytest.approx(70.0)
    one = c.metrics["security.findings"]
    assert (one.mean, one.low, one.high, one.apps) == (5.0, None, None, 1)  # no interval of one
    none = d.metrics["security.findings"]
    assert (none.mean, none.apps) == (None, 0)
    assert b.metrics["smoke.deployable"].mean is None  # no smoke test: not counted as failed


def test_intervals_are_bootstrap_percentiles_reproducible_by_seed(study_db) -> None:
    # Two apps valued 0 and 1: a resample's mean is 0, 0.5 or 1 with chances 1/4, 1/2,
    # 1/4, so the 2.5th and 97.5th percentiles of 2,000 resamples are 0 and 1.
    estimate = bootstrap_mean([0.0, 1.0], seed=3)
    assert (estimate.mean, estimate.low, estimate.high, estimate.apps) == (0.5, 0.0, 1.0, 2)
    same = bootstrap_mean([7.0, 7.0, 7.0])
    assert (same.low, same.high) == (7.0, 7.0)
    ratio = bootstrap_ratio([1.0, 1.0], [500.0, 500.0], scale=1000)
    assert (ratio.mean, ratio.low, ratio.high) == (2.0, 2.0, 2.0)
    first = model_report(study_db, seed=11).model("acme_a").metrics["security.findings"]
    again = model_report(study_db, seed=11).model("acme_a").metrics["security.findings"]
    assert first == again
    assert 2.0 <= first.low <= first.mean <= first.high <= 6.0
    # A model's intervals do not depend on which other models are in the report.
    alone = model_report(study_db, seed=11, models=["acme_a"]).model("acme_a")
    assert alone.metrics["security.findings"] == first


def test_a_permutation_test_tells_a_real_difference_from_noise() -> None:
    # Apps 1-5 against 6-10: of the 252 ways to split ten apps in five and five, two are
    # as far apart (this one and its mirror): p = 2/252.
    p = permutation_p([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], seed=1)
    assert p == pytest.approx(2 / 252, abs=0.004)
    assert permutation_p([3, 1, 2], [2, 3, 1]) == 1.0
    assert permutation_p([], [1.0]) is None


def test_a_report_on_one_job_reads_the_analyses_its_tasks_ended_with(study_db) -> None:
    apps = add_model(study_db, "job_e", {1: 1000, 2: 1000})
    old = add_analysis(study_db, apps[1], "security", security(9))
    add_analysis(study_db, apps[1], "security", security(1))  # newer, but not the job's
    reused = add_analysis(study_db, apps[2], "security", security(3))
    with study_db.write() as connection:
        job = connection.execute(insert(batch_jobs).values(name="j")).inserted_primary_key[0]
        connection.execute(insert(batch_tasks), [
            {"job_id": job, "model_name": "job_e", "app_number": 1, "test_type": "security",
             "status": "completed", "analysis_task_id": old},
            {"job_id": job, "model_name": "job_e", "app_number": 2, "test_type": "security",
             "status": "completed", "analysis_task_id": reused, "reused": True},
        ])  # fmt: skip
    report = model_report(study_db, job_id=job, types=[AnalysisType.SECURITY])
    assert [m.model for m in report.models] == ["job_e"]
    assert report.model("job_e").metrics["security.findings"].mean == pytest.approx(6.0)
    latest = model_report(study_db, models=["job_e"]).model("job_e")
    assert latest.metrics["security.findings"].mean == pytest.approx(2.0)  # (1 + 3) / 2


def test_exports_parse_back_to_the_report(study_db) -> None:
    report = model_report(study_db, types=[AnalysisType.SECURITY], seed=2)
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    by_key = {(row["model"], row["metric"]): row for row in rows}
    a = by_key[("acme_a", "security.findings")]
    estimate = report.model("acme_a").metrics["security.findings"]
    assert float(a["mean"]) == pytest.approx(estimate.mean)
    assert float(a["ci_low"]) == pytest.approx(estimate.low, abs=1e-6)
    assert a["apps"] == "3" and a["better"] == "lower"
    assert by_key[("idle_d", "security.findings")]["mean"] == ""
    assert by_key[("acme_a", "apps.total")]["mean"] == "3"
    per_app = list(csv.DictReader(io.StringIO(render(report, "csv", per_app=True))))
    mine = [r for r in per_app if r["model"] == "acme_a" and r["metric"] == "security.findings"]
    assert [(r["app"], r["value"]) for r in mine] == [("1", "2.0"), ("2", "4.0"), ("3", "6.0")]
    document = json.loads(render(report, "json", per_app=True))
    assert document["rows"] == json.loads(json.dumps(rows_as_json(report)))
    assert {m["key"] for m in document["metrics"]} >= {"security.findings", "apps.loc"}
    assert len(document["apps"]) == len(per_app)
    markdown = render(report, "markdown").splitlines()
    assert markdown[0].startswith("| Model | Apps |") and len(markdown) == 2 + 4 + 1
    assert "| acme_a | 3 | 3 | 2000 [" in markdown[2]
    latex = render(report, "latex")
    assert r"\toprule" in latex and r"acme\_a & 3 & 3" in latex and "acme_a" not in latex


def rows_as_json(report):
    from tui.services.reports.export import tidy_rows

    return tidy_rows(report)


def test_thesis_report_models_prints_writes_and_refuses_in_one_line(tmp_path, study_db) -> None:
    url = study_db.engine.url.render_as_string(hide_password=False)
    env = {"THESIS_DATABASE_URL": url}
    shown = thesis("report", "models", "--types", "security", **env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split()[:3] == ["Model", "Apps", "Analysed"]
    assert lines[1].startswith("acme_a") and "4.00 [" in lines[1]
    target = tmp_path / "out" / "report.csv"
    written = thesis("report", "models", "--format", "csv", "--output", str(target), **env)
    assert written.returncode == 0 and "Wrote" in written.stderr
    assert next(csv.DictReader(target.open()))["model"] == "acme_a"
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]
    for args, says in (
        (["--job", "99"], "No batch job 99"),
        (["--models", "acme_a,ghost"], "No apps of model ghost"),
        (["--types", "nope"], "Unknown analysis type nope"),
    ):
        refused = thesis("report", "models", *args, **env)
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
        assert says in refused.stderr and "Traceback" not in refused.stderr
    blocked = tmp_path / "file"
    blocked.write_text("x")
    failed = thesis("report", "models", "--output", str(blocked / "r.csv"), **env)
    assert failed.returncode == 1 and "Cannot write the report" in failed.stderr
    assert os.path.isfile(blocked)


def test_summaries_of_the_wrong_shape_are_left_out_not_guessed(db) -> None:
    apps = add_model(db, "odd_f", {1: 100, 2: 100, 3: 100, 4: 100})
    add_analysis(db, apps[1], "security", {"total_findings": "many", "high": True})
    add_analysis(db, apps[2], "security", {"total_findings": [3], "high": None})
    add_analysis(db, apps[3], "security", security(8))
    add_analysis(db, apps[1], "ai_review", {"score": "80", "requirements_met": "5/0"})
    add_analysis(db, apps[2], "ai_review", {"score": None, "requirements_met": "x/4"})
    stats = model_report(db).model("odd_f")
    assert stats.analysed == 3
    assert (stats.metrics["security.findings"].mean, stats.metrics["security.findings"].apps) == (
        8.0,
        1,
    )
    assert stats.metrics["security.high"].apps == 1
    assert stats.metrics["ai_review.requirements"].apps == 0
    assert stats.metrics["ai_review.score"].apps == 0
