"""Generating one app: model M builds app N from template N through OpenRouter.

The backend first, from the template; then the frontend, with the routes the backend turned
out to have. Each step streams its reply (to `on_text`: the log panel, the CLI's --stream),
continues a reply the length limit cut, and asks again — a bounded number of times — when
the reply lacks a named file, holds a placeholder or does not parse, quoting what is wrong.
Every call is a `model_usage` row (tokens, cost from the catalogue's prices, latency) and
its raw reply is kept in `<data_dir>/generation/<model>/app<N>/` for audit.

The files — the scaffold's and the model's — are written into a hidden folder beside the
app's and renamed into place, so `<apps_dir>/<model>/app<N>/` is complete or absent, never
half-written; an existing app is replaced only when asked (`force`). The app is then
registered as a scan would, with its generation metadata.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from tui.config import Settings
from tui.db import Database
from tui.db.tables import generated_applications, model_capabilities, model_usage
from tui.errors import NotFoundError, RemoteServiceError, ThesisError, ValidationError
from tui.secrets import redact
from tui.services.atomic import write_atomically
from tui.services.generation import code
from tui.services.generation.files import sweep, write_app
from tui.services.generation.prompt import (
    CONTINUE,
    PROMPT_VERSION,
    SYSTEM,
    backend_prompt,
    frontend_prompt,
    retry_prompt,
)
from tui.services.generation.scaffold import (
    OPTIONAL,
    Frame,
    check_npm,
    check_requirements,
    scaffold_files,
)
from tui.services.generation.templates import Loaded
from tui.services.ports import allocate_ports
from tui.services.scanner import register_app

ATTEMPTS = 3
"""Requests per step for a usable reply (the first and two more quoting what was wrong)."""
CONTINUATIONS = 4
"""Times a reply cut by the length limit is continued."""
DEFAULT_MAX_TOKENS = 16_000
"""Completion tokens asked for when the catalogue does not give the model's limit."""
MIN_ANSWER_TOKENS = 2_000
"""A context that leaves fewer tokens than this for the answer is too small."""
KEPT_REPLY_CHARS = 40_000
"""Of a reply quoted back in a retry: the model's own answer, cut to this."""

Log = Callable[[str], None]


class GenerationError(ThesisError):
    title = "Generation failed"


@dataclass
class Call:
    step: str
    attempt: int
    prompt_tokens: int
    completion_tokens: int
    cost: float
    seconds: float
    finish_reason: str | None


@dataclass
class Generated:
    model: str
    number: int
    template: str
    path: Path
    application_id: int
    calls: list[Call] = field(default_factory=list)

    @property
    def cost(self) -> float:
        return sum(call.cost for call in self.calls)

    @property
    def tokens(self) -> int:
        return sum(call.prompt_tokens + call.completion_tokens for call in self.calls)

    @property
    def attempts(self) -> dict[str, int]:
        """Requests each step needed for a usable answer (continuations not counted)."""
        return {
            step: max((c.attempt for c in self.calls if c.step == step), default=0)
            for step in ("backend", "frontend")
        }


@dataclass(frozen=True)
class _Model:
    slug: str
    model_id: str
    price_prompt: float
    price_completion: float
    context: int | None
    max_output: int | None


def app_folder(settings: Settings, model: str, number: int) -> Path:
    return settings.apps_dir / model / f"app{number}"


