"""Generating apps: the real client streams from an OpenAI-compatible stand-in on 127.0.0.1
that answers with canned code (cut by the length limit, without code blocks, with a
placeholder, a 429, a 401); the app is written whole or not at all."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import StandInHandler, assert_one_line_error, loopback_server, thesis
from sqlalchemy import insert, select

from tui.config import load_settings
from tui.db.tables import (
    analysis_tasks,
    batch_jobs,
    generated_applications,
    model_capabilities,
    model_usage,
    port_allocations,
)
from tui.errors import RemoteServiceError, ValidationError
from tui.services.generation.generator import GenerationError, generate_app
from tui.services.generation.templates import load_templates

KEY = "sk-or-generation-key-42"

BACKEND = """import os

from flask import Flask, jsonify, request
from flask_cors import CORS

app = Flask(__name__)
CORS(app)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
TODOS = []


@app.get("/api/health")
def health():
    return jsonify(status="ok")


@app.route("/api/todos", methods=["GET", "POST"])
def todos():
    if request.method == "POST":
        todo = {"id": len(TODOS) + 1, "title": request.json["title"], "done": False}
        TODOS.append(todo)
        return jsonify(todo), 201
    return jsonify(TODOS)


@app.delete("/api/todos/<int:todo_id>")
def delete(todo_id):
    return "", 204
"""

FRONTEND = """import { useEffect, useState } from 'react'

const API = import.meta.env.VITE_API_URL

export default function App() {
  const [todos, setTodos] = useState([])
  const [title, setTitle] = useState('')

  useEffect(() => {
    fetch(`${API}/api/todos`).then((r) => r.json()).then(setTodos)
  }, [])

  async function add(event) {
    event.preventDefault()
    const response = await fetch(`${API}/api/todos`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title }),
    })
    setTodos([...todos, await response.json()])
  }

  return (
    <form onSubmit={add}>
      <input value={title} onChange={(e) => setTitle(e.target.value)} />
      <ul>{todos.map((t) => <li key={t.id}>{t.title}</li>)}</ul>
    </form>
  )
}
"""


def fenced(path: str, text: str, language: str = "python") -> str:
    return f"Here it is.\n\n```{language}:{path}\n{text}```\n"


class Stand:
    """Scripted answers, one per request: (status, text, finish_reason) or a callable."""

    def __init__(self) -> None:
        self.script: list[Any] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.hold = threading.Event()

    def next(self) -> Any:
        return self.script.pop(0) if self.script else (500, "script ran out", None)


class _Handler(StandInHandler):
    def do_POST(self) -> None:
        stand: Stand = self.server.standin
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        stand.requests.append(body)
        stand.headers.append(dict(self.headers))
        status, text, finish = stand.next()
        if status != 200:
            error = {"error": {"message": f"{text} (key {self.headers.get('Authorization')})"}}
            self.reply(status, json.dumps(error).encode(), {"Content-Type": "application/json",
                                                             "Retry-After": "0"})  # fmt: skip
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if finish == "raw":  # the body as scripted, bytes and all
            self.wfile.write(text)
            return
        if finish == "endless":  # the same piece for ever, until the client hangs up
            event = {"choices": [{"delta": {"content": text}, "finish_reason": None}]}
            with contextlib.suppress(OSError):
                while True:
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            return
        half = len(text) // 2
        for piece in (text[:half], text[half:]):
            event = {"choices": [{"delta": {"content": piece}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
            if finish == "hold":
                stand.hold.wait(30)  # the test kills the client meanwhile
        done = {"choices": [{"delta": {}, "finish_reason": finish or "stop"}],
                "usage": {"prompt_tokens": 1000, "completion_tokens": 2000}}  # fmt: skip
        self.wfile.write(f": keep-alive\n\ndata: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())


@pytest.fixture
def stand(monkeypatch) -> Any:
    standin = Stand()
    with loopback_server(_Handler, standin) as url:
        monkeypatch.setenv("THESIS_OPENROUTER_BASE_URL", f"{url}/api/v1")
        monkeypatch.setenv("THESIS_OPENROUTER_API_KEY", KEY)
        yield standin
        standin.hold.set()


def add_coder(db):
    """acme_coder in the catalogue: OpenRouter id acme/coder, 128k context, 8k answers,
    1 USD per million prompt tokens and 4 per million completion tokens."""
    with db.write() as connection:
        connection.execute(insert(model_capabilities).values(
            model_id="acme/coder", canonical_slug="acme_coder", provider="acme",
            display_name="Coder", model_name="coder", model_id_openrouter="acme/coder",
            context_length=128_000, max_output_tokens=8_000,
            pricing_prompt=1.0, pricing_completion=4.0))  # fmt: skip
    return db


@pytest.fixture
def catalogue_db(db):
    return add_coder(db)


def db_env(db) -> dict[str, str]:
    """The environment a `thesis` process needs to use the test's database."""
    return {"THESIS_DATABASE_URL": db.engine.url.render_as_string(hide_password=False)}


