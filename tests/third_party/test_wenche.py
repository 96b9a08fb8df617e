"""A real third-party client from PyPI runs the whole system-user flow against a real `portvakt serve`.

wenche (pinned with its dependencies in wenche-constraints.txt; `make third-party-deps` installs it in
tests/third_party/.venv) files annual accounts to Altinn. Here its own functions, in that venv, register its system,
ask the customer for a system user, read the request and the vendor's system users, get a system user's token and
exchange it for an Altinn token (docs/protocol.md §6); only its base URLs point at the server (wenche_flow.py). The
customer's approval in between, and the deletion that makes wenche's next token MP-303, go through the Altinn API
as the portal does.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.clock import SystemClock
from portvakt.domain.models import AccessState, IntegrationType, Scope
from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.settings import Settings
from portvakt.wire.protocol import JWT_BEARER
from portvakt.wiring import prepare
from tests.api.test_serve import Server

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent
PYTHON = HERE / ".venv" / "bin" / "python"
OPERATOR, VENDOR, CUSTOMER = "991825827", "314330897", "310838128"
ADMIN_SCOPES = ("altinn:authentication/systemregister.write", "altinn:authentication/systemuser.request.read",
                "altinn:authentication/systemuser.request.write")
#: wenche's default scopes for a system user's token (wenche.auth.SCOPES), made here as the operator's.
INSTANCE_SCOPES = ("altinn:instances.read", "altinn:instances.write")
#: The rights wenche's system asks for (wenche.systembruker._RIGHTS).
WENCHE_RESOURCES = {"app_brg_aarsregnskap-vanlig-202406", "ske-innrapportering-aksjonaerregisteroppgave",
                    "app_skd_formueinntekt-skattemelding-v2"}
SYSTEM_ID = f"{VENDOR}_wenche2"
PERSON = "tor@kunde.test"
OP = Actor.operator("test")


@pytest.fixture(scope="module")
def wenche_python() -> Path:
    """The third-party venv's python (never the main venv: wenche brings its own pins)."""
    assert PYTHON.is_file(), f"{PYTHON} is missing: run `make third-party-deps`"
    return PYTHON


class Wenche:
    """Runs wenche_flow.py phases in the third-party venv, as the vendor with its client and key."""

    def __init__(self, python: Path, server: Server, client_id: str, key: PrivateKeyHandle, home: Path) -> None:
        key_file = home / "maskinporten_privat.pem"
        key_file.write_bytes(key.to_pem())
        self.python, self.server, self.home = python, server, home
        self.env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "WENCHE_ENV": "prod",
                    "PORTVAKT_URL": server.url, "CLIENT_ID": client_id, "KID": key.kid, "KEY_FILE": str(key_file),
                    "VENDOR": VENDOR, "CUSTOMER": CUSTOMER}

    def __call__(self, phase: str, **env: str) -> dict[str, Any]:
        done = subprocess.run([str(self.python), str(HERE / "wenche_flow.py"), phase], env={**self.env, **env},
                              cwd=self.home, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{done.stderr}\nserver log:\n{self.server.log.read_text()[-3000:]}"
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def registry(data: Path, key: PrivateKeyHandle) -> str:
    """The vendor, the customer, wenche's scopes with the vendor's access, and its client (through the domain's
    use-cases, as `portvakt org/scope/access/client add` would); returns the client_id."""
    store = prepare(Settings(data_dir=data))
    now = SystemClock().now()
    try:
        with store.begin() as uow:
            uc.add_org(uow, VENDOR, "Wenche Leverandør AS", OP, now)
            uc.add_org(uow, CUSTOMER, "Kunde Holding AS", OP, now)
            for name in INSTANCE_SCOPES:
                prefix, sub = uc.split_scope_name(name)
                uc.put_scope(uow, Scope(prefix, sub, OPERATOR, name, now, now), OP, now, create=True)
            for name in (*ADMIN_SCOPES, *INSTANCE_SCOPES):
                uc.set_access(uow, name, VENDOR, AccessState.APPROVED, OP, now)
            client = uc.new_client(uow, client_name="Wenche", client_orgno=VENDOR,
                                   integration_type=IntegrationType.MASKINPORTEN,
                                   scopes=[*ADMIN_SCOPES, *INSTANCE_SCOPES], actor=OP, now=now)
            uc.replace_client_keys(uow, client.client_id, [(key.kid, key.public_jwk)], OP, now)
    finally:
        store.close()
    return client.client_id


def portal_call(server: Server, data: Path, method: str, path: str) -> httpx.Response:
    """What the portal sends for a customer's access manager: its own client's token, acting for the customer."""
    key = PrivateKeyHandle.from_pem((data / "portal-client-key.pem").read_bytes())
    now = int(time.time())
    grant = Signer(key).sign({"aud": server.url, "iss": "portvakt-portal", "scope": "altinn:portal", "iat": now,
                              "exp": now + 60, "jti": str(uuid.uuid4())})
    got = httpx.post(f"{server.url}token", data={"grant_type": JWT_BEARER, "assertion": grant}, timeout=30)
    assert got.status_code == 200, got.text
    headers = {"Authorization": f"Bearer {got.json()['access_token']}", "Portvakt-Acting-For": CUSTOMER,
               "Portvakt-Person": PERSON}
    return httpx.request(method, f"{server.url}{path.lstrip('/')}", headers=headers, timeout=30)


def verified(token: str, jwks_uri: str, issuer: str, audience: str | None = None) -> dict[str, Any]:
    """The token's claims after its RS256 signature verified with the issuer's published keys."""
    key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token).key
    claims: dict[str, Any] = jwt.decode(token, key, algorithms=["RS256"], issuer=issuer,
                                        options={"verify_aud": audience is not None}, audience=audience)
    return claims