def generate_app(
    db: Database,
    settings: Settings,
    model_slug: str,
    loaded: Loaded,
    *,
    force: bool = False,
    on_text: Callable[[str], None] | None = None,
    log: Log = lambda _line: None,
    client: Any = None,
    stop: threading.Event | None = None,
    analysis_task_id: int | None = None,
) -> Generated:
    """Generate app N of `model_slug` from template N; GenerationError (or a RemoteServiceError
    for OpenRouter's refusals) saying why when it cannot, with nothing half-written."""
    template = loaded.template
    number = template.number
    model = check_model(db, model_slug)
    target = app_folder(settings, model_slug, number)
    if (target.exists() or target.is_symlink()) and not force:
        raise ValidationError(f"{target} exists; --force replaces it")
    if client is None and settings.openrouter_api_key is None:
        raise RemoteServiceError(
            "Generation needs an OpenRouter API key — set THESIS_OPENROUTER_API_KEY"
        )
    sweep(target)
    application_id = app_row(db, model_slug, number)
    ports = allocate_ports(db, model_slug, number, settings.backend_ports, settings.frontend_ports)
    replies = settings.data_dir / "generation" / model_slug / f"app{number}"
    result = Generated(model_slug, number, template.slug, target, application_id)
    started = time.monotonic()
    own_client = client is None
    if own_client:
        from tui.services.openrouter import OpenRouterClient

        client = OpenRouterClient.from_settings(settings, timeout=settings.generation_timeout)

    def stopped_or(text: str) -> None:
        if stop is not None and stop.is_set():
            raise GenerationError(f"{model_slug} app {number}: generation cancelled")
        if on_text is not None:
            on_text(text)

    try:
        step = _Step(db, client, model, application_id, analysis_task_id, replies, result,
                     stopped_or, log)  # fmt: skip
        backend, backend_reply = step.run(
            "backend", backend_prompt(template), ("backend/app.py",),
            ("backend/requirements.txt",), _backend_extra,
        )  # fmt: skip
        routes = code.routes(backend["backend/app.py"])
        frontend, frontend_reply = step.run(
            "frontend", frontend_prompt(template, routes), ("frontend/src/App.jsx",),
            (*OPTIONAL, "frontend/dependencies.json"), _frontend_extra,
        )  # fmt: skip
    except ThesisError as exc:
        _note(db, application_id, f"generation failed: {exc.msg}")
        raise
    finally:
        if own_client:
            client.close()
    frame = Frame(template, ports.backend_port, ports.frontend_port, f"{model_slug} app {number}")
    files = scaffold_files(
        frame,
        requirements=code.requirement_lines(backend_reply),
        npm=code.npm_dependencies(frontend_reply),
    )
    files.update({"backend/app.py": backend["backend/app.py"]})
    files.update({k: v for k, v in frontend.items() if k != "frontend/dependencies.json"})
    if stop is not None and stop.is_set():
        raise GenerationError(f"{model_slug} app {number}: generation cancelled")
    write_app(target, files)
    checker = code.jsx_checker()
    metadata = {
        "template": template.slug,
        "template_number": number,
        "template_name": template.name,
        "model": model.model_id,
        "prompt_version": PROMPT_VERSION,
        "prompt_tokens": sum(c.prompt_tokens for c in result.calls),
        "completion_tokens": sum(c.completion_tokens for c in result.calls),
        "cost": round(result.cost, 8),
        "seconds": round(time.monotonic() - started, 3),
        "attempts": result.attempts,
        "calls": len(result.calls),
        "replies": str(replies),
        "jsx_check": "espree" if isinstance(checker, list) else f"skipped: {checker}",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    register_app(db, model_slug, number, target, generation_metadata=metadata)
    log(f"wrote {target} ({len(files)} files; {result.tokens:,} tokens, {result.cost:.4f} USD)")
    return result


def _backend_extra(reply: str) -> list[str]:
    """What is wrong with the backend reply's added requirements, if anything."""
    try:
        check_requirements(code.requirement_lines(reply))
    except ValidationError as exc:
        return [exc.msg]
    return []


def _frontend_extra(reply: str) -> list[str]:
    """What is wrong with the frontend reply's added npm packages, if anything."""
    try:
        check_npm(code.npm_dependencies(reply))
    except ValueError as exc:
        return [str(exc)]
    except ValidationError as exc:
        return [exc.msg]
    return []


class _Step:
    """The calls of one generation: each step's requests, continuations and retries."""

    def __init__(
        self,
        db: Database,
        client: Any,
        model: _Model,
        application_id: int,
        analysis_task_id: int | None,
        replies: Path,
        result: Generated,
        on_text: Callable[[str], None] | None,
        log: Log,
    ) -> None:
        self.db, self.client, self.model = db, client, model
        self.application_id, self.replies, self.result = application_id, replies, result
        self.on_text, self.log = on_text, log
        self.analysis_task_id = analysis_task_id
        """A job's task: its calls count as the job's spend."""

    def run(
        self,
        name: str,
        prompt: str,
        wanted: tuple[str, ...],
        optional: tuple[str, ...],
        added: Callable[[str], list[str]],
    ) -> tuple[dict[str, str], str]:
        """The step's files from the first usable reply, and that reply."""
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
        found: list[str] = []
        for attempt in range(1, ATTEMPTS + 1):
            self.log(f"-- {name}: asking {self.model.model_id} (attempt {attempt})")
            reply = self._complete(name, attempt, messages)
            files = code.files_of(reply, wanted, optional)
            found = code.problems({k: v for k, v in files.items() if k in wanted}, wanted)
            found += added(reply)  # what is wrong with the dependencies it adds
            if not found:
                return files, reply
            self.log(f"!! {name}: {'; '.join(found)}")
            messages = [
                *messages,
                {"role": "assistant", "content": reply[-KEPT_REPLY_CHARS:]},
                {"role": "user", "content": retry_prompt(found)},
            ]
        raise GenerationError(
            f"{self.result.model} app {self.result.number}: no usable {name} after {ATTEMPTS} "
            f"attempts ({found[0]})"
        )

    def _complete(self, name: str, attempt: int, messages: list[dict[str, str]]) -> str:
        """One reply, continued while the length limit cuts it."""
        max_tokens = self._max_tokens(messages)
        parts: list[str] = []
        conversation = list(messages)
        for part in range(CONTINUATIONS + 1):
            payload = {"model": self.model.model_id, "messages": conversation,
                       "max_tokens": max_tokens, "temperature": 0.2}  # fmt: skip
            streamed = self.client.chat_stream(payload, self.on_text)
            self._record(name, attempt, part, payload, streamed)
            parts.append(streamed.text)
            if streamed.finish_reason != "length":
                break
            self.log(f".. {name}: cut by the length limit, continuing ({part + 1})")
            conversation = [
                *messages,
                {"role": "assistant", "content": "".join(parts)[-KEPT_REPLY_CHARS:]},
                {"role": "user", "content": CONTINUE},
            ]
        return "".join(parts)

    def _max_tokens(self, messages: list[dict[str, str]]) -> int:
        wanted = self.model.max_output or DEFAULT_MAX_TOKENS
        if not self.model.context:
            return wanted
        prompt = sum(len(m["content"]) for m in messages) // 3 + 100  # tokens, generously
        room = self.model.context - prompt
        if room < MIN_ANSWER_TOKENS:
            raise GenerationError(
                f"{self.model.model_id}'s context of {self.model.context:,} tokens is too small "
                f"for the prompt (about {prompt:,} tokens) and an answer"
            )
        return min(wanted, room)

    def _record(
        self, name: str, attempt: int, part: int, payload: dict[str, Any], streamed: Any
    ) -> None:
        usage = streamed.usage or {}
        prompt = _count(usage.get("prompt_tokens"))
        completion = _count(usage.get("completion_tokens"))
        cost = (prompt * self.model.price_prompt + completion * self.model.price_completion) / 1e6
        self.result.calls.append(
            Call(name, attempt, prompt, completion, cost, streamed.seconds, streamed.finish_reason)
        )
        with self.db.write() as connection:
            connection.execute(
                insert(model_usage).values(
                    model_name=self.model.model_id, provider="openrouter", purpose="generation",
                    application_id=self.application_id,
                    analysis_task_id=self.analysis_task_id, prompt_tokens=prompt,
                    completion_tokens=completion, total_tokens=prompt + completion,
                    query_size=len(json.dumps(payload["messages"])),
                    response_size=len(streamed.text), cost=cost, is_streaming=True,
                    request_time_ms=int(streamed.seconds * 1000),
                )
            )  # fmt: skip
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        write_atomically(
            self.replies / f"{stamp}-{name}-{attempt}-{part}.md",
            redact(streamed.text).encode("utf-8"),
            what="the model's reply",
            hint="check THESIS_DATA_DIR",
        )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def check_model(db: Database, slug: str) -> _Model:
    """The catalogue's entry of the model that generates: refused when it has none, or no
    OpenRouter id to ask it by."""
    m = model_capabilities.c
    with db.read() as connection:
        row = connection.execute(
            select(m.canonical_slug, m.model_id, m.model_id_openrouter, m.pricing_prompt,
                   m.pricing_completion, m.context_length, m.max_output_tokens)
            .where(m.canonical_slug == slug)
        ).first()  # fmt: skip
    if row is None:
        raise NotFoundError(f"No model {slug} in the catalogue; `thesis models list` shows them")
    if not row.model_id_openrouter and "/" not in row.model_id:
        raise ValidationError(
            f"{slug} has no OpenRouter id in the catalogue (a model known only from its apps' "
            "folder): `thesis models sync`, or add it with its id"
        )
    return _Model(
        slug,
        row.model_id_openrouter or row.model_id,
        row.pricing_prompt or 0.0,
        row.pricing_completion or 0.0,
        row.context_length,
        row.max_output_tokens,
    )


def app_row(db: Database, slug: str, number: int) -> int:
    """The app's id, its row made (not created yet, no folder) when it has none."""
    g = generated_applications.c
    with db.write() as connection:
        found = connection.scalar(select(g.id).where(g.model_slug == slug, g.app_number == number))
        if found is not None:
            return int(found)
        made = connection.execute(
            insert(generated_applications).values(
                model_slug=slug, app_number=number, provider=slug.split("_", 1)[0],
                status_detail="being generated",
            )
        )  # fmt: skip
        return int(made.inserted_primary_key[0])


def _note(db: Database, application_id: int, detail: str) -> None:
    """Say on the app's row why its generation stopped (the row of an app never written
    stays, with that reason, and its next generation starts afresh)."""
    g = generated_applications.c
    with db.write() as connection:
        connection.execute(
            generated_applications.update()
            .where(g.id == application_id)
            .values(status_detail=detail[:500])
        )
