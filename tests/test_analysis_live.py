"""Analyses of running apps (smoke, locust load test) on the real Docker engine, and AI
review against an OpenAI-compatible server the test starts on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.analysis_apps import write_vulnerable_app
from tests.conftest import (
    StandInHandler,
    loopback_server,
    remove_docker_objects,
    unique_slug,
    write_container_app,
)
from tui.config import load_settings
from tui.db.models import (
    AnalysisStatus,
    AnalysisTask,
    ContainerizedTest,
    ModelCapability,
    ModelUsage,
    OpenRouterAnalysis,
    PerformanceTest,
)
from tui.errors import NotFoundError, ValidationError
from tui.services.analyses import get_analysis
from tui.services.analysis.registry import parse_types
from tui.services.analysis.runner import AnalysisService
from tui.services.scanner import scan_apps

# --- smoke and performance on a running container ---------------------------------------


@pytest.fixture
def running_app(tmp_path, docker_client, busybox_image, sqlite_db) -> Iterator[tuple[Any, str]]:
    slug = unique_slug()
    root = tmp_path / "apps"
    write_container_app(root, slug)
    scan_apps(sqlite_db, root)
    service = AnalysisService(sqlite_db, load_settings())
    yield service, slug
    service.containers.close()
    remove_docker_objects(docker_client, slug)


def run(service: AnalysisService, slug: str, kind: str, **options: Any):
    lines: list[str] = []
    task_ids = service.create([(slug, 1)], parse_types(kind), options=options)
    (result,) = asyncio.run(service.run(task_ids, lines.append))
    return result, lines


def test_smoke_starts_the_app_and_records_each_service_under_the_task(running_app) -> None:
    service, slug = running_app
    result, lines = run(service, slug, "smoke")
    assert result.status == AnalysisStatus.COMPLETED, result.error
    assert result.summary == {"healthy": "2/2"}
    assert "-- the app is not running: starting it" in lines
    with service.db.session() as s:
        tests = s.scalars(select(ContainerizedTest)).all()
    task = get_analysis(service.db, result.task_id)
    assert len(tests) == 2 and all(t.status == AnalysisStatus.COMPLETED for t in tests)
    assert {t.analysis_task_id for t in tests} == {service.refs([result.task_id])[0].id}
    assert {s["service"] for s in task.results["metrics"]["services"]} == {"backend", "frontend"}


def test_load_test_runs_locust_on_the_backend_and_stores_every_metric(running_app) -> None:
    service, slug = running_app
    result, lines = run(service, slug, "performance", users=4, spawn_rate=4, duration=2,
                        endpoints=["/", "/missing"])  # fmt: skip
    assert result.status == AnalysisStatus.COMPLETED, result.error
    metrics = get_analysis(service.db, result.task_id).results["metrics"]
    assert metrics["requests"] > 20
    assert set(metrics["endpoints"]) == {"/", "/missing"}
    # busybox httpd answers 404 for /missing: half the requests are the app's errors.
    assert metrics["endpoints"]["/missing"]["failures"] == metrics["endpoints"]["/missing"][
        "requests"]  # fmt: skip
    assert metrics["endpoints"]["/"]["failures"] == 0
    assert 0.4 < metrics["error_rate"] < 0.6 and metrics["connection_errors"] == 0
    assert metrics["min_ms"] <= metrics["p50_ms"] <= metrics["p95_ms"] <= metrics["p99_ms"]
    assert metrics["p99_ms"] <= metrics["max_ms"] + 1
    assert metrics["timeline"] and metrics["timeline"][-1]["users"] == 4
    with service.db.session() as s:
        row = s.scalars(select(PerformanceTest)).one()
    assert row.total_requests == metrics["requests"] and row.failed_requests > 0
    assert row.requests_per_second == pytest.approx(metrics["requests_per_second"])
    assert row.p95_response_time == metrics["p95_ms"]
    assert any(line.startswith("-- locust: 4 users") for line in lines)


def test_a_bad_load_test_option_is_refused_before_any_task_is_stored(sqlite_db, tmp_path) -> None:
    write_vulnerable_app(tmp_path / "apps", "acme_vuln", 1)
    scan_apps(sqlite_db, tmp_path / "apps")
    service = AnalysisService(sqlite_db, load_settings())
    with pytest.raises(
        ValidationError, match=r"^performance: Endpoints must be paths starting with"
    ):
        service.create([("acme_vuln", 1)], parse_types("security,performance"),
                       options={"endpoints": ["no-slash"]})  # fmt: skip
    with sqlite_db.session() as session:
        assert session.scalars(select(AnalysisTask)).all() == []


# --- AI review against a stand-in OpenRouter -----------------------------------------------


REVIEW = {
    "score": 35,
    "requirements": [
        {"requirement": "Users can look up a user", "met": True, "evidence": "/user route"},
        {"requirement": "Input is validated", "met": False, "evidence": "raw SQL"},
    ],
    "issues": [
        {"severity": "critical", "title": "SQL injection", "detail": "string-formatted query",
         "file": "backend/app.py", "line": 16},
        {"severity": "high", "title": "Shell injection", "detail": "shell=True"},
    ],
    "suggestions": ["Use parameterised queries"],
}  # fmt: skip


class ChatStandIn:
    """POST /api/v1/chat/completions answered from a script; the last reply repeats."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.base_url = ""

    def answer(self, *replies: tuple[int, Any]) -> None:
        self.replies = list(replies)

    def next(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
        self.requests.append(body)
        self.headers.append(headers)
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def completion(content: str, prompt: int = 1200, completion_tokens: int = 300) -> dict[str, Any]:
    return {
        "id": "gen-1",
        "choices": [{"message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion_tokens},
    }


class _ChatHandler(StandInHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length))
        status, payload = self.server.standin.next(body, dict(self.headers))
        headers = {"Content-Type": "application/json", "Retry-After": "0"}
        self.reply(status, json.dumps(payload).encode(), headers)


@pytest.fixture
def chat(monkeypatch) -> Iterator[ChatStandIn]:
    standin = ChatStandIn()
    with loopback_server(_ChatHandler, standin) as url:
        standin.base_url = f"{url}/api/v1"
        monkeypatch.setenv("THESIS_OPENROUTER_BASE_URL", standin.base_url)
        monkeypatch.setenv("THESIS_OPENROUTER_API_KEY", "sk-or-secret-key-123")
        monkeypatch.setenv("THESIS_REVIEW_MODEL", "acme/reviewer")
        yield standin


@pytest.fixture
def review_app(tmp_path, sqlite_db) -> AnalysisService:
    root = tmp_path / "apps"
    app = write_vulnerable_app(root, "acme_vuln", 1)
    (app / "REQUIREMENTS.md").write_text("- Users can look up a user\n- Input is validated\n")
    scan_apps(sqlite_db, root)
    with sqlite_db.write_session() as s:
        s.add(ModelCapability(
            model_id="acme/reviewer", canonical_slug="acme_reviewer", provider="acme",
            display_name="Reviewer", model_name="reviewer", context_length=32_000,
            pricing_prompt=3.0, pricing_completion=15.0,
        ))  # fmt: skip
    return AnalysisService(sqlite_db, load_settings())


def review(service: AnalysisService, **options: Any):
    lines: list[str] = []
    task_ids = service.create([("acme_vuln", 1)], parse_types("ai_review"), options=options)
    (result,) = asyncio.run(service.run(task_ids, lines.append))
    return result, lines


def usage_rows(service: AnalysisService) -> list[ModelUsage]:
    with service.db.session() as s:
        return list(s.scalars(select(ModelUsage).order_by(ModelUsage.id)))


def test_ai_review_stores_the_score_the_findings_and_the_cost(chat, review_app) -> None:
    chat.answer((200, completion(json.dumps(REVIEW))))
    result, _ = review(review_app)
    assert result.status == AnalysisStatus.COMPLETED, result.error
    assert result.summary == {"score": 35, "requirements_met": "1/2", "issues": 2}

    sent = chat.requests[0]
    assert sent["model"] == "acme/reviewer"
    assert sent["response_format"]["type"] == "json_schema"
    prompt = sent["messages"][1]["content"]
    assert "- Input is validated" in prompt and "--- backend/app.py" in prompt
    assert "shell=True" in prompt and "REQUIREMENTS.md" not in prompt
    assert chat.headers[0]["Authorization"] == "Bearer sk-or-secret-key-123"

    (usage,) = usage_rows(review_app)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1200, 300, 1500)
    assert usage.cost == pytest.approx((1200 * 3.0 + 300 * 15.0) / 1e6)
    assert usage.model_name == "acme/reviewer" and usage.purpose == "ai_review"
    with review_app.db.session() as s:
        row = s.scalars(select(OpenRouterAnalysis)).one()
    assert (row.score, row.issues_identified, row.suggestions_count) == (35.0, 2, 1)
    detail = get_analysis(review_app.db, result.task_id)
    assert [(f.severity, f.file, f.line) for f in detail.findings] == [
        ("critical", "backend/app.py", 16), ("high", "", None)]  # fmt: skip
    log_text = Path(detail.log_path).read_text()
    results_text = Path(detail.results_path).read_text()
    assert "sk-or-secret-key-123" not in log_text + results_text


def test_a_model_that_echoes_the_key_never_gets_it_written_anywhere(chat, review_app) -> None:
    echoed = {**REVIEW, "suggestions": ["Rotate sk-or-secret-key-123 now"]}
    chat.answer((200, completion("not json, key sk-or-secret-key-123")),
                (200, completion(json.dumps(echoed))))  # fmt: skip
    result, lines = review(review_app)
    assert result.status == AnalysisStatus.COMPLETED, result.error
    detail = get_analysis(review_app.db, result.task_id)
    written = Path(detail.results_path).read_text() + Path(detail.log_path).read_text()
    assert "Rotate *** now" in written
    assert "sk-or-secret-key-123" not in written + "".join(lines) + repr(detail)


def test_a_non_json_answer_is_asked_again_once(chat, review_app) -> None:
    chat.answer((200, completion("Sure! Here is my review: great app.")),
                (200, completion("```json\n" + json.dumps(REVIEW) + "\n```")))  # fmt: skip
    result, lines = review(review_app)
    assert result.status == AnalysisStatus.COMPLETED, result.error
    assert len(chat.requests) == 2 and len(usage_rows(review_app)) == 2
    assert "invalid (not JSON" in chat.requests[1]["messages"][-1]["content"]
    assert any(line.startswith("!! the answer is not a valid review: not JSON") for line in lines)


def test_two_bad_answers_fail_the_task_and_keep_the_raw_answer(chat, review_app) -> None:
    chat.answer((200, completion(json.dumps({"score": 140, "requirements": [], "issues": [],
                                             "suggestions": []}))))  # fmt: skip
    result, _ = review(review_app)
    assert result.status == AnalysisStatus.FAILED
    assert result.error == (
        "acme/reviewer did not answer with a valid review twice: score must be a number from 0 "
        "to 100"
    )
    metrics = get_analysis(review_app.db, result.task_id).results["metrics"]
    assert json.loads(metrics["raw_answer"])["score"] == 140
    assert len(usage_rows(review_app)) == 2


def test_a_429_is_retried_and_a_401_fails_with_a_clear_line(chat, review_app) -> None:
    chat.answer((429, {"error": {"message": "slow down"}}), (200, completion(json.dumps(REVIEW))))
    result, _ = review(review_app)
    assert result.status == AnalysisStatus.COMPLETED and len(chat.requests) == 2

    chat.answer((401, {"error": {"message": "bad key sk-or-secret-key-123"}}))
    result, _ = review(review_app)
    assert result.status == AnalysisStatus.FAILED
    assert result.error == "OpenRouter refused the API key (401) — set THESIS_OPENROUTER_API_KEY"

    chat.answer((503, {"error": {"message": "down"}}))
    result, _ = review(review_app)
    assert result.error.startswith("OpenRouter at http://127.0.0.1:")
    assert "kept failing (503: down) after 4 attempts" in result.error


def test_a_large_app_is_trimmed_to_the_context_and_says_what_was_left_out(chat, review_app) -> None:
    folder = review_app.containers.target("acme_vuln", 1).source_path
    (folder / "backend" / "big.py").write_text("x = 1\n" * 30_000)
    with review_app.db.write_session() as s:
        model = s.scalars(select(ModelCapability).filter_by(model_id="acme/reviewer")).one()
        model.context_length = 6_000
    chat.answer((200, completion(json.dumps(REVIEW))))
    result, lines = review(review_app)
    assert result.status == AnalysisStatus.COMPLETED, result.error
    metrics = get_analysis(review_app.db, result.task_id).results["metrics"]
    assert metrics["files_left_out"] == ["backend/big.py"]
    assert any("left out backend/big.py" in line for line in lines)
    assert "backend/app.py" in metrics["files_sent"]
    assert "(Left out to fit the context: backend/big.py)" in chat.requests[0]["messages"][1][
        "content"]  # fmt: skip

    with review_app.db.write_session() as s:
        s.scalars(
            select(ModelCapability).filter_by(model_id="acme/reviewer")
        ).one().context_length = 2_100
    result, _ = review(review_app)
    assert result.status == AnalysisStatus.FAILED
    assert "context (2100 tokens) is too small" in result.error


def test_a_model_outside_the_catalogue_or_no_key_fails_before_any_call(
    chat, review_app, monkeypatch
) -> None:
    with pytest.raises(NotFoundError) as refused:  # refused before any analysis is stored
        review(review_app, model="nobody/unknown")
    assert refused.value.msg == (
        "The reviewing model nobody/unknown is not in the catalogue; run `thesis models sync`"
    )
    with review_app.db.session() as s:
        assert s.scalars(select(AnalysisTask)).all() == []
    monkeypatch.delenv("THESIS_OPENROUTER_API_KEY")
    review_app.settings = load_settings()
    chat.answer((200, completion(json.dumps(REVIEW))))
    result, _ = review(review_app)
    assert result.error == "AI review needs an OpenRouter API key — set THESIS_OPENROUTER_API_KEY"
    assert chat.requests == []
