"""AI review: an app's code and requirements sent to a model through OpenRouter.

The model must answer with REVIEW_SCHEMA (asked for as a `json_schema` response format and
in the instructions). An answer that is not valid is asked for once more, with the reason;
a second bad answer fails the task and keeps the raw text in the results. Every call writes
a `model_usage` row (tokens, cost from the catalogue's prices, latency), answer or not.

The code is read as text (never run), the largest-first trimmed to fit the model's
context, and the results say which files were left out. The API key never leaves the
client: not into logs, results or errors.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from tui.db.models import AnalysisStatus, ModelCapability, ModelUsage, OpenRouterAnalysis, utcnow
from tui.errors import NotFoundError, RemoteServiceError, ScanError, ValidationError
from tui.services.analysis.contract import Outcome, TaskRef
from tui.services.analysis.findings import Finding
from tui.services.analysis.sources import regular_files
from tui.services.openrouter import OpenRouterClient

if TYPE_CHECKING:
    from tui.services.analysis.contract import AnalysisContext
    from tui.services.container_logs import ActionLog

CODE_SUFFIXES = frozenset(
    {".py", ".js", ".jsx", ".mjs", ".ts", ".tsx", ".html", ".css", ".json", ".txt", ".yml",
     ".yaml", ".toml", ".md", ".cfg", ".ini", ".sql"}
)  # fmt: skip
CODE_NAMES = frozenset({"Dockerfile", ".env.example"})
CHARS_PER_TOKEN = 3.5
"""A cautious average for code; the prompt is sized in characters from it."""
ANSWER_TOKENS = 2_000
MAX_FILE_BYTES = 200_000
REQUIREMENT_FILES = ("REQUIREMENTS.md", "requirements.md", "TEMPLATE.md")
SEVERITIES = ("critical", "high", "medium", "low", "info")

REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["score", "requirements", "issues", "suggestions"],
    "properties": {
        "score": {"type": "number", "minimum": 0, "maximum": 100},
        "requirements": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["requirement", "met", "evidence"],
                "properties": {
                    "requirement": {"type": "string"},
                    "met": {"type": "boolean"},
                    "evidence": {"type": "string"},
                },
            },
        },
        "issues": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "title", "detail"],
                "properties": {
                    "severity": {"type": "string", "enum": list(SEVERITIES)},
                    "title": {"type": "string"},
                    "detail": {"type": "string"},
                    "file": {"type": "string"},
                    "line": {"type": "integer"},
                },
            },
        },
        "suggestions": {"type": "array", "items": {"type": "string"}},
    },
}

INSTRUCTIONS = (
    "You review a web application that a language model generated. Judge it against the "
    "requirements: for each, say whether the code meets it and why. List concrete issues "
    "(security, correctness, missing features) with a severity, and suggestions. Give a "
    "score from 0 (nothing works) to 100 (every requirement met, no issues). Answer with "
    "one JSON object only, no prose and no code fences, matching this JSON schema:\n"
    + json.dumps(REVIEW_SCHEMA)
)


def requirements_of(ref: TaskRef, metadata: dict[str, Any] | None) -> str:
    """The app's requirements: the task's option, its generation metadata, or a file."""
    given = ref.config.get("requirements")
    if isinstance(given, str) and given.strip():
        return given.strip()
    recorded = (metadata or {}).get("requirements")
    if isinstance(recorded, list) and recorded:
        return "\n".join(f"- {item}" for item in recorded)
    if isinstance(recorded, str) and recorded.strip():
        return recorded.strip()
    for name in REQUIREMENT_FILES:
        path = (ref.source_path or Path("/nonexistent")) / name
        if path.is_file() and not path.is_symlink():
            return path.read_text("utf-8", "replace").strip()
    raise ScanError(
        f"{ref.model_slug} app {ref.app_number} has no requirements to review against: add "
        f"{REQUIREMENT_FILES[0]} to its folder or give them with --requirements"
    )


def code_files(root: Path) -> list[tuple[str, str]]:
    """(relative path, text) of the app's source files, backend first, without symlinks."""
    found: list[tuple[str, str]] = []
    for path, info in regular_files(root):
        if info.st_size > MAX_FILE_BYTES:
            continue
        name = path.name
        if path.suffix.lower() in CODE_SUFFIXES or name in CODE_NAMES:
            if name.startswith("package-lock") or name in REQUIREMENT_FILES:
                continue
            found.append((path.relative_to(root).as_posix(), path.read_text("utf-8", "replace")))
    return sorted(found, key=lambda item: (not item[0].startswith("backend/"), item[0]))


