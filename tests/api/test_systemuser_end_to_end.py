"""System users end to end on the wire (docs/protocol.md §6), on real `portvakt serve` processes: one process, and
the token service and the Altinn side as two processes over HTTP on 127.0.0.1 (the lookup byExternalId, §6.5).

The vendor registers its system and asks a customer for a system user; the customer approves it (as the portal
does: its own client's token acting for the customer); the vendor's system user token reads the customer's report
from the example API (examples/provider/systemuser_api.py), whose decision point permits the right the system user
holds and refuses one it does not; the customer deletes the system user and the next token is MP-303. The agent
flow: an accounting firm approves an agent request, adds a client, the decision point permits the agent's package
for that client, and no longer once the client is removed.
"""

from __future__ import annotations

import importlib.util
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from portvakt.client import GrantSigner, TokenError, fetch_token
from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.clientroles import register_client_relationship
from portvakt.domain.clock import SystemClock
from portvakt.domain.models import AccessState, ClientRole, IntegrationType, Scope
from portvakt.domain.ports import Store
from portvakt.domain.systemregister import AUTHORIZE, REQUEST_READ, REQUEST_WRITE, SYSTEMREGISTER_WRITE
from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.resource import AltinnAuthorization, SystemUserClaim, TokenValidator, system_user
from portvakt.settings import Settings
from portvakt.wire.protocol import JWT_BEARER
from portvakt.wiring import prepare
from tests.api.test_serve import Server, free_port

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "provider" / "systemuser_api.py"
POSITIVE_CACHE, NEGATIVE_CACHE = 1.5, 0.5
OP = Actor.operator("e2e")
OPERATOR, PROVIDER, VENDOR, CUSTOMER = "991825827", "974760673", "314330897", "310838128"
#: The accounting firm (an agent system user's owner), its client, and an organisation that is no one's here.
FIRM, FIRM_CLIENT, STRANGER = "910753614", "311900048", "311900013"
ORGS = {PROVIDER: "Brønnøysundregistrene", VENDOR: "Turbo Systemleverandør AS", CUSTOMER: "Kunde Holding AS",
        FIRM: "Mjøsa Regnskap AS", FIRM_CLIENT: "Toten Trelast AS", STRANGER: "Fremmed AS"}
#: The example API's scope and the resource it asks the decision point about (examples/provider/systemuser_api.py).
API_SCOPE, API_RESOURCE = "brreg:reelle/systembruker", "brreg_reelle_rapport"
OTHER_RESOURCE = "brreg_annen_rapport"
CLIENT_PACKAGE = "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"
VENDOR_SCOPES = (SYSTEMREGISTER_WRITE, REQUEST_WRITE, REQUEST_READ, API_SCOPE)
AUTHN = "authentication/api/v1"
PERSON = "tor@kunde.test"


def right(resource: str) -> dict[str, Any]:
    """A right on the wire (docs/protocol.md §6.1)."""
    return {"resource": [{"id": "urn:altinn:resource", "value": resource}]}


@dataclass
class Registry:
    """What the operator set up: the vendor's and the provider's clients, with their keys."""

    vendor_client: str
    vendor_key: PrivateKeyHandle
    provider_client: str
    provider_key: PrivateKeyHandle


def add_client_relationship(store: Store, client: str, facilitator: str) -> None:
    """The firm is its client's accountant (docs/protocol.md §6.4), registered as the operator mirrors it."""
    with store.begin() as uow:
        register_client_relationship(uow, client, facilitator, ClientRole.REGNSKAPSFORER, OP, SystemClock().now())


