"""`thesis models ...`."""

from __future__ import annotations

import click


@click.group()
def models() -> None:
    """Models (filled in by issue 3)."""
