"""App templates: ours, a user's folder, the schema, the shapes the functional test checks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import assert_one_line_error, thesis

from tui.errors import NotFoundError, ValidationError
from tui.services.generation.templates import (
    BUILTIN,
    PARAM,
    load_templates,
    match_shape,
    template_schema,
)


def ours(number: int) -> dict:
    (path,) = BUILTIN.glob(f"{number:02d}-*.yaml")
    return yaml.safe_load(path.read_text())


def test_thirty_templates_of_ours_cover_the_usual_study_apps() -> None:
    catalogue = load_templates()
    assert catalogue.problems == []
    assert sorted(catalogue.templates) == list(range(1, 31))
    slugs = {loaded.template.slug for loaded in catalogue.all()}
    assert len(slugs) == 30
    for usual in ("login-registration", "chat", "todo-list", "blog", "shopping-cart",
                  "file-upload", "kanban-board", "booking", "polls", "url-shortener"):  # fmt: skip
        assert usual in slugs


@pytest.mark.parametrize("number", range(1, 31))
def test_each_of_our_templates_can_be_tested_as_written(number: int) -> None:
    """Every path parameter is filled from an earlier POST to its collection that answers
    it; every endpoint needing a login has one to use; the schema file accepts it."""
    loaded = load_templates().get(number)
    template = loaded.template
    jsonschema.validate(ours(number), template_schema())
    created: set[tuple[str, str]] = set()
    for endpoint in template.endpoints:
        path = endpoint.path.split("?")[0]
        for param in endpoint.params:
            collection = path[: path.index("{" + param + "}")].rstrip("/")
            assert (collection, param) in created, f"{endpoint.label}: nothing made {param}"
        if endpoint.method == "POST" and isinstance(endpoint.response, dict):
            created.update((path, key) for key in endpoint.response)
    assert template.login is not None
    login = template.filled(template.login.request)
    assert login["password"] == template.credentials.password


def test_a_users_folder_adds_templates_and_replaces_ours_and_bad_files_are_named(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    mine = ours(2) | {"slug": "todo-plus", "name": "Todo plus"}  # number 2: replaces ours
    (folder / "todo.yaml").write_text(yaml.safe_dump(mine))
    extra = ours(3) | {"number": 30, "slug": "blog-two"}
    (folder / "blog.json").write_text(json.dumps(extra))
    (folder / "clash.yaml").write_text(yaml.safe_dump(extra | {"slug": "blog-three"}))
    (folder / "typo.yaml").write_text(yaml.safe_dump(ours(4) | {"slgu": "x"}))
    (folder / "shape.yaml").write_text(
        yaml.safe_dump(ours(5) | {"number": 29, "endpoints": [
            {"method": "GET", "path": "/api/x", "description": "x", "response": {"id": "strng"}}
        ]})
    )  # fmt: skip
    (folder / "broken.yaml").write_text("number: [1,\n")
    bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)
    ]  # nine levels of nine: 387 million strings if expanded
    (folder / "bomb.yaml").write_text("\n".join(bomb) + "\n")
    os.mkfifo(folder / "pipe.yaml")  # read without blocking, refused
    (folder / "notes.txt").write_text("not a template")
    catalogue = load_templates(folder)
    assert catalogue.templates[2].template.slug == "todo-plus"
    assert catalogue.templates[2].source == "user"
    assert catalogue.templates[30].template.slug == "blog-two"
    assert catalogue.get("blog").template.number == 3  # ours stays
    problems = "\n".join(catalogue.problems)
    assert "clash.yaml: number 30" in problems and "blog.json's already" in problems
    assert "typo.yaml" in problems and "slgu" in problems
    assert "shape.yaml" in problems and "'strng' is not one of" in problems
    assert "broken.yaml: not valid YAML or JSON" in problems
    assert "bomb.yaml" in problems and "pipe.yaml: not a regular file" in problems
    assert len(catalogue.problems) == 6 and all("\n" not in p for p in catalogue.problems)


def test_templates_are_chosen_by_numbers_ranges_and_slugs() -> None:
    catalogue = load_templates()
    assert [t.template.number for t in catalogue.select("3-5,blog,1")] == [1, 3, 4, 5]
    assert [t.template.slug for t in catalogue.select("url-shortener")] == ["url-shortener"]
    # A range is the templates in it, however wide (never a loop over its numbers).
    assert len(catalogue.select("28-99999999999999")) == 3
    for spec, says in (("5-3", "runs backwards"), ("40-45", "No template numbered"),
                       ("nope", "No template 'nope'"), (" , ", "Name templates"),
                       ("²", "No template '²'"), ("9" * 6000, "No template '9999"),
                       ("1-" + "9" * 6000, "No template '1-999")):  # fmt: skip
        with pytest.raises((ValidationError, NotFoundError), match=says) as refused:
            catalogue.select(spec)
        assert len(refused.value.msg) < 120  # what was typed, cut short


def test_a_response_matches_its_shape_or_says_where_it_differs() -> None:
    shape = {"id": "integer", "tags": ["string"], "owner": {"name": "string?"}, "score": "number"}
    good = {"id": 3, "tags": ["a"], "owner": {"name": None}, "score": 2, "extra": True}
    assert match_shape(good, shape) is None
    assert match_shape({**good, "id": "3"}, shape) == "response.id: expected integer, got string"
    assert match_shape({**good, "tags": ["a", 1]}, shape) == (
        "response.tags[1]: expected string, got integer"
    )
    assert match_shape({"id": 1}, shape) == "response: no 'tags'"
    assert match_shape([], shape) == "response: expected an object, got array"
    assert match_shape(True, "integer") == "response: expected integer, got boolean"
    assert match_shape([], ["integer"]) is None
    assert PARAM.findall("/api/posts/{id}/comments/{comment_id}") == ["id", "comment_id"]


def test_thesis_templates_lists_shows_checks_and_prints_the_schema(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "x.yaml").write_text(yaml.safe_dump(ours(7) | {"slug": "my-kanban"}))
    (folder / "bad.yaml").write_text(yaml.safe_dump(ours(8) | {"number": 31}))
    env = {"THESIS_TEMPLATES_DIR": str(folder)}
    listed = thesis("templates", "list", "--json", **env)
    assert listed.returncode == 0
    rows = {row["number"]: row for row in json.loads(listed.stdout)}
    assert len(rows) == 30 and rows[7]["slug"] == "my-kanban" and rows[7]["source"] == "user"
    assert "template left out" in listed.stderr and "bad.yaml" in listed.stderr
    shown = thesis("templates", "show", "url-shortener")
    assert "POST /api/links (login) -> 201" in shown.stdout
    assert "Sh0rt-admin-pw" not in shown.stdout  # the password stays in the files
    as_json = json.loads(thesis("templates", "show", "10", "--json").stdout)
    assert as_json["slug"] == "url-shortener"
    assert_one_line_error(thesis("templates", "show", "nope"), "No template 'nope'")
    checked = thesis("templates", "check", str(folder / "x.yaml"), str(folder / "bad.yaml"))
    assert checked.returncode == 1 and "template 7 my-kanban is valid" in checked.stdout
    assert "bad.yaml" in checked.stderr and "number" in checked.stderr
    schema = json.loads(thesis("templates", "schema").stdout)
    jsonschema.validate(ours(1), schema)


async def test_shift_t_lists_the_templates_and_enter_shows_one(
    sqlite_db, tmp_path, monkeypatch
) -> None:
    from test_app import make_app, settle, table_column, until

    from tui.screens.templates import TemplateScreen, TemplatesScreen

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "bad.yaml").write_text("number: [\n")
    monkeypatch.setenv("THESIS_TEMPLATES_DIR", str(folder))
    app = make_app(sqlite_db, start="dashboard")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("T")
        await until(pilot, lambda: isinstance(app.screen, TemplatesScreen), "the templates")
        await settle(pilot)
        assert table_column(app, "number")[:3] == ["1", "2", "3"]
        assert len(table_column(app, "number")) == 30
        assert any("bad.yaml" in str(n.message) for n in app._notifications)
        await pilot.press("slash", *"shortener", "enter")
        await until(pilot, lambda: table_column(app, "slug") == ["url-shortener"], "filtered")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TemplateScreen), "one template")
        text = str(app.screen.query_one("#template-text Static").render())
        assert "POST /api/links (login) -> 201" in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TemplatesScreen), "back")


def test_templates_at_80x24(sqlite_db, snap_compare) -> None:
    from test_app import make_app
    from test_snapshots import press_then_settle

    assert snap_compare(
        make_app(sqlite_db, start="dashboard"), terminal_size=(80, 24),
        run_before=press_then_settle("T"),
    )  # fmt: skip
