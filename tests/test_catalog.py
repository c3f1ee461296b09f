"""The model catalogue: syncing from OpenRouter (a real httpx client against a loopback
stand-in server), importing a file, adding / editing / deleting by hand, and the CLI.

The stand-in serves tests/fixtures/openrouter_models.json, 63 entries in the API's exact
shape (several providers, free models and `:free` variants, vision, tools, the auto router
with its -1 prices), or whatever failure a test scripts for it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import assert_one_line_error, free_port, thesis

from tests.conftest import StandInHandler, loopback_server
from tui.config import Secret, load_settings
from tui.db import Database
from tui.db.models import GeneratedApplication
from tui.errors import NotFoundError, RemoteServiceError, ValidationError
from tui.services.catalog import (
    SyncReport,
    count_apps,
    create_model,
    delete_model,
    get_model,
    load_models_file,
    sync_models,
    update_model,
)
from tui.services.model_listing import list_models
from tui.services.openrouter import OpenRouterClient, fetch_openrouter_models, normalise_slug
from tui.services.schemas import ModelCreate, ModelUpdate, parse_input

FIXTURE = Path(__file__).parent / "fixtures" / "openrouter_models.json"
FIXTURE_BYTES = FIXTURE.read_bytes()
ENTRIES: list[dict[str, Any]] = json.loads(FIXTURE_BYTES)["data"]
LISTED = len(ENTRIES)
API_KEY = "sk-or-v1-test-0123456789abcdef-DO-NOT-LEAK"
T0 = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


# --- a stand-in OpenRouter on 127.0.0.1 ---------------------------------------------------


@dataclass
class Reply:
    """One scripted answer. `body` may be a function of the request headers (to echo them)."""

    status: int = 200
    body: bytes | Callable[[Any], bytes] = FIXTURE_BYTES
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay: float = 0.0


def json_reply(status: int, payload: Any, **headers: str) -> Reply:
    return Reply(
        status, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers}
    )


class StandInOpenRouter:
    """Answers GET /api/v1/models from a script; the last reply repeats forever."""

    def __init__(self) -> None:
        self.replies: list[Reply] = [Reply()]
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.base_url = ""
        self._lock = threading.Lock()

    def answer(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def next_reply(self, path: str, headers: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append((path, headers))
            if path != "/api/v1/models":
                return json_reply(404, {"error": {"message": "Not Found", "code": 404}})
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class _Handler(StandInHandler):
    def do_GET(self) -> None:
        reply = self.server.standin.next_reply(self.path, dict(self.headers))
        if reply.delay:
            time.sleep(reply.delay)  # the only sleep: a server slower than the client's timeout
        body = reply.body(self.headers) if callable(reply.body) else reply.body
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # timeout test
            self.reply(reply.status, body, reply.headers)


@pytest.fixture
def openrouter() -> Iterator[StandInOpenRouter]:
    standin = StandInOpenRouter()
    with loopback_server(_Handler, standin) as url:
        standin.base_url = f"{url}/api/v1"
        yield standin


def client_for(standin: StandInOpenRouter, **options: Any) -> OpenRouterClient:
    defaults: dict[str, Any] = {"timeout": 5.0, "max_attempts": 3, "backoff_base": 0.01}
    return OpenRouterClient(standin.base_url, Secret(API_KEY), **(defaults | options))


def fetch_error(standin: StandInOpenRouter, **options: Any) -> str:
    with client_for(standin, **options) as client, pytest.raises(RemoteServiceError) as caught:
        client.list_models()
    message = caught.value.msg
    assert "\n" not in message
    assert API_KEY not in message
    return message


def models_by_slug(db: Database) -> dict[str, Any]:
    return {row.slug: row for row in list_models(db, limit=None).rows}


# --- syncing from the API ----------------------------------------------------------------


def test_sync_from_openrouter_adds_every_listed_model_mapped_as_the_catalogue_stores_it(
    db, openrouter
) -> None:
    with client_for(openrouter) as client:
        entries = fetch_openrouter_models(load_settings(), client=client)
    report = sync_models(db, entries, now=T0)

    assert report == SyncReport(added=LISTED, updated=0, unchanged=0, marked_unavailable=0)
    assert (
        report.summary()
        == f"Synced {LISTED} models: {LISTED} added, 0 updated, 0 unchanged, 0 no longer listed"
    )
    assert len(models_by_slug(db)) == LISTED
    sonnet = get_model(db, "anthropic_claude-3.5-sonnet")
    assert (sonnet.model_id, sonnet.provider, sonnet.name, sonnet.model_name) == (
        "anthropic_claude-3.5-sonnet",
        "anthropic",
        "Claude 3.5 Sonnet",
        "claude-3.5-sonnet",
    )
    assert sonnet.model_id_openrouter == "anthropic/claude-3.5-sonnet"
    assert (sonnet.price_prompt, sonnet.price_completion) == (3.0, 15.0)
    assert (sonnet.context_length, sonnet.max_output_tokens) == (200_000, 8192)
    assert (sonnet.vision, sonnet.function_calling, sonnet.json_mode, sonnet.streaming) == (
        True,
        True,
        False,
        True,
    )
    assert (sonnet.is_free, sonnet.is_available, sonnet.last_synced_at) == (False, True, T0)
    extra = sonnet.additional_capabilities or {}
    assert extra["canonical_slug"] == "anthropic/claude-3.5-sonnet-20241022"
    assert extra["architecture"]["tokenizer"] == "Claude"
    assert extra["top_provider"]["is_moderated"] is True
    assert "tools" in extra["supported_parameters"]
    assert extra["created"] == 1729555200 and extra["description"].startswith("New Claude")

    mini = get_model(db, "openai_gpt-4o-mini")
    assert (mini.price_prompt, mini.price_completion, mini.json_mode) == (0.15, 0.6, True)
    free = get_model(db, "meta-llama_llama-3.1-8b-instruct_free")
    paid = get_model(db, "meta-llama_llama-3.1-8b-instruct")
    assert (free.is_free, free.price_prompt, free.name) == (
        True,
        0.0,
        "Llama 3.1 8B Instruct (free)",
    )
    assert (paid.is_free, paid.price_prompt) == (False, 0.02)
    assert get_model(db, "anthropic_claude-3.5-sonnet_beta").model_id_openrouter.endswith(":beta")
    router = get_model(db, "openrouter_auto")  # OpenRouter prices it per request: -1
    assert (router.price_prompt, router.price_completion, router.is_free) == (None, None, False)
    assert get_model(db, "mistralai_mistral-large").name == "Mistral Large"


def test_the_api_key_is_sent_as_a_bearer_token_only_when_one_is_set(
    openrouter, monkeypatch
) -> None:
    monkeypatch.setenv("THESIS_OPENROUTER_BASE_URL", openrouter.base_url)
    assert len(fetch_openrouter_models(load_settings())) == LISTED
    monkeypatch.setenv("THESIS_OPENROUTER_API_KEY", API_KEY)
    assert len(fetch_openrouter_models(load_settings())) == LISTED

    (path, anonymous), (_, keyed) = openrouter.requests
    assert path == "/api/v1/models"
    assert "Authorization" not in anonymous
    assert keyed["Authorization"] == f"Bearer {API_KEY}"


def test_second_sync_updates_prices_without_duplicating_models(db) -> None:
    sync_models(db, ENTRIES, now=T0)
    changed = copy.deepcopy(ENTRIES)
    by_id = {entry["id"]: entry for entry in changed}
    by_id["openai/gpt-4o"]["pricing"] |= {"prompt": "0.000002", "completion": "0.000008"}
    by_id["deepseek/deepseek-chat"]["top_provider"]["max_completion_tokens"] = 8192

    report = sync_models(db, changed, now=T0 + timedelta(days=1))

    assert report == SyncReport(added=0, updated=2, unchanged=LISTED - 2, marked_unavailable=0)
    assert len(models_by_slug(db)) == LISTED
    gpt4o = get_model(db, "openai_gpt-4o")
    assert (gpt4o.price_prompt, gpt4o.price_completion) == (2.0, 8.0)
    assert gpt4o.last_synced_at == T0 + timedelta(days=1)
    assert get_model(db, "deepseek_deepseek-chat").max_output_tokens == 8192


def test_a_sync_that_changes_nothing_stamps_last_synced_at_but_not_updated_at(db) -> None:
    sync_models(db, ENTRIES, now=T0)
    before = get_model(db, "qwen_qwq-32b")

    report = sync_models(db, ENTRIES, now=T0 + timedelta(hours=1))

    after = get_model(db, "qwen_qwq-32b")
    assert report == SyncReport(added=0, updated=0, unchanged=LISTED, marked_unavailable=0)
    assert after.last_synced_at == T0 + timedelta(hours=1)
    assert after.updated_at == before.updated_at


def test_models_no_longer_listed_are_kept_but_marked_unavailable(db) -> None:
    sync_models(db, ENTRIES, now=T0)
    by_hand = create_model(db, {"slug": "local_my-model", "provider": "local", "name": "Mine"})
    with db.session() as session:
        session.add(GeneratedApplication(model_slug="openai_gpt-4o", app_number=1))
    gone = {"openai/gpt-4o", "x-ai/grok-2-1212"}

    report = sync_models(db, [e for e in ENTRIES if e["id"] not in gone])

    assert report == SyncReport(added=0, updated=0, unchanged=LISTED - 2, marked_unavailable=2)
    models = models_by_slug(db)
    assert len(models) == LISTED + 1
    assert not models["openai_gpt-4o"].is_available and not models["x-ai_grok-2-1212"].is_available
    assert models["openai_gpt-4o"].app_count == 1  # its apps are kept with it
    assert models[by_hand.slug].is_available  # never listed, so never "no longer listed"

    back = sync_models(db, ENTRIES)
    assert back == SyncReport(added=0, updated=2, unchanged=LISTED - 2, marked_unavailable=0)
    assert get_model(db, "openai_gpt-4o").is_available


@pytest.mark.parametrize(
    ("breakage", "needle"),
    [
        (lambda e: e.pop("id"), "Model entry #5 has no id"),
        (
            lambda e: e["pricing"].update(prompt="three dollars"),
            "Model entry #5 (anthropic/claude-3.7-sonnet): pricing.prompt is not a number",
        ),
        (
            lambda e: e.update(context_length="lots"),
            "Model entry #5 (anthropic/claude-3.7-sonnet): context_length is not a whole number",
        ),
    ],
    ids=["missing-id", "non-numeric-price", "non-numeric-context"],
)
def test_a_malformed_entry_fails_the_whole_sync_naming_it_and_changes_nothing(
    db, breakage, needle
) -> None:
    sync_models(db, ENTRIES, now=T0)
    entries = copy.deepcopy(ENTRIES)
    for entry in entries:  # every price doubles, so a half-written sync would show
        entry["pricing"]["prompt"] = str(float(entry["pricing"]["prompt"]) * 2)
    breakage(entries[4])

    with pytest.raises(ValidationError) as caught:
        sync_models(db, entries, now=T0 + timedelta(days=1))

    assert needle in caught.value.msg and "nothing was changed" in caught.value.msg
    assert get_model(db, "anthropic_claude-3.5-sonnet").price_prompt == 3.0
    assert get_model(db, "openai_gpt-4o").last_synced_at == T0


def test_variant_suffixes_and_aliases_get_distinct_slugs_and_clashes_are_refused(
    sqlite_db,
) -> None:
    assert normalise_slug("anthropic/claude-3.5-sonnet") == "anthropic_claude-3.5-sonnet"
    assert normalise_slug("meta-llama/llama-3.1-8b-instruct:free") == (
        "meta-llama_llama-3.1-8b-instruct_free"
    )
    assert normalise_slug("anthropic/claude-3.5-sonnet:beta") == "anthropic_claude-3.5-sonnet_beta"
    assert normalise_slug("~anthropic/claude-sonnet-latest") == (
        "anthropic_claude-sonnet-latest_alias"
    )
    plain, variant = copy.deepcopy(ENTRIES[0]), copy.deepcopy(ENTRIES[0])
    plain["id"], variant["id"] = "acme/model_free", "acme/model:free"

    with pytest.raises(ValidationError) as caught:
        sync_models(sqlite_db, [plain, variant])

    assert "#1 (acme/model_free) and #2 (acme/model:free)" in caught.value.msg
    assert "acme_model_free" in caught.value.msg
    assert list_models(sqlite_db).total == 0


def test_an_empty_model_list_is_refused_instead_of_marking_everything_unavailable(
    sqlite_db,
) -> None:
    sync_models(sqlite_db, ENTRIES)
    with pytest.raises(ValidationError, match="the model list is empty"):
        sync_models(sqlite_db, [])
    assert all(row.is_available for row in list_models(sqlite_db, limit=None).rows)


# --- OpenRouter failures -----------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_api_key_is_reported_without_showing_it(openrouter, status) -> None:
    openrouter.answer(json_reply(status, {"error": {"message": f"Bad key {API_KEY}"}}))
    message = fetch_error(openrouter)
    assert message == (f"OpenRouter refused the API key ({status}) — set THESIS_OPENROUTER_API_KEY")
    assert len(openrouter.requests) == 1  # a refused key is not retried


def test_a_missing_api_key_says_how_to_set_one(openrouter) -> None:
    openrouter.answer(json_reply(401, {"error": {"message": "No auth credentials found"}}))
    with (
        OpenRouterClient(openrouter.base_url, None) as client,
        pytest.raises(
            RemoteServiceError, match=r"wants an API key \(401\) — set THESIS_OPENROUTER_API_KEY"
        ),
    ):
        client.list_models()


def test_rate_limiting_is_retried_and_the_sync_succeeds(openrouter) -> None:
    openrouter.answer(json_reply(429, {"error": {"message": "Rate limit exceeded"}}), Reply())
    with client_for(openrouter) as client:
        assert len(client.list_models()) == LISTED
    assert len(openrouter.requests) == 2


def test_retry_after_is_honoured_but_capped_and_backoff_doubles(openrouter) -> None:
    openrouter.answer(
        json_reply(429, {}, **{"Retry-After": "2"}),
        json_reply(503, {}, **{"Retry-After": "3600"}),
        json_reply(502, {}),
        Reply(),
    )
    delays: list[float] = []
    client = client_for(openrouter, max_attempts=4, backoff_base=0.25, sleep=delays.append)
    with client:
        assert len(client.list_models()) == LISTED
    assert delays == [2.0, 5.0, 1.0]  # asked 2 s; asked an hour, capped at 5 s; 0.25 * 2**2


def test_a_server_failing_every_time_gives_up_after_bounded_attempts(openrouter) -> None:
    def echo_authorization(headers: Any) -> bytes:  # a broken proxy leaking the header back
        return json.dumps({"error": {"message": f"upstream: {headers['Authorization']}"}}).encode()

    openrouter.answer(Reply(500, echo_authorization))
    message = fetch_error(openrouter)
    assert message.startswith(f"OpenRouter at {openrouter.base_url} kept failing (500: ")
    assert "Bearer ***" in message
    assert message.endswith("after 3 attempts — try again later")
    assert len(openrouter.requests) == 3


def test_a_server_slower_than_the_timeout_fails_with_a_clear_message(openrouter) -> None:
    openrouter.answer(Reply(delay=1.5))
    started = time.monotonic()
    message = fetch_error(openrouter, timeout=0.3)
    assert message == f"OpenRouter at {openrouter.base_url} did not answer within 0.3 s"
    assert time.monotonic() - started < 1.2  # not retried


def test_models_sync_offline_suggests_importing_a_saved_list() -> None:
    url = f"http://127.0.0.1:{free_port()}/api/v1"
    run = thesis("models", "sync", THESIS_OPENROUTER_BASE_URL=url)
    line = assert_one_line_error(run, f"Cannot reach OpenRouter at {url}")
    assert line.endswith("import it with `thesis models sync --from FILE`")


def test_an_unreachable_server_fails_with_a_clear_message() -> None:
    url = f"http://127.0.0.1:{free_port()}/api/v1"
    with OpenRouterClient(url, API_KEY) as client, pytest.raises(RemoteServiceError) as caught:
        client.list_models()
    assert caught.value.msg.startswith(f"Cannot reach OpenRouter at {url}: ")
    assert API_KEY not in caught.value.msg


def test_a_body_that_is_not_json_fails_with_a_clear_message(openrouter) -> None:
    openrouter.answer(Reply(200, b"<html>captive portal</html>", {"Content-Type": "text/html"}))
    assert fetch_error(openrouter) == (
        f"OpenRouter at {openrouter.base_url} sent a model list that is not JSON (text/html) "
        "— check THESIS_OPENROUTER_BASE_URL"
    )


@pytest.mark.parametrize(
    ("payload", "found"),
    [
        ({"models": []}, 'an object without a "data" list'),
        ({"data": {"id": "openai/gpt-4o"}}, 'an object without a "data" list'),
        ("hello", "a JSON string"),
        (None, "a JSON null"),
    ],
    ids=["no-data", "data-not-a-list", "string", "null"],
)
def test_json_of_the_wrong_shape_fails_with_a_clear_message(openrouter, payload, found) -> None:
    openrouter.answer(json_reply(200, payload))
    assert fetch_error(openrouter) == (
        f"OpenRouter at {openrouter.base_url} sent {found}, not a model list "
        '(an object with a "data" list of models)'
    )


def test_a_wrong_base_url_is_reported_with_the_status(openrouter) -> None:
    client = OpenRouterClient(openrouter.base_url.removesuffix("/api/v1"), API_KEY)
    with client, pytest.raises(RemoteServiceError) as caught:
        client.list_models()
    assert "answered 404: Not Found to GET /models — check THESIS_OPENROUTER_BASE_URL" in (
        caught.value.msg
    )


# --- importing a file ----------------------------------------------------------------------


def test_import_from_a_file_reads_the_same_shape_as_the_api(db, openrouter, tmp_path) -> None:
    with client_for(openrouter) as client:
        assert load_models_file(FIXTURE) == client.list_models()
    bare = tmp_path / "bare.json"  # a bare array of entries is accepted too
    bare.write_text(json.dumps(ENTRIES[:3]))

    assert sync_models(db, load_models_file(bare)).added == 3
    assert sync_models(db, load_models_file(FIXTURE)).added == LISTED - 3


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "Cannot read models file {path}: No such file or directory"),
        ("dir", "Cannot read models file {path}: Is a directory"),
        (b"{not json", "Models file {path} is not JSON: Expecting property name"),
        (b"\xff\xfe\x00garbage", "Models file {path} is not JSON"),
        (b'{"models": []}', 'Models file {path} holds an object without a "data" list'),
        (b"42", "Models file {path} holds a JSON number, not a model list"),
    ],
    ids=["missing", "directory", "not-json", "not-text", "wrong-shape", "number"],
)
def test_models_file_problems_are_one_line_errors(tmp_path, content, needle) -> None:
    path = tmp_path / "models.json"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ValidationError) as caught:
        load_models_file(path)
    assert needle.format(path=path) in caught.value.msg
    assert "\n" not in caught.value.msg


# --- schemas ------------------------------------------------------------------------------


def model_input(**changes: Any) -> dict[str, Any]:
    return {"slug": "acme_model-1", "provider": "acme", "name": "Model 1"} | changes


@pytest.mark.parametrize(
    ("slug", "problem"),
    [
        ("a/b", "must not contain '/'"),
        ("..", "must not contain '..'"),
        ("acme_model..v2", "must not contain '..'"),
        ("-acme", "may contain only letters, digits"),
        ("acme model", "may contain only letters, digits"),
        ("acme:free", "may contain only letters, digits"),
        ("a" * 201, "at most 200 characters"),
        ("", "must not be empty"),
    ],
)
def test_slugs_with_a_slash_dotdot_or_unsafe_characters_are_refused(slug, problem) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_input(ModelCreate, model_input(slug=slug), "model")
    assert caught.value.msg.startswith("Invalid model: slug: ")
    assert problem in caught.value.msg


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price_prompt": -0.01}, "price_prompt"),
        ({"price_completion": "-3"}, "price_completion"),
        ({"context_length": 0}, "context_length"),
        ({"max_output_tokens": -1}, "max_output_tokens"),
        ({"provider": " "}, "provider"),
        ({"name": None}, "name"),
        ({"model_id_openrouter": "gpt-4o"}, "model_id_openrouter"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_out_of_range_or_missing_fields_are_refused_naming_the_field(changes, field) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_input(ModelCreate, model_input(**changes), "model")
    assert re.match(rf"Invalid model: {field}(: | is required)", caught.value.msg)
    assert "\n" not in caught.value.msg


def test_a_valid_model_derives_its_model_name_and_free_flag() -> None:
    model = parse_input(ModelCreate, model_input(price_prompt="0", price_completion=0), "model")
    assert (model.model_name, model.is_free, model.streaming) == ("model-1", True, False)
    paid = parse_input(ModelCreate, model_input(price_prompt=1.5, price_completion=0), "model")
    assert paid.is_free is False


# --- adding, editing and deleting by hand -------------------------------------------------


def test_a_model_added_by_hand_can_be_read_edited_and_deleted(db) -> None:
    created = create_model(
        db, ModelCreate(slug="acme_coder-7b", provider="acme", name="Coder 7B", price_prompt=0.5)
    )
    assert (created.model_id, created.model_name, created.app_count) == (
        "acme_coder-7b",
        "coder-7b",
        0,
    )

    updated = update_model(db, "acme_coder-7b", ModelUpdate(price_prompt=0.25, vision=True))

    assert (updated.price_prompt, updated.vision, updated.name) == (0.25, True, "Coder 7B")
    assert get_model(db, "acme_coder-7b") == updated
    assert delete_model(db, "acme_coder-7b") == 0
    with pytest.raises(NotFoundError, match="No model with slug acme_coder-7b"):
        get_model(db, "acme_coder-7b")


def test_adding_a_model_whose_slug_exists_is_refused(db) -> None:
    create_model(db, model_input())
    with pytest.raises(ValidationError) as caught:
        create_model(db, model_input(name="Another"))
    assert caught.value.msg == "A model with slug acme_model-1 already exists"
    assert get_model(db, "acme_model-1").name == "Model 1"


def test_deleting_a_model_deletes_its_apps_and_reports_how_many(db) -> None:
    create_model(db, model_input())
    create_model(db, model_input(slug="acme_other"))
    with db.session() as session:
        session.add_all(
            [GeneratedApplication(model_slug="acme_model-1", app_number=n) for n in (1, 2, 3)]
            + [GeneratedApplication(model_slug="acme_other", app_number=1)]
        )
    assert count_apps(db, "acme_model-1") == 3

    assert delete_model(db, "acme_model-1") == 3

    assert [row.slug for row in list_models(db).rows] == ["acme_other"]
    assert count_apps(db, "acme_other") == 1


def test_editing_or_deleting_an_unknown_model_says_it_does_not_exist(sqlite_db) -> None:
    for action in (
        lambda: update_model(sqlite_db, "nobody_here", {"name": "x"}),
        lambda: delete_model(sqlite_db, "nobody_here"),
        lambda: count_apps(sqlite_db, "nobody_here"),
    ):
        with pytest.raises(NotFoundError) as caught:
            action()
        assert caught.value.msg == "No model with slug nobody_here"


def test_an_update_may_leave_fields_out_but_not_clear_required_ones(sqlite_db) -> None:
    create_model(sqlite_db, model_input(context_length=8192))
    with pytest.raises(ValidationError) as caught:
        update_model(sqlite_db, "acme_model-1", {"provider": None})
    assert caught.value.msg == "Invalid model: provider: cannot be empty"
    cleared = update_model(sqlite_db, "acme_model-1", {"context_length": None})
    assert (cleared.context_length, cleared.provider) == (None, "acme")


# --- the command line ---------------------------------------------------------------------


# Stable keys of `thesis models list --json`, in this order.
JSON_KEYS = [
    "id",
    "slug",
    "provider",
    "name",
    "parameters_billions",
    "context_length",
    "price_prompt",
    "price_completion",
    "vision",
    "function_calling",
    "json_mode",
    "streaming",
    "is_free",
    "is_available",
    "app_count",
    "model_id_openrouter",
    "max_output_tokens",
    "last_synced_at",
]


def test_cli_syncs_from_a_file_then_lists_the_catalogue_as_json(db_url) -> None:
    first = thesis("--database-url", db_url, "models", "sync", "--from", str(FIXTURE))
    again = thesis("--database-url", db_url, "models", "sync", "--from", str(FIXTURE))
    listed = thesis("--database-url", db_url, "models", "list", "--json")

    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        f"Synced {LISTED} models: {LISTED} added, 0 updated, 0 unchanged, 0 no longer listed\n"
    )
    assert f"0 added, 0 updated, {LISTED} unchanged" in again.stdout
    rows = json.loads(listed.stdout)
    assert len(rows) == LISTED
    assert list(rows[0]) == JSON_KEYS
    sonnet = next(row for row in rows if row["slug"] == "anthropic_claude-3.5-sonnet")
    assert (sonnet["price_prompt"], sonnet["vision"], sonnet["app_count"]) == (3.0, True, 0)


def test_cli_lists_the_catalogue_as_a_table(sqlite_url, sqlite_db) -> None:
    sync_models(sqlite_db, ENTRIES[:2])
    result = thesis("--database-url", sqlite_url, "models", "list")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert " ".join(header.split()) == "slug provider context $in/1M $out/1M caps apps state"
    assert " ".join(rows[0].split()) == (
        "anthropic_claude-3.5-sonnet anthropic 200,000 3.00 15.00 VF.S 0 available"
    )
    assert len(rows) == 2


def test_cli_sync_from_a_missing_file_prints_one_line_and_exits_1(sqlite_url, tmp_path) -> None:
    missing = tmp_path / "nowhere.json"
    result = thesis("--database-url", sqlite_url, "models", "sync", "--from", str(missing))
    assert_one_line_error(result, f"thesis: Cannot read models file {missing}: No such file")


def test_cli_sync_fetches_from_the_configured_openrouter_with_the_key(
    sqlite_url, openrouter
) -> None:
    env = {"THESIS_OPENROUTER_BASE_URL": openrouter.base_url, "THESIS_OPENROUTER_API_KEY": API_KEY}
    result = thesis("--database-url", sqlite_url, "models", "sync", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Synced {LISTED} models: {LISTED} added")
    assert openrouter.requests[0][1]["Authorization"] == f"Bearer {API_KEY}"


def test_cli_sync_with_a_refused_key_prints_one_line_without_the_key(
    sqlite_url, openrouter
) -> None:
    openrouter.answer(json_reply(401, {"error": {"message": f"Invalid key {API_KEY}"}}))
    env = {"THESIS_OPENROUTER_BASE_URL": openrouter.base_url, "OPENROUTER_API_KEY": API_KEY}
    result = thesis("--database-url", sqlite_url, "models", "sync", **env)
    line = assert_one_line_error(result, "OpenRouter refused the API key (401)")
    assert API_KEY not in line + result.stdout
