"""Generated hostile input over every input class: app folder trees, compose files, model
lists, results files, settings values and CLI arguments.

Each case must end in a result or one clear ThesisError (for the CLI: exit 0, or exit 1 with
one line, or click's usage error with exit 2) — never another exception, never a hang (each
case runs under an alarm), and a command that fails leaves what is stored as it was. The
services are called in-process to keep the suite fast; the CLI's error path also runs in a
few real subprocesses. Over 1,000 cases a run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tui.cli import cli
from tui.config import load_settings
from tui.db.models import GeneratedApplication, ModelCapability
from tui.errors import ThesisError
from tui.services.analysis.results import read_results
from tui.services.catalog import sync_models
from tui.services.compose import load_compose
from tui.services.scanner import scan_apps

CASE_SECONDS = 10
"""The alarm: a case still running after this long is a hang."""


SCALE = max(1, int(os.environ.get("THESIS_FUZZ_SCALE", "1") or 1))
"""THESIS_FUZZ_SCALE=10 runs ten times the cases (a longer hunt than CI's)."""


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,  # the alarm bounds each case; a slow machine must not fail a deadline
        database=None,  # no example database in the test's folder
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


@contextmanager
def alarm(seconds: int = CASE_SECONDS) -> Iterator[None]:
    def hung(*_: Any) -> None:
        raise TimeoutError(f"a case ran longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def one_line_or_result(call: Callable[[], Any]) -> Any:
    """The call's result, or its ThesisError's message, which must be one line."""
    with alarm():
        try:
            return call()
        except ThesisError as exc:
            assert "\n" not in exc.msg, exc.msg
            assert exc.msg.strip()
            return exc


# --- values --------------------------------------------------------------------------------

nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", "..", "/", "/etc/shadow", "../../x", "\x00", "\x1b[31m", "app1\n", "~nobody/x",
         "1e999999999", "NaN", "-1", "99999999999999999999", "²", "${THESIS_OPENROUTER_API_KEY}",
         "http://[::1", "\udcff", "a" * 300]
    ),
)  # fmt: skip
json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), nasty_text
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(nasty_text, inner, max_size=4)
    ),
    max_leaves=20,
)

YAML_PIECES = [
    "services:\n", "  web:\n", "    build: .\n", "    build: /etc\n", "    image: x\n",
    "    ports: 5\n", "    ports: ['5000:5000']\n", "    env_file: /etc/shadow\n",
    "    depends_on: [web]\n", "    depends_on: [db]\n", "  db: {image: y}\n",
    "a: &a [x, x, x, x]\n", "b: &b [*a, *a, *a, *a]\n", "c: [*b, *b, *b, *b, *b]\n",
    "x: !!binary aGVsbG8=\n", "y: !!python/object:os.system {}\n", "z: [[[[[[[[\n",
    "    environment: {K: '${THESIS_OPENROUTER_API_KEY}'}\n", "    command: [\"sh\"]\n",
    "\t bad indent\n", "- list at top\n", "? [complex, key]\n: v\n", "&s {self: *s}\n",
]  # fmt: skip
compose_text = st.one_of(
    st.lists(st.sampled_from(YAML_PIECES), max_size=12).map("".join),
    json_value.map(lambda v: yaml.safe_dump({"services": v}, allow_unicode=True)),
    st.integers(1, 3000).map(lambda n: "x: " + "[" * n + "]" * n + "\n"),
    st.text(max_size=200),
)


def name_part() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["app1", "app2", "app30", "app31", "app01", "app1\n", "backend",
                         "app\x1b[2J", "x" * 200, ".hidden", "node_modules", "a b"]),
        st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=["Cs"]),
                min_size=1, max_size=12),
    )  # fmt: skip


# --- app folders and compose files ---------------------------------------------------------


@fuzz(300)
@given(compose=compose_text, dotenv=st.binary(max_size=200))
def test_compose_files_are_read_or_refused_in_one_line(compose: str, dotenv: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = Path(folder)
        (app / "docker-compose.yml").write_text(compose, errors="surrogateescape")
        (app / ".env").write_bytes(dotenv)
        one_line_or_result(lambda: load_compose(app))


tree = st.lists(
    st.tuples(
        st.lists(name_part(), min_size=1, max_size=4),
        st.one_of(st.binary(max_size=64), compose_text.map(str.encode)),
    ),
    max_size=8,
)


@fuzz(150)
@given(files=tree, odd_names=st.lists(st.binary(min_size=1, max_size=8), max_size=3))
def test_any_folder_tree_scans_without_a_traceback(sqlite_db, files, odd_names) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for parts, content in files:
            path = root.joinpath("acme", *parts)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            except OSError:
                continue  # a part used as both file and folder, or a name too long
        app = root / "acme" / "app3"
        app.mkdir(parents=True, exist_ok=True)
        for raw in odd_names:  # names that are not UTF-8
            name = raw.replace(b"/", b"_").replace(b"\x00", b"_") or b"_"
            if name in (b".", b".."):
                continue
            try:
                (Path(os.fsencode(app).decode("utf-8", "surrogateescape"))
                 / os.fsdecode(name)).write_bytes(b"x")  # fmt: skip
            except OSError:
                continue
        before = _count(sqlite_db, GeneratedApplication)
        report = one_line_or_result(lambda: scan_apps(sqlite_db, root))
        if isinstance(report, ThesisError):
            assert _count(sqlite_db, GeneratedApplication) == before


def _count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- model lists ---------------------------------------------------------------------------

pricing = st.fixed_dictionaries(
    {"prompt": st.one_of(nasty_text, json_leaf), "completion": st.one_of(nasty_text, json_leaf)}
)
model_entry = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(nasty_text, st.just("acme/model-1"), json_leaf),
        "name": st.one_of(nasty_text, json_leaf),
        "pricing": st.one_of(json_value, pricing),
        "context_length": json_leaf,
        "created": json_leaf,
        "architecture": json_value,
        "top_provider": json_value,
        "supported_parameters": json_value,
        "description": nasty_text,
    },
)


