"""Reports: the models compared over a study whose every figure is worked out by hand here."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import jsonschema
import pytest
from conftest import thesis
from sqlalchemy import insert, select, update

from tui.db.tables import (
    AnalysisType,
    analysis_tasks,
    batch_jobs,
    batch_tasks,
    generated_applications,
    model_capabilities,
    model_usage,
)
from tui.errors import ValidationError
from tui.services.analysis.findings import Finding
from tui.services.analysis.headlines import HEADLINES, headlines
from tui.services.analysis.registry import KINDS
from tui.services.analysis.results import write_results
from tui.services.reports.compare import Metric, ModelStats, Report, model_report
from tui.services.reports.export import render, render_ranking
from tui.services.reports.rank import parse_criteria, rank_models
from tui.services.reports.sarif import sarif_log
from tui.services.reports.stats import Estimate, bootstrap_mean, bootstrap_ratio, permutation_p
from tui.services.reports.usage import usage

T0 = datetime(2026, 5, 1, tzinfo=UTC)
_ids = count(1)


def add_model(db, slug: str, apps: dict[int, int], prices=(None, None)) -> dict[int, int]:
    """A model and its apps ({number: lines of code}); returns {number: app id}."""
    with db.write() as connection:
        connection.execute(insert(model_capabilities).values(
            model_id=slug, canonical_slug=slug, provider=slug.split("_")[0],
            display_name=slug, model_name=slug, pricing_prompt=prices[0],
            pricing_completion=prices[1]))  # fmt: skip
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


def add_job(db, model: str, tasks: list[tuple[int, str, int, bool]]) -> int:
    """A job of `model` whose tasks completed: (app number, type, analysis id, reused). An
    analysis not reused is the task's attempt, as the engine links them."""
    with db.write() as connection:
        job = connection.execute(insert(batch_jobs).values(name="j")).inserted_primary_key[0]
        for number, kind, analysis, reused in tasks:
            task = connection.execute(insert(batch_tasks).values(
                job_id=job, model_name=model, app_number=number, test_type=kind,
                status="completed", analysis_task_id=analysis, reused=reused,
            )).inserted_primary_key[0]  # fmt: skip
            if not reused and analysis is not None:
                connection.execute(update(analysis_tasks).where(
                    analysis_tasks.c.id == analysis).values(batch_task_id=task))  # fmt: skip
    return job


def security(total: int, high: int = 0) -> dict:
    return {"total_findings": total, "critical": 0, "high": high, "medium": 0, "low": 0,
            "info": total - high}  # fmt: skip


def build_study(db):
    """acme_a: 3 apps (1,000 / 2,000 / 3,000 lines) with 2, 4, 6 security findings (an older
    analysis of app 1 with 100 is not the latest); acme_b: 2 apps with 10 and 20 (a newer
    failed analysis of app 1 does not count); solo_c: one app with 5; idle_d: an app and no
    analysis. Smoke: acme_a's app 1 passed, app 2 failed. Reviews: acme_a's app 1 met 3 of 4
    requirements, app 2 met 1 of 4."""
    a = add_model(db, "acme_a", {1: 1000, 2: 2000, 3: 3000}, prices=(1.0, 2.0))
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
    with db.write() as connection:
        connection.execute(insert(model_usage), [
            {"model_name": "acme_a", "provider": "acme", "application_id": app, "cost": usd,
             "total_tokens": tokens, "purpose": purpose}
            for app, usd, tokens, purpose in ((a[1], 0.5, 1000, "generation"),
                                              (a[1], 0.25, 500, "review"),
                                              (a[2], 0.25, 500, "generation"))
        ])  # fmt: skip
    return db


