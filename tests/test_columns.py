"""Which columns a table shows on a narrow terminal, and how long cells are cut."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.text import Text

from tui.widgets.columns import Column, ago, elide, fit, natural_widths, render

SLUG = "google_gemini-2.0-flash-thinking-exp-1219_free"  # a real OpenRouter slug, 46 wide
MODELS = [
    Column("slug", "Slug", elide="middle", min_width=16),
    Column("provider", "Provider", priority=5),
    Column("name", "Name", priority=4),
    Column("context", "Context", priority=2),
    Column("in", "$in/1M", priority=1),
    Column("apps", "Apps"),
]
ROW = (SLUG, "google", "Gemini 2.0 Flash Thinking Experimental", "1,048,576", "free", "30")


def shown(layout) -> list[str]:
    return [MODELS[i].key for i in layout.shown]


def width(layout) -> int:
    return sum(w + 2 for w in layout.widths)


def test_everything_shows_when_it_fits() -> None:
    layout = fit(MODELS, natural_widths(MODELS, [ROW], False), 200, wide=False)
    assert shown(layout) == ["slug", "provider", "name", "context", "in", "apps"]
    assert layout.dropped == ()


def test_repeated_columns_drop_before_the_slug_is_cut() -> None:
    natural = natural_widths(MODELS, [ROW], False)
    layout = fit(MODELS, natural, 79, wide=False)
    assert shown(layout) == ["slug", "context", "in", "apps"]
    assert layout.widths[0] == len(SLUG)  # the slug whole: there was room once Name left
    assert layout.dropped == ("Provider", "Name")


def test_a_narrower_screen_cuts_the_slug_and_then_drops_the_rest() -> None:
    natural = natural_widths(MODELS, [ROW], False)
    at_60 = fit(MODELS, natural, 59, wide=False)
    assert shown(at_60) == ["slug", "context", "in", "apps"]
    assert width(at_60) <= 59 and at_60.widths[0] < len(SLUG)
    at_30 = fit(MODELS, natural, 29, wide=False)
    assert shown(at_30) == ["slug", "apps"]  # priority 0 never drops
    assert at_30.widths[0] == 16  # cut no further than its minimum


def test_the_wide_view_keeps_every_column_whole() -> None:
    natural = natural_widths(MODELS, [ROW], True)
    layout = fit(MODELS, natural, 40, wide=True)
    assert shown(layout) == [c.key for c in MODELS]
    assert layout.widths == tuple(natural)


def test_long_cells_are_cut_in_the_middle_and_keep_their_style() -> None:
    cut = render(SLUG, 16, MODELS[0]).plain
    assert cut == "google_g…19_free" and len(cut) == 16
    styled = elide(Text(SLUG, style="dim strike"), 16)
    assert styled.plain == cut and styled.spans and styled.spans[0].style == "dim strike"
    assert elide("A long model name", 8, middle=False) == "A long …"
    assert render("short", 16, MODELS[0]).plain == "short"


def test_times_are_relative_in_the_table_and_absolute_in_the_wide_view() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert ago(now - timedelta(seconds=12), now) == "12s ago"
    assert ago(now - timedelta(minutes=3), now) == "3m ago"
    assert ago(now - timedelta(hours=5, minutes=59), now) == "5h ago"
    assert ago(now - timedelta(days=6), now) == "6d ago"
    assert ago(now - timedelta(days=30), now) == "2026-10-31"  # older than a week: the date
    assert ago(now + timedelta(minutes=5), now) == "2026-11-30 12:05"  # a clock ahead of ours
    assert ago(None, now) == "—"
    column = Column("when", "When")
    assert render(datetime(2026, 11, 1, 9, 30, tzinfo=UTC), 20, column, wide=True).plain == (
        "2026-11-01 09:30"
    )


def test_cells_are_text_so_brackets_in_untrusted_values_show_as_typed() -> None:
    """A `[` in a slug, a path or a tool's message is not console markup."""
    for value in ("[/]", "[red]alert[/red]", "x[bold"):
        cell = render(value, 40, Column("m", "Message"))
        assert isinstance(cell, Text) and cell.plain == value and not cell.spans
