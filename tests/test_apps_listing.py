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