@pytest.fixture
def study_db(db):
    """The study, on SQLite and on PostgreSQL."""
    return build_study(db)


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
    assert a.metrics["cost.price"].mean == pytest.approx(3.0)  # $1 + $2 per 1M tokens
    assert b.metrics["cost.price"].mean is None  # the catalogue has no price for it
    assert a.metrics["cost.usd"].mean == pytest.approx(0.5)  # app 1: 0.75, app 2: 0.25
    assert a.metrics["cost.tokens"].mean == pytest.approx(1000.0)  # 1,500 and 500
    assert a.metrics["cost.usd"].apps == 2 and b.metrics["cost.usd"].apps == 0


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
    job = add_job(study_db, "job_e", [(1, "security", old, False), (2, "security", reused, True)])
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
    assert markdown[0].startswith("| Model | Apps |") and len(markdown) == 2 + 4 + 2
    assert markdown[-2] == "" and markdown[-1].startswith("Means per app")
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


def test_findings_are_counted_by_tool_over_the_apps_each_tool_ran_on(db) -> None:
    """bandit ran on apps 1-3 (4, 0 and 2 findings; 0 when it found nothing): 2 per app;
    pylint ran on app 1 alone; on app 3 it was skipped (not 0). App 4's older summary has
    no count by tool; app 5's names a tool with a name no key takes and counts that are
    not counts."""
    apps = add_model(db, "tools_t", {n: 1000 for n in range(1, 6)})

    def ran(found: dict, **tools: str) -> dict:
        total = sum(v for v in found.values() if isinstance(v, int))
        return {**security(total), "by_tool": found, "tools": tools}

    add_analysis(db, apps[1], "security", ran({"bandit": 4, "pylint": 1}, bandit="ok",
                                              pylint="ok"))  # fmt: skip
    add_analysis(db, apps[2], "security", ran({}, bandit="ok"))
    add_analysis(db, apps[3], "security", ran({"bandit": 2}, bandit="ok",
                                              pylint="skipped: not installed"))  # fmt: skip
    add_analysis(db, apps[4], "security", security(7))
    add_analysis(db, apps[5], "security", ran({"../x y": 3, "bandit": "3"}, **{"../x y": "ok"},
                                              bandit="ok"))  # fmt: skip
    report = model_report(db, types=[AnalysisType.SECURITY])
    stats = report.model("tools_t")
    bandit, pylint = stats.metrics["security.tool.bandit"], stats.metrics["security.tool.pylint"]
    assert (bandit.mean, bandit.apps) == (2.0, 3)
    assert (pylint.mean, pylint.apps) == (1.0, 1)
    assert not any("x y" in metric.key for metric in report.metrics)
    keys = [metric.key for metric in report.metrics]
    # After the type's headlines, each tool that ran on some app, by name.
    assert keys.index("security.tool.bandit") == keys.index("security.low") + 1
    assert keys.index("security.tool.pylint") == keys.index("security.tool.bandit") + 1
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    (row,) = [r for r in rows if r["metric"] == "security.tool.bandit"]
    assert (row["label"], float(row["mean"]), row["apps"]) == ("Security bandit", 2.0, "3")


# --- ranking ------------------------------------------------------------------------------


def tradeoff_report() -> Report:
    """X is best on both criteria, Z worst, Y between; W has c1 from two apps only."""
    metrics = [Metric("c1", "More is better", "higher"), Metric("c2", "Less is better", "lower")]

    def stats(model, c1, c2, apps=10):
        return ModelStats(model, apps, apps, {"c1": Estimate(c1, None, None, apps),
                                               "c2": Estimate(c2, None, None, 10)})  # fmt: skip

    models = [stats("X", 4, 1), stats("Y", 2, 2), stats("Z", 1, 4), stats("W", 9, 0, apps=2)]
    return Report(metrics, models, None, (), 0, 100)


@pytest.mark.parametrize("method", ["topsis", "wsm"])
def test_topsis_and_the_weighted_sum_rank_as_worked_by_hand(method) -> None:
    # Weights 1/2 each. WSM on min-max scaled values: X (1 + 1) / 2 = 1, Y (1/3 + 2/3) / 2
    # = 0.5, Z 0. TOPSIS on vector-normalised values (each column over sqrt(21)): X is the
    # ideal (closeness 1), Z the anti-ideal (0), Y is sqrt(1.25)/sqrt(21) from both: 0.5.
    report = tradeoff_report()
    ranking = rank_models(report, parse_criteria(report, ["c1", "c2"], None), method=method)
    assert [(r.model, r.rank) for r in ranking.ranked] == [("X", 1), ("Y", 2), ("Z", 3)]
    assert [r.score for r in ranking.ranked] == pytest.approx([1.0, 0.5, 0.0])
    assert [(r.best, r.worst) for r in ranking.ranked] == [(1, 1), (2, 2), (3, 3)]
    assert ranking.unranked == [("W", "More is better from 2 apps (< 5)")]
    # Turned around (c2 a benefit), Z leads and X trails.
    turned = parse_criteria(report, ["c1", "c2:benefit"], [1.0, 3.0])
    assert [c.weight for c in turned] == [0.25, 0.75]
    flipped = rank_models(report, turned, method=method)
    assert flipped.ranked[0].model == "Z" and flipped.ranked[-1].model == "X"


