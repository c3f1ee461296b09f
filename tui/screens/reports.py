"""6 · Reports: the models side by side, each metric a mean per app ± half its 95 % interval.

What `thesis report models` prints, sortable by any column, filterable by model. Columns a
user came for (the model, its apps, findings per KLOC, deployability) stay at 80 columns;
`w` shows every column whole with the full intervals. The cursor is on a cell: `enter` on a
metric opens the analyses its value was read from, elsewhere the model's apps; `e` writes
the report as CSV, Markdown and LaTeX. The report is computed when the screen is
first shown (not ahead, with the other screens: it loads numpy and reads every latest
analysis) and again at most every REFRESH seconds or on ctrl+r.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, ClassVar

from textual import on
from textual.binding import Binding
from textual.widgets import DataTable

from tui.screens.base import Column, Query, Scope, TableScreen
from tui.services.analysis.headlines import headlines
from tui.services.common import Page
from tui.widgets.format import NONE

EMPTY = 9
"""The priority of a column without a value: dropped before any other on a narrow screen."""
TOOLS = 4
"""The priority of a tool's findings per app: after the headlines on a narrow screen."""
REFRESH = 30.0
"""Seconds a computed report is shown before the next refresh computes it again."""

_FIRST = {"security.findings_per_kloc": 1, "quality.findings_per_kloc": 1,
          "smoke.deployable": 1, "functional.passed": 2, "ai_review.score": 2,
          "performance.rps": 2, "cost.price": 2}  # fmt: skip
"""The headline columns that stay longest on a narrow screen (the rest drop first)."""


def _columns() -> list[Column]:
    columns = [
        Column("model", "Model", sortable=True, elide="middle", min_width=12),
        Column("apps", "Apps", sortable=True),
        Column("apps.analysed", "Done", sortable=True, priority=2),
        Column("apps.loc", "LOC", sortable=True, priority=3),
    ]
    for headline in headlines():
        if headline.per_kloc:
            columns.append(
                Column(f"{headline.key}_per_kloc", f"{headline.label}/KLOC", sortable=True,
                       priority=_FIRST.get(f"{headline.key}_per_kloc", 3))
            )  # fmt: skip
        columns.append(
            Column(headline.key, headline.label, sortable=True,
                   priority=_FIRST.get(headline.key, 3))
        )  # fmt: skip
    columns += [
        Column("cost.price", "Price $/1M", sortable=True, priority=2),
        Column("cost.usd", "USD/app", sortable=True, priority=3),
    ]
    return columns


