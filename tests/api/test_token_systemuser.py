"""POST /token for an Altinn system user (docs/protocol.md §6.5, §7 step 11): the grant's authorization_details, the
lookup, the token's claims, and every refusal with its exact status, error and MP code."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from portvakt.domain.changes import CLIENT_KIND, SYSTEM_KIND, SYSTEM_USER_KIND
from portvakt.domain.clock import FixedClock
from portvakt.domain.models import AgentClient, RegisteredSystem, SystemUser, SystemUserType
from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.oauth.systemuser import FoundSystemUser, SystemUserUnavailable
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryReplayCache, MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.api.test_metrics import sample
from tests.api.test_token_offloop import IoStore, Reads
from tests.api.test_token_rejections import refused
from tests.api.test_token_success import verify
from tests.conftest import CONSUMER, ISSUER, OTHER, VENDOR, World, seed

SYSTEM_ID = f"{VENDOR}_regnskap"
SU_TYPE = "urn:altinn:systemuser"


def org(orgno: str = CONSUMER, **over: Any) -> dict[str, Any]:
    """A systemuser_org value."""
    return {"authority": "iso6523-actorid-upis", "ID": f"0192:{orgno}", **over}


def details(owner: str = CONSUMER, **extra: Any) -> list[dict[str, Any]]:
    """The grant's authorization_details for the owner's system user."""
    return [{"type": SU_TYPE, "systemuser_org": org(owner), **extra}]


def add_system(world: World, *, client_ids: tuple[str, ...] | None = None, vendor: str = VENDOR,
               system_id: str = SYSTEM_ID) -> RegisteredSystem:
    """A system of the register that lists the world's client (or `client_ids`)."""
    now = world.clock.now()
    system = RegisteredSystem(system_id=system_id, internal_id=str(uuid.uuid4()), vendor_orgno=vendor,
                              name={"nb": "Regnskap"}, description={"nb": "Et regnskapssystem"}, created=now,
                              last_updated=now,
                              client_ids=(world.client_id,) if client_ids is None else client_ids)
    with world.change() as uow:
        uow.put_system(system)
        uow.record_change(SYSTEM_KIND, system_id)
    return system


def add_user(world: World, *, owner: str = CONSUMER, ref: str | None = None, system_id: str = SYSTEM_ID,
             user_type: SystemUserType = SystemUserType.STANDARD) -> SystemUser:
    """An approved system user of the system, owned by `owner`, with externalRef `ref` (default: the owner)."""
    now = world.clock.now()
    user = SystemUser(system_user_id=str(uuid.uuid4()), user_type=user_type, system_id=system_id,
                      vendor_orgno=VENDOR, owner_orgno=owner, external_ref=ref or owner,
                      integration_title="Regnskap", created=now, last_updated=now)
    with world.change() as uow:
        stored: SystemUser = uow.put_system_user(user)
        uow.record_change(SYSTEM_USER_KIND, owner)
    return stored


@pytest.fixture
def su(world: World) -> SystemUser:
    """The world with a system of the vendor's client and the consumer's approved system user."""
    add_system(world)
    return add_user(world)


def token_claims(world: World, **grant: Any) -> dict[str, Any]:
    resp = world.post(world.grant(**grant))
    assert resp.status_code == 200, resp.text
    return verify(world, resp.json()["access_token"])


def test_token_for_a_system_user_carries_exactly_its_details(world: World, su: SystemUser) -> None:
    claims = token_claims(world, authorization_details=details())
    now = int(world.clock.now().timestamp())
    assert claims == {
        "iss": ISSUER, "client_amr": "private_key_jwt", "token_type": "Bearer", "client_id": world.client_id,
        "aud": "unspecified", "consumer": {"authority": "iso6523-actorid-upis", "ID": f"0192:{VENDOR}"},
        "scope": "brreg:test/read",
        "authorization_details": [{
            "type": SU_TYPE, "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"0192:{CONSUMER}"},
            "systemuser_id": [su.system_user_id], "system_id": SYSTEM_ID, "externalRef": CONSUMER}],
        "iat": now, "exp": now + 120, "client_orgno": VENDOR, "jti": claims["jti"],
    }


