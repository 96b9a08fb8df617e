"""How each client key was made (docs/protocol.md §3.3 `origin`): stored with the key on every store, kept when the
same key is posted again; 0007 adds the column with NULL for the keys already stored, and drops it going back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from portvakt.domain.audit import Actor
from portvakt.domain.clients import replace_client_keys
from portvakt.domain.models import KeyOrigin
from portvakt.domain.ports import Store
from portvakt.storage.sql import SqlStore, current, make_engine, upgrade
from portvakt.storage.sql.migrate import config, head

from .builders import ORG_A, T0, client, key, org

OP = Actor.operator("test")


def test_the_origin_round_trips_with_the_key(store: Store) -> None:
    keys = (dataclasses.replace(key("p"), origin=KeyOrigin.PKCS12), dataclasses.replace(key("b", n="AQAC"),
                                                                                      origin=KeyOrigin.BROWSER),
            key("old", n="AQAD"))
    with store.begin() as uow:
        uow.put_client(client("c1", keys=keys))
    with store.read() as uow:
        found = uow.get_client("c1")
        [listed] = uow.list_clients(client_orgno=ORG_A)
    assert found is not None
    assert [k.origin for k in found.keys] == [KeyOrigin.PKCS12, KeyOrigin.BROWSER, None]
    assert [k.origin for k in listed.keys] == [KeyOrigin.PKCS12, KeyOrigin.BROWSER, None]


def test_a_new_key_gets_its_origin_and_a_key_posted_again_keeps_its_own(store: Store) -> None:
    """The origin is recorded when a key is first posted; re-posting it (the portal's read-modify-write) keeps it."""
    with store.begin() as uow:
        uow.put_org(org(ORG_A))
        uow.put_client(client("c1", keys=(key("legacy"),)))
    jwk = {**key("pasted", n="AQAC").jwk}
    with store.begin() as uow:
        legacy = uow.get_client("c1")
        assert legacy is not None
        replace_client_keys(uow, "c1", [("legacy", legacy.keys[0].jwk), ("pasted", jwk)], OP, T0,
                            {"pasted": KeyOrigin.PASTE, "legacy": KeyOrigin.BROWSER})
    with store.begin() as uow:
        replace_client_keys(uow, "c1", [("legacy", legacy.keys[0].jwk), ("pasted", jwk),
                                        ("posted", key("posted", n="AQAD").jwk)], OP, T0, {"pasted": KeyOrigin.PKCS12})
    with store.read() as uow:
        found = uow.get_client("c1")
    assert found is not None
    assert {k.kid: k.origin for k in found.keys} == {"legacy": None, "pasted": KeyOrigin.PASTE,
                                                     "posted": KeyOrigin.API}


def test_another_key_under_the_same_kid_is_a_new_key_with_its_own_origin(store: Store) -> None:
    with store.begin() as uow:
        uow.put_org(org(ORG_A))
        uow.put_client(client("c1", keys=(dataclasses.replace(key("k"), origin=KeyOrigin.PASTE),)))
    with store.begin() as uow:
        replace_client_keys(uow, "c1", [("k", key("k", n="AQAC").jwk)], OP, T0, {"k": KeyOrigin.BROWSER})
    with store.read() as uow:
        found = uow.get_client("c1")
    assert found is not None and found.keys[0].origin is KeyOrigin.BROWSER


def test_0007_adds_the_origin_to_a_0006_database_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0006")
    engine = make_engine(url)
    old_keys = sa.table("client_keys", sa.column("client_id"), sa.column("kid"), sa.column("position"),
                        sa.column("jwk", sa.JSON()), sa.column("created"), sa.column("expires"))
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO clients (client_id, client_name, client_orgno, integration_type, scopes, "
                             "created, last_updated, description, application_type, token_endpoint_auth_method, "
                             "grant_types, active) VALUES ('c1', 'n', :org, 'maskinporten', '[]', :t, :t, '', 'web', "
                             "'private_key_jwt', '[]', 1)"), {"org": ORG_A, "t": T0.isoformat()})
        conn.execute(sa.insert(old_keys).values(client_id="c1", kid="k", position=0, jwk=key("k").jwk,
                                                created=T0.isoformat(), expires=T0.isoformat()))
    engine.dispose()
    upgrade(url)
    assert current(url) == head()
    store = SqlStore(url)
    with store.read() as uow:
        found = uow.get_client("c1")
    assert found is not None and [(k.kid, k.origin) for k in found.keys] == [("k", None)]
    with store.begin() as uow:
        uow.put_client(dataclasses.replace(found, keys=(dataclasses.replace(found.keys[0], origin=KeyOrigin.API),)))
    store.close()
    engine = make_engine(url)
    with engine.begin() as conn:
        command.downgrade(config(conn), "0006")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("client_keys")}
        assert conn.execute(sa.text("SELECT kid FROM client_keys")).scalars().all() == ["k"]
    engine.dispose()
    assert "origin" not in columns and current(url) == "0006"


@pytest.mark.parametrize("origin", list(KeyOrigin))
def test_every_origin_fits_its_column(store: Store, origin: KeyOrigin) -> None:
    with store.begin() as uow:
        uow.put_client(client("c1", keys=(dataclasses.replace(key("k"), origin=origin),)))
    with store.read() as uow:
        found = uow.get_client("c1")
    assert found is not None and found.keys[0].origin is origin
