"""Data layer: typed models, the engine and sessions, migrations and read queries."""

from tui.db.opening import open_database
from tui.db.session import Database

__all__ = ["Database", "open_database"]
