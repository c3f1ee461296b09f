"""An analysis's findings: a table sortable by severity, tool or file, and the code excerpt
of the highlighted finding with its line marked."""

from __future__ import annotations

from pathlib import PurePosixPath

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import DataTable

from tui.services.analysis.findings import SEVERITY_RANK, Finding, by_severity
from tui.widgets.columns import Column, fit, natural_widths, render
from tui.widgets.format import NONE

SEVERITY_STYLES = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
SORTS = {
    "severity": by_severity,
    "tool": lambda f: (f.tool, SEVERITY_RANK.get(f.severity, 9), f.file, f.line or 0),
    "file": lambda f: (f.file, f.line or 0, SEVERITY_RANK.get(f.severity, 9), f.tool),
}
"""Sort orders, in the order `o` cycles through them."""
MAX_ROWS = 5000
"""DataTable mounts ~10,000 rows a second: more than this and the user filters."""
_LEXERS = {".jsx": "jsx", ".tsx": "tsx", ".mjs": "javascript", ".cjs": "javascript"}


def location(finding: Finding) -> str:
    if not finding.file:
        return NONE
    return f"{finding.file}:{finding.line}" if finding.line else finding.file


class FindingsTable(DataTable):
    """Holds every finding of one analysis; shows the ones matching the filter, sorted."""

    COLUMNS = [
        Column("severity", "Severity"),
        Column("tool", "Tool", priority=1),
        Column("rule", "Rule", elide="end", min_width=8),
        Column("file", "Location", elide="middle", min_width=14),
        # The message in full is in the pane below: here it takes what is left.
        Column("message", "Message", elide="end", min_width=10),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.findings: list[Finding] = []
        self.sort_key = "severity"
        self.descending = False
        self.search = ""
        self.shown: list[int] = []
        """Indexes into `findings` of the rows on screen, in row order."""
        self.total_matching = 0

    def on_resize(self) -> None:
        if self.findings:
            self.refill()

    def show(self, findings: list[Finding]) -> None:
        self.findings = findings
        self.refill()

    def sort_by(self, key: str, descending: bool = False) -> None:
        self.sort_key, self.descending = key, descending
        self.refill()

    def filter(self, search: str) -> None:
        self.search = search.strip()
        self.refill()

    def matching(self) -> list[int]:
        words = self.search.lower().split()
        order = sorted(
            range(len(self.findings)),
            key=lambda i: SORTS[self.sort_key](self.findings[i]),
            reverse=self.descending,
        )
        if not words:
            return order
        return [i for i in order if all(word in _haystack(self.findings[i]) for word in words)]

    def refill(self) -> None:
        current = self.current()
        matching = self.matching()
        self.total_matching = len(matching)
        self.shown = matching[:MAX_ROWS]
        rows = [self._cells(self.findings[index]) for index in self.shown]
        available = max((self.size.width or self.app.size.width) - 1, 20)
        layout = fit(self.COLUMNS, natural_widths(self.COLUMNS, rows, False), available,
                     wide=False)  # fmt: skip
        self.clear(columns=True)
        for i, width in zip(layout.shown, layout.widths, strict=True):
            self.add_column(self.COLUMNS[i].label, key=self.COLUMNS[i].key, width=width)
        for index, cells in zip(self.shown, rows, strict=True):
            self.add_row(
                *(
                    render(cells[i], width, self.COLUMNS[i])
                    for i, width in zip(layout.shown, layout.widths, strict=True)
                ),
                key=str(index),
            )
        if current is not None and current in self.shown:
            self.move_cursor(row=self.shown.index(current), scroll=True)

    @staticmethod
    def _cells(finding: Finding) -> tuple[Text | str, ...]:
        return (
            Text(finding.severity, style=SEVERITY_STYLES.get(finding.severity, "")),
            finding.tool,
            finding.rule_id,
            location(finding),
            finding.message.splitlines()[0] if finding.message else "",
        )

    def current(self) -> int | None:
        """Index into `findings` of the highlighted row, or None."""
        if not self.row_count or not 0 <= self.cursor_row < len(self.shown):
            return None
        return self.shown[self.cursor_row]


def _haystack(finding: Finding) -> str:
    return " ".join(
        (finding.severity, finding.tool, finding.rule_id, location(finding), finding.message)
    ).lower()


def excerpt(finding: Finding) -> RenderableType:
    """The finding in full, and its code excerpt highlighted with its line marked."""
    head = Text()
    head.append(f"{finding.severity} ", style=SEVERITY_STYLES.get(finding.severity, ""))
    head.append(f"{finding.tool} {finding.rule_id}", style="bold")
    if finding.confidence:
        head.append(f" · confidence {finding.confidence}", style="dim")
    head.append(f" · {location(finding)}\n")
    head.append(finding.message)
    if finding.link:
        head.append(f"\n{finding.link}", style="underline dim")
    numbered = [line.partition(" ") for line in finding.code.splitlines()]
    if not numbered or not all(number.isdigit() for number, _, _ in numbered):
        return head if not finding.code else Text.assemble(head, "\n", finding.code)
    suffix = PurePosixPath(finding.file).suffix
    lexer = _LEXERS.get(suffix) or Syntax.guess_lexer(finding.file or "x.txt")
    code = Syntax(
        "\n".join(text for _, _, text in numbered),
        lexer,
        line_numbers=True,
        start_line=int(numbered[0][0]),
        highlight_lines={finding.line} if finding.line else None,
        theme="ansi_dark",
        word_wrap=False,
    )
    return Group(head, Text(""), code)
