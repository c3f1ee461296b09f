"""Where the files that ship beside the code live.

A wheel carries `thesis.tcss` and `migrations/` inside the package; an editable or source
checkout keeps them at the top of the repository. Look inside first, then beside.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.exists() else _PACKAGE.parent / name


def stylesheet_path() -> Path:
    return _shipped("thesis.tcss")


def migrations_path() -> Path:
    return _shipped("migrations")


def analyzers_path() -> Path:
    return _shipped("analyzers")
