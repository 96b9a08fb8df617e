"""SQL-only properties of Store.read(): the database refuses writes too, and the mode never leaks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from portvakt.storage.sql import SqlStore
from portvakt.storage.sql.schema import organisations
from portvakt.storage.sql.uow import SqlUnitOfWork

from .builders import ORG_A, ORG_B, T0, org


def _conn(uow: SqlUnitOfWork) -> Connection:
    return uow.tx.conn  # reaching past the port on purpose


def _dbapi_id(uow: SqlUnitOfWork) -> int:
    return id(_conn(uow).connection.dbapi_connection)


def test_the_database_refuses_a_write_that_bypasses_the_guard(sql_url: str) -> None:
    store = SqlStore(sql_url)
    with store.read() as uow, pytest.raises(sa.exc.DBAPIError, match=r"(?i)read-only|readonly"):
        _conn(uow).execute(sa.insert(organisations).values(orgno=ORG_A, name="x", created=T0))
    with store.read() as uow:
        assert uow.list_orgs() == []
    store.close()


def test_a_write_after_a_read_on_the_same_connection_is_not_read_only(sql_url: str) -> None:
    store = SqlStore(sql_url)
    with store.read() as uow:
        uow.list_orgs()
        first = _dbapi_id(uow)
    with store.begin() as uow:
        assert _dbapi_id(uow) == first  # the pool handed the read's connection back out
        uow.put_org(org(ORG_A))
    with store.read() as uow:
        uow.list_orgs()
    with store.begin() as uow:
        uow.put_org(org(ORG_B))
    with store.read() as uow:
        assert [o.orgno for o in uow.list_orgs()] == [ORG_B, ORG_A]
    store.close()


@pytest.mark.postgres
def test_postgres_read_is_repeatable_read_read_only_without_the_store_lock(
    make_sql_url: Callable[[str], str],
) -> None:
    store = SqlStore(make_sql_url("postgres"))
    advisory = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
    with store.read() as uow:
        conn = _conn(uow)
        assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "repeatable read"
        assert conn.execute(advisory).scalar() == 0
    with store.begin() as uow:
        conn = _conn(uow)
        assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "off"
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
        assert conn.execute(advisory).scalar() == 1
    store.close()
