"""Alembic environment: runs on the connection the app hands it (tui.db.migrate), or on
`sqlalchemy.url` when run as `alembic -x url=...` from the command line."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from tui.db.models import Base

QUEUE_PREFIX = "procrastinate_"

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """procrastinate's tables (0010, PostgreSQL) are its own: not in our models, not ours to
    drop when Alembic compares."""
    return not (type_ == "table" and reflected and str(name).startswith(QUEUE_PREFIX))


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = engine_from_config(
        {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        _configure_and_run(conn)


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run them on a database.")
run_migrations_online()