@contextmanager
def held_answer(stand: Stand, env: dict[str, str], *command: str) -> Iterator[Any]:
    """`thesis COMMAND` in a process of its own, caught in the middle of the frontend's answer
    (the stand-in holds it) while the body runs; the rest of the answer comes after."""
    stand.script = [
        (200, fenced("backend/app.py", BACKEND), "stop"),
        (200, fenced("frontend/src/App.jsx", FRONTEND, "jsx"), "hold"),
    ]
    process = subprocess.Popen([sys.executable, "-m", "tui", *command],
                               env={**os.environ, **env}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while len(stand.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # polled with a deadline: the stand-in holds the stream
        assert len(stand.requests) == 2, process.stderr
        yield process
    finally:
        stand.hold.set()


TODO = load_templates().get("todo-list")


def test_an_app_is_generated_streamed_continued_retried_and_registered(stand, catalogue_db):
    cut = len(BACKEND) // 2
    stand.script = [
        (429, "slow down", None),
        (200, "```python:backend/app.py\n" + BACKEND[:cut], "length"),  # cut by the limit
        (200, BACKEND[cut:] + "```\n" + fenced("backend/requirements.txt", "marshmallow==3.21.3\n",
                                               "requirements"), "stop"),
        (200, "I would build it with React hooks and fetch.", "stop"),  # no code block
        (200, fenced("frontend/src/App.jsx", FRONTEND, "jsx"), "stop"),
    ]  # fmt: skip
    settings = load_settings()
    streamed: list[str] = []
    done = generate_app(catalogue_db, settings, "acme_coder", TODO, on_text=streamed.append)
    app = settings.apps_dir / "acme_coder" / "app2"
    assert done.path == app and (app / "backend" / "app.py").read_text() == BACKEND
    assert (app / "frontend" / "src" / "App.jsx").read_text() == FRONTEND
    assert "marshmallow==3.21.3" in (app / "backend" / "requirements.txt").read_text()
    for scaffold in (
        "docker-compose.yml",
        "backend/run.py",
        "backend/Dockerfile",
        "frontend/Dockerfile",
        "frontend/src/main.jsx",
        "frontend/vite.config.js",
    ):
        assert (app / scaffold).is_file(), scaffold
    assert "".join(streamed).startswith("```python:backend/app.py")
    # The .env holds the ports the database allocated to the app.
    g, p = generated_applications.c, port_allocations.c
    with catalogue_db.read() as connection:
        ports = connection.execute(
            select(p.backend_port, p.frontend_port).where(p.model_name == "acme_coder")
        ).one()
        row = connection.execute(select(generated_applications).where(
            g.model_slug == "acme_coder", g.app_number == 2)).one()  # fmt: skip
        usage = connection.execute(select(model_usage).order_by(model_usage.c.id)).all()
    env = (app / ".env").read_text()
    assert f"BACKEND_PORT={ports.backend_port}\n" in env
    assert f"FRONTEND_PORT={ports.frontend_port}\n" in env
    assert "ADMIN_PASSWORD=T0do-admin-pw\n" in env
    assert row.source_path == str(app) and row.content_hash and row.status == "not_created"
    assert row.status_detail is None
    meta = row.generation_metadata
    assert (meta["template"], meta["template_number"], meta["model"]) == (
        "todo-list",
        2,
        "acme/coder",
    )
    assert meta["attempts"] == {"backend": 1, "frontend": 2} and meta["calls"] == 4
    assert meta["prompt_tokens"] == 4000 and meta["completion_tokens"] == 8000
    # Every call a usage row: 1,000 prompt tokens at 1 USD and 2,000 at 4 USD per million.
    assert [(u.purpose, u.application_id, u.total_tokens) for u in usage] == [
        ("generation", row.id, 3000)
    ] * 4
    assert sum(u.cost for u in usage) == pytest.approx(4 * 0.009) == meta["cost"]
    # What was asked: the catalogue's output limit; the frontend knew the backend's routes.
    assert stand.requests[1]["max_tokens"] == 8000 and stand.requests[1]["stream"] is True
    continued = stand.requests[2]["messages"]
    assert continued[-2]["role"] == "assistant" and "cut off" in continued[-1]["content"]
    frontend_prompt = stand.requests[3]["messages"][1]["content"]
    assert (
        "GET,POST /api/todos" in frontend_prompt
        and "DELETE /api/todos/<int:todo_id>" in frontend_prompt
    )
    assert "no ```jsx:frontend/src/App.jsx block" in stand.requests[4]["messages"][-1]["content"]
    assert stand.headers[1]["Authorization"] == f"Bearer {KEY}"
    replies = sorted(Path(meta["replies"]).iterdir())
    assert len(replies) == 4 and all(KEY not in r.read_text() for r in replies)
    assert not [e for e in app.parent.iterdir() if e.name.startswith(".")]


def test_a_stream_that_breaks_the_rules_is_read_or_stopped(stand, catalogue_db, monkeypatch):
    """Events nested past reading and lines split by U+2028 inside a string are read as
    what they are; an answer without end is stopped at MAX_STREAM_BYTES with one line."""
    from tui.services import openrouter

    def event(text: str) -> bytes:
        piece = {"choices": [{"delta": {"content": text}, "finish_reason": None}]}
        return b"data: " + json.dumps(piece, ensure_ascii=False).encode() + b"\r\n\r\n"

    backend = fenced("backend/app.py", BACKEND.replace("TODOS = []", "TODOS = []  # \u2028"))
    cut = len(backend) // 3
    raw = (b"data: " + b"[" * 50_000 + b"\n\n" + event(backend[:cut]) + b": keep-alive\r"
           + event(backend[cut:]) + b"data: [DONE]\n\n")  # fmt: skip
    stand.script = [
        (200, raw, "raw"),
        (200, fenced("frontend/src/App.jsx", FRONTEND, "jsx"), "stop"),
    ]
    done = generate_app(catalogue_db, load_settings(), "acme_coder", TODO)
    assert "TODOS = []  # \u2028" in (done.path / "backend" / "app.py").read_text()
    monkeypatch.setattr(openrouter, "MAX_STREAM_BYTES", 2_000_000)
    stand.script = [(200, "x" * 1000, "endless")]
    with pytest.raises(RemoteServiceError, match="sent over 2 MB for one answer; stopped"):
        generate_app(catalogue_db, load_settings(), "acme_coder", TODO, force=True)
    assert (done.path / "backend" / "app.py").is_file()  # the app as it was


def test_a_refused_key_writes_nothing_and_says_so_in_one_line(stand, catalogue_db):
    stand.script = [(401, "bad key", None)]
    with pytest.raises(RemoteServiceError) as raised:
        generate_app(catalogue_db, load_settings(), "acme_coder", TODO)
    assert "refused the API key (401)" in raised.value.msg and KEY not in raised.value.msg
    assert not (load_settings().apps_dir / "acme_coder" / "app2").exists()


def test_placeholders_three_times_fail_the_app_and_write_nothing(stand, catalogue_db):
    lazy = BACKEND.replace("TODOS = []", "TODOS = []\n# ... rest of the code here")
    stand.script = [(200, fenced("backend/app.py", lazy), "stop")] * 3
    with pytest.raises(GenerationError, match="no usable backend after 3 attempts"):
        generate_app(catalogue_db, load_settings(), "acme_coder", TODO)
    assert "not whole code" in stand.requests[1]["messages"][-1]["content"]
    g = generated_applications.c
    with catalogue_db.read() as connection:
        detail = connection.scalar(select(g.status_detail).where(g.model_slug == "acme_coder"))
    assert detail.startswith("generation failed: acme_coder app 2: no usable backend")
    folder = load_settings().apps_dir / "acme_coder"
    assert not (folder / "app2").exists() and not list(folder.glob(".app2*"))


def test_jsx_that_does_not_parse_is_asked_for_again(stand, catalogue_db):
    broken = FRONTEND.replace("</form>", "</div>")
    stand.script = [
        (200, fenced("backend/app.py", BACKEND), "stop"),
        (200, fenced("frontend/src/App.jsx", broken, "jsx"), "stop"),
        (200, fenced("frontend/src/App.jsx", FRONTEND, "jsx"), "stop"),
    ]
    done = generate_app(catalogue_db, load_settings(), "acme_coder", TODO)
    assert "does not parse: line" in stand.requests[2]["messages"][-1]["content"]
    assert (done.path / "frontend/src/App.jsx").read_text() == FRONTEND


def test_an_existing_app_is_kept_unless_forced_and_a_tiny_context_is_refused(stand, catalogue_db):
    settings = load_settings()
    app = settings.apps_dir / "acme_coder" / "app2"
    app.mkdir(parents=True)
    (app / "mine.txt").write_text("hand-made")
    with pytest.raises(ValidationError, match="exists; --force replaces it"):
        generate_app(catalogue_db, settings, "acme_coder", TODO)
    assert stand.requests == []
    stand.script = [(200, fenced("backend/app.py", BACKEND), "stop"),
                    (200, fenced("frontend/src/App.jsx", FRONTEND, "jsx"), "stop")]  # fmt: skip
    generate_app(catalogue_db, settings, "acme_coder", TODO, force=True)
    assert not (app / "mine.txt").exists() and (app / "backend/app.py").is_file()
    with catalogue_db.write() as connection:
        connection.execute(model_capabilities.update().values(context_length=1500))
    with pytest.raises(GenerationError, match="context of 1,500 tokens is too small"):
        generate_app(catalogue_db, settings, "acme_coder", TODO, force=True)
    assert (app / "backend/app.py").is_file()  # the app as it was


def test_thesis_generate_reports_each_app_and_a_kill_leaves_no_half_written_app(
    stand, catalogue_db, tmp_path
):
    env = db_env(catalogue_db)
    with held_answer(stand, env, "generate", "acme_coder", "--templates", "todo-list") as process:
        os.kill(process.pid, signal.SIGKILL)  # killed while the answer streams
        process.wait(10)
    folder = load_settings().apps_dir / "acme_coder"
    assert not (folder / "app2").exists()
    stand.script = [(200, fenced("backend/app.py", BACKEND), "stop"),
                    (200, fenced("frontend/src/App.jsx", FRONTEND, "jsx"), "stop"),
                    (401, "no", None)]  # fmt: skip
    # One LLM slot: the stand-in's answers go to the apps in order.
    again = thesis("generate", "acme_coder", "--templates", "2,blog", THESIS_BATCH_LLM="1", **env)
    assert again.returncode == 1
    assert "acme_coder app 2 (todo-list): " in again.stdout and "4 calls" not in again.stdout
    assert "acme_coder app 3 (blog): OpenRouter refused the API key (401)" in again.stderr
    assert "acme_coder app 2 (todo-list): " in again.stdout
    assert "2 calls · 6,000 tokens · 0.0180 USD" in again.stdout
    assert (folder / "app2" / "backend" / "app.py").is_file() and not list(folder.glob(".app*"))
    # Each run was a one-off job: the killed one ended, nothing of it left to run.
    jobs = json.loads(thesis("batch", "list", "--all", "--json", **env).stdout)
    assert [(job["name"], job["status"]) for job in jobs] == [
        ("generate acme_coder", "failed"), ("generate acme_coder", "failed")]  # fmt: skip
    # Again, streamed, with a cost limit: app 2 is kept, app 4 made, then app 5 not asked for.
    stand.script = [(200, fenced("backend/app.py", BACKEND), "stop"),
                    (200, fenced("frontend/src/App.jsx", FRONTEND, "jsx"), "stop")]  # fmt: skip
    capped = thesis("generate", "acme_coder", "--templates", "2,4,5", "--stream",
                    "--max-cost", "0.001", **env)  # fmt: skip
    assert capped.returncode == 1, capped.stderr
    assert "acme_coder app 2 (todo-list) kept: it exists (--force replaces it)" in capped.stderr
    assert '   @app.get("/api/health")' in capped.stdout  # the answer, as it came
    assert "app 5 (" in capped.stderr and "cost limit of 0.0010 USD was reached" in capped.stderr
    assert (folder / "app4").is_dir() and not (folder / "app5").exists()
    asked = len(stand.requests)
    kept = thesis("generate", "acme_coder", "--templates", "2", **env)
    assert kept.returncode == 0 and "kept" in kept.stderr and len(stand.requests) == asked
    for asked in (("--templates", "1"), ("--templates", "1", "--estimate")):
        assert_one_line_error(thesis("generate", "nobody_x", *asked, **env),
                              "No model nobody_x in the catalogue")  # fmt: skip
    # A user's folder that cannot be read is said, not silently replaced by ours.
    told = thesis("generate", "acme_coder", "--templates", "1", "--estimate",
                  THESIS_TEMPLATES_DIR=str(tmp_path / "missing"), **env)  # fmt: skip
    assert told.returncode == 0 and "THESIS_TEMPLATES_DIR is not a folder" in told.stderr
    with catalogue_db.write() as connection:  # a model known only from its apps' folder
        connection.execute(insert(model_capabilities).values(
            model_id="scanned_only", canonical_slug="scanned_only", provider="scanned",
            display_name="s", model_name="s"))  # fmt: skip
    assert_one_line_error(thesis("generate", "scanned_only", "--templates", "1", **env),
                          "scanned_only has no OpenRouter id")  # fmt: skip
    assert_one_line_error(thesis("generate", "acme_coder", "--templates", "99", **env),
                          "No template '99'")  # fmt: skip


def test_the_cost_is_estimated_from_the_prompts_and_the_models_own_history(catalogue_db):
    from tui.services.generation.estimate import TYPICAL_COMPLETION, estimate_cost
    from tui.services.generation.prompt import SYSTEM, backend_prompt, frontend_prompt

    templates = load_templates().select("1-3")

    def tokens(text: str) -> int:
        return round(len(text) / 3.5)

    prompt = sum(
        tokens(SYSTEM) * 2
        + tokens(backend_prompt(t.template))
        + tokens(frontend_prompt(t.template, []))
        for t in templates
    )
    (fresh,) = estimate_cost(catalogue_db, ["acme_coder"], templates)
    assert (fresh.prompt_tokens, fresh.completion_tokens) == (prompt, 3 * TYPICAL_COMPLETION)
    assert fresh.usd == pytest.approx((prompt * 1.0 + 3 * TYPICAL_COMPLETION * 4.0) / 1e6)
    assert fresh.basis == "typical apps"
    with catalogue_db.write() as connection:  # two apps generated before, 6,000 tokens each
        made = [
            connection.execute(
                insert(generated_applications).values(model_slug="acme_coder", app_number=n)
            )
            for n in (7, 8)
        ]
        ids = [result.inserted_primary_key[0] for result in made]
        connection.execute(insert(model_usage), [
            {"model_name": "acme/coder", "provider": "openrouter", "purpose": "generation",
             "application_id": app, "completion_tokens": tokens}
            for app in ids for tokens in (2000, 4000)
        ])  # fmt: skip
    (known,) = estimate_cost(catalogue_db, ["acme_coder"], templates)
    assert known.completion_tokens == 3 * 6000 and known.basis == "its 2 apps"
    with catalogue_db.write() as connection:
        connection.execute(model_capabilities.update().values(pricing_prompt=None))
    assert estimate_cost(catalogue_db, ["acme_coder"], templates)[0].usd is None


# --- generation as a job of the batch engine -----------------------------------------------


def test_a_generation_job_makes_the_apps_and_a_killed_runner_resumes(stand, catalogue_db):
    env = db_env(catalogue_db)
    settings = load_settings()
    (settings.apps_dir / "acme_coder" / "app3").mkdir(parents=True)  # exists: not replaced
    for args, says in (
        (("--types", "generation,security", "--models", "acme_coder"), "a job of its own"),
        (("--types", "generation"), "Name the models that generate"),
        (("--types", "generation", "--models", "nobody_x"), "No model nobody_x"),
    ):
        assert_one_line_error(thesis("batch", "create", "--name", "g", *args, **env), says)
    created = thesis("batch", "create", "--name", "gen", "--types", "generation",
                     "--models", "acme_coder", "--apps", "1,3", "--json", **env)  # fmt: skip
    assert json.loads(created.stdout)["skipped"] == 1, created.stderr  # app 3 exists
    with held_answer(stand, env, "batch", "run") as runner:
        os.kill(runner.pid, signal.SIGKILL)  # killed while the answer streams
        runner.wait(10)
    assert not (settings.apps_dir / "acme_coder" / "app1").exists()
    stand.script = [
        (200, fenced("backend/app.py", BACKEND), "stop"),
        (200, fenced("frontend/src/App.jsx", FRONTEND, "jsx"), "stop"),
    ]
    again = thesis("batch", "run", **env)
    assert again.returncode == 0, again.stderr
    assert (settings.apps_dir / "acme_coder" / "app1" / "backend/app.py").is_file()
    assert list((settings.apps_dir / "acme_coder" / "app3").iterdir()) == []  # left alone
    t = analysis_tasks.c
    with catalogue_db.read() as connection:
        rows = connection.execute(
            select(t.status, t.summary).where(t.task_type == "generation").order_by(t.id)
        ).all()
    # The killed attempt ended interrupted; the next one completed.
    assert [row.status for row in rows] == ["failed", "completed"]
    assert rows[1].summary["template"] == "login-registration"
    assert rows[1].summary["calls"] == 2 and rows[1].summary["attempts"] == 2
    shown = thesis("batch", "show", "1", **env)
    assert "1 completed (0 reused), 0 failed, 1 skipped" in shown.stdout, shown.stdout
    # What it spent: the two calls of the attempt that made the app and the call the killed
    # attempt had finished (it was paid for too), as `thesis report usage --job` says.
    assert "spent 0.0270 USD on 3 LLM calls" in shown.stdout
    by_job = json.loads(thesis("report", "usage", "--job", "1", "--format", "json", **env).stdout)
    assert by_job["rows"][-1] == {
        "model": "total",
        "calls": 3,
        "prompt_tokens": 3000,
        "completion_tokens": 6000,
        "total_tokens": 9000,
        "usd": 0.027,
    }


def test_a_job_claims_no_more_generation_once_its_cost_limit_is_reached(
    stand, catalogue_db, monkeypatch
):
    """One LLM slot: app 1 is generated (0.018 USD), then the limit of 0.001 USD skips app 2."""
    monkeypatch.setenv("THESIS_BATCH_LLM", "1")
    env = db_env(catalogue_db)
    job = ("--name", "capped", "--types", "generation", "--models", "acme_coder", "--apps", "1,2")
    created = thesis("batch", "create", *job, "--max-cost", "0.001", **env)
    assert created.returncode == 0, created.stderr
    stand.script = [(200, fenced("backend/app.py", BACKEND), "stop"),
                    (200, fenced("frontend/src/App.jsx", FRONTEND, "jsx"), "stop")]  # fmt: skip
    ran = thesis("batch", "run", **env)
    assert ran.returncode == 0, ran.stderr
    apps = load_settings().apps_dir / "acme_coder"
    assert (apps / "app1" / "backend" / "app.py").is_file() and not (apps / "app2").exists()
    shown = thesis("batch", "show", "1", **env).stdout
    assert "1 completed (0 reused), 0 failed, 1 skipped" in shown, shown
    assert "cost limit of 0.0010 USD was reached (0.0180 spent)" in shown
    assert len(stand.requests) == 2
    refused = thesis("batch", "create", *job, "--max-cost", "-1", **env)  # click: a usage error
    assert refused.returncode == 2 and "--max-cost" in refused.stderr
    for command in (("batch", "create", *job), ("generate", "acme_coder", "--templates", "1")):
        assert_one_line_error(thesis(*command, "--max-cost", "nan", **env),
                              "The cost limit is a number of USD above 0")  # fmt: skip


async def test_g_on_the_applications_screen_shows_the_cost_and_generates_as_a_job(
    stand, catalogue_db
):
    from test_app import make_app, settle, until
    from textual.widgets import Input, SelectionList, Static

    from tui.screens.generate_form import GenerateFormScreen

    with catalogue_db.write() as connection:  # known only from its apps: not offered
        connection.execute(insert(model_capabilities).values(
            model_id="scanned_only", canonical_slug="scanned_only", provider="scanned",
            display_name="s", model_name="s"))  # fmt: skip
    stand.script = [(200, fenced("backend/app.py", BACKEND), "stop"),
                    (200, fenced("frontend/src/App.jsx", FRONTEND, "jsx"), "stop")]  # fmt: skip
    app = make_app(catalogue_db, start="applications")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, GenerateFormScreen), "the form")
        form = app.screen
        models = form.query_one("#models", SelectionList)
        await until(pilot, lambda: models.option_count == 1, "the models")
        assert models.get_option_at_index(0).value == "acme_coder"
        form.query_one("#templates", Input).value = "nope"
        await until(pilot, lambda: "No template 'nope'" in str(
            form.query_one("#form-error").render()), "refused")  # fmt: skip
        form.query_one("#templates", Input).value = "todo-list"
        models.focus()
        await pilot.press("space")  # ticks the highlighted model
        estimate = form.query_one("#generate-estimate", Static)
        await until(pilot, lambda: "1 apps, about" in str(estimate.render()), "the estimate")
        assert "USD" in str(estimate.render())
        limit = form.query_one("#max-cost", Input)
        for typed in ("lots", "-1", "inf", "nan"):
            limit.value = typed
            await until(pilot, lambda: "cost limit" in str(
                form.query_one("#form-error").render()).lower(), f"{typed} refused")  # fmt: skip
        limit.value = "$0.50"
        await until(pilot, lambda: "stops asking at 0.50 USD" in str(estimate.render()), "limit")
        await pilot.press("ctrl+s")
        t = analysis_tasks.c

        def generated() -> bool:
            with catalogue_db.read() as connection:
                status = connection.scalar(select(t.status).where(t.task_type == "generation"))
            return status == "completed"

        await until(pilot, generated, "the generation completed", 60)
    with catalogue_db.read() as connection:
        assert connection.scalar(select(batch_jobs.c.config))["max_cost"] == 0.5
    folder = load_settings().apps_dir / "acme_coder" / "app2"
    assert (folder / "frontend/src/App.jsx").read_text() == FRONTEND


