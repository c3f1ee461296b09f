"""Hostile settings, arguments, model lists, results files and engines: one clear line and
exit 1 (exit 2 for click's usage errors), never a traceback or a hang, nothing stored
changed."""

from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import assert_one_line_error, point_results, thesis
from sqlalchemy import select

from tui.config import load_settings
from tui.db import open_database
from tui.db.models import AppStatus, ModelCapability
from tui.errors import ValidationError
from tui.services.analyses import get_analysis
from tui.services.analysis.results import write_results
from tui.services.apps import list_applications
from tui.services.catalog import load_models_file, sync_models
from tui.services.container_status import StatusSync
from tui.services.docker_names import container_name, image_tag


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("THESIS_DATA_DIR", "~nouser-thesis/x", "THESIS_DATA_DIR: ~nouser-thesis/x: no such user"),
        ("THESIS_DATABASE_URL", "sqlite:////etc/passwd", "file is not a database"),
        ("THESIS_OPENROUTER_BASE_URL", "http://[::1", "THESIS_OPENROUTER_BASE_URL: must be"),
        ("THESIS_ZAP_URL", "http://127.0.0.1:99999", "THESIS_ZAP_URL: must be"),
        ("THESIS_CONTAINER_CPU_LIMIT", "1e-12", "THESIS_CONTAINER_CPU_LIMIT"),
    ],
)
def test_bad_settings_are_one_line_naming_the_problem(variable, value, needle) -> None:
    assert_one_line_error(thesis("apps", "list", **{variable: value}), needle)


def test_a_settings_file_that_is_not_utf8_is_one_line() -> None:
    Path(".env").write_bytes(b"THESIS_MAX_WORKERS=\xff\xfe\n")
    assert_one_line_error(thesis("apps", "list"), "settings file .env: it is not UTF-8")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("ports", "allocate", "acme", "²"), "App number must be a whole number from 1 to 30"),
        (("ports", "allocate", "acme", "99999999999999999999"), "App number must be"),
    ],
)
def test_bad_app_numbers_are_one_line(args, needle) -> None:
    assert_one_line_error(thesis(*args), needle)


@pytest.mark.parametrize(
    "args",
    [
        ("analyses", "list", "--limit", "99999999999999999999"),
        ("analyze", "acme", "99999999999999999999"),
        ("analyze", "acme", "1", "--spawn-rate", "inf", "--type", "performance"),
    ],
)
def test_out_of_range_options_are_click_usage_errors(args) -> None:
    run = thesis(*args)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "Error: Invalid value" in run.stderr and "Usage: thesis" in run.stderr


def test_a_load_test_option_past_its_range_is_refused_before_anything_is_stored(
    sqlite_db,
) -> None:
    from tui.services.analysis.performance import load_options

    for options in ({"spawn_rate": float("inf")}, {"spawn_rate": float("nan")},
                    {"users": float("inf")}):  # fmt: skip
        with pytest.raises(ValidationError):
            load_options(options)


# --- model lists -------------------------------------------------------------------------


def test_a_model_missing_its_fields_says_so_in_plain_words() -> None:
    from tui.services.schemas import ModelCreate, parse_input

    with pytest.raises(ValidationError) as refused:
        parse_input(ModelCreate, {"slug": "acme_m", "provider": "", "price_prompt": "x"}, "model")
    assert "provider is required" in refused.value.msg
    assert "name is required" in refused.value.msg
    assert "price_prompt must be a number" in refused.value.msg
    assert "Field required" not in refused.value.msg


def entry(**fields) -> dict:
    return {"id": "acme/model-1", "name": "Model 1", "pricing": {"prompt": "0.000001",
            "completion": "0.000002"}, **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"pricing": {"prompt": "1e999999999", "completion": "0"}}, "pricing.prompt is out of"),
        ({"name": "bad\x00name"}, "must not contain control characters"),
        ({"name": "red \x1b[31m"}, "must not contain control characters"),
    ],
)
def test_hostile_model_entries_are_refused_and_nothing_is_written(db, fields, needle) -> None:
    with pytest.raises(ValidationError, match=needle):
        sync_models(db, [entry(**fields)])
    with db.session() as session:
        assert session.scalars(select(ModelCapability)).all() == []


def test_unstorable_numbers_in_a_model_entry_are_kept_as_text(db) -> None:
    sync_models(db, [entry(created=float("inf"), description="nul \x00 here")])
    with db.session() as session:
        (model,) = session.scalars(select(ModelCapability)).all()
    assert model.additional_capabilities["created"] == "inf"
    assert model.additional_capabilities["description"] == "nul \ufffd here"


def test_model_files_that_hang_or_nest_too_deep_are_refused(tmp_path) -> None:
    fifo = tmp_path / "models.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValidationError, match="not a regular file"):
        load_models_file(fifo)
    with pytest.raises(ValidationError, match="not a regular file"):
        load_models_file("/dev/zero")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValidationError, match="nested too deeply"):
        load_models_file(deep)


# --- results files ------------------------------------------------------------------------