def seed(store: Store, keys: list[PrivateKeyHandle], scope_owner: str = PROVIDER,
         orgs: dict[str, str] | None = None) -> Registry:
    """The organisations, the example API's scope (the vendor has access), the decision point's scope for the
    provider, and the two clients; through the domain's use-cases, as the admin CLI would."""
    now = SystemClock().now()
    with store.begin() as uow:
        for orgno, name in (ORGS if orgs is None else orgs).items():
            uc.add_org(uow, orgno, name, OP, now)
        if uow.get_scope(API_SCOPE) is None:
            if uow.get_prefix_owner("brreg") is None:
                uc.assign_prefix(uow, "brreg", scope_owner, OP, now)
            prefix, sub = uc.split_scope_name(API_SCOPE)
            uc.put_scope(uow, Scope(prefix, sub, scope_owner, "Reelle rettighetshavere for systembrukere", now, now),
                         OP, now, create=True)
        for name in VENDOR_SCOPES:
            uc.set_access(uow, name, VENDOR, AccessState.APPROVED, OP, now)
        uc.set_access(uow, AUTHORIZE, PROVIDER, AccessState.APPROVED, OP, now)
        made = []
        for orgno, scopes, key in ((VENDOR, VENDOR_SCOPES, keys[0]), (PROVIDER, (AUTHORIZE,), keys[1])):
            client = uc.new_client(uow, client_name=f"e2e {orgno} {uuid.uuid4().hex[:6]}", client_orgno=orgno,
                                   integration_type=IntegrationType.MASKINPORTEN, scopes=list(scopes), actor=OP,
                                   now=now)
            uc.replace_client_keys(uow, client.client_id, [(key.kid, key.public_jwk)], OP, now)
            made.append(client.client_id)
    return Registry(made[0], keys[0], made[1], keys[1])