def test_the_consumer_is_the_vendor_and_no_supplier_even_for_a_supplied_client(world: World, su: SystemUser) -> None:
    with world.change() as uow:
        uow.put_client(replace(uow.get_client(world.client_id), supplier_orgno=OTHER))
        uow.record_change(CLIENT_KIND, world.client_id)
    assert "supplier" in token_claims(world)  # a plain grant of this client names its supplier ...
    claims = token_claims(world, authorization_details=details())
    assert "supplier" not in claims  # ... a system-user token never does: the vendor acts with its own client
    assert claims["consumer"]["ID"] == f"0192:{VENDOR}"


def test_external_ref_explicit_and_default(world: World, su: SystemUser) -> None:
    mine = add_user(world, ref="kunde-42")
    claims = token_claims(world, authorization_details=details(externalRef="kunde-42"))
    assert claims["authorization_details"][0]["systemuser_id"] == [mine.system_user_id]
    assert claims["authorization_details"][0]["externalRef"] == "kunde-42"
    for default in (details(), details(externalRef=""), details(externalRef=None)):
        found = token_claims(world, authorization_details=default)["authorization_details"][0]
        assert (found["systemuser_id"], found["externalRef"]) == ([su.system_user_id], CONSUMER)


def test_a_system_user_made_with_an_external_ref_is_not_found_without_it(world: World) -> None:
    add_system(world)
    add_user(world, ref="kunde-42")
    body = refused(world.post(world.grant(authorization_details=details())), 400,
                   "invalid_altinn_customer_configuration", "MP-303", "Invalid authorization details values: ")
    assert CONSUMER in body["error_description"] and repr(CONSUMER) in body["error_description"]
    refused(world.post(world.grant(authorization_details=details(externalRef="kunde-43"))), 400,
            "invalid_altinn_customer_configuration", "MP-303")


def test_lower_case_id_is_read_as_id(world: World, su: SystemUser) -> None:
    lower = [{"type": SU_TYPE, "systemuser_org": {"authority": "iso6523-actorid-upis", "id": f"0192:{CONSUMER}"}}]
    claims = token_claims(world, authorization_details=lower)
    assert claims["authorization_details"][0]["systemuser_org"] == {"authority": "iso6523-actorid-upis",
                                                                     "ID": f"0192:{CONSUMER}"}


@pytest.mark.parametrize("value", [
    [{"type": "urn:altinn:consent"}],
    [{"type": "URN:ALTINN:SYSTEMUSER", "systemuser_org": org()}],
    [{"systemuser_org": org()}],
    [{"type": 7}],
    details() + details(OTHER),
    [],
    {"type": SU_TYPE, "systemuser_org": org()},
    "urn:altinn:systemuser",
    [SU_TYPE],
])
def test_unknown_type_or_not_one_object_is_mp301(world: World, su: SystemUser, value: Any) -> None:
    refused(world.post(world.grant(authorization_details=value)), 400, "invalid_authorization_details", "MP-301",
            "Unknown authorization details type")


def test_null_claim_is_mp301(world: World, su: SystemUser) -> None:
    claims = {**world.claims(), "authorization_details": None}
    grant = Signer(world.key, alg="RS256", kid=world.key.kid).sign(claims)
    refused(world.post(grant), 400, "invalid_authorization_details", "MP-301")


@pytest.mark.parametrize("value", [
    details(systemuser_id=["x"]),
    details(externalref="kunde-42"),
    details(consumer_org=CONSUMER),
    [{"type": SU_TYPE, "systemuser_org": org(extra="x")}],
    [{"type": SU_TYPE, "systemuser_org": org(Authority="iso6523-actorid-upis")}],
])
def test_unknown_fields_are_mp302(world: World, su: SystemUser, value: Any) -> None:
    refused(world.post(world.grant(authorization_details=value)), 400, "invalid_authorization_details", "MP-302",
            "Unknown fields in the authorization details: ")


@pytest.mark.parametrize("value", [
    [{"type": SU_TYPE}],
    [{"type": SU_TYPE, "systemuser_org": f"0192:{CONSUMER}"}],
    [{"type": SU_TYPE, "systemuser_org": {"ID": f"0192:{CONSUMER}"}}],
    [{"type": SU_TYPE, "systemuser_org": org(authority="iso6523")}],
    [{"type": SU_TYPE, "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": CONSUMER}}],
    [{"type": SU_TYPE, "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"9908:{CONSUMER}"}}],
    [{"type": SU_TYPE, "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:310838129"}}],
    [{"type": SU_TYPE, "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": 310838128}}],
    [{"type": SU_TYPE, "systemuser_org": org(id=f"0192:{CONSUMER}")}],
    details(externalRef=42),
    details(externalRef="x" * 201),
    details(externalRef=" kunde-42"),
    details(externalRef="kunde-42\n"),
])
def test_invalid_values_are_mp303(world: World, su: SystemUser, value: Any) -> None:
    refused(world.post(world.grant(authorization_details=value)), 400, "invalid_authorization_details", "MP-303",
            "Invalid authorization details values: ")