def test_a_close_call_shows_a_range_of_ranks_when_weights_move() -> None:
    metrics = [Metric("c1", "a", "higher"), Metric("c2", "b", "higher")]
    rows = {"P": (10.0, 0.0), "Q": (0.0, 10.0), "R": (4.9, 5.0)}
    models = [
        ModelStats(m, 9, 9, {"c1": Estimate(a, None, None, 9), "c2": Estimate(b, None, None, 9)})
        for m, (a, b) in rows.items()
    ]
    report = Report(metrics, models, None, (), 0, 100)
    ranking = rank_models(report, parse_criteria(report, ["c1", "c2"], None), method="wsm")
    # Scaled: P (1, 0), Q (0, 1), R (0.49, 0.5). At 1/2 each P and Q tie at 0.5 (P first by
    # name), R 0.495 third. c1 at 1.2 x: P .545, R .494, Q .455; c2 at 1.2 x: Q first, P last.
    ranges = {r.model: (r.rank, r.best, r.worst) for r in ranking.ranked}
    assert ranges == {"P": (1, 1, 3), "Q": (2, 1, 3), "R": (3, 2, 3)}


def test_ranks_over_resampled_apps_tell_a_clear_lead_from_noise(sqlite_db) -> None:
    """lead_m's 6 apps all have 1 finding in 1,000 lines, tail_m's 9: every resample ranks
    them first and last. coin_a and coin_b have the same mixed apps (2 or 8 each): over
    resamples either can come before the other, so each takes ranks 2 to 3."""
    findings = {"lead_m": [1] * 6, "tail_m": [9] * 6,
                "coin_a": [2, 8, 2, 8, 2, 8], "coin_b": [8, 2, 8, 2, 8, 2]}  # fmt: skip
    for slug, counts in findings.items():
        ids = add_model(sqlite_db, slug, {n: 1000 for n in range(1, 7)})
        for number, found in enumerate(counts, start=1):
            add_analysis(sqlite_db, ids[number], "security", security(found))
    report = model_report(sqlite_db, types=[AnalysisType.SECURITY])
    criteria = parse_criteria(report, ["security.findings_per_kloc"], None)
    ranking = rank_models(report, criteria)
    intervals = {r.model: (r.rank, r.low, r.high) for r in ranking.ranked}
    assert intervals["lead_m"] == (1, 1, 1)
    assert intervals["tail_m"] == (4, 4, 4)
    # coin_a and coin_b tie (5 per KLOC) at ranks 2 and 3 (by name); resampled, either may
    # come first, and neither ever passes lead_m or falls behind tail_m.
    assert intervals["coin_a"][1:] == intervals["coin_b"][1:] == (2, 3)
    assert rank_models(report, criteria).ranked == ranking.ranked  # the same every time
    text = render_ranking(ranking, "csv")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["model"] == "coin_a")
    assert (row["rank_low"], row["rank_high"]) == ("2", "3")


def test_criteria_are_checked_before_anything_is_ranked() -> None:
    report = tradeoff_report()
    for criteria, weights, says in (
        (["nope"], None, "Unknown criterion 'nope'"),
        (["c1", "c2"], [1.0], "2 criteria but 1 weights"),
        (["c1", "c1"], None, "named twice"),
        (["c1"], [-1.0], "Weights are numbers >= 0"),
        (["c1:sideways"], None, "a direction is benefit or cost"),
    ):
        with pytest.raises(ValidationError, match=says):
            parse_criteria(report, criteria, weights)
    with pytest.raises(ValidationError, match="None of the default criteria"):
        parse_criteria(report, None, None)
    with pytest.raises(ValidationError, match="Unknown method"):
        rank_models(report, parse_criteria(report, ["c1"], None), method="vote")