class ReportsScreen(TableScreen):
    SUB_TITLE = "Reports"
    MODE = "reports"
    NOUN = "models"
    ROW_ACTIONS = frozenset({"drill_down", "export", "charts"})
    LOAD_OUT_OF_SIGHT: ClassVar[bool] = False
    EMPTY_HINT = (
        "No models to compare yet.\n\n"
        "Scan apps (thesis apps scan) and analyse them: press 5 and n for a study."
    )
    BINDINGS = [
        Binding("enter", "drill_down", "Open",
                tooltip="What is behind the cell: the analyses of a metric, or the model's apps"),
        Binding("e", "export", "Export",
                tooltip="Write the report as CSV, Markdown and LaTeX (data folder)"),
        Binding("K", "rank", "Rank",
                tooltip="Rank the models (TOPSIS, the default criteria; esc back)"),
        Binding("c", "charts", "Charts",
                tooltip="Severity by model, score vs price, requests/s (the models shown)"),
    ]  # fmt: skip
    COLUMNS = _columns()

    def __init__(self, scope: Scope | None = None) -> None:
        super().__init__(scope)
        self._report: Any = None
        self._made = 0.0

    def _current_report(self) -> Any:
        """The report, computed again when older than REFRESH seconds (in the load thread)."""
        from tui.services.reports.compare import model_report

        if self._report is None or time.monotonic() - self._made > REFRESH:
            self._report = model_report(self.thesis.db)
            self._made = time.monotonic()
        return self._report

    def action_refresh(self) -> None:
        self._report = None
        super().action_refresh()

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        report = self._current_report()
        # A column no model has a value in (no smoke test run, say) is the first to go.
        measured = {
            key for stats in report.models for key, e in stats.metrics.items() if e.mean is not None
        }
        static = type(self).COLUMNS
        known = {c.key for c in static}
        # Each tool's findings per app (bandit, pylint …), known from the analyses alone.
        tools = [
            Column(m.key, m.label, sortable=True, priority=TOOLS)
            for m in report.metrics
            if ".tool." in m.key and m.key not in known
        ]
        self.COLUMNS = [
            c if c.key in ("model", "apps") or c.key in measured else replace(c, priority=EMPTY)
            for c in [*static[:-2], *tools, *static[-2:]]
        ]
        rows = _matching(report.models, query.search)
        if query.sort:
            rows = _sorted(rows, query.sort, query.descending)
        return Page(rows[: query.limit] if query.limit else [], len(rows))

    def row_cells(self, row: Any) -> tuple[str, tuple[Any, ...]]:
        cells: list[Any] = [row.model, str(row.apps), str(row.analysed)]
        for column in self.COLUMNS[3:]:
            estimate = row.metrics.get(column.key)
            cells.append(_compact(estimate))
        return row.model, tuple(cells)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(DataTable).cursor_type = "cell"  # a cell opens what is behind it

    @on(DataTable.CellSelected)
    def action_drill_down(self) -> None:
        """enter: on a metric of an analysis type, the analyses its value was read from; on
        the model, its apps, or a cost, the model's apps (esc back)."""
        from tui.screens.analyses import AnalysesScreen
        from tui.screens.applications import ApplicationsScreen

        row = self.require_selection()
        if row is None:
            return
        table = self.query_one(DataTable)
        column = str(table.coordinate_to_cell_key(table.cursor_coordinate).column_key.value)
        kind = column.partition(".")[0]
        if kind not in {str(k) for k in self._report.types}:
            self.app.push_screen(ApplicationsScreen(Scope(row.model)))
            return
        ids = self._report.analyses.get((row.model, kind), [])
        if not ids:
            self.notify(f"{row.model}: no {kind} analysis behind this report", severity="warning")
            return
        what = f"the {len(ids)} {kind} analys{'is' if len(ids) == 1 else 'es'} of the report"
        self.app.push_screen(AnalysesScreen(Scope(row.model, analyses=tuple(ids), what=what)))

    def action_rank(self) -> None:
        if self._report is None:
            self.notify("The report is still being computed.", severity="warning")
            return
        self.app.push_screen(RankingScreen(self._report))

    def action_charts(self) -> None:
        from tui.screens.charts import ChartsScreen

        total = self._page.total if self._page is not None else None
        models = list(self.row_data.values())
        self.app.push_screen(ChartsScreen(models, total if total is not None else len(models)))

    def action_export(self) -> None:
        report, folder = self._report, self.thesis.settings.data_dir / "reports"
        if report is None:
            self.notify("The report is still being computed.", severity="warning")
            return

        def export() -> str:
            from tui.services.reports.export import render, write

            stamp = time.strftime("%Y%m%d-%H%M%S")
            written = []
            for fmt, suffix in (("csv", "csv"), ("markdown", "md"), ("latex", "tex")):
                path = folder / f"models-{stamp}.{suffix}"
                write(render(report, fmt), path)
                written.append(path.name)
            return f"Wrote {', '.join(written)} to {folder}"

        self.run_service(export)


def _matching(rows: list[Any], search: str) -> list[Any]:
    """The rows whose model has every word of `search` in it."""
    from tui.services.common import matches

    return [row for row in rows if matches(search, row.model)]


def _compact(estimate: Any) -> str:
    """`22.8 ±1.6` (± half the 95 % interval); the mean alone with no interval; — for none."""
    from tui.services.reports.export import number

    if estimate is None or estimate.mean is None:
        return NONE
    if estimate.low is None or estimate.high is None:
        return number(estimate.mean)
    return f"{number(estimate.mean)} ±{number((estimate.high - estimate.low) / 2)}"


def _sorted(rows: list[Any], key: str, descending: bool) -> list[Any]:
    if key == "model":
        return sorted(rows, key=lambda s: s.model, reverse=descending)
    if key == "apps":
        return sorted(rows, key=lambda s: (s.apps, s.model), reverse=descending)

    def value(stats: Any) -> float | None:
        estimate = stats.metrics.get(key)
        return None if estimate is None else estimate.mean

    known = [s for s in rows if value(s) is not None]
    unknown = [s for s in rows if value(s) is None]  # no value: last, either way
    return sorted(known, key=lambda s: (value(s), s.model), reverse=descending) + unknown


