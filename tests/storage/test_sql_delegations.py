"""SQL-only properties of schemes and delegations: indexed lookups on both databases, UTC, foreign key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portvakt.domain.ports import UnitOfWork
from portvakt.storage.sql import SqlStore, make_engine
from portvakt.storage.sql.schema import delegations

from .builders import ORG_B, ORG_C, T0, delegation, scheme
from .statements import sent_statements

HAS = "has_delegation"
BY_SCOPE = "list_schemes(scope=...)"
QUERIES: dict[str, Callable[[UnitOfWork], object]] = {
    HAS: lambda uow: uow.has_delegation(ORG_B, ORG_C, "brreg:a"),
    BY_SCOPE: lambda uow: uow.list_schemes(scope="brreg:a"),
}


def _plans(store: SqlStore, work: Callable[[UnitOfWork], object]) -> list[str]:
    """The database's plans of the SELECTs that `work` really sends (PostgreSQL: with sequential scans off,
    so a usable index shows even on these tiny tables)."""
    sent = sent_statements(store, work)
    selects = [(sql, params) for sql, params in sent  # not PostgreSQL's advisory lock of begin()
               if sql.lstrip().upper().startswith("SELECT") and "delegation" in sql]
    with store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            return [" / ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
                    for sql, params in selects]
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return [" / ".join(str(r[0]).strip() for r in conn.exec_driver_sql(f"EXPLAIN {sql}", params))
                for sql, params in selects]


@pytest.fixture
def seeded(sql_url: str) -> SqlStore:
    store = SqlStore(sql_url)
    with store.begin() as uow:
        uow.put_scheme(scheme("s1", scopes=("brreg:a", "brreg:b")))
        uow.put_scheme(scheme("s2", scopes=("brreg:a",), active=False))
        uow.put_delegation(delegation("d1", ORG_B, ORG_C, "s1"))
        uow.put_delegation(delegation("d2", ORG_C, ORG_B, "s2", revoked=T0))
    return store


def test_has_delegation_is_one_indexed_statement(seeded: SqlStore) -> None:
    plans = _plans(seeded, QUERIES[HAS])
    seeded.close()
    assert len(plans) == 1
    plan = plans[0]
    assert "ix_delegations_supplier_consumer" in plan
    assert "delegation_schemes_pkey" in plan or "sqlite_autoindex_delegation_schemes_1 (scheme_id=?)" in plan
    assert ("sqlite_autoindex_delegation_scheme_scopes_1 (scheme_id=? AND scope=?)" in plan
            or "delegation_scheme_scopes_pkey" in plan  # PostgreSQL: either index, on both columns
            or ("ix_delegation_scheme_scopes_scope" in plan and "(scheme_id = (delegation" in plan))
    assert "Seq Scan" not in plan
    assert "SCAN delegation" not in plan


def test_schemes_naming_a_scope_is_an_indexed_query(seeded: SqlStore) -> None:
    plans = _plans(seeded, QUERIES[BY_SCOPE])
    seeded.close()
    assert len(plans) == 1
    assert "ix_delegation_scheme_scopes_scope" in plans[0]
    assert "Seq Scan" not in plans[0]
    assert "SCAN delegation" not in plans[0]
    assert "TEMP B-TREE" not in plans[0]  # SQLite reads the scope index in scheme_id order


def test_scheme_and_delegation_timestamps_come_back_aware_utc(sql_url: str) -> None:
    oslo = timezone(timedelta(hours=2))
    local = datetime(2025, 6, 1, 14, 0, 0, 5, tzinfo=oslo)
    store = SqlStore(sql_url)
    with store.begin() as uow:
        uow.put_scheme(scheme("s1", created=local, last_updated=local))
        uow.put_delegation(delegation("d1", created=local, revoked=local + timedelta(hours=1)))
    with store.read() as uow:
        found_scheme, found = uow.get_scheme("s1"), uow.get_delegation("d1")
    store.close()
    assert found_scheme is not None
    assert found is not None
    assert found.revoked is not None
    stamps = (found_scheme.created, found_scheme.last_updated, found.created, found.revoked)
    assert all(s.utcoffset() == timedelta(0) for s in stamps)
    assert (found.created, found.created.hour, found.revoked.hour) == (local, 12, 13)


def test_naive_delegation_timestamps_are_refused(sql_url: str) -> None:
    store = SqlStore(sql_url)
    with store.begin() as uow:
        uow.put_scheme(scheme("s1"))
    with pytest.raises(sa.exc.StatementError, match="naive"), store.begin() as uow:
        uow.put_delegation(delegation("d1", revoked=datetime(2025, 1, 1)))
    store.close()


def test_the_database_keeps_delegations_to_known_schemes(sql_url: str) -> None:
    """Behind the store's own NotFound check, the foreign key holds."""
    engine = make_engine(sql_url)
    row = {"delegation_id": "d1", "consumer_orgno": ORG_B, "supplier_orgno": ORG_C, "scheme_id": "nope",
           "created": T0}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(delegations).values(row))
    engine.dispose()
