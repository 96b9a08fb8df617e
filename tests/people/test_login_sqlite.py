"""On SQLite: after people are made, log in (with a rehash) and change passwords, no row of any table holds
a password, and no log line does either."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from portvakt.domain import usecases as uc
from portvakt.domain.people import add_person, set_password
from portvakt.domain.portal_client import PORTAL_CLIENT_SCOPES
from portvakt.settings import AltinnSettings, Settings
from portvakt.storage.sql import SqlStore, upgrade
from portvakt.wiring import Overrides, assemble
from tests.api.v1.conftest import token_for
from tests.conftest import ISSUER, OPERATOR, VENDOR, World
from tests.people.conftest import IDA_ROLES, OP, PASSWORD, fast_hasher

__all__ = ["token_for"]
NEW_PASSWORD = "ny og lang passordfrase"
#: The portal's own client_id (PORTVAKT_PORTAL__CLIENT_ID): only its tokens log people in.
PORTAL = "portvakt-portal"


def dump(path: Path) -> str:
    """Every row of every table, as text."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(repr(row) for t in tables for row in db.execute(f'SELECT * FROM "{t}"'))  # noqa: S608


def test_no_password_in_any_row_or_log(tmp_path: Path, world: World, token_for: Callable[..., str],
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "portvakt.db"
    upgrade(f"sqlite:///{path}")
    store = SqlStore(f"sqlite:///{path}")
    now = world.clock.now()
    with store.begin() as uow:
        for orgno in {r.orgno for r in IDA_ROLES}:
            uc.add_org(uow, orgno, f"Org {orgno}", OP, now)
        add_person(uow, fast_hasher(), username="ida", name="Ida", mobile="+4791234567", password=PASSWORD,
                   roles=IDA_ROLES, actor=OP, now=now)
    settings = Settings(data_dir=tmp_path, altinn=AltinnSettings(token_issuer=ISSUER))
    assert settings.portal.client_id == PORTAL
    app = assemble(settings, ("altinn",), Overrides(store=store, clock=world.clock, token_http=world.http))
    headers = {"authorization": f"Bearer {token_for(OPERATOR, *PORTAL_CLIENT_SCOPES, client_id=PORTAL)}"}
    with TestClient(app) as http:
        ok = http.post("/accessmanagement/api/v1/portal/login", json={"username": "ida", "password": PASSWORD},
                       headers=headers)
        assert ok.status_code == 200 and ok.json()["roles"][1]["orgno"] == VENDOR
        bad = http.post("/accessmanagement/api/v1/portal/login", json={"username": "ida", "password": NEW_PASSWORD},
                        headers=headers)
        assert bad.status_code == 401
    with store.begin() as uow:
        set_password(uow, fast_hasher(), "ida", NEW_PASSWORD, OP, now)
    store.close()
    rows = dump(path)
    assert rows.count("$argon2id$") == 1, "one hash, the current one; none in the audit trail"
    assert "m=1024" in rows, "the set_password hash replaced the login's rehash"
    for secret in (PASSWORD, NEW_PASSWORD):
        assert secret not in rows and secret not in caplog.text
