"""Alembic environment of portvakt: runs on the connection migrate.upgrade() hands in, or on a URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from portvakt.storage.sql.engine import make_engine
from portvakt.storage.sql.schema import metadata


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations; SQLite alters tables in batch (copy-and-move) mode."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    """Use the caller's connection, else `sqlalchemy.url` or PORTVAKT_DATABASE_URL (online mode only)."""
    if context.is_offline_mode():
        raise SystemExit("portvakt migrations run online only")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or os.environ["PORTVAKT_DATABASE_URL"]
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            run_migrations(conn)
    finally:
        engine.dispose()


main()