def fit_code(
    files: list[tuple[str, str]], budget_chars: int
) -> tuple[list[tuple[str, str]], list[str]]:
    """Files that fit the budget, smallest first within it; the names of those left out."""
    kept: list[tuple[str, str]] = []
    left_out: list[str] = []
    used = 0
    for name, text in sorted(files, key=lambda item: len(item[1])):
        cost = len(text) + len(name) + 20
        if used + cost <= budget_chars:
            kept.append((name, text))
            used += cost
        else:
            left_out.append(name)
    order = {name: n for n, (name, _) in enumerate(files)}
    return sorted(kept, key=lambda item: order[item[0]]), sorted(left_out)


def parse_review(text: str) -> dict[str, Any]:
    """The model's answer as a review; ValueError says what is wrong with it."""
    stripped = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
    try:
        review = json.loads(stripped)
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(review, dict):
        raise ValueError("not a JSON object")
    score = review.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 100:
        raise ValueError("score must be a number from 0 to 100")
    for key in ("requirements", "issues", "suggestions"):
        if not isinstance(review.get(key), list):
            raise ValueError(f"{key} must be a list")
    for item in review["requirements"]:
        if not isinstance(item, dict) or not isinstance(item.get("met"), bool):
            raise ValueError("each requirement needs `requirement` and a boolean `met`")
    for item in review["issues"]:
        if not isinstance(item, dict) or not isinstance(item.get("title"), str):
            raise ValueError("each issue needs a `title`")
    return review


def _model_named(settings: Any, options: dict[str, Any]) -> str:
    model_id = str(options.get("model") or settings.review_model or "").strip()
    if not model_id:
        raise ValidationError(
            "An AI review needs a reviewing model: fill in Review model (--model for "
            "thesis analyze, --review-model for thesis batch create) or set THESIS_REVIEW_MODEL"
        )
    return model_id


def reviewing_model(db: Any, settings: Any, options: dict[str, Any]) -> str:
    """The reviewing model the options (or THESIS_REVIEW_MODEL) name, checked against the
    catalogue before any analysis is stored: the form and `thesis analyze` refuse at once."""
    model_id = _model_named(settings, options)
    m = ModelCapability
    with db.session() as session:
        known = session.execute(
            select(m.id).where(or_(m.model_id == model_id, m.model_id_openrouter == model_id,
                                   m.canonical_slug == model_id))
        ).first()  # fmt: skip
    if known is None:
        raise NotFoundError(
            f"The reviewing model {model_id} is not in the catalogue; run `thesis models sync`"
        )
    return model_id


async def review(service: AnalysisContext, ref: TaskRef, log: ActionLog) -> Outcome:
    settings = service.settings
    model_id = _model_named(settings, ref.config)  # found in the catalogue with the app
    model, metadata = await asyncio.to_thread(_catalogue_entry, service, ref, model_id)
    if ref.source_path is None or not ref.source_path.is_dir():
        raise ScanError(f"{ref.model_slug} app {ref.app_number}: its folder is not on disk")
    requirements = requirements_of(ref, metadata)
    files = await asyncio.to_thread(code_files, ref.source_path)
    if not files:
        raise ScanError(f"{ref.model_slug} app {ref.app_number} has no source files to review")
    context = int(model["context_length"] or 8_000)
    fixed = len(INSTRUCTIONS) + len(requirements) + 400
    budget = int((context - ANSWER_TOKENS) * CHARS_PER_TOKEN) - fixed
    kept, left_out = fit_code(files, budget)
    if not kept:
        raise ScanError(
            f"{model_id}'s context ({context} tokens) is too small for the instructions, "
            "the requirements and any of the app's files"
        )
    if left_out:
        log(
            f"-- trimmed to {model_id}'s context ({context} tokens): left out {', '.join(left_out)}"
        )
    user = f"Requirements:\n{requirements}\n\nCode ({len(kept)} files):\n" + "\n".join(
        f"--- {name}\n{text}" for name, text in kept
    )
    if left_out:
        user += f"\n\n(Left out to fit the context: {', '.join(left_out)})"
    messages = [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": user}]
    answer, reason, raw = await _ask(service, ref, model, messages, log)
    metrics: dict[str, Any] = {
        "model": model_id,
        "files_sent": [name for name, _ in kept],
        "files_left_out": left_out,
        "requirements": requirements,
    }
    if answer is None:
        metrics["raw_answer"] = raw
        return Outcome(
            AnalysisStatus.FAILED,
            error=f"{model_id} did not answer with a valid review twice: {reason}",
            metrics=metrics,
        )
    return _outcome(answer, model_id, requirements, metrics, log)


async def _ask(
    service: AnalysisContext,
    ref: TaskRef,
    model: dict[str, Any],
    messages: list[dict[str, str]],
    log: ActionLog,
) -> tuple[dict[str, Any] | None, str, str]:
    """Ask, and once more if the answer is not a valid review: (review, reason, raw text)."""
    reason = raw = ""
    for attempt in (1, 2):
        log(f"-- asking {model['model_id']} (attempt {attempt})")
        payload = {
            "model": model["model_id"],
            "messages": messages,
            "max_tokens": ANSWER_TOKENS,
            "temperature": 0,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "app_review", "strict": True, "schema": REVIEW_SCHEMA},
            },
        }
        answer, seconds = await asyncio.to_thread(_call, service, payload)
        raw = _content(answer)
        await asyncio.to_thread(_record_usage, service, ref, model, payload, answer, raw, seconds)
        try:
            return parse_review(raw), "", raw
        except ValueError as exc:
            reason = str(exc)
            log(f"!! the answer is not a valid review: {reason}")
            messages = [
                *messages,
                {"role": "assistant", "content": raw[:4000]},
                {"role": "user", "content": f"That answer is invalid ({reason}). Answer with "
                 "the JSON object only, matching the schema."},
            ]  # fmt: skip
    return None, reason, raw


