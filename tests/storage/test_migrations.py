"""The packaged Alembic migrations: upgrade from empty, report head, match schema.py exactly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from portvakt.storage.sql import current, make_engine, upgrade
from portvakt.storage.sql.migrate import config, head
from portvakt.storage.sql.schema import metadata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that was never migrated."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url: str = request.getfixturevalue("fresh_pg_url")
    return url


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_head_is_the_initial_revision() -> None:
    assert head() == "0001"


def test_upgrade_empty_database_to_head(empty_url: str) -> None:
    assert current(empty_url) is None
    upgrade(empty_url)
    assert current(empty_url) == head()
    assert _tables(empty_url) >= set(metadata.tables)


def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    upgrade(empty_url)
    upgrade(empty_url)
    assert current(empty_url) == head()


def test_migrated_schema_matches_schema_py(empty_url: str) -> None:
    """Autogenerate finds nothing to do: the migration and schema.py describe the same tables."""
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(empty_url: str) -> None:
    upgrade(empty_url)
    _with_connection(empty_url, lambda conn: command.downgrade(config(conn), "base"))
    assert current(empty_url) is None
    assert _tables(empty_url) <= {"alembic_version"}
    upgrade(empty_url)
    assert current(empty_url) == head()


def _with_connection(url: str, action: Callable[[sa.Connection], None]) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            action(conn)
    finally:
        engine.dispose()