BAD_LINE = {"tool": "b", "rule_id": "r", "severity": "high", "message": "m", "line": "12"}


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ({"findings": ["x"]}, "finding 1: a finding is str, not an object"),
        ({"findings": [BAD_LINE]}, "a finding's line is str"),
        ({"tools": {"bandit": "ok"}}, "tools.bandit"),
        ({"metrics": {"requests_per_second": "fast"}}, "metrics.requests_per_second"),
        ({"findings": {}}, "findings"),
    ],
)
def test_results_files_of_the_wrong_shape_are_one_clear_error(
    demo_db, tmp_path, document, needle
) -> None:
    path = tmp_path / "results.json"
    write_results(path, document)
    point_results(demo_db, path)
    detail = get_analysis(demo_db, "sec-0001")
    assert detail.results is None and needle in detail.results_error
    assert detail.findings == []


def test_a_results_path_that_is_a_fifo_or_too_deep_does_not_hang(demo_db, tmp_path) -> None:
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    deep = tmp_path / "deep.json"
    deep.write_text('{"schema_version": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    for path, needle in ((fifo, "not a regular file"), (deep, "nested too deeply")):
        point_results(demo_db, path)
        assert needle in get_analysis(demo_db, "sec-0001").results_error


def test_analyses_show_of_a_misshapen_results_file_is_not_a_traceback(tmp_path) -> None:
    from conftest import seed_demo

    db = open_database(load_settings().resolved_database_url)
    seed_demo(db)
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema_version": 1, "findings": ["x"], "tools": []}))
    point_results(db, path)
    run = thesis("analyses", "show", "sec-0001")
    assert run.returncode == 0 and "Traceback" not in run.stderr
    assert "is corrupt" in run.stdout


def test_analyses_show_prints_escape_sequences_from_app_files_escaped(tmp_path) -> None:
    from conftest import seed_demo

    db = open_database(load_settings().resolved_database_url)
    seed_demo(db)
    path = tmp_path / "r.json"
    finding = {"tool": "bandit", "rule_id": "B1", "severity": "high", "line": 1,
               "file": "x\x1b[2J.py", "message": "title \x1b]0;pwned\x07"}  # fmt: skip
    write_results(path, {"findings": [finding]})
    point_results(db, path)
    run = thesis("analyses", "show", "sec-0001")
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout
    assert "x\\x1b[2J.py:1" in run.stdout


# --- names Docker sees ------------------------------------------------------------------


def test_services_whose_names_clean_to_the_same_never_share_an_image_or_container() -> None:
    assert image_tag("acme", 1, "web!") != image_tag("acme", 1, "web?")
    assert container_name("acme", 1, "web!") != container_name("acme", 1, "web?")
    assert image_tag("acme", 1, "web") == "thesis/acme-app1-web:latest"
    assert container_name("acme", 1, "web") == "thesis-acme-app1-web"


def test_an_engine_that_accepts_but_never_answers_is_unavailable_quickly(tmp_path) -> None:
    path = str(tmp_path / "silent.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # accepted, never answered
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        run = thesis(
            "containers", "status", THESIS_DOCKER_HOST=f"unix://{path}", THESIS_DOCKER_TIMEOUT="1"
        )
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()
    assert_one_line_error(run, "Docker is unavailable", "did not answer within 1s")


class _Engine(BaseHTTPRequestHandler):
    """A stand-in engine on loopback that pings fine and then lists nonsense."""

    listing: tuple[int, bytes] = (200, b"[]")

    def do_GET(self) -> None:
        status, body = (200, b"OK") if self.path == "/_ping" else self.listing
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "body", "needle"),
    [
        (500, b'{"message": "engine exploded\\nsecond line"}', "list containers: engine exploded"),
        (200, b"<html>not json</html>", "list containers: the engine's answer is not JSON"),
        (200, b'{"a": 1}', "list containers: the engine's container list is not a list"),
    ],
)
def test_an_engine_over_tcp_that_answers_nonsense_is_one_line(status, body, needle) -> None:
    thesis("apps", "list")  # the database, made first
    handler = type("Engine", (_Engine,), {"listing": (status, body)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        run = thesis(
            "containers", "status", THESIS_DOCKER_HOST=f"tcp://127.0.0.1:{server.server_port}"
        )
    finally:
        server.shutdown()
        server.server_close()
    assert_one_line_error(run, needle)


def test_an_engine_over_tcp_lists_containers_for_the_status_sync(demo_db) -> None:
    listing = [
        {"Labels": {"thesis.model": "openai_gpt-4o-mini", "thesis.app": "1"}, "State": "running"},
        {"Labels": "not a dict", "State": "running"},
        {"Labels": {"thesis.model": "openai_gpt-4o-mini", "thesis.app": "x"}, "State": "dead"},
        {"Labels": {"thesis.model": "openai_gpt-4o-mini", "thesis.app": "²"}, "State": "dead"},
        {"Labels": {"thesis.model": 7, "thesis.app": 2}, "State": "dead"},
        {"State": "dead"},
        "not an object",
    ]
    handler = type("Engine", (_Engine,), {"listing": (200, json.dumps(listing).encode())})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = load_settings(docker_host=f"tcp://127.0.0.1:{server.server_port}")
        report = StatusSync(demo_db, settings).sync()
    finally:
        server.shutdown()
        server.server_close()
    assert (report.checked, report.containers) == (4, 1)
    statuses = {(a.model_slug, a.app_number): a.status for a in list_applications(demo_db).rows}
    assert statuses[("openai_gpt-4o-mini", 1)] == AppStatus.RUNNING
    assert statuses[("anthropic_claude-3.5-sonnet", 1)] == AppStatus.NOT_CREATED