def test_wenche_registers_asks_gets_a_system_users_token_and_exchanges_it(
        wenche_python: Path, tmp_path: Path, rsa_keys: list[PrivateKeyHandle]) -> None:
    data = tmp_path / "var"
    data.mkdir()
    client_id = registry(data, rsa_keys[0])
    server = Server(data)
    try:
        wenche = Wenche(wenche_python, server, client_id, rsa_keys[0], tmp_path)
        asked = wenche("request")
        assert asked["registered"]["oppdatert"] is False and uuid.UUID(asked["registered"]["id"])
        assert asked["registered_again"] == {"succeeded": True, "id": SYSTEM_ID, "oppdatert": True}
        request = asked["request"]
        assert request["status"] == "New" and request["systemId"] == SYSTEM_ID and request["partyOrgNo"] == CUSTOMER
        assert f"systemuser/request?id={request['id']}" in request["confirmUrl"]
        assert {r["resource"][0]["value"] for r in request["rights"]} == WENCHE_RESOURCES

        approved = portal_call(server, data, "POST",
                               f"authentication/api/v1/systemuser/request/{CUSTOMER}/{request['id']}/approve")
        assert approved.status_code == 200 and approved.json() is True, approved.text

        got = wenche("token", REQUEST_ID=request["id"])
        assert got["status"]["status"] == "Accepted"
        [system_user] = got["system_users"]
        assert system_user["systemId"] == SYSTEM_ID and system_user["reporteeOrgNo"] == CUSTOMER
        assert system_user["supplierOrgno"] == VENDOR and system_user["externalRef"] == CUSTOMER

        claims = verified(got["maskinporten_token"], f"{server.url}jwk", server.url)
        assert claims["authorization_details"] == [{
            "type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"0192:{CUSTOMER}"},
            "systemuser_id": [system_user["id"]], "system_id": SYSTEM_ID, "externalRef": CUSTOMER}]
        assert claims["consumer"] == {"authority": "iso6523-actorid-upis", "ID": f"0192:{VENDOR}"}
        assert "supplier" not in claims and claims["client_id"] == client_id
        assert sorted(claims["scope"].split()) == sorted(INSTANCE_SCOPES)

        altinn_issuer = f"{server.url}authentication/api/v1/openid/"
        meta = httpx.get(f"{altinn_issuer}.well-known/openid-configuration", timeout=30).json()
        exchanged = verified(got["altinn_token"], meta["jwks_uri"], altinn_issuer)
        details = exchanged["authorization_details"]
        assert (details if isinstance(details, list) else [details]) == claims["authorization_details"]
        assert exchanged["urn:altinn:orgNumber"] == VENDOR and exchanged["client_id"] == client_id

        deleted = portal_call(server, data, "DELETE",
                              f"authentication/api/v1/systemuser/{CUSTOMER}/{system_user['id']}")
        assert deleted.status_code == 202, deleted.text
        refused = wenche("refused")
    finally:
        server.stop()
    assert refused["error"] is not None and "MP-303" in refused["error"], refused
