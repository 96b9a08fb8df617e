"""SQL-only properties: URLs, SQLite pragmas, UTC timestamps, indexes behind list_clients and audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from portvakt.domain.models import Organisation
from portvakt.domain.ports import UnitOfWork
from portvakt.storage.sql import SqlStore, make_engine, normalise_url
from portvakt.storage.sql.schema import client_keys, delegation_sources

from .builders import ORG_A, T0, client, event, key
from .statements import sent_statements


@pytest.mark.parametrize(("given", "driver"), [
    ("sqlite:///x.db", "sqlite+pysqlite"),
    ("sqlite+pysqlite:///x.db", "sqlite+pysqlite"),
    ("postgresql://u:p@h/db", "postgresql+psycopg"),
    ("postgres://u@h:5433/db", "postgresql+psycopg"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
])
def test_normalise_url_picks_the_drivers(given: str, driver: str) -> None:
    assert normalise_url(given).drivername == driver


def test_other_backends_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        normalise_url("mysql://u@h/db")


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/p.db")
    with engine.connect() as conn:
        pragmas = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                   for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")}
    assert pragmas == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 2000, "foreign_keys": 1}
    engine.dispose()


def test_timestamps_come_back_aware_utc_whatever_zone_went_in(sql_url: str) -> None:
    oslo = timezone(timedelta(hours=2))
    local = datetime(2025, 6, 1, 14, 0, 0, 5, tzinfo=oslo)
    store = SqlStore(sql_url)
    with store.begin() as uow:
        uow.put_org(Organisation(orgno=ORG_A, name="x", created=local))
    with store.begin() as uow:
        found = uow.get_org(ORG_A)
    store.close()
    assert found is not None
    assert found.created == local
    assert found.created.utcoffset() == timedelta(0)
    assert found.created.hour == 12


def test_naive_timestamps_are_refused(sql_url: str) -> None:
    store = SqlStore(sql_url)
    with pytest.raises(sa.exc.StatementError, match="naive"), store.begin() as uow:
        uow.put_org(Organisation(orgno=ORG_A, name="x", created=datetime(2025, 1, 1)))
    store.close()


def _plans(store: SqlStore, work: Callable[[UnitOfWork], object]) -> list[str]:
    """SQLite's query plans of the SELECTs that `work` really sends."""
    sent = sent_statements(store, work)
    with store.engine.connect() as conn:
        return [" / ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
                for sql, params in sent if sql.lstrip().upper().startswith("SELECT")]


def test_sqlite_list_clients_and_audit_use_their_indexes(make_sql_url: Callable[[str], str]) -> None:
    store = SqlStore(make_sql_url("sqlite"))
    with store.begin() as uow:
        uow.put_client(client("c1", orgno=ORG_A, supplier_orgno=ORG_A, keys=(key("k"),)))
        uow.append_audit(event("c1", (ORG_A,)))
    by_org = _plans(store, lambda uow: uow.list_clients(client_orgno=ORG_A, after_client_id="c", limit=50))
    by_supplier = _plans(store, lambda uow: uow.list_clients(supplier_orgno=ORG_A))
    audit = _plans(store, lambda uow: uow.list_audit(org=ORG_A, entity_kind="client"))
    store.close()
    assert len(by_org) == 1  # the page joined with its keys: one statement
    page_plan, _, outer = by_org[0].partition("SCAN page")
    assert "ix_clients_client_orgno (client_orgno=? AND client_id>?)" in page_plan
    assert "TEMP B-TREE" not in page_plan  # the page comes in index order; only its rows are sorted after
    assert "client_keys USING INDEX" in outer
    assert "ix_clients_supplier_orgno" in by_supplier[0]
    assert "audit_event_orgs" in audit[0]
    assert "TEMP B-TREE" not in audit[0]


def test_the_database_keeps_issuers_unique(sql_url: str) -> None:
    """Behind the store's own Conflict check, the unique constraint holds."""
    engine = make_engine(sql_url)
    row = {"issuer": "https://altinn.example/", "created": T0, "last_updated": T0}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(delegation_sources), [{"name": "a", **row}, {"name": "b", **row}])
    engine.dispose()


def test_the_database_keeps_kids_unique_across_clients(sql_url: str) -> None:
    """Behind the domain's check and the store's Conflict, the unique index uq_client_keys_kid holds."""
    store = SqlStore(sql_url)
    with store.begin() as uow:
        uow.put_client(client("c1", keys=(key("k"),)))
        uow.put_client(client("c2"))
    store.close()
    engine = make_engine(sql_url)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(client_keys).values(client_id="c2", position=0, **_key_row("k")))
    engine.dispose()


def _key_row(kid: str) -> dict[str, object]:
    k = key(kid)
    return {"kid": kid, "jwk": k.jwk, "created": k.created, "expires": k.expires}