def test_consumer_org_with_a_system_user_is_mp303(world: World, su: SystemUser) -> None:
    body = refused(world.post(world.grant(authorization_details=details(), consumer_org=OTHER)), 400,
                   "invalid_authorization_details", "MP-303")
    assert "consumer_org" in body["error_description"]


def test_the_form_parameter_is_mp270_whatever_it_holds(world: World, su: SystemUser) -> None:
    for value in (json.dumps(details()), "x"):
        refused(world.post(world.grant(), authorization_details=value), 400, "invalid_authorization_details",
                "MP-270", "authorization_details is not supported as a request parameter")
    body = world.post(world.grant(authorization_details=details()), authorization_details=json.dumps(details()))
    refused(body, 400, "invalid_authorization_details", "MP-270")


@pytest.mark.parametrize("case", ["other owner", "agent client", "client not listed", "other vendor", "no system"])
def test_no_matching_system_user_is_mp303(world: World, case: str) -> None:
    owner = CONSUMER
    if case == "client not listed":
        add_system(world, client_ids=("someone-else",))
        add_user(world)
    elif case == "other vendor":
        add_system(world, vendor=OTHER, system_id=f"{OTHER}_regnskap")
        add_user(world, system_id=f"{OTHER}_regnskap")
    elif case != "no system":
        add_system(world)
        agent = add_user(world, user_type=SystemUserType.AGENT)
        if case == "agent client":  # the token names the facilitator (the owner), never one of its clients
            with world.change() as uow:
                uow.put_agent_client(AgentClient(agent.system_user_id, OTHER, world.clock.now()))
        owner = OTHER
    refused(world.post(world.grant(authorization_details=details(owner))), 400,
            "invalid_altinn_customer_configuration", "MP-303")


def test_an_agent_system_user_gets_a_token_for_its_owner(world: World) -> None:
    add_system(world)
    agent = add_user(world, user_type=SystemUserType.AGENT)
    claims = token_claims(world, authorization_details=details())
    assert claims["authorization_details"][0]["systemuser_id"] == [agent.system_user_id]


def test_scope_checks_come_first_with_the_vendor_as_consumer(world: World, su: SystemUser) -> None:
    refused(world.post(world.grant(scope="brreg:test/virksys", authorization_details=details())), 400,
            "invalid_scope", "MP-200")
    with world.change() as uow:
        uow.put_client(replace(uow.get_client(world.client_id),
                               scopes=("brreg:test/read", "brreg:test/delegable")))
        uow.record_change(CLIENT_KIND, world.client_id)
    # the vendor has no access of its own to brreg:test/delegable (only the consumer has): MP-250, not a lookup
    refused(world.post(world.grant(scope="brreg:test/delegable", authorization_details=details())), 403,
            "forbidden", "MP-250")


@pytest.mark.parametrize("what", ["system user deleted", "system deleted", "client id removed"])
def test_a_removal_refuses_new_tokens_once_the_change_feed_is_read(world: World, su: SystemUser, what: str) -> None:
    assert world.post(world.grant(authorization_details=details())).status_code == 200  # cached from here on
    with world.change() as uow:  # world.change() re-reads the feed after commit, as the poll does
        if what == "system user deleted":
            uow.put_system_user(replace(su, deleted=True))
            uow.record_change(SYSTEM_USER_KIND, CONSUMER)
        else:
            system = uow.get_system(SYSTEM_ID)
            uow.put_system(replace(system, deleted=True) if what == "system deleted"
                           else replace(system, client_ids=()))
            uow.record_change(SYSTEM_KIND, SYSTEM_ID)
    refused(world.post(world.grant(authorization_details=details())), 400,
            "invalid_altinn_customer_configuration", "MP-303")


def test_a_new_system_user_is_found_once_the_change_feed_is_read(world: World) -> None:
    add_system(world)
    refused(world.post(world.grant(authorization_details=details())), 400,
            "invalid_altinn_customer_configuration", "MP-303")  # "none" is remembered ...
    user = add_user(world)  # ... until the change feed brings the owner's change
    assert token_claims(world, authorization_details=details())["authorization_details"][0]["systemuser_id"] == [
        user.system_user_id]


