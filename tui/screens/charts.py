"""6 · Reports → c: the comparison as charts in the terminal (textual-plotext).

Three tabs over the models shown on the Reports screen, in its order and filter (the first
MAX_MODELS of them, so the bars stay readable): security findings per app by severity as
stacked bars; the review score against the price; requests per second. A model without a
value for a chart is left out of it, and the chart says how many were.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from tui.widgets.columns import elide
from tui.widgets.key_bar import KeyBar
from tui.widgets.nav_bar import NavBar

MAX_MODELS = 10
"""Models on a chart at most: the first of the Reports screen's order (filter there)."""
NAME = 14
"""Cells of a model's name on an axis (cut in the middle)."""
SEVERITIES = (
    ("security.critical", "critical", "red", "█"),
    ("security.high", "high", "orange", "▓"),
    ("security.medium", "medium", "yellow", "▒"),
    ("security.low", "low", "cyan", "░"),
)
"""Each severity's metric, label, colour and marker: the markers tell them apart without
colour (NO_COLOR, a plain capture)."""


def _mean(stats: Any, key: str) -> float | None:
    estimate = stats.metrics.get(key)
    return None if estimate is None else estimate.mean


class ChartsScreen(Screen):
    """Charts of the models of the report, in the order the Reports screen shows them."""

    SUB_TITLE = "Charts"
    BINDINGS = [
        Binding("escape", "dismiss", "Back", tooltip="Back to the report"),
        Binding("q", "dismiss", "Back", show=False),
        Binding("left", "tab(-1)", "Tab", show=False, tooltip="The previous chart"),
        Binding("right", "tab(1)", "Next chart", tooltip="The next chart"),
    ]

    def __init__(self, models: list[Any], total: int) -> None:
        super().__init__()
        self.models = models[:MAX_MODELS]
        """The models charted: ModelStats of the report, in the order shown."""
        self.total = total
        """Models the Reports screen shows (more than charted when over MAX_MODELS)."""

    def compose(self) -> ComposeResult:
        yield NavBar("reports")
        with TabbedContent(id="charts"):
            with TabPane("Findings by severity", id="severity"):
                yield PlotextPlot(id="severity-plot")
            with TabPane("Score vs price", id="score"):
                yield PlotextPlot(id="score-plot")
            with TabPane("Requests/s", id="rps"):
                yield PlotextPlot(id="rps-plot")
        yield Static("", id="status", classes="status-line", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        for plot in self.query(PlotextPlot):
            plot.theme = "clear"  # the terminal's own colours, on 16 colours and NO_COLOR too
        self._severity()
        self._score()
        self._rps()
        shown = len(self.models)
        text = f"{shown} of {self.total} models"
        if shown < self.total:
            text += " (the first on the report: / there chooses which)"
        self.query_one("#status", Static).update(text)

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        panes = ["severity", "score", "rps"]
        current = panes.index(tabs.active) if tabs.active in panes else 0
        tabs.active = panes[(current + step) % len(panes)]

    def _severity(self) -> None:
        plot = self.query_one("#severity-plot", PlotextPlot)
        plt = plot.plt
        keys = [key for key, _, _, _ in SEVERITIES]
        rows = [(stats.model, [_mean(stats, key) for key in keys]) for stats in self.models]
        rows = [(model, values) for model, values in rows if any(v is not None for v in values)]
        plt.clear_data()
        plt.title(_title("Security findings per app, by severity", rows, self.models))
        if rows:
            rows.reverse()  # bars go up from the axis: the first model on top
            names = [elide(model, NAME) for model, _ in rows]
            series = [[values[i] or 0.0 for _, values in rows] for i in range(len(SEVERITIES))]
            plt.stacked_bar(names, series, orientation="horizontal",
                            labels=[label for _, label, _, _ in SEVERITIES],
                            color=[color for _, _, color, _ in SEVERITIES],
                            marker=[marker for _, _, _, marker in SEVERITIES])  # fmt: skip
        plot.refresh()

    def _score(self) -> None:
        plot = self.query_one("#score-plot", PlotextPlot)
        plt = plot.plt
        points = [
            (stats.model, _mean(stats, "cost.price"), _mean(stats, "ai_review.score"))
            for stats in self.models
        ]
        points = [(m, x, y) for m, x, y in points if x is not None and y is not None]
        plt.clear_data()
        plt.title(_title("Review score against price ($/1M tokens)", points, self.models))
        if points:
            plt.scatter([x for _, x, _ in points], [y for _, _, y in points], marker="dot")
            for model, x, y in points:
                plt.text(elide(model, NAME), x, y, alignment="left")
            plt.xlabel("price")
            plt.ylabel("score")
        plot.refresh()

    def _rps(self) -> None:
        plot = self.query_one("#rps-plot", PlotextPlot)
        plt = plot.plt
        rows = [(stats.model, _mean(stats, "performance.rps")) for stats in self.models]
        rows = [(model, value) for model, value in rows if value is not None]
        plt.clear_data()
        plt.title(_title("Requests per second (load test, mean per app)", rows, self.models))
        if rows:
            rows.reverse()
            plt.bar([elide(m, NAME) for m, _ in rows], [v for _, v in rows],
                    orientation="horizontal", color="green")  # fmt: skip
        plot.refresh()


def _title(title: str, charted: list[Any], models: list[Any]) -> str:
    """The title, and how many models have no value for the chart."""
    left_out = len(models) - len(charted)
    if not charted:
        return f"{title}: no model has a value yet"
    return f"{title} · {left_out} without a value" if left_out else title
