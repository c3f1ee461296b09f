"""Data layer: typed models, the engine and sessions, migrations and read queries."""

from tui.db.session import Database, open_database

__all__ = ["Database", "open_database"]