class Down:
    """A system-user lookup that cannot answer."""

    def __init__(self) -> None:
        self.asked = 0

    def find_system_user(self, client_id: str, vendor_orgno: str, owner_orgno: str,
                         external_ref: str) -> FoundSystemUser | None:
        self.asked += 1
        raise SystemUserUnavailable("the Altinn side did not answer")


@pytest.fixture
def down_world(rsa_keys: list[PrivateKeyHandle]) -> Iterator[tuple[World, Down]]:
    store = MemoryStore()
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    client_id = seed(store, rsa_keys[0], clock.now())
    lookup = Down()
    app = assemble(Settings(issuer=ISSUER, data_dir="/nonexistent"), ("token",),
                   Overrides(store=store, clock=clock, kek=b"test-kek", systemusers=lookup))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield World(store, clock, http, rsa_keys[0], client_id, app.runtime), lookup


def test_lookup_down_is_503_mp292_with_retry_after(down_world: tuple[World, Down]) -> None:
    world, lookup = down_world
    resp = world.post(world.grant(authorization_details=details()))
    refused(resp, 503, "temporarily_unavailable", "MP-292", "The system user register could not be reached")
    assert resp.headers["retry-after"] == "5"
    assert "did not answer" not in resp.text  # the internal detail goes to the log only
    assert lookup.asked == 1
    assert world.post(world.grant()).status_code == 200  # grants without details never ask
    assert lookup.asked == 1


def test_a_refused_grant_is_not_spent(down_world: tuple[World, Down]) -> None:
    world, _ = down_world
    grant = world.grant(authorization_details=details())
    refused(world.post(grant), 503, "temporarily_unavailable", "MP-292")
    refused(world.post(grant), 503, "temporarily_unavailable", "MP-292")  # not MP-012: nothing was written


def test_the_lookup_never_waits_on_the_event_loop(rsa_keys: list[PrivateKeyHandle]) -> None:
    """docs/security.md, Store outage: a miss runs the request in a worker thread; a hit reads no store."""
    inner = MemoryStore()
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    client_id = seed(inner, rsa_keys[0], clock.now())
    reads = Reads()
    app = assemble(Settings(issuer=ISSUER, data_dir="/nonexistent"), ("token",),
                   Overrides(store=IoStore(inner, reads), clock=clock, kek=b"test-kek",
                             replay=MemoryReplayCache(clock=clock)))
    with TestClient(app, base_url="http://portvakt.test") as http:
        world = World(inner, clock, http, rsa_keys[0], client_id, app.runtime)
        assert world.post(world.grant()).status_code == 200  # warm the registry: clients, keys, scopes, access
        add_system(world)
        add_user(world)
        reads.refused, reads.threads[:] = 0, []
        assert world.post(world.grant(authorization_details=details())).status_code == 200
        assert reads.refused >= 1 and reads.threads and "MainThread" not in reads.threads
        reads.refused, reads.threads[:] = 0, []
        for _ in range(3):
            assert world.post(world.grant(authorization_details=details())).status_code == 200
        assert (reads.refused, reads.threads) == (0, [])


def test_metadata_lists_the_system_user_type(world: World) -> None:
    meta = world.http.get("/.well-known/oauth-authorization-server").json()
    assert meta["authorization_details_types_supported"] == [SU_TYPE]


@pytest.mark.parametrize("code", ["MP-270", "MP-292", "MP-301", "MP-302", "MP-303"])
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_error_pages(world: World, code: str, lang: str) -> None:
    page = world.http.get(f"/errors/{code}?lang={lang}")
    assert page.status_code == 200 and code in page.text
    if code == "MP-303":
        assert "invalid_altinn_customer_configuration" in page.text


def test_lookups_are_counted_by_answer(world: World, down_world: tuple[World, Down]) -> None:
    name = "portvakt_systemuser_lookups_total"
    before = {r: sample(world.http, name, result=r) for r in ("found", "not_found", "unavailable")}
    add_system(world)
    add_user(world)
    assert world.post(world.grant(authorization_details=details())).status_code == 200
    assert world.post(world.grant(authorization_details=details(OTHER))).status_code == 400
    down, _ = down_world
    assert down.post(down.grant(authorization_details=details())).status_code == 503
    after = {r: sample(world.http, name, result=r) for r in before}
    assert {r: after[r] - before[r] for r in before} == {"found": 1, "not_found": 1, "unavailable": 1}
