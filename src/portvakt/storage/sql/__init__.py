"""SQL storage: SQLite by default, PostgreSQL in production; schema from the packaged migrations."""

from .engine import make_engine, normalise_url
from .migrate import current, upgrade
from .replay import SqlReplayCache
from .store import SqlStore

__all__ = ["SqlReplayCache", "SqlStore", "current", "make_engine", "normalise_url", "upgrade"]
