"""Threat: a delegated token on the admin API. A vendor's token for a customer (consumer = the customer,
supplier = the vendor) is not the customer: /api/v1 and the Altinn side refuse it. Every /api/v1 endpoint
names the scope it needs, and people's personal data never reaches another organisation's audit view."""

from __future__ import annotations

import pytest

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.domain.models import PersonRole, PortalRole
from portvakt.domain.people import add_person
from tests.conftest import CONSUMER, OP, OTHER, VENDOR, World

from .platform_wire import bearer, minted

DCR_READ = "idporten:dcr.read"
ADMIN = ("idporten:dcr.read", "idporten:dcr.write", "idporten:scopes.write",
         "altinn:maskinporten/delegations.write")
ENDPOINTS = ["/api/v1/audit", "/api/v1/clients", "/api/v1/scopes/access/all", "/api/v1/delegationsources",
             "/api/v1/scopes"]


@pytest.fixture
def person(world: World) -> None:
    """A person with roles at the consumer and at another org (both orgs get the audit event)."""
    with world.change() as uow:
        add_person(uow, Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
                   username="kari@consumer.test", name="Kari Nordmann", mobile="+4791234567", password="x" * 12,
                   roles=(PersonRole(CONSUMER, PortalRole.ACCESS_MANAGER),
                          PersonRole(OTHER, PortalRole.INTEGRATION_RESPONSIBLE)),
                   actor=OP, now=world.clock.now())


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_token_with_a_supplier_is_refused_on_every_admin_endpoint(world: World, path: str, person: None) -> None:
    token = minted(world, CONSUMER, *ADMIN, supplier=VENDOR)
    r = world.http.get(path, headers=bearer(token))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "Kari" not in r.text and "91234567" not in r.text


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/scopes/access/all", "/api/v1/delegationsources"])
def test_every_admin_endpoint_names_its_scope(world: World, path: str) -> None:
    """A token of the org with only an API scope (brreg:test/read) reads nothing of the admin API."""
    r = world.http.get(path, headers=bearer(minted(world, CONSUMER, "brreg:test/read")))
    assert r.status_code == 403, r.text
    assert world.http.get(path, headers=bearer(minted(world, CONSUMER, DCR_READ))).status_code == 200


def test_no_personal_data_in_an_audit_view(world: World, person: None) -> None:
    """The person event reaches both orgs of the roles; neither sees the name, the mobile number, or the
    roles the person has at the other org."""
    for orgno, other in ((OTHER, CONSUMER), (CONSUMER, OTHER)):
        r = world.http.get("/api/v1/audit", headers=bearer(minted(world, orgno, DCR_READ)),
                           params={"entity_kind": "person"})
        assert r.status_code == 200
        events = r.json()
        assert [e["entity_key"] for e in events] == ["kari@consumer.test"]
        assert "Kari" not in r.text and "91234567" not in r.text and other not in r.text
