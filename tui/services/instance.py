"""This database's instance id: what marks the Docker objects this ThesisApp created.

Several ThesisApp databases may share one Docker engine (two users, a test run beside a
real one). Every container, network and image we create carries `thesis.instance=<id>`,
and what lists or counts them sees only its own. The id is made once per database and kept
in its `settings` table, so every process on that database agrees on it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from tui.db import Database
from tui.db.tables import settings

INSTANCE_KEY = "instance_id"


def instance_id(db: Database) -> str:
    """The id of the ThesisApp instance this database is (made on first use; remembered on
    the Database object, which stands for one database for its whole life)."""
    cached = db.memo.get(INSTANCE_KEY)
    if cached is not None:
        return str(cached)
    stored = select(settings.c.value).where(settings.c.key == INSTANCE_KEY)
    with db.read() as connection:
        found = connection.scalar(stored)
    if not isinstance(found, str):
        try:
            with db.write() as connection:
                connection.execute(
                    insert(settings).values(
                        key=INSTANCE_KEY,
                        value=uuid.uuid4().hex[:16],
                        description="Marks the Docker objects this ThesisApp database created.",
                    )
                )
        except IntegrityError:
            pass  # another process made it first: read theirs
        with db.read() as connection:
            found = connection.scalar(stored)
    db.memo[INSTANCE_KEY] = str(found)
    return str(found)