def test_generate_form_at_80x24(sqlite_db, snap_compare):
    from test_app import make_app
    from test_snapshots import press_then_settle

    app = make_app(add_coder(sqlite_db), start="applications")
    assert snap_compare(app, terminal_size=(80, 24), run_before=press_then_settle("g"))


def test_a_cancelled_generation_job_writes_nothing(stand, catalogue_db):
    env = db_env(catalogue_db)
    thesis("batch", "create", "--name", "g", "--types", "generation", "--models", "acme_coder",
           "--apps", "2", **env)  # fmt: skip
    with held_answer(stand, env, "batch", "run") as runner:
        cancelled = thesis("batch", "cancel", "1", **env)
        assert cancelled.returncode == 0, cancelled.stderr
        t = analysis_tasks.c
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until the runner has honoured the cancel
            with catalogue_db.read() as connection:
                status = connection.scalar(select(t.status).where(t.task_type == "generation"))
            if status == "cancelled":
                break
            time.sleep(0.05)
        assert status == "cancelled"
    runner.wait(60)  # the rest of the answer came after the cancel: it must not be written
    assert not (load_settings().apps_dir / "acme_coder" / "app2").exists()
    shown = thesis("batch", "show", "1", **env).stdout
    assert "cancelled" in shown and "1 completed" not in shown, shown
