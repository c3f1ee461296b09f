"""`thesis keys`: every key of the TUI, screen by screen, as its help screen lists them.

`--markdown` prints the README's key tables (a test checks the README against it).
"""

from __future__ import annotations

import click


def screens() -> list[tuple[str, type]]:
    """(title, screen class) for each screen a user can reach, in key order."""
    from tui.screens.analyses import AnalysesScreen
    from tui.screens.analysis_detail import AnalysisDetailScreen
    from tui.screens.applications import ApplicationsScreen
    from tui.screens.batch import BatchJobsScreen, JobScreen
    from tui.screens.charts import ChartsScreen
    from tui.screens.dashboard import DashboardScreen
    from tui.screens.models import ModelsScreen
    from tui.screens.ports import PortsScreen
    from tui.screens.reports import RankingScreen, ReportsScreen
    from tui.screens.templates import TemplatesScreen
    from tui.screens.usage import UsageScreen
    from tui.screens.workers import WorkersScreen

    return [
        ("0 · Dashboard", DashboardScreen),
        ("1 · Models", ModelsScreen),
        ("2 · Applications", ApplicationsScreen),
        ("3 · Ports", PortsScreen),
        ("4 · Analyses", AnalysesScreen),
        ("4 · Analyses → enter: one analysis", AnalysisDetailScreen),
        ("5 · Batch jobs", BatchJobsScreen),
        ("5 · Batch jobs → enter: one job", JobScreen),
        ("5 · Batch jobs → W: workers", WorkersScreen),
        ("6 · Reports", ReportsScreen),
        ("6 · Reports → K: the ranking", RankingScreen),
        ("6 · Reports → c: charts", ChartsScreen),
        ("$ · Usage & cost (from any screen)", UsageScreen),
        ("T · Templates (from any screen)", TemplatesScreen),
    ]


def keys_document(markdown: bool) -> str:
    from tui.screens.help import help_sections
    from tui.widgets.keys import markdown_table

    seen: set[tuple[str, str]] = set()
    out: list[str] = []
    for title, screen in screens():
        for heading, keys in help_sections(screen):
            # "Every table" and "Everywhere" once, after the first screen that has them.
            shared = heading in ("Every table", "Everywhere") or heading.startswith("The ")
            name = heading if shared else title
            if (name, heading) in seen:
                continue
            seen.add((name, heading))
            if markdown:
                out += [f"**{name}**", "", markdown_table(keys), ""]
            else:
                out.append(name)
                width = max(len(k.key) for k in keys) + 2
                out += [f"  {k.key:<{width}}{k.help}" for k in keys]
                out.append("")
    return "\n".join(out).rstrip() + "\n"


@click.command()
@click.option("--markdown", is_flag=True, help="Markdown tables (as in the README).")
def keys(markdown: bool) -> None:
    """Every key of the terminal UI, screen by screen."""
    click.echo(keys_document(markdown), nl=False)
