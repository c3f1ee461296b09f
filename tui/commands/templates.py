"""`thesis templates ...`: the app templates a study generates its apps from."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tui.commands.base import Context, echo_json, handles_errors, pass_context
from tui.errors import shown


def _catalogue(context: Context):  # type: ignore[no-untyped-def]
    from tui.services.generation.templates import load_templates

    catalogue = load_templates(context.settings.templates_dir)
    for problem in catalogue.problems:
        click.echo(f"thesis: template left out: {shown(problem)}", err=True)
    return catalogue


@click.group()
def templates() -> None:
    """App templates: what app N of a study is (ours, and THESIS_TEMPLATES_DIR's)."""


@templates.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
@handles_errors
def templates_list(context: Context, as_json: bool) -> None:
    """List the templates in force, by number."""
    loaded = _catalogue(context).all()
    if as_json:
        echo_json([
            {"number": t.template.number, "slug": t.template.slug, "name": t.template.name,
             "category": t.template.category, "endpoints": len(t.template.endpoints),
             "source": t.source, "path": str(t.path)}
            for t in loaded
        ])  # fmt: skip
        return
    click.echo(f"{'N':>2}  {'slug':<22} {'category':<14} {'endpoints':>9}  {'source':<6} name")
    for t in loaded:
        template, endpoints = t.template, len(t.template.endpoints)
        click.echo(f"{template.number:>2}  {template.slug:<22} {template.category:<14} "
                   f"{endpoints:>9}  {t.source:<6} {shown(template.name)}")  # fmt: skip


@templates.command("show")
@click.argument("template")
@click.option("--json", "as_json", is_flag=True, help="Print the template as JSON.")
@pass_context
@handles_errors
def templates_show(context: Context, template: str, as_json: bool) -> None:
    """Show TEMPLATE (its slug or number): requirements, endpoints, data model."""
    from tui.services.generation.templates import describe, dumps

    loaded = _catalogue(context).get(template)
    click.echo(dumps(loaded.template) if as_json else describe(loaded.template, loaded.path))


@templates.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@handles_errors
def templates_check(files: tuple[Path, ...]) -> None:
    """Check template FILES against the schema (exit 1 naming the first problem of each)."""
    from tui.errors import ThesisError
    from tui.services.generation.templates import read_template

    bad = 0
    for path in files:
        try:
            template = read_template(path)
        except ThesisError as exc:
            click.echo(f"thesis: {exc.msg}", err=True)
            bad += 1
            continue
        click.echo(f"{shown(str(path))}: template {template.number} {template.slug} is valid")
    if bad:
        raise SystemExit(1)


@templates.command("schema")
def templates_schema() -> None:
    """Print the JSON Schema of a template file."""
    from tui.services.generation.templates import template_schema

    click.echo(json.dumps(template_schema(), indent=1))
