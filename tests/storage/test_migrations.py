"""The packaged Alembic migrations: upgrade from empty, report head, match schema.py exactly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from portvakt.cli import app
from portvakt.domain.errors import Conflict
from portvakt.domain.models import Organisation
from portvakt.storage.sql import SqlReplayCache, SqlStore, current, make_engine, upgrade
from portvakt.storage.sql.migrate import config, head
from portvakt.storage.sql.rows import client_values, key_values
from portvakt.storage.sql.schema import UtcDateTime, clients, metadata, organisations

from .builders import ORG_A, ORG_B, ORG_C, client, delegation, key, person, role, scheme, source


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


def test_head_is_the_newest_revision() -> None:
    assert head() == "0008"


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


def _with_connection(url: str, action: Callable[[sa.Connection], object]) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            action(conn)
    finally:
        engine.dispose()


def test_0002_keeps_the_data_and_recreates_used_grants(empty_url: str) -> None:
    """From 0001 with data: organisations survive, old grant keys go, the new tables work; and back."""
    upgrade(empty_url, "0001")
    created = datetime(2025, 1, 1, tzinfo=UTC)
    old_grants = sa.table("used_grants", sa.column("key"), sa.column("expires"))
    _with_connection(empty_url, lambda conn: conn.execute(sa.insert(organisations).values(
        orgno=ORG_A, name="x", created=created)))
    _with_connection(empty_url, lambda conn: conn.execute(sa.insert(old_grants).values(
        key=b"k" * 32, expires=created)))
    upgrade(empty_url)
    assert current(empty_url) == head()
    store = SqlStore(empty_url)
    with store.begin() as uow:
        assert [o.orgno for o in uow.list_orgs()] == [ORG_A]
        uow.put_delegation_source(source("altinn"))
    store.close()
    cache = SqlReplayCache(empty_url)
    assert cache.first_use(b"k" * 32, datetime.now(UTC) + timedelta(minutes=1)) is True
    cache.close()
    _with_connection(empty_url, lambda conn: command.downgrade(config(conn), "0001"))
    assert current(empty_url) == "0001"
    assert "delegation_sources" not in _tables(empty_url)
    upgrade(empty_url)
    assert current(empty_url) == head()


def test_0003_adds_schemes_and_delegations_to_a_0002_database_and_back(empty_url: str) -> None:
    """From 0002 with data: it survives, schemes and delegations work; downgrading drops just them."""
    upgrade(empty_url, "0002")
    store = SqlStore(empty_url)
    with store.begin() as uow:
        uow.put_org(Organisation(orgno=ORG_A, name="x", created=datetime(2025, 1, 1, tzinfo=UTC)))
        uow.put_delegation_source(source("altinn"))
    store.close()
    upgrade(empty_url, "0003")
    assert current(empty_url) == "0003"
    store = SqlStore(empty_url)
    with store.begin() as uow:
        assert [o.orgno for o in uow.list_orgs()] == [ORG_A]
        uow.put_scheme(scheme("s1", scopes=("brreg:a",)))
        uow.put_delegation(delegation("d1", ORG_B, ORG_C, "s1"))
    with store.read() as uow:
        assert uow.has_delegation(ORG_B, ORG_C, "brreg:a") is True
    store.close()
    _with_connection(empty_url, lambda conn: command.downgrade(config(conn), "0002"))
    assert current(empty_url) == "0002"
    assert not {"delegation_schemes", "delegation_scheme_scopes", "delegations"} & _tables(empty_url)
    assert "delegation_sources" in _tables(empty_url)
    upgrade(empty_url)
    assert current(empty_url) == head()


def test_0004_adds_people_and_the_audit_person_to_a_0003_database_and_back(empty_url: str) -> None:
    """From 0003 with an audit event: it survives without a person; people work; downgrading drops just them."""
    upgrade(empty_url, "0003")
    old_events = sa.table("audit_events", sa.column("at", UtcDateTime()), sa.column("actor_orgno"),
                          sa.column("actor_client_id"), sa.column("action"), sa.column("entity_kind"),
                          sa.column("entity_key"), sa.column("org_scope", sa.JSON()))
    _with_connection(empty_url, lambda conn: conn.execute(sa.insert(old_events).values(
        at=datetime(2025, 1, 1, tzinfo=UTC), actor_orgno=ORG_A, actor_client_id="c", action="org.put",
        entity_kind="org", entity_key=ORG_A, org_scope=[])))
    upgrade(empty_url, "0004")
    assert current(empty_url) == "0004"
    store = SqlStore(empty_url)
    with store.begin() as uow:
        uow.put_person(person("ida@vendor.test", roles=(role(ORG_B),)))
    with store.read() as uow:
        assert [p.username for p in uow.list_people(ORG_B)] == ["ida@vendor.test"]
    store.close()
    found: list[object] = []
    _with_connection(empty_url, lambda conn: found.append(
        conn.execute(sa.text("SELECT actor_person FROM audit_events")).scalar_one()))
    assert found == [None]
    _with_connection(empty_url, lambda conn: command.downgrade(config(conn), "0003"))
    assert current(empty_url) == "0003"
    assert not {"people", "person_roles"} & _tables(empty_url)
    upgrade(empty_url)
    assert current(empty_url) == head()


#: client_keys as 0001-0006 made it (0007 adds `origin`), to write keys at those revisions.
OLD_CLIENT_KEYS = sa.table("client_keys", sa.column("client_id"), sa.column("kid"), sa.column("position"),
                           sa.column("jwk", sa.JSON()), sa.column("created", UtcDateTime()),
                           sa.column("expires", UtcDateTime()))


def _clients_with_kids(url: str, *kid_sets: tuple[str, ...]) -> None:
    """Clients c0, c1, … holding the given kids, written as rows of a revision before 0007."""
    def write(conn: sa.Connection) -> None:
        for i, kids in enumerate(kid_sets):
            made = client(f"c{i}", keys=tuple(key(k) for k in kids))
            conn.execute(sa.delete(OLD_CLIENT_KEYS).where(OLD_CLIENT_KEYS.c.client_id == made.client_id))
            conn.execute(sa.delete(clients).where(clients.c.client_id == made.client_id))
            conn.execute(sa.insert(clients).values(client_values(made)))
            for row in key_values(made.client_id, made.keys):
                conn.execute(sa.insert(OLD_CLIENT_KEYS).values({k: v for k, v in row.items() if k != "origin"}))

    _with_connection(url, write)


def test_0006_makes_kids_unique_across_clients_and_back(empty_url: str) -> None:
    """From 0005 with distinct kids: the keys survive, a kid of another client is refused; downgrading drops it."""
    upgrade(empty_url, "0005")
    _clients_with_kids(empty_url, ("a", "b"), ("c",))
    upgrade(empty_url)
    assert current(empty_url) == head()
    store = SqlStore(empty_url)
    with store.read() as uow:
        assert uow.get_key_holders(["a", "b", "c"]) == {"a": "c0", "b": "c0", "c": "c1"}
    with pytest.raises(Conflict), store.begin() as uow:
        uow.put_client(client("c2", keys=(key("a"),)))
    store.close()
    _with_connection(empty_url, lambda conn: command.downgrade(config(conn), "0005"))
    assert current(empty_url) == "0005"
    _clients_with_kids(empty_url, ("a", "b"), ("c",), ("a",))
    with pytest.raises(SystemExit):
        upgrade(empty_url)


def test_0006_refuses_a_database_where_clients_share_a_kid(empty_url: str) -> None:
    """No traceback and no change: the message names each shared kid and its clients, and how to go on."""
    upgrade(empty_url, "0004")
    _clients_with_kids(empty_url, ("shared", "own"), ("shared",), ("twice", "x"), ("twice",), ("fine",))
    with pytest.raises(SystemExit) as refused:
        upgrade(empty_url)
    message = str(refused.value.code)
    assert 'kid "shared" on clients c0, c1' in message and 'kid "twice" on clients c2, c3' in message
    assert '"own"' not in message and '"fine"' not in message
    assert "POST /api/v1/clients/{client_id}/jwks" in message and "upgrade again" in message
    assert current(empty_url) == "0004", "the whole upgrade is rolled back, 0005 too"
    _clients_with_kids(empty_url, ("shared", "own"), ("shared-2",), ("twice", "x"), ("twice-2",), ("fine",))
    upgrade(empty_url)
    assert current(empty_url) == head()


def test_0006_refusal_is_one_readable_line_per_kid_in_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`portvakt init` (and every command that opens the store) prints the refusal and exits 1, no traceback."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    _clients_with_kids(url, *[(f"kid-{i}",) for i in range(12)], *[(f"kid-{i}",) for i in range(12)])
    monkeypatch.setenv("PORTVAKT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PORTVAKT_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 1
    said = result.output
    assert "Traceback" not in said and "cannot upgrade the database" in said
    assert 'kid "kid-0" on clients c0, c12' in said and "and 2 more shared kids" in said
    shown = sorted(f"kid-{i}" for i in range(12))[:10]  # the first ten shared kids, in kid order
    assert [line for line in said.splitlines() if line.startswith("  kid ")] == [
        f'  kid "{kid}" on clients {", ".join(sorted([f"c{i}", f"c{i + 12}"]))}'
        for kid, i in ((kid, int(kid.removeprefix("kid-"))) for kid in shown)]
    assert current(url) == "0005"
