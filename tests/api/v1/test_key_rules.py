"""The key-registration rules Maskinporten clients expect (docs/protocol.md §3.2, §3.3), on the wire, the CLI and
the portal: "use": "sig" on every new key, a kid unique across all clients, clients without a key, and no
certificate on an altinn_virksys system."""

from __future__ import annotations

import dataclasses
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from portvakt.cli import app as cli_app
from portvakt.domain import usecases as uc
from portvakt.domain.errors import Invalid
from portvakt.domain.models import IntegrationType
from portvakt.jose import PrivateKeyHandle, parse_public_key
from tests.api.v1.stores import STORES, world_on_store
from tests.api.v1.test_clients import READ, WRITE, Api, create, invalid
from tests.api.v1.test_jwks import self_signed_certificate
from tests.conftest import OP, OTHER, PROVIDER, VENDOR, World

__all__ = ["world_on_store"]  # the fixture `world`, on the store a test asks for
PEM = {"content-type": "application/x-pem-file"}


def _without_use(handle: PrivateKeyHandle, **over: Any) -> dict[str, Any]:
    return {**{k: v for k, v in handle.public_jwk.items() if k != "use"}, **over}


def _public_pem(handle: PrivateKeyHandle) -> str:
    key = serialization.load_pem_private_key(handle.to_pem(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()




def _jwks(client_id: str) -> str:
    return f"/clients/{client_id}/jwks"


def _conflict(r: Any, kid: str) -> dict[str, Any]:
    """Assert a 409 `/problems/conflict` naming `kid`; return the problem."""
    assert r.status_code == 409, r.text
    body: dict[str, Any] = r.json()
    assert body["type"] == "/problems/conflict" and f'"{kid}"' in body["detail"]
    return body


# --- Rule 1: "use" is required on every key registered from now on -------------------------------------------------

@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_jwk_without_use_is_refused_naming_the_entry(api: Api, world: World, rsa_keys: list[PrivateKeyHandle],
                                                      method: str) -> None:
    path = _jwks(create(api)["client_id"])
    body = invalid(api(method, path, VENDOR, (WRITE,), json={"keys": [_without_use(rsa_keys[1])]}), "keys[0]")
    assert body["detail"].startswith('keys[0]: a key needs "use": "sig" (Maskinporten requires it)')
    body = invalid(api(method, path, VENDOR, (WRITE,),
                       json={"keys": [rsa_keys[1].public_jwk, _without_use(rsa_keys[2])]}), "keys[1]")
    assert "keys[1]" in body["detail"] and rsa_keys[2].public_jwk["n"] not in json.dumps(body)
    assert api("GET", path, VENDOR, (READ,)).json() == {"keys": []}, "nothing of a refused set is stored"


def test_a_jwk_with_use_sig_is_registered(api: Api, rsa_keys: list[PrivateKeyHandle]) -> None:
    path = _jwks(create(api)["client_id"])
    r = api("POST", path, VENDOR, (WRITE,), json={"keys": [_without_use(rsa_keys[1], use="sig")]})
    assert r.status_code == 200 and r.json()["keys"][0]["use"] == "sig"


@pytest.mark.parametrize("how", ["string", "body"])
def test_a_pem_public_key_becomes_a_jwk_with_use_sig(api: Api, rsa_keys: list[PrivateKeyHandle], how: str) -> None:
    path = _jwks(create(api)["client_id"])
    pem = _public_pem(rsa_keys[1])
    r = api("POST", path, VENDOR, (WRITE,), **({"json": {"keys": [pem]}} if how == "string" else
                                               {"content": pem.encode(), "headers": PEM}))
    assert r.status_code == 200, r.text
    assert [(k["kid"], k["use"]) for k in r.json()["keys"]] == [(rsa_keys[1].kid, "sig")]


def test_a_pem_certificate_becomes_a_jwk_with_use_sig(rsa_keys: list[PrivateKeyHandle]) -> None:
    """Whether a certificate is registrable is for the certificate checks (docs/protocol.md §5.2); its JWK says use."""
    key = parse_public_key(self_signed_certificate(rsa_keys[1]))
    assert key.jwk["use"] == "sig" and len(key.jwk["x5c"]) == 1 and key.kid == rsa_keys[1].kid


def test_a_key_stored_without_use_keeps_working_at_token(world: World) -> None:
    """Keys registered before the rule stay valid (decision A17): /token never looked at `use`."""
    with world.change() as uow:
        client = uow.get_client(world.client_id)
        legacy = tuple(dataclasses.replace(k, jwk={m: v for m, v in k.jwk.items() if m != "use"})
                       for k in client.keys)
        uow.put_client(dataclasses.replace(client, keys=legacy))
    with world.store.read() as uow:
        assert "use" not in uow.get_client(world.client_id).keys[0].jwk
    assert world.post(world.grant()).status_code == 200


def test_a_legacy_key_is_renewed_once_it_says_use(api: Api, world: World) -> None:
    with world.change() as uow:
        client = uow.get_client(world.client_id)
        legacy = tuple(dataclasses.replace(k, jwk={m: v for m, v in k.jwk.items() if m != "use"})
                       for k in client.keys)
        uow.put_client(dataclasses.replace(client, keys=legacy))
    path = _jwks(world.client_id)
    invalid(api("POST", path, VENDOR, (WRITE,), json={"keys": [_without_use(world.key)]}), "keys[0]")
    r = api("POST", path, VENDOR, (WRITE,), json={"keys": [world.key.public_jwk]})
    assert r.status_code == 200 and r.json()["keys"][0]["use"] == "sig"
    assert world.post(world.grant()).status_code == 200


# --- Rule 2: a kid is unique across all clients --------------------------------------------------------------------

def test_a_kid_of_another_client_is_refused_without_naming_it(api: Api, world: World) -> None:
    other = create(api)["client_id"]
    r = api("POST", _jwks(other), VENDOR, (WRITE,), json={"keys": [world.key.public_jwk]})
    body = _conflict(r, world.key.kid)
    assert body["errors"] == [{"field": "keys[0]", "message": body["detail"]}]
    assert "another client" in body["detail"] and world.client_id not in r.text
    assert api("GET", _jwks(other), VENDOR, (READ,)).json() == {"keys": []}


def test_the_conflict_does_not_tell_another_org_who_holds_the_kid(api: Api, world: World) -> None:
    other = create(api, OTHER)["client_id"]
    r = api("POST", _jwks(other), OTHER, (WRITE,), json={"keys": [world.key.public_jwk]})
    _conflict(r, world.key.kid)
    assert world.client_id not in r.text and VENDOR not in r.text and "Vendor" not in r.text


def test_the_kid_in_a_set_is_named(api: Api, world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    other = create(api)["client_id"]
    r = api("PUT", _jwks(other), VENDOR, (WRITE,), json={"keys": [rsa_keys[1].public_jwk, world.key.public_jwk]})
    assert _conflict(r, world.key.kid)["errors"][0]["field"] == "keys[1]"


def test_a_pem_key_of_another_client_is_refused_too(api: Api, world: World) -> None:
    other = create(api)["client_id"]
    r = api("POST", _jwks(other), VENDOR, (WRITE,), content=_public_pem(world.key).encode(), headers=PEM)
    _conflict(r, world.key.kid)


def test_reposting_the_same_kid_on_the_same_client_renews_it(api: Api, world: World) -> None:
    path = _jwks(world.client_id)
    first = api("POST", path, VENDOR, (WRITE,), json={"keys": [world.key.public_jwk]}).json()
    world.clock.advance(24 * 3600)
    again = api("PUT", path, VENDOR, (WRITE,), json={"keys": [world.key.public_jwk]})
    assert again.status_code == 200
    assert again.json()["keys"][0]["exp"] == first["keys"][0]["exp"] + 24 * 3600
    assert world.post(world.grant()).status_code == 200


def test_the_same_key_under_another_kid_is_allowed(api: Api, world: World) -> None:
    other = create(api)["client_id"]
    r = api("POST", _jwks(other), VENDOR, (WRITE,), json={"keys": [{**world.key.public_jwk, "kid": "second"}]})
    assert r.status_code == 200 and r.json()["keys"][0]["kid"] == "second"


def test_a_kid_is_free_again_once_its_client_drops_it(api: Api, world: World) -> None:
    assert api("DELETE", _jwks(world.client_id), VENDOR, (WRITE,)).status_code == 200
    other = create(api)["client_id"]
    r = api("POST", _jwks(other), VENDOR, (WRITE,), json={"keys": [world.key.public_jwk]})
    assert r.status_code == 200, r.text
    r = api("POST", _jwks(world.client_id), VENDOR, (WRITE,), json={"keys": [world.key.public_jwk]})
    _conflict(r, world.key.kid)


def test_a_deactivated_clients_kid_stays_taken(api: Api, world: World) -> None:
    assert api("DELETE", f"/clients/{world.client_id}", VENDOR, (WRITE,)).status_code == 200
    other = create(api)["client_id"]
    _conflict(api("POST", _jwks(other), VENDOR, (WRITE,), json={"keys": [world.key.public_jwk]}),
              world.key.kid)


@pytest.mark.parametrize("world", STORES, indirect=True)
def test_a_burst_of_two_clients_registering_one_kid_gives_one_200_and_one_409(
        api: Api, world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    clients = [create(api)["client_id"], create(api, OTHER)["client_id"]]

    def post(client_id: str, orgno: str, jwk: dict[str, Any], start: threading.Barrier) -> Any:
        start.wait()
        return api("POST", _jwks(client_id), orgno, (WRITE,), json={"keys": [jwk]})

    for round_ in range(4):
        jwk = {**rsa_keys[1].public_jwk, "kid": f"burst-{round_}"}
        start = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(post, clients, (VENDOR, OTHER), (jwk, jwk), (start, start)))
        assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
        _conflict(next(r for r in answers if r.status_code == 409), jwk["kid"])
        holders = [c for c, orgno in zip(clients, (VENDOR, OTHER), strict=True)
                   if api("GET", _jwks(c), orgno, (READ,)).json()["keys"]]
        assert len(holders) == 1
        api("DELETE", _jwks(holders[0]), VENDOR if holders[0] == clients[0] else OTHER, (WRITE,))


# --- Rule 3: a client may be created with no key --------------------------------------------------------------------

@pytest.mark.parametrize("integration_type", ["maskinporten", "altinn_virksys"])
def test_a_client_is_created_without_a_key(api: Api, integration_type: str) -> None:
    c = create(api, integration_type=integration_type)
    assert "jwks" not in c
    assert api("GET", _jwks(c["client_id"]), VENDOR, (READ,)).json() == {"keys": []}


runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite registry made with the CLI: a provider with a scope and a vendor with access."""
    monkeypatch.setenv("PORTVAKT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PORTVAKT_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    for args in (("org", "add", PROVIDER, "--name", "Provider"), ("org", "add", VENDOR, "--name", "Vendor"),
                 ("scope", "add", "brreg:test/read", "--owner", PROVIDER),
                 ("access", "grant", "brreg:test/read", VENDOR)):
        assert runner.invoke(cli_app, list(args)).exit_code == 0
    return tmp_path


def _client_add(*extra: str) -> Any:
    return runner.invoke(cli_app, ["client", "add", "--org", VENDOR, "--name", "sys", "--scope", "brreg:test/read",
                                   *extra])


def _said(result: Any) -> str:
    """What the command printed, with the console's line wrapping undone."""
    return " ".join(str(result.output).split())


@pytest.mark.parametrize("integration_type", ["maskinporten", "altinn_virksys"])
def test_cli_client_add_without_a_key(cli_db: Path, integration_type: str) -> None:
    result = _client_add("--integration-type", integration_type)
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert made["keys"] == [] and made["integration_type"] == integration_type


def test_cli_client_add_refuses_a_jwk_without_use(cli_db: Path, rsa_keys: list[PrivateKeyHandle]) -> None:
    bare = cli_db / "bare.jwk.json"
    bare.write_text(json.dumps(_without_use(rsa_keys[1])))
    result = _client_add("--public-key", str(bare))
    assert result.exit_code == 1
    assert 'a key needs "use": "sig" (Maskinporten requires it)' in _said(result) and "Traceback" not in _said(result)
    listed = runner.invoke(cli_app, ["audit", "--org", VENDOR, "--json"]).stdout
    assert "client.create" not in listed, "the client and its key are one transaction"


@pytest.mark.parametrize("form", ["jwk", "pem"])
def test_cli_client_add_with_a_key(cli_db: Path, rsa_keys: list[PrivateKeyHandle], form: str) -> None:
    key_file = cli_db / f"key.{form}"
    key_file.write_text(json.dumps(rsa_keys[1].public_jwk) if form == "jwk" else _public_pem(rsa_keys[1]))
    result = _client_add("--public-key", str(key_file))
    assert result.exit_code == 0, result.output
    assert [(k["kid"], k["jwk"]["use"]) for k in json.loads(result.stdout)["keys"]] == [(rsa_keys[1].kid, "sig")]
    again = _client_add("--public-key", str(key_file))
    assert again.exit_code == 1 and f'kid "{rsa_keys[1].kid}" is already registered on another client' in _said(again)


# --- Rule 4: an altinn_virksys system never registers a certificate ----------------------------------------------

CERTIFICATE_REFUSED = ("an altinn_virksys system has its own key; register its public key, not a certificate "
                       "(docs/protocol.md §3.2)")


@pytest.mark.parametrize("how", ["pem-string", "pem-body", "jwk-with-x5c"])
def test_an_altinn_virksys_system_refuses_a_certificate(api: Api, rsa_keys: list[PrivateKeyHandle],
                                                        how: str) -> None:
    path = _jwks(create(api, integration_type="altinn_virksys")["client_id"])
    pem = self_signed_certificate(rsa_keys[1])
    sent = {"pem-string": {"json": {"keys": [pem]}}, "pem-body": {"content": pem.encode(), "headers": PEM},
            "jwk-with-x5c": {"json": {"keys": [parse_public_key(pem).jwk]}}}
    r = api("POST", path, VENDOR, (WRITE,), **sent[how])
    assert invalid(r, "keys[0]")["detail"] == f"keys[0]: {CERTIFICATE_REFUSED}"
    assert api("GET", path, VENDOR, (READ,)).json() == {"keys": []}
    r = api("POST", path, VENDOR, (WRITE,), content=_public_pem(rsa_keys[1]).encode(), headers=PEM)
    assert r.status_code == 200 and "x5c" not in r.json()["keys"][0]


def _system_and_client(world: World) -> tuple[str, str]:
    with world.store.begin() as uow:
        made = [uc.new_client(uow, client_name=str(kind), client_orgno=VENDOR, integration_type=kind, scopes=[],
                              actor=OP, now=world.clock.now()).client_id
                for kind in (IntegrationType.ALTINN_VIRKSYS, IntegrationType.MASKINPORTEN)]
    return made[0], made[1]


def test_the_domain_refuses_a_jwk_with_x5c_on_an_altinn_virksys_system(world: World,
                                                                       rsa_keys: list[PrivateKeyHandle]) -> None:
    """The rule lives in replace_client_keys, which the API, the CLI and the portal all call; a maskinporten client's
    certificate is left to the certificate checks."""
    system, client = _system_and_client(world)
    jwk = {**rsa_keys[1].public_jwk, "x5c": ["MIIB"]}
    with pytest.raises(Invalid) as refused, world.store.begin() as uow:
        uc.replace_client_keys(uow, system, [(rsa_keys[1].kid, jwk)], OP, world.clock.now())
    assert (refused.value.field, refused.value.message) == ("keys[0]", f"keys[0]: {CERTIFICATE_REFUSED}")
    with world.store.begin() as uow:
        stored = uc.replace_client_keys(uow, client, [(rsa_keys[1].kid, jwk)], OP, world.clock.now())
    assert stored.keys[0].jwk["x5c"] == ["MIIB"]


# --- The portal sends "use" with every key --------------------------------------------------------------------------

def test_the_portal_registers_a_pasted_jwk_without_use_as_a_signing_key(tmp_path: Path,
                                                                       rsa_keys: list[PrivateKeyHandle]) -> None:
    from tests.portal.stack import make_stack

    stack = make_stack(tmp_path, rsa_keys[2])
    with stack.browser:
        assert stack.login().status_code == 303
        client_id = stack.create_system()
        legacy = rsa_keys[0]
        with stack.store.begin() as uow:
            uc.replace_client_keys(uow, client_id, [(legacy.kid, legacy.public_jwk)], OP, stack.runtime.clock.now())
            system = uow.get_client(client_id)
            uow.put_client(dataclasses.replace(system, keys=tuple(
                dataclasses.replace(k, jwk=_without_use(legacy)) for k in system.keys)))
        stack.runtime.registry.refresh()
        resp = stack.post(f"/portal/systems/{client_id}/keys/paste",
                          {"public_key": json.dumps(_without_use(rsa_keys[1]))}, follow_redirects=False)
        assert resp.status_code == 303, resp.text
        with stack.store.read() as uow:
            stored = uow.get_client(client_id).keys
    assert [(k.kid, k.jwk["use"]) for k in stored] == [(legacy.kid, "sig"), (rsa_keys[1].kid, "sig")]
