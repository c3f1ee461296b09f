"""`thesis ports ...`."""

from __future__ import annotations

import click


@click.group()
def ports() -> None:
    """Ports (filled in by issue 3)."""
