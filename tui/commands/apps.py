"""`thesis apps ...`."""

from __future__ import annotations

import click


@click.group()
def apps() -> None:
    """Apps (filled in by issue 3)."""