def test_thesis_report_rank_ranks_the_study_and_lists_who_is_not_ranked(study_db) -> None:
    env = {"THESIS_DATABASE_URL": study_db.engine.url.render_as_string(hide_password=False)}
    args = ["report", "rank", "--criteria", "security.findings,security.findings_per_kloc",
            "--weights", "1,1", "--min-apps", "2"]  # fmt: skip
    shown = thesis(*args, **env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split()[:3] == ["Rank", "Model", "Score"]
    assert lines[1].split()[:2] == ["1", "acme_a"] and lines[2].split()[:2] == ["2", "acme_b"]
    assert any(
        line.startswith("Not ranked: solo_c (Security findings from 1 apps") for line in lines
    )
    assert any(line.startswith("Not ranked: idle_d (no Security findings") for line in lines)
    rows = list(csv.DictReader(io.StringIO(thesis(*args, "--format", "csv", **env).stdout)))
    assert [(r["rank"], r["model"]) for r in rows[:2]] == [("1", "acme_a"), ("2", "acme_b")]
    assert rows[2]["rank"] == "" and rows[2]["not_ranked"]
    document = json.loads(thesis(*args, "--format", "json", "--method", "wsm", **env).stdout)
    assert document["method"] == "wsm" and len(document["criteria"]) == 2
    refused = thesis("report", "rank", "--weights", "1,x", "--criteria", "a,b", **env)
    assert refused.returncode == 1 and "is not numbers" in refused.stderr
    nobody = thesis("report", "rank", "--criteria", "ai_review.score", **env)
    assert nobody.returncode == 1 and "none is ranked" in nobody.stderr
    assert "Not ranked: acme_a (Review score from 2 apps (< 5))" in nobody.stdout


def test_thesis_report_compare_tells_which_differences_are_significant(study_db) -> None:
    # acme_a's apps have 2, 4, 6 findings and acme_b's 10, 20: of the 10 ways to split the
    # five apps into three and two, only this one puts the two largest apart (and none is
    # further): p = 1/10 by exact count; the test's 10,000 random splits land near it.
    env = {"THESIS_DATABASE_URL": study_db.engine.url.render_as_string(hide_password=False)}
    out = thesis("report", "compare", "acme_a", "acme_b", "--types", "security",
                 "--format", "csv", **env)  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = {row["metric"]: row for row in csv.DictReader(io.StringIO(out.stdout))}
    findings = rows["security.findings"]
    assert float(findings["difference"]) == pytest.approx(4.0 - 15.0)
    assert float(findings["p_value"]) == pytest.approx(0.1, abs=0.02)
    assert findings["significant"] == "False"
    assert rows["cost.usd"]["p_value"] == ""  # acme_b has no recorded usage
    same = thesis("report", "compare", "acme_a", "acme_a", **env)
    assert same.returncode == 1 and "two different models" in same.stderr


# --- SARIF ----------------------------------------------------------------------------------

SARIF_SCHEMA = Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json"


def with_results(db, tmp_path, app_id: int, kind: str, findings: list[Finding]) -> str:
    """A completed analysis whose results file holds `findings`; returns its task id."""
    analysis = add_analysis(db, app_id, kind, {"total_findings": len(findings)})
    with db.read() as connection:
        task_id = connection.scalar(
            select(analysis_tasks.c.task_id).where(analysis_tasks.c.id == analysis)
        )
    path = tmp_path / "results" / f"{task_id}.json"
    write_results(path, {"task_id": task_id, "findings": [f.as_dict() for f in findings]})
    with db.write() as connection:
        connection.execute(
            update(analysis_tasks)
            .where(analysis_tasks.c.id == analysis)
            .values(results_path=str(path))
        )
    return task_id


def test_sarif_exports_every_finding_valid_against_the_official_schema(tmp_path, db) -> None:
    apps = add_model(db, "sarif_m", {1: 100, 2: 100})
    with_results(db, tmp_path, apps[1], "security", [
        Finding("bandit", "B105", "high", "Possible hardcoded password", "backend/app.py", 12),
        Finding("bandit", "B105", "high", "Again", "backend/my app ü.py", 3),
        Finding("eslint", "no-eval", "high", "eval can be harmful", "frontend/src/App.jsx", 0),
        Finding("npm-audit", "GHSA-1", "critical", "", "package.json"),
    ])  # fmt: skip
    with_results(db, tmp_path, apps[1], "quality", [
        Finding("pylint", "C0114", "info", "Missing module docstring", "backend/app.py", 1),
        Finding("pylint", "W0611", "medium", "Unused import os", "../../etc/passwd", 1),
    ])  # fmt: skip
    log = sarif_log(db, tmp_path / "apps", app=("sarif_m", 1))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log.document)
    assert (log.analyses, log.findings, log.unreadable) == (2, 6, [])
    runs = {run["automationDetails"]["id"]: run for run in log.document["runs"]}
    assert sorted(runs) == ["quality/pylint/", "security/bandit/", "security/eslint/",
                            "security/npm-audit/"]  # fmt: skip
    bandit = runs["security/bandit/"]
    assert bandit["tool"]["driver"]["rules"] == [{"id": "B105"}]
    first, second = bandit["results"]
    assert first["level"] == "error" and first["ruleIndex"] == 0
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "sarif_m/app1/backend/app.py", "uriBaseId": "APPS"},
        "region": {"startLine": 12},
    }
    assert second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "sarif_m/app1/backend/my%20app%20%C3%BC.py"
    )
    eslint = runs["security/eslint/"]["results"][0]
    assert "region" not in eslint["locations"][0]["physicalLocation"]  # line 0: no region
    audit = runs["security/npm-audit/"]["results"][0]
    assert audit["message"]["text"] == "GHSA-1" and audit["level"] == "error"
    quality = runs["quality/pylint/"]["results"]
    assert [r["level"] for r in quality] == ["note", "warning"]
    assert quality[1]["locations"] == []  # a path out of the app's folder is not a location
    base = bandit["originalUriBaseIds"]["APPS"]["uri"]
    assert base.startswith("file:///") and base.endswith("/apps/")


