"""One analysis opened from the Analyses screen: what ran, how it went, every finding.

The findings come from the analysis's results file (the same list its counts were made
from); `o`/`O` sort them by severity, tool or file, `/` filters them, and the pane below
shows the highlighted finding's code with its line marked. Analyses without findings (a
load test, a smoke test) show their measurements instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui.errors import ThesisError
from tui.services.analyses import AnalysisDetail, get_analysis
from tui.services.analysis.findings import describe_summary
from tui.widgets.filter_bar import FilterBar
from tui.widgets.findings_table import SORTS, FindingsTable, excerpt
from tui.widgets.format import NONE, duration, when
from tui.widgets.format import status as fmt_status
from tui.widgets.key_bar import KeyBar
from tui.widgets.nav_bar import NavBar

if TYPE_CHECKING:
    from tui.screens.host import Host


class AnalysisDetailScreen(Screen):
    SUB_TITLE = "An analysis"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the analyses (q too)"),
        # q goes back one level here, as escape does: quitting is for the top screens.
        Binding("q", "back", "Back", show=False),
        Binding(
            "slash",
            "filter",
            "Filter",
            tooltip="Filter the findings as you type (rule, file, message, tool; esc clears)",
        ),
        Binding("o", "sort_next", "Sort", tooltip="Sort the findings by severity, tool or file"),
        Binding("O", "sort_reverse", "Reverse", show=False, tooltip="Reverse the sort"),
        Binding(
            "ctrl+r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Load the analysis again (a running one changes)",
        ),
        Binding("j", "cursor('down')", "Down", show=False, tooltip="Down (or ↓)"),
        Binding("k", "cursor('up')", "Up", show=False, tooltip="Up (or ↑)"),
    ]

    def __init__(self, task_id: str) -> None:
        super().__init__()
        self.task_id = task_id
        self.detail: AnalysisDetail | None = None

    @property
    def thesis(self) -> Host:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield NavBar("analyses")
        with VerticalScroll(id="analysis-head"):
            yield Static(f"{self.task_id} · loading …", id="analysis-summary")
        yield FindingsTable(id="findings")
        with VerticalScroll(id="excerpt"):
            yield Static("", id="excerpt-text")
        yield Static("", id="status", classes="status-line", markup=False)
        yield FilterBar(id="filter")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(FilterBar).display = False
        self.query_one(FindingsTable).display = False
        self.query_one("#excerpt").display = False
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="read:analysis")
    def load(self) -> None:
        try:
            detail = get_analysis(self.thesis.db, self.task_id)
        except ThesisError as exc:
            self.app.call_from_thread(self._failed, exc.msg)
            return
        self.app.call_from_thread(self._show, detail)

    def _failed(self, message: str) -> None:
        self.query_one("#analysis-summary", Static).update(Text(message, style="red"))

    def _show(self, detail: AnalysisDetail) -> None:
        self.detail = detail
        self.query_one("#analysis-summary", Static).update(describe_detail(detail))
        table = self.query_one(FindingsTable)
        findings = detail.findings
        table.display = bool(findings)
        self.query_one("#excerpt").display = bool(findings)
        # Without findings the head (measurements, requirements, errors) takes the screen,
        # and the keys that act on findings are not offered.
        self.set_class(not findings, "-no-findings")
        self.refresh_bindings()
        table.show(findings)
        if findings:
            table.focus()
        self._show_status()

    def _show_status(self) -> None:
        table = self.query_one(FindingsTable)
        if not table.findings:
            self.query_one("#status", Static).update(
                "no findings" if self.detail and self.detail.status == "completed" else ""
            )
            return
        text = f"{len(table.shown)} of {len(table.findings)} findings"
        if table.total_matching > len(table.shown):
            text += f" (the first {len(table.shown)}; press / to filter)"
        if table.search:
            text += f" matching “{table.search}”"
        text += f" · sorted by {table.sort_key} {'↓' if table.descending else '↑'}"
        self.query_one("#status", Static).update(text)

    @on(DataTable.RowHighlighted, "#findings")
    def _highlighted(self) -> None:
        table = self.query_one(FindingsTable)
        index = table.current()
        text = self.query_one("#excerpt-text", Static)
        text.update(excerpt(table.findings[index]) if index is not None else "")
        self.query_one("#excerpt").scroll_home(animate=False)

    # --- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("sort_next", "sort_reverse", "cursor"):
            return bool(self.query_one(FindingsTable).findings)
        return True

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.load()

    def action_cursor(self, direction: str) -> None:
        table = self.query_one(FindingsTable)
        (table.action_cursor_down if direction == "down" else table.action_cursor_up)()

    def action_sort_next(self) -> None:
        table = self.query_one(FindingsTable)
        keys = list(SORTS)
        table.sort_by(keys[(keys.index(table.sort_key) + 1) % len(keys)])
        self._show_status()

    def action_sort_reverse(self) -> None:
        table = self.query_one(FindingsTable)
        table.sort_by(table.sort_key, not table.descending)
        self._show_status()

    @on(DataTable.HeaderSelected, "#findings")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key in SORTS:  # severity, tool, file; not rule or message
            table = self.query_one(FindingsTable)
            table.sort_by(key, descending=table.sort_key == key and not table.descending)
            self._show_status()

    def action_filter(self) -> None:
        if not self.query_one(FindingsTable).findings:
            self.notify("This analysis has no findings to filter.", severity="warning")
            return
        bar = self.query_one(FilterBar)
        bar.display = True
        self.query_one("#excerpt").add_class("-hidden")  # its rows go to the findings
        bar.focus()

    @on(FilterBar.Changed)
    def _filter_changed(self, event: FilterBar.Changed) -> None:
        self.query_one(FindingsTable).filter(event.value)
        self._show_status()

    @on(FilterBar.Submitted)
    def _filter_submitted(self) -> None:
        self.query_one(FindingsTable).focus()

    @on(FilterBar.Dismissed)
    def _filter_dismissed(self) -> None:
        self.query_one(FilterBar).display = False
        self.query_one(FindingsTable).focus()

    @on(FilterBar.Submitted)
    @on(FilterBar.Dismissed)
    def _filter_closed(self) -> None:
        self.query_one("#excerpt").remove_class("-hidden")


def describe_detail(detail: AnalysisDetail) -> Text:
    """The head of the detail screen: identity, outcome, each tool, the measurements."""
    text = Text()
    text.append(detail.task_id, style="bold")
    text.append(f" · {detail.task_type} · {detail.model_slug} app {detail.app_number} · ")
    text.append_text(fmt_status(detail.status))
    text.append(f" · {duration(detail.duration_seconds)} · {when(detail.started_at)}\n")
    if detail.error_message:
        text.append(f"{detail.error_message}\n", style="red")
    if detail.results_error:
        text.append(f"results: {detail.results_error}\n", style="red")
    if detail.summary and detail.status == "completed":
        text.append(describe_summary(detail.summary) + "\n")
    results = detail.results or {}
    tools = results.get("tools") or {}
    if tools:
        parts = []
        for tool, report in tools.items():
            reason = f": {report['reason']}" if report.get("reason") else ""
            count = report.get("findings", 0)
            parts.append(f"{tool} {report.get('status', '?')}{reason} ({count})")
        text.append(" · ".join(parts) + "\n", style="dim")
    _describe_metrics(text, results.get("metrics") or {})
    if detail.log_path:
        text.append(f"log {detail.log_path}", style="dim")
    text.rstrip()
    return text


def _ms(value: Any) -> str:
    return NONE if value is None else f"{value:,.0f} ms"


def _describe_metrics(text: Text, metrics: dict[str, Any]) -> None:
    if "requests_per_second" in metrics:
        text.append(
            f"{metrics.get('requests', 0):,} requests · {metrics['requests_per_second']:,.1f}/s · "
            f"avg {_ms(metrics.get('avg_ms'))} · p50 {_ms(metrics.get('p50_ms'))} · "
            f"p95 {_ms(metrics.get('p95_ms'))} · p99 {_ms(metrics.get('p99_ms'))} · "
            f"errors {metrics.get('error_rate', 0):.1%} "
            f"({metrics.get('connection_errors', 0)} connection)\n"
        )
        for name, stats in (metrics.get("endpoints") or {}).items():
            text.append(
                f"  {name}  {stats.get('requests', 0):,} req · "
                f"{stats.get('requests_per_second', 0):,.1f}/s · "
                f"p95 {_ms(stats.get('p95_ms'))} · {stats.get('failures', 0)} failed\n",
                style="dim",
            )
    for service in metrics.get("services") or []:
        mark = "✓" if service.get("healthy") else "✗"
        answer = service.get("http_status") or service.get("error") or NONE
        text.append(f"  {mark} {service.get('service')} {service.get('url')} → {answer}\n")
    review = metrics.get("review") or {}
    for item in review.get("requirements") or []:
        met = bool(item.get("met"))
        text.append(f"  {'✓' if met else '✗'} {item.get('requirement', '')}", "" if met else "red")
        text.append(f"  {item.get('evidence') or ''}\n", style="dim")
    for suggestion in review.get("suggestions") or []:
        text.append(f"  → {suggestion}\n", style="dim")
