"""The newest schema revision, read from the migration files without importing Alembic.

Every start checks the database is at the newest revision; Alembic (half a second to
import) is only loaded when it is not, to migrate. tests/test_migrations.py checks this
agrees with Alembic's own answer.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from tui.paths import migrations_path

_REVISION = re.compile(r'^revision: str = "([^"]+)"', re.M)
_DOWN = re.compile(r'^down_revision: str \| None = (?:"([^"]+)"|None)', re.M)


@cache
def head_from_files(folder: Path | None = None) -> str | None:
    """The revision no other migration revises (None when there are none, or several)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (folder or migrations_path() / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            return None  # a file this reader does not understand: let Alembic decide
        revisions.add(revision.group(1))
        if down.group(1):
            revised.add(down.group(1))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None