def test_thesis_report_sarif_writes_a_job_and_names_what_it_left_out(tmp_path, db) -> None:
    apps = add_model(db, "sarif_j", {1: 100, 2: 100})
    kept = with_results(db, tmp_path, apps[1], "security", [
        Finding("bandit", "B602", "high", "subprocess with shell=True", "app.py", 5)])  # fmt: skip
    lost = with_results(db, tmp_path, apps[2], "security", [
        Finding("bandit", "B602", "high", "x", "app.py", 5)])  # fmt: skip
    (tmp_path / "results" / f"{lost}.json").write_text("{not json")
    with db.read() as connection:
        ids = dict(connection.execute(select(analysis_tasks.c.task_id, analysis_tasks.c.id)).all())
    job = add_job(
        db, "sarif_j", [(n, "security", ids[t], False) for n, t in ((1, kept), (2, lost))]
    )
    env = {"THESIS_DATABASE_URL": db.engine.url.render_as_string(hide_password=False)}
    target = tmp_path / "out.sarif"
    done = thesis("report", "sarif", "--job", str(job), "--output", str(target), **env)
    assert done.returncode == 0, done.stderr
    assert "1 findings from 2 analyses" in done.stderr and "left out" in done.stderr
    document = json.loads(target.read_text())
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(document)
    assert [r["ruleId"] for run in document["runs"] for r in run["results"]] == ["B602"]
    for args, says in (
        ([], "Give --job ID or MODEL N"),
        (["sarif_j", "x"], "An app is MODEL N"),
        (["--job", "99"], "No batch job 99"),
        (["ghost", "1"], "No such app: ghost app 1"),
    ):
        refused = thesis("report", "sarif", *args, "--output", str(tmp_path / "r.sarif"), **env)
        assert refused.returncode == 1 and says in refused.stderr, refused.stderr
    assert not (tmp_path / "r.sarif").exists()