def _call(service: AnalysisContext, payload: dict[str, Any]) -> tuple[dict[str, Any], float]:
    settings = service.settings
    if settings.openrouter_api_key is None:
        raise RemoteServiceError(
            "AI review needs an OpenRouter API key — set THESIS_OPENROUTER_API_KEY"
        )
    with OpenRouterClient.from_settings(settings, timeout=settings.review_timeout) as client:
        return client.chat(payload)


def _content(answer: dict[str, Any]) -> str:
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return ""
    return content if isinstance(content, str) else json.dumps(content)


def _catalogue_entry(
    service: AnalysisContext, ref: TaskRef, model_id: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    from tui.db.models import GeneratedApplication

    m = ModelCapability
    with service.db.session() as session:
        found = session.execute(
            select(m).where(or_(m.model_id == model_id, m.model_id_openrouter == model_id,
                                m.canonical_slug == model_id))
        ).scalars().first()  # fmt: skip
        if found is None:
            raise NotFoundError(
                f"The reviewing model {model_id} is not in the catalogue; run `thesis models sync`"
            )
        app = session.get(GeneratedApplication, ref.application_id)
        metadata = dict(app.generation_metadata or {}) if app is not None else None
        return {
            "model_id": found.model_id_openrouter or found.model_id,
            "context_length": found.context_length,
            "pricing_prompt": found.pricing_prompt or 0.0,
            "pricing_completion": found.pricing_completion or 0.0,
        }, metadata


def _record_usage(
    service: AnalysisContext,
    ref: TaskRef,
    model: dict[str, Any],
    payload: dict[str, Any],
    answer: dict[str, Any],
    raw: str,
    seconds: float,
) -> None:
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    prompt = max(int(usage.get("prompt_tokens") or 0), 0)
    completion = max(int(usage.get("completion_tokens") or 0), 0)
    cost = (prompt * model["pricing_prompt"] + completion * model["pricing_completion"]) / 1e6
    with service.db.write_session() as session:
        session.add(
            ModelUsage(
                model_name=model["model_id"],
                provider="openrouter",
                purpose="ai_review",
                application_id=ref.application_id,
                analysis_task_id=ref.id,
                prompt_tokens=prompt,
                completion_tokens=completion,
                total_tokens=prompt + completion,
                query_size=len(json.dumps(payload["messages"])),
                response_size=len(raw),
                cost=cost,
                is_streaming=False,
                request_time_ms=int(seconds * 1000),
            )
        )


def _outcome(
    answer: dict[str, Any],
    model_id: str,
    requirements: str,
    metrics: dict[str, Any],
    log: ActionLog,
) -> Outcome:
    met = sum(1 for item in answer["requirements"] if item.get("met"))
    total = len(answer["requirements"])
    findings = [
        Finding(
            tool="ai_review",
            rule_id="review",
            severity=str(issue.get("severity", "info")).lower()
            if str(issue.get("severity", "")).lower() in SEVERITIES
            else "info",
            message=f"{issue.get('title', '')}: {issue.get('detail', '')}".strip(": "),
            file=str(issue.get("file") or ""),
            line=issue.get("line") if isinstance(issue.get("line"), int) else None,
        )
        for issue in answer["issues"]
    ]
    log(
        f"review: score {answer['score']:g}, {met}/{total} requirements met, {len(findings)} issues"
    )
    outcome = Outcome(
        summary={"score": answer["score"], "requirements_met": f"{met}/{total}",
                 "issues": len(findings)},
        findings=findings,
        metrics={**metrics, "review": answer},
    )  # fmt: skip

    def typed_row(ref: TaskRef, result: Outcome, seconds: float) -> OpenRouterAnalysis:
        return OpenRouterAnalysis(
            application_id=ref.application_id,
            analysis_task_id=ref.id,
            status=result.status,
            results=answer,
            execution_time=seconds,
            error_message=result.error,
            completed_at=utcnow(),
            analysis_model=model_id,
            requirements=requirements,
            score=float(answer["score"]),
            issues_identified=len(findings),
            suggestions_count=len(answer["suggestions"]),
        )

    outcome.typed_row = typed_row
    return outcome
