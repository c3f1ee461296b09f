"""Models screen: add, edit and delete models from the keyboard."""

from __future__ import annotations

from sqlalchemy import select
from test_app import (
    SIZE,
    finish_writes,
    make_app,
    reload_and_settle,
    settle,
    table_column,
    workers_done,
)
from textual.widgets import DataTable, Input, Static

from tui.db.models import GeneratedApplication, ModelCapability
from tui.screens.model_form import ModelFormScreen
from tui.widgets.confirm import ConfirmModal


async def type_into(pilot, field: str, text: str) -> None:
    pilot.app.screen.query_one(f"#field-{field}", Input).focus()
    await pilot.press(*text)


async def open_new_model_form(pilot, slug: str, provider: str, name: str) -> None:
    """`a`, then the three required fields typed as a user would."""
    await pilot.press("a")
    assert isinstance(pilot.app.screen, ModelFormScreen)
    await type_into(pilot, "slug", slug)
    await type_into(pilot, "provider", provider)
    await type_into(pilot, "name", name)


class TestModelForm:
    async def test_a_adds_a_model_through_the_form(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_new_model_form(pilot, "mistral_small", "mistral", "Mistral Small")
            await type_into(pilot, "price_prompt", "0.2")
            await pilot.press("ctrl+s")
            await finish_writes(pilot)
            assert "mistral_small" in table_column(app, 0)
        with demo_db.session() as s:
            model = s.scalars(
                select(ModelCapability).where(ModelCapability.canonical_slug == "mistral_small")
            ).one()
            assert (model.provider, model.display_name, model.pricing_prompt) == (
                "mistral",
                "Mistral Small",
                0.2,
            )

    async def test_a_bad_slug_is_explained_in_the_form_and_nothing_is_saved(self, demo_db):
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_new_model_form(pilot, "openai/gpt-5", "openai", "GPT 5")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, ModelFormScreen)
            error = str(app.screen.query_one("#form-error", Static).render())
            assert "slug" in error and "'/'" in error
            await pilot.press("escape")
            await settle(pilot)
            assert len(table_column(app, 0)) == 3

    async def test_a_duplicate_slug_is_a_notification(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_new_model_form(pilot, "openai_gpt-4o-mini", "openai", "again")
            await pilot.press("ctrl+s")
            await workers_done(pilot)
            assert any("already exists" in n.message for n in app._notifications)

    async def test_e_edits_the_selected_model(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("j", "j", "e")  # openai_gpt-4o-mini
            await workers_done(pilot)
            assert isinstance(app.screen, ModelFormScreen)
            context = app.screen.query_one("#field-context_length", Input)
            assert context.value == "128000"
            context.value = ""
            await type_into(pilot, "context_length", "64000")
            await pilot.press("enter")
            await finish_writes(pilot)
            assert table_column(app, 4)[2] == "64,000"

    async def test_d_asks_with_the_app_count_and_deletes_model_and_apps(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("d")  # anthropic_claude-3.5-sonnet, 2 apps
            await workers_done(pilot)
            assert isinstance(app.screen, ConfirmModal)
            body = str(app.screen.query_one("#confirm-body", Static).render())
            assert "anthropic_claude-3.5-sonnet" in body and "2 apps" in body
            await pilot.press("y")
            await finish_writes(pilot)
            assert "anthropic_claude-3.5-sonnet" not in table_column(app, 0)
        with demo_db.session() as s:
            assert (
                s.scalars(select(GeneratedApplication.model_slug))
                .all()
                .count("anthropic_claude-3.5-sonnet")
                == 0
            )

    async def test_n_keeps_the_model(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("d")
            await workers_done(pilot)
            await pilot.press("n")
            await reload_and_settle(pilot)
            assert len(table_column(app, 0)) == 3


async def test_models_no_longer_listed_are_dimmed(demo_db) -> None:
    with demo_db.session() as s:
        s.scalars(
            select(ModelCapability).where(ModelCapability.provider == "openai")
        ).one().is_available = False
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        styles = [str(table.get_row_at(i)[0].style) for i in range(table.row_count)]
        assert styles == ["", "", "dim strike"]


class TestModelFormSnapshots:
    def test_add_form(self, demo_db, snap_compare) -> None:
        async def open_form(pilot) -> None:
            await settle(pilot)
            await pilot.press("a")
            await pilot.pause()

        assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=open_form)

    def test_delete_confirmation(self, demo_db, snap_compare) -> None:
        async def ask(pilot) -> None:
            await settle(pilot)
            await pilot.press("d")
            await workers_done(pilot)

        assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=ask)
