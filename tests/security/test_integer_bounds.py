"""docs/security.md, Input validation: every integer of the /api/v1 schemas has a maximum, so a huge number
is a 400 problem naming the field, not a 500 from the database (SQLite INTEGER is 64-bit, PostgreSQL's 32)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from portvakt.domain.models import Client, IntegrationType
from portvakt.oauth.minter import TokenGrant
from portvakt.settings import Settings
from portvakt.wiring import assemble, prepare

OPERATOR = "991825827"
HUGE = [2**31, 2**63, 2**64 + 1, 10**40]


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[Any]:
    """admin(method, path, json) on a SQLite-backed server, with an operator token for clients and scopes."""
    settings = Settings(data_dir=tmp_path)
    prepare(settings).close()
    app = assemble(settings, ("token",))
    rt = app.runtime
    assert rt is not None
    now = rt.clock.now()
    client = Client(client_id="admin", client_name="admin", client_orgno=OPERATOR, scopes=(), created=now,
                    last_updated=now, integration_type=IntegrationType.MASKINPORTEN)
    grant = TokenGrant(client_id=client.client_id, client_orgno=client.client_orgno, client_amr="private_key_jwt",
                       scopes=("idporten:dcr.write", "idporten:scopes.write"), consumer_orgno=OPERATOR,
                       supplier_orgno=None, delegation_source=None, audience=None, pid=None, lifetime=600)
    token = rt.tokens._minter.mint(grant, int(rt.clock.now().timestamp())).access_token
    with TestClient(app) as http:
        yield lambda method, path, body: http.request(method, f"/api/v1{path}", json=body,
                                                      headers={"authorization": f"Bearer {token}"})


def _refused(r: Any, field: str) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]], r.json()


@pytest.mark.parametrize("value", HUGE)
def test_a_huge_access_token_lifetime_is_a_400_naming_the_field(admin: Any, value: int) -> None:
    _refused(admin("POST", "/clients", {"client_name": "c", "client_orgno": OPERATOR,
                                        "access_token_lifetime": value}), "access_token_lifetime")


def test_the_largest_allowed_lifetime_is_stored(admin: Any) -> None:
    r = admin("POST", "/clients", {"client_name": "c", "client_orgno": OPERATOR, "access_token_lifetime": 2**31 - 1})
    assert r.status_code == 201, r.text
    _refused(admin("PATCH", f"/clients/{r.json()['client_id']}", {"access_token_lifetime": 2**63}),
             "access_token_lifetime")


@pytest.mark.parametrize("field", ["at_max_age", "authorization_max_lifetime"])
def test_huge_scope_integers_are_a_400_naming_the_field(admin: Any, field: str) -> None:
    r = admin("POST", "/scopes", {"prefix": "idporten", "subscope": "big", "description": "d", field: 2**63})
    _refused(r, field)
