"""The Applications listing: every shown column searchable, the last analysis by time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui.db.models import (
    AnalysisStatus,
    AnalysisTask,
    AnalysisType,
    GeneratedApplication,
    ModelCapability,
    PortAllocation,
)
from tui.services.apps import list_applications

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def seed(db) -> None:
    with db.write_session() as s:
        for slug in ("openai_gpt-4o", "meta_llama-3"):
            s.add(ModelCapability(model_id=slug, canonical_slug=slug, provider=slug.split("_")[0],
                                  display_name=slug, model_name=slug))  # fmt: skip
        s.flush()
        apps = {}
        for slug in ("openai_gpt-4o", "meta_llama-3"):
            for number in (1, 2, 3):
                app = GeneratedApplication(model_slug=slug, app_number=number)
                s.add(app)
                apps[slug, number] = app
        s.flush()
        s.add(PortAllocation(model_name="openai_gpt-4o", app_number=2, backend_port=5100,
                             frontend_port=8100))  # fmt: skip
        # (app, type, status, minutes after T0): gpt app 1's latest is the smoke test.
        for (slug, number), kind, status, minutes in [
            (("openai_gpt-4o", 1), AnalysisType.SECURITY, AnalysisStatus.COMPLETED, 0),
            (("openai_gpt-4o", 1), AnalysisType.SMOKE, AnalysisStatus.FAILED, 50),
            (("openai_gpt-4o", 2), AnalysisType.AI_REVIEW, AnalysisStatus.COMPLETED, 10),
            (("meta_llama-3", 1), AnalysisType.ZAP, AnalysisStatus.COMPLETED, 30),
        ]:
            s.add(AnalysisTask(task_id=f"{kind}-{slug}-{number}-{minutes}",
                               application_id=apps[slug, number].id, task_type=kind,
                               status=status,
                               created_at=T0 + timedelta(minutes=minutes)))  # fmt: skip


def found(db, search: str) -> list[tuple[str, int]]:
    return [(r.model_slug, r.app_number) for r in list_applications(db, search=search).rows]


def test_every_word_must_match_one_shown_column_app_number_and_ports_included(db) -> None:
    seed(db)
    assert found(db, "gpt 3") == [("openai_gpt-4o", 3)]
    assert found(db, "llama 2") == [("meta_llama-3", 2)]
    assert found(db, "5100") == [("openai_gpt-4o", 2)]
    assert found(db, "smoke failed") == [("openai_gpt-4o", 1)]
    assert found(db, "security") == []  # gpt app 1's security analysis is not its latest
    assert found(db, "zap gpt") == []
    assert list_applications(db, search="completed").total == 2


def test_last_analysis_shows_the_newest_and_sorts_by_its_time(db) -> None:
    seed(db)
    rows = list_applications(db, sort="analysis").rows
    assert [(r.model_slug, r.app_number, r.last_analysis) for r in rows[:3]] == [
        ("openai_gpt-4o", 2, "ai_review completed"),
        ("meta_llama-3", 1, "zap completed"),
        ("openai_gpt-4o", 1, "smoke failed"),
    ]
    assert all(r.last_analysis is None for r in rows[3:])


def latest(db) -> dict[tuple[str, int], str | None]:
    return {(r.model_slug, r.app_number): r.last_analysis for r in list_applications(db).rows}


def test_the_latest_analysis_on_the_app_row_follows_every_write(db) -> None:
    """Triggers keep it, whoever writes: a newer analysis, a status change, a deletion."""
    from sqlalchemy import delete, insert, select, update

    seed(db)
    gpt1 = ("openai_gpt-4o", 1)
    assert latest(db)[gpt1] == "smoke failed"
    with db.write_session() as s:
        app_id = s.scalar(select(GeneratedApplication.id).where(
            GeneratedApplication.model_slug == "openai_gpt-4o",
            GeneratedApplication.app_number == 1))  # fmt: skip
        # An older analysis arriving late does not replace the latest one.
        s.execute(insert(AnalysisTask).values(task_id="old", application_id=app_id,
                  task_type=AnalysisType.QUALITY, status=AnalysisStatus.COMPLETED,
                  created_at=T0 - timedelta(days=1)))  # fmt: skip
    assert latest(db)[gpt1] == "smoke failed"
    with db.write_session() as s:
        s.execute(insert(AnalysisTask).values(task_id="new", application_id=app_id,
                  task_type=AnalysisType.PERFORMANCE, status=AnalysisStatus.PENDING,
                  created_at=T0 + timedelta(hours=2)))  # fmt: skip
    assert latest(db)[gpt1] == "performance pending"
    with db.write_session() as s:
        s.execute(update(AnalysisTask).where(AnalysisTask.task_id == "new")
                  .values(status=AnalysisStatus.RUNNING))  # fmt: skip
    assert latest(db)[gpt1] == "performance running"
    assert [r.app_number for r in list_applications(db, search="gpt running").rows] == [1]
    with db.write_session() as s:  # a status change of an older one changes nothing
        s.execute(update(AnalysisTask).where(AnalysisTask.task_id == "old")
                  .values(status=AnalysisStatus.FAILED))  # fmt: skip
    assert latest(db)[gpt1] == "performance running"
    with db.write_session() as s:  # deleting the latest falls back to the one before
        s.execute(delete(AnalysisTask).where(AnalysisTask.task_id == "new"))
    assert latest(db)[gpt1] == "smoke failed"
    with db.write_session() as s:
        s.execute(delete(AnalysisTask).where(AnalysisTask.application_id == app_id))
    assert latest(db)[gpt1] is None
    assert latest(db)[("openai_gpt-4o", 2)] == "ai_review completed"  # others untouched


def test_a_page_is_counted_apart_from_its_rows(db) -> None:
    """Without the count, a full page says "more may follow" (None) and a short one counts."""
    seed(db)
    page = list_applications(db, limit=2, count=False)
    assert page.shown == 2 and page.total is None
    assert list_applications(db, limit=2).total == 6
    short = list_applications(db, search="gpt", limit=5, count=False)
    assert short.shown == 3 and short.total == 3


def test_a_limit_of_zero_counts_without_rows(db) -> None:
    seed(db)
    page = list_applications(db, search="gpt", limit=0)
    assert page.rows == [] and page.total == 3