# --- usage and cost -----------------------------------------------------------------------


def build_spend(db) -> int:
    """spend_m's generation (1 USD, 3,000 tokens) on 2026-03-02; judge_x's reviews of its
    two apps (0.50 USD on 03-01 and 0.25 USD on 03-02, UTC), the second reused by the job
    this returns."""
    apps = add_model(db, "spend_m", {1: 100, 2: 100})
    ran = add_analysis(db, apps[1], "ai_review", {"score": 50})
    reused = add_analysis(db, apps[2], "ai_review", {"score": 60})
    day1, day2 = datetime(2026, 3, 1, 23, 59, tzinfo=UTC), datetime(2026, 3, 2, 0, 1, tzinfo=UTC)
    calls = [
        ("judge_x", "review", ran, 100, 50, 0.5, day1),
        ("judge_x", "review", reused, 10, 5, 0.25, day2),
        ("spend_m", "generation", None, 1000, 2000, 1.0, day2),
    ]
    with db.write() as connection:
        connection.execute(insert(model_usage), [
            {"model_name": m, "provider": "p", "purpose": kind, "analysis_task_id": task,
             "prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c, "cost": usd,
             "timestamp": when}
            for m, kind, task, p, c, usd, when in calls
        ])  # fmt: skip
    job = add_job(db, "spend_m", [(1, "ai_review", ran, False), (2, "ai_review", reused, True)])
    return job


def test_usage_sums_calls_tokens_and_dollars_by_model_kind_and_day(tmp_path, db) -> None:
    job = build_spend(db)
    by_model = {r.key: (r.calls, r.total_tokens, r.usd) for r in usage(db, "model")}
    assert by_model == {"spend_m": (1, 3000, 1.0), "judge_x": (2, 165, 0.75),
                        "total": (3, 3165, 1.75)}  # fmt: skip
    assert [r.key for r in usage(db, "model")] == ["spend_m", "judge_x", "total"]  # by cost
    by_kind = {r.key: r.usd for r in usage(db, "kind")}
    assert by_kind == {"generation": 1.0, "review": 0.75, "total": 1.75}
    by_day = {r.key: r.calls for r in usage(db, "day")}
    assert by_day == {"2026-03-01": 1, "2026-03-02": 2, "total": 3}  # days in UTC
    mine = usage(db, "model", job_id=job)  # the reused analysis was paid for elsewhere
    assert [(r.key, r.calls, r.usd) for r in mine] == [("judge_x", 1, 0.5), ("total", 1, 0.5)]
    env = {"THESIS_DATABASE_URL": db.engine.url.render_as_string(hide_password=False)}
    shown = thesis("batch", "show", str(job), **env)
    assert "spent 0.5000 USD on 1 LLM calls, 150 tokens" in shown.stdout, shown.stderr
    out = thesis("report", "usage", "--by", "kind", "--format", "csv", **env)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["kind"], r["calls"], r["usd"]) for r in rows] == [
        ("generation", "1", "1.0"), ("review", "2", "0.75"), ("total", "3", "1.75")]  # fmt: skip
    refused = thesis("report", "usage", "--job", "99", **env)
    assert refused.returncode == 1 and "No batch job 99" in refused.stderr


def test_an_export_never_replaces_a_device_a_pipe_or_a_link(tmp_path, study_db) -> None:
    env = {"THESIS_DATABASE_URL": study_db.engine.url.render_as_string(hide_password=False)}
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    target = tmp_path / "kept.csv"
    target.write_text("mine\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    # Not a device here: should this ever regress, the test must not replace /dev/null.
    for path in (pipe, link):
        refused = thesis("report", "models", "--output", str(path), **env)
        assert refused.returncode == 1, refused.stderr
        assert "is not a regular file" in refused.stderr and refused.stderr.count("\n") == 1
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode) and link.is_symlink()
    assert target.read_text() == "mine\n"
    written = thesis("report", "models", "--output", str(target), **env)  # a file: replaced
    assert written.returncode == 0 and target.read_text().startswith("Model")