def _ranking_columns() -> list[Column]:
    return [
        Column("rank", "Rank"),
        Column("model", "Model", elide="middle", min_width=12),
        Column("score", "Score"),
        Column("range", "±20 %", priority=1),
        Column("resampled", "Apps 95 %", priority=1),
    ]


class RankingScreen(TableScreen):
    """The models ranked by TOPSIS (or a weighted sum) over criteria a user picks (`c`; the
    defaults of `thesis report rank` at first): each with its score, the range of ranks it
    takes when every weight moves by ±20 %, and its 95 % interval of ranks over resamples
    of the apps. Models with too few apps behind a criterion
    are not ranked; the status line counts them and `thesis report rank` says why."""

    SUB_TITLE = "Ranking"
    MODE = "reports"
    PUSHED = True
    NOUN = "ranked models"
    EMPTY_HINT = "No model has every criterion from enough apps to be ranked (c: criteria)."
    BINDINGS = [
        Binding("c", "criteria", "Criteria",
                tooltip="Pick the criteria, their weights and directions, the method"),
        Binding("m", "method", "Method", tooltip="TOPSIS or weighted sum (WSM), in turn"),
    ]  # fmt: skip
    COLUMNS = _ranking_columns()

    def __init__(self, report: Any) -> None:
        super().__init__()
        self.report = report
        self.ranking: Any = None
        self.choice: Any = None
        """The criteria form's Choice; None: the default criteria, TOPSIS."""

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        from tui.services.reports.rank import parse_criteria, rank_models

        if self.ranking is None:  # the report does not change under this screen: rank once
            choice = self.choice
            if choice is None:
                criteria = parse_criteria(self.report, None, None)
                self.ranking = rank_models(self.report, criteria)
            else:
                criteria = parse_criteria(self.report, list(choice.criteria),
                                          list(choice.weights))  # fmt: skip
                self.ranking = rank_models(self.report, criteria, method=choice.method,
                                           min_apps=choice.min_apps)  # fmt: skip
            # The criteria the ranking used, in its order.
            labels = {c.key: c.label for c in _columns()}
            self.COLUMNS = [
                *type(self).COLUMNS,
                *(Column(c.key, labels.get(c.key, c.label), priority=2)
                  for c in self.ranking.criteria),
            ]  # fmt: skip
        rows = _matching(self.ranking.ranked, query.search)
        return Page(rows, len(rows))

    def row_cells(self, row: Any) -> tuple[str, tuple[Any, ...]]:
        from tui.services.reports.export import number, span

        values = [number(value) for value in row.values]  # in the criteria's order
        return row.model, (str(row.rank), row.model, f"{row.score:.3f}",
                           span(row.best, row.worst), span(row.low, row.high), *values)  # fmt: skip

    def status_suffix(self) -> str:
        if self.ranking is None:
            return ""
        text = f" · {'TOPSIS' if self.ranking.method == 'topsis' else 'weighted sum'}"
        unranked = self.ranking.unranked
        return text + (f" · {len(unranked)} not ranked (too few apps)" if unranked else "")

    def _current_choice(self) -> Any:
        from tui.screens.criteria_form import Choice

        if self.choice is not None:
            return self.choice
        ranking = self.ranking
        if ranking is None:
            return Choice((), ())
        return Choice(
            tuple(f"{c.key}:{'benefit' if c.benefit else 'cost'}" for c in ranking.criteria),
            tuple(round(c.weight, 4) for c in ranking.criteria),
            ranking.method,
            ranking.min_apps,
        )

    def action_criteria(self) -> None:
        from tui.screens.criteria_form import CriteriaFormScreen

        self.app.push_screen(CriteriaFormScreen(self.report, self._current_choice()), self._rank)

    def action_method(self) -> None:
        choice = self._current_choice()
        if not choice.criteria:
            return
        self._rank(replace(choice, method="wsm" if choice.method == "topsis" else "topsis"))

    def _rank(self, choice: Any) -> None:
        if choice is None:
            return
        self.choice, self.ranking = choice, None
        self.fitted = None  # the criteria columns change
        self.reload()