@fuzz(250)
@given(entries=st.lists(model_entry, max_size=4))
def test_model_lists_sync_or_fail_leaving_the_catalogue_as_it_was(sqlite_db, entries) -> None:
    before = _models(sqlite_db)
    outcome = one_line_or_result(lambda: sync_models(sqlite_db, entries))
    if isinstance(outcome, ThesisError):
        assert _models(sqlite_db) == before


def _models(db) -> list[tuple[Any, ...]]:
    with db.session() as session:
        return [
            (m.canonical_slug, m.display_name, m.pricing_prompt, m.additional_capabilities)
            for m in session.scalars(select(ModelCapability).order_by(ModelCapability.id))
        ]


# --- results files -------------------------------------------------------------------------

results_document = st.one_of(
    json_value,
    st.dictionaries(
        st.sampled_from(["findings", "tools", "metrics", "summary", "config", "x"]),
        json_value,
        max_size=5,
    ).map(lambda d: {"schema_version": 1, **d}),
    st.lists(
        st.dictionaries(
            st.sampled_from(["tool", "rule_id", "severity", "message", "file", "line", "code"]),
            json_leaf,
            max_size=7,
        ),
        max_size=4,
    ).map(lambda findings: {"schema_version": 1, "findings": findings}),
)


@fuzz(250)
@given(document=results_document)
def test_results_files_are_read_or_refused_in_one_line(document) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "r.json")
        path.write_text(json.dumps(document), errors="surrogateescape")
        result = one_line_or_result(lambda: read_results(path))
        if isinstance(result, dict):  # what a reader gets can be shown
            from tui.services.analysis.findings import Finding, sort_findings

            sort_findings([Finding.from_dict(item) for item in result.get("findings") or []])


# --- settings ------------------------------------------------------------------------------

VARIABLES = [
    "THESIS_DATA_DIR", "THESIS_DATABASE_URL", "THESIS_APPS_DIR", "THESIS_OPENROUTER_BASE_URL",
    "THESIS_BACKEND_PORTS", "THESIS_FRONTEND_PORTS", "THESIS_MAX_WORKERS",
    "THESIS_CONTAINER_CPU_LIMIT", "THESIS_CONTAINER_MEMORY_LIMIT_MB", "THESIS_REFRESH_INTERVAL",
    "THESIS_TOOL_TIMEOUT", "THESIS_ZAP_URL", "THESIS_DOCKER_TIMEOUT", "THESIS_HEARTBEAT_TIMEOUT",
]  # fmt: skip


@fuzz(200)
@given(variable=st.sampled_from(VARIABLES), value=nasty_text, dotenv=st.binary(max_size=80))
def test_any_setting_value_loads_or_is_one_line_naming_it(
    monkeypatch, variable, value, dotenv
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        monkeypatch.chdir(folder)
        Path(folder, ".env").write_bytes(dotenv)
        if "\x00" in value or "\udcff" in value:
            return  # the environment itself cannot hold these
        monkeypatch.setenv(variable, value)
        outcome = one_line_or_result(load_settings)
        monkeypatch.delenv(variable)
        if isinstance(outcome, ThesisError) and value.strip():
            assert "setting" in outcome.msg.lower()


# --- the command line ----------------------------------------------------------------------

commands = st.one_of(
    st.tuples(st.just("ports"), st.just("allocate"), nasty_text, nasty_text),
    st.tuples(st.just("ports"), st.just("release"), nasty_text, nasty_text),
    st.tuples(st.just("analyses"), st.just("list"), st.just("--limit"), nasty_text),
    st.tuples(st.just("analyses"), st.just("show"), nasty_text),
    st.tuples(st.just("analyze"), nasty_text, nasty_text, st.just("--spawn-rate"), nasty_text),
    st.tuples(st.just("analyze"), nasty_text, st.just("1"), st.just("--type"), nasty_text),
    st.tuples(st.just("containers"), st.just("status"), nasty_text, nasty_text),
    st.tuples(st.just("models"), st.just("sync"), st.just("--from"), nasty_text),
    st.tuples(st.just("apps"), st.just("scan"), nasty_text),
)


@fuzz(150)
@given(args=commands)
def test_any_arguments_end_in_a_result_one_line_or_a_usage_error(tmp_path, args) -> None:
    args = [arg for arg in args if "\x00" not in arg]
    runner = CliRunner()
    with alarm():
        result = runner.invoke(
            cli,
            ["--database-url", f"sqlite:///{tmp_path / 'fuzz.db'}", *args],
            env={"THESIS_DOCKER_TIMEOUT": "0.5", "THESIS_DOCKER_HOST": "unix:///nonexistent"},
        )
    assert result.exit_code in (0, 1, 2), (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args, result.exception)  # fmt: skip
    if result.exit_code == 1:
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("thesis: "), (
            args, result.stderr)  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        ("ports", "allocate", "acme", "\x1b[2J"),
        ("analyses", "show", "../../etc/passwd"),
        ("models", "sync", "--from", "/dev/zero"),
        ("apps", "scan", "/nonexistent/\x1b]0;title\x07"),
    ],
)
def test_the_real_cli_fails_in_one_escaped_line(args) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1 and "\x1b" not in run.stderr and "\x07" not in run.stderr
