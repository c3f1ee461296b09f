"""`thesis generate MODEL --templates ...`: build apps with a model, from templates."""

from __future__ import annotations

import sys

import click

from tui.commands.base import Context, handles_errors, pass_context
from tui.errors import ThesisError, shown


@click.command()
@click.argument("model")
@click.option("--templates", "spec", required=True, metavar="1-30|SLUG,…",
              help="Templates by number, range or slug, e.g. 1-30 or blog,3.")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace apps that exist already.")
@click.option("--stream", is_flag=True, help="Print the model's answers as they come.")
@click.option("--estimate", is_flag=True, help="Print what it should cost, and ask nothing.")
@pass_context
@handles_errors
def generate(
    context: Context, model: str, spec: str, force: bool, stream: bool, estimate: bool
) -> None:
    """Generate MODEL's apps from templates (app N from template N) through OpenRouter."""
    from tui.services.generation.generator import generate_app
    from tui.services.generation.templates import load_templates

    catalogue = load_templates(context.settings.templates_dir)
    chosen = catalogue.select(spec)
    db = context.database()
    if estimate:
        from tui.services.generation.estimate import estimate_cost

        (guess,) = estimate_cost(db, [model], chosen)
        usd = "no price in the catalogue" if guess.usd is None else f"about {guess.usd:.4f} USD"
        click.echo(f"{model}: {guess.apps} apps, about {guess.prompt_tokens:,} prompt and "
                   f"{guess.completion_tokens:,} completion tokens ({guess.basis}): {usd}, "
                   "more if answers are asked for again")  # fmt: skip
        return
    failed = 0

    def say(line: str) -> None:
        click.echo(shown(line), err=stream)

    def show(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    for loaded in chosen:
        template = loaded.template
        label = f"{model} app {template.number} ({template.slug})"
        try:
            done = generate_app(
                db, context.settings, model, loaded, force=force, log=say if stream else _quiet,
                on_text=show if stream else None,
            )  # fmt: skip
        except ThesisError as exc:
            failed += 1
            click.echo(f"thesis: {label}: {exc.msg}", err=True)
            continue
        click.echo(f"{label}: {done.path} · {len(done.calls)} calls · {done.tokens:,} tokens "
                   f"· {done.cost:.4f} USD")  # fmt: skip
    if failed:
        sys.exit(1)


def _quiet(_line: str) -> None:
    pass