@dataclass
class Wire:
    """The vendor, the portal and the API provider on the wire against one setup's token service and Altinn side."""

    issuer: str
    altinn: str
    registry: Registry
    portal_key: PrivateKeyHandle

    def token(self, client_id: str, key: PrivateKeyHandle, scope: str, **party: str) -> dict[str, Any]:
        """A token response from /token (or TokenError)."""
        signer = GrantSigner(client_id=client_id, key=key, kid=key.kid, audience=self.issuer)
        with httpx.Client(timeout=30) as http:
            return fetch_token(signer, scope, token_endpoint=f"{self.issuer}token", client=http, **party)

    def vendor(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The vendor's own token (its register and request scopes) on the Altinn side."""
        scope = " ".join((SYSTEMREGISTER_WRITE, REQUEST_WRITE, REQUEST_READ))
        access = self.token(self.registry.vendor_client, self.registry.vendor_key, scope)["access_token"]
        return httpx.request(method, f"{self.altinn}{path}", headers={"authorization": f"Bearer {access}"},
                             timeout=30, **kwargs)

    def portal(self, method: str, path: str, acting_for: str, **kwargs: Any) -> httpx.Response:
        """What the portal sends for a person of `acting_for`: its own client's token and the two headers."""
        now = int(time.time())
        grant = Signer(self.portal_key).sign({"aud": self.issuer, "iss": "portvakt-portal", "scope": "altinn:portal",
                                              "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())})
        got = httpx.post(f"{self.issuer}token", data={"grant_type": JWT_BEARER, "assertion": grant}, timeout=30)
        assert got.status_code == 200, got.text
        headers = {"authorization": f"Bearer {got.json()['access_token']}", "Portvakt-Acting-For": acting_for,
                   "Portvakt-Person": PERSON}
        return httpx.request(method, f"{self.altinn}{path}", headers=headers, timeout=30, **kwargs)

    def system_user_token(self, owner: str, external_ref: str | None = None) -> str:
        """The vendor's token for the system user of `owner` (docs/protocol.md §6.5)."""
        body = self.token(self.registry.vendor_client, self.registry.vendor_key, API_SCOPE, systemuser_org=owner,
                          **({"external_ref": external_ref} if external_ref else {}))
        return str(body["access_token"])

    def first_token(self, owner: str, external_ref: str | None = None, *, within: float = 0.0) -> str:
        """The system user's token right after its approval, waiting `within` seconds for it (a remote lookup
        trusts a "not found" that long, docs/protocol.md §6.5)."""
        deadline = time.monotonic() + within
        while True:
            try:
                return self.system_user_token(owner, external_ref)
            except TokenError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def refusal(self, owner: str, external_ref: str | None = None, *, within: float = 0.0) -> dict[str, Any]:
        """The token service's refusal of a system user's token for `owner`, waiting `within` seconds for it
        (a remote lookup's answers are cached that long, docs/protocol.md §6.5)."""
        deadline = time.monotonic() + within
        while True:
            try:
                self.system_user_token(owner, external_ref)
            except TokenError as exc:
                return {**exc.body, "status": exc.status}
            if time.monotonic() > deadline:
                raise AssertionError(f"a system user's token for {owner} was still issued after {within} s")
            time.sleep(0.1)

    def decision_point(self) -> AltinnAuthorization:
        """The Altinn side's decision point, asked with the API provider's own token."""
        def source() -> str:
            body = self.token(self.registry.provider_client, self.registry.provider_key, AUTHORIZE)
            return str(body["access_token"])

        return AltinnAuthorization(self.altinn, source, timeout=10)

    def claim(self, token: str) -> SystemUserClaim:
        """The system user a token names, after the token is validated as an API provider does."""
        found = system_user(TokenValidator(self.issuer).validate(token, required_scopes=[API_SCOPE]))
        assert found is not None
        return found


@contextmanager
def example_api(wire: Wire, folder: Path) -> Iterator[TestClient]:
    """examples/provider/systemuser_api.py, loaded afresh with its environment pointing at this setup (it reads it
    when imported, and when it first asks the decision point): its own validator, its own decision-point token."""
    key_file = folder / "provider.pem"
    key_file.write_bytes(wire.registry.provider_key.to_pem())
    env = {"MASKINPORTEN_ISSUER": wire.issuer, "ALTINN_URL": wire.altinn,
           "PROVIDER_CLIENT_ID": wire.registry.provider_client, "PROVIDER_KEY_FILE": str(key_file),
           "PROVIDER_KID": wire.registry.provider_key.kid}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        spec = importlib.util.spec_from_file_location(f"systemuser_api_{uuid.uuid4().hex}", EXAMPLE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with TestClient(module.app) as api:
            yield api


@dataclass
class Setup:
    """The processes of one setup, and the wire to them."""

    servers: list[Server]
    wire: Wire
    folder: Path
    #: How long the token service may keep a lookup's answer: found (positive) and not found (negative).
    positive_cache: float
    negative_cache: float
    #: The vendor's system, registered on the wire once the processes run (one client id is on one system).
    system_id: str = ""


def two_processes(data: Path, altinn_port: int, *, portal: bool = False) -> tuple[Server, Server]:
    """The token service (with the portal beside it if `portal`) and the Altinn side alone on `altinn_port`, both on
    the database in `data`: the token service asks the Altinn side over HTTP (docs/protocol.md §6.5) with short
    caches, the portal calls it, and a confirmUrl points at the portal. The Altinn side logs every request."""
    altinn_url = f"http://127.0.0.1:{altinn_port}/"
    token_args = ("--only", "token", "--altinn-url", altinn_url) + (("--only", "portal") if portal else ())
    token = Server(data, *token_args, env={"PORTVAKT_ALTINN__POSITIVE_CACHE_SECONDS": str(POSITIVE_CACHE),
                                           "PORTVAKT_ALTINN__NEGATIVE_CACHE_SECONDS": str(NEGATIVE_CACHE),
                                           **({"PORTVAKT_PORTAL__ALTINN_URL": altinn_url} if portal else {})})
    try:
        altinn = Server(data, "--only", "altinn", "--token-issuer", token.url, "--access-log", port=altinn_port,
                        ready="healthz", env={"PORTVAKT_ALTINN__PUBLIC_URL": altinn_url,
                                              **({"PORTVAKT_ALTINN__PORTAL_URL": f"{token.url}portal/"}
                                                 if portal else {})})
    except AssertionError:
        token.stop()
        raise
    return token, altinn


@pytest.fixture(scope="module", params=["one-process", "two-processes"])
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          rsa_keys: list[PrivateKeyHandle]) -> Iterator[Setup]:
    """The registry, the processes, and the vendor's system registered on the wire; shared by the module's tests."""
    tmp_path = tmp_path_factory.mktemp(str(request.param))
    data = tmp_path / "var"
    store = prepare(Settings(data_dir=data))  # also the portal's client and its key file in the data dir
    try:
        registry = seed(store, rsa_keys)
        add_client_relationship(store, FIRM_CLIENT, FIRM)
    finally:
        store.close()
    portal_key = PrivateKeyHandle.from_pem((data / "portal-client-key.pem").read_bytes())
    servers: list[Server] = []
    try:
        if request.param == "one-process":
            servers.append(Server(data))
            setup = Setup(servers, Wire(servers[0].url, servers[0].url, registry, portal_key), tmp_path, 0.0, 0.0)
        else:
            servers.extend(two_processes(data, free_port()))
            setup = Setup(servers, Wire(servers[0].url, servers[1].url, registry, portal_key), tmp_path,
                          POSITIVE_CACHE + 1, NEGATIVE_CACHE + 1)
        setup.system_id = register_system(setup.wire, "rapport")
        yield setup
    finally:
        for server in servers:
            if server.proc.poll() is None:
                server.stop()


def register_system(wire: Wire, name: str) -> str:
    """The vendor registers its system (docs/protocol.md §6.1): two rights, a package for clients, its client."""
    system_id = f"{VENDOR}_{name}"
    body = {"id": system_id, "vendor": {"authority": "iso6523-actorid-upis", "ID": f"0192:{VENDOR}"},
            "name": {"nb": "Turbo Rapport", "nn": "Turbo Rapport", "en": "Turbo Report"},
            "description": {"nb": "Rapporterer for kundene", "en": "Reports for the customers"},
            "rights": [right(API_RESOURCE), right(OTHER_RESOURCE)], "accessPackages": [{"urn": CLIENT_PACKAGE}],
            "clientId": [wire.registry.vendor_client], "isVisible": False}
    made = wire.vendor("POST", f"{AUTHN}/systemregister/vendor", json=body)
    assert made.status_code == 200, made.text
    uuid.UUID(made.json())
    return system_id


def ask(wire: Wire, system_id: str, party: str, *, agent: bool = False, external_ref: str | None = None,
        title: str | None = None) -> dict[str, Any]:
    """The vendor's request (docs/protocol.md §6.2): standard for the API's right, agent for the client package."""
    body: dict[str, Any] = {"systemId": system_id, "partyOrgNo": party}
    body |= {"externalRef": external_ref} if external_ref else {}
    body |= {"integrationTitle": title} if title else {}
    body |= {"accessPackages": [{"urn": CLIENT_PACKAGE}]} if agent else {"rights": [right(API_RESOURCE)]}
    made = wire.vendor("POST", f"{AUTHN}/systemuser/request/vendor" + ("/agent" if agent else ""), json=body)
    assert made.status_code == 201, made.text
    request: dict[str, Any] = made.json()
    assert request["status"] == "New" and request["partyOrgNo"] == party
    return request


def approve(wire: Wire, request: dict[str, Any], *, agent: bool = False) -> None:
    """The customer's access manager approves in the portal: the portal's call (docs/protocol.md §6.3)."""
    party = request["partyOrgNo"]
    path = f"{AUTHN}/systemuser/request/" + ("agent/" if agent else "") + f"{party}/{request['id']}/approve"
    done = wire.portal("POST", path, party)
    assert done.status_code == 200 and done.json() is True, done.text


def mp_code(refusal: dict[str, Any]) -> str:
    return str(refusal["error_uri"]).rsplit("/", 1)[-1]


def check_standard_flow(wire: Wire, token: str, system_id: str, api: TestClient, delete: Callable[[str], None], *,
                        external_ref: str | None = None, positive_cache: float = 0.0) -> None:
    """The customer's system user's `token`: the example API permits its right, the decision point refuses the other
    one; `delete` it, and the next token is MP-303 (within `positive_cache` seconds)."""
    found = wire.claim(token)
    assert (found.system_id, found.owner_orgno, found.vendor_orgno) == (system_id, CUSTOMER, VENDOR)
    assert found.external_ref == (external_ref or CUSTOMER)
    headers = {"authorization": f"Bearer {token}"}
    report = api.get(f"/reports/{CUSTOMER}", headers=headers)
    assert report.status_code == 200, report.text
    assert report.json()["system_user_id"] == found.system_user_id
    assert api.get(f"/reports/{STRANGER}", headers=headers).status_code == 403  # not the owner
    pdp = wire.decision_point()
    try:
        assert pdp.permits(found, API_RESOURCE) is True
        assert pdp.permits(found, OTHER_RESOURCE) is False  # the system offers it; this system user does not hold it
        delete(found.system_user_id)
        refused = wire.refusal(CUSTOMER, external_ref, within=positive_cache)
        assert (refused["status"], mp_code(refused)) == (400, "MP-303"), refused
        assert pdp.permits(found, API_RESOURCE) is False
    finally:
        pdp.close()
    assert api.get(f"/reports/{CUSTOMER}", headers=headers).status_code == 403  # the token it still holds


def check_agent_flow(wire: Wire, found: SystemUserClaim, add: Callable[[], None], remove: Callable[[], None]) -> None:
    """The agent's package for FIRM_CLIENT: refused, permitted once `add`ed, refused once `remove`d; never for an
    organisation that is not its client."""
    pdp = wire.decision_point()
    try:
        def permitted(party: str = FIRM_CLIENT) -> bool:
            return pdp.permits(found, API_RESOURCE, party=party, package=CLIENT_PACKAGE)

        assert permitted() is False
        add()
        assert permitted() is True
        assert permitted(STRANGER) is False
        remove()
        assert permitted() is False
    finally:
        pdp.close()


def test_a_system_user_from_request_to_deletion(setup: Setup) -> None:
    wire, system_id = setup.wire, setup.system_id
    request = ask(wire, system_id, CUSTOMER)
    assert f"systemuser/request?id={request['id']}" in request["confirmUrl"]
    assert mp_code(wire.refusal(CUSTOMER)) == "MP-303"  # not approved yet
    approve(wire, request)
    read = wire.vendor("GET", f"{AUTHN}/systemuser/request/vendor/{request['id']}")
    assert read.status_code == 200 and read.json()["status"] == "Accepted", read.text

    def delete(system_user_id: str) -> None:
        done = wire.portal("DELETE", f"{AUTHN}/systemuser/{CUSTOMER}/{system_user_id}", CUSTOMER)
        assert done.status_code == 202 and done.json() == 1, done.text

    token = wire.first_token(CUSTOMER, within=setup.negative_cache)
    with example_api(wire, setup.folder) as api:
        check_standard_flow(wire, token, system_id, api, delete, positive_cache=setup.positive_cache)


def test_an_agent_system_user_acts_for_an_added_client_only(setup: Setup) -> None:
    wire = setup.wire
    request = ask(wire, setup.system_id, FIRM, agent=True)
    assert f"systemuser/agentrequest?id={request['id']}" in request["confirmUrl"]
    approve(wire, request, agent=True)
    found = wire.claim(wire.first_token(FIRM, within=setup.negative_cache))
    assert found.owner_orgno == FIRM
    clients = f"{AUTHN}/enduser/systemuser/clients"
    query = {"agent": found.system_user_id, "client": FIRM_CLIENT}

    def add() -> None:
        done = wire.portal("POST", clients, FIRM, params=query)
        assert done.status_code == 200, done.text
        listed = wire.portal("GET", clients, FIRM, params={"agent": found.system_user_id})
        assert [c["clientId"] for c in listed.json()["data"]] == [FIRM_CLIENT], listed.text

    def remove() -> None:
        done = wire.portal("DELETE", clients, FIRM, params=query)
        assert done.status_code == 200, done.text

    check_agent_flow(wire, found, add, remove)
    refused = wire.refusal(FIRM_CLIENT)  # a client's orgno names no system user (spec: MP-303)
    assert (refused["status"], mp_code(refused)) == (400, "MP-303"), refused
