"""The Maskinporten token exchange and the Altinn side's keys (docs/protocol.md §6.7): the Altinn token's claims
exactly, every refusal, the OpenID document and JWK Set, and the keys' life (made on first need, once, shared by
every process on one database, rotated like the token service's)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from portvakt.altinn.keys import AltinnKeys, retire_seconds, rotate_altinn_keys
from portvakt.api.altinn.app import create_altinn_app
from portvakt.api.altinn.exchange import TokenExchange, exchanged_claims
from portvakt.api.bearer import TokenGate
from portvakt.domain.clock import FixedClock
from portvakt.domain.models import SigningKeyState
from portvakt.jose import PrivateKeyHandle, Signer, Verifier, peek, thumbprint
from portvakt.oauth.minter import TokenGrant
from portvakt.oauth.systemuser import FoundSystemUser
from portvakt.resource import JwksUnavailable, TokenValidator, altinn_validator, system_user
from portvakt.resource.token import access_token
from portvakt.settings import AltinnSettings, Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble, open_store
from tests.conftest import CONSUMER, ISSUER, OPERATOR, VENDOR, World

EXCHANGE = "/authentication/api/v1/exchange/maskinporten"
OPENID = "/authentication/api/v1/openid/.well-known/openid-configuration"
JWKS = OPENID + "/jwks"
ALTINN_ISSUER = ISSUER + "authentication/api/v1/openid/"
SU_ID = "0f6d8a52-3c4b-4e1a-9b7d-2a5c6e8f1d30"
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def mint(world: World, *, scopes: tuple[str, ...] = ("brreg:test/read",), consumer: str = VENDOR,
         supplier: str | None = None, audience: list[str] | None = None, system_user_id: str | None = None,
         pid: str | None = None) -> str:
    """A token of the world's token service, as /token makes them (docs/protocol.md §2.2)."""
    found = None if system_user_id is None else FoundSystemUser(system_user_id, f"{VENDOR}_invoicing", CONSUMER,
                                                                "ref-1")
    grant = TokenGrant(client_id="vendor-client", client_orgno=supplier or consumer, client_amr="private_key_jwt",
                       scopes=scopes, consumer_orgno=consumer, supplier_orgno=supplier, audience=audience, pid=pid,
                       lifetime=120, system_user=found)
    return str(world.runtime.tokens._minter.mint(grant, int(world.clock.now().timestamp())).access_token)


def exchange(http: TestClient, token: str | None, path: str = EXCHANGE, **kwargs: Any) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    resp: httpx.Response = http.get(path, headers=headers, **kwargs)
    return resp


def challenge(resp: httpx.Response) -> str:
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    value: str = resp.headers["www-authenticate"]
    return value


# The Altinn token.

def test_the_altinn_token_has_the_original_claims_and_altinns_own_exactly(world: World) -> None:
    original = mint(world, pid="12345678901")
    resp = exchange(world.http, original)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "text/plain; charset=utf-8"
    assert resp.headers["cache-control"] == "no-store"
    jwt = peek(resp.text)
    before = peek(original).claims
    now = int(world.clock.now().timestamp())
    jti = jwt.claims["jti"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", jti)
    assert jti != before["jti"]
    assert jwt.claims == {
        "token_type": "Bearer", "client_id": "vendor-client", "consumer": before["consumer"],
        "scope": "brreg:test/read", "pid": "12345678901", "client_orgno": VENDOR,
        "urn:altinn:orgNumber": VENDOR, "urn:altinn:authenticatemethod": "maskinporten", "urn:altinn:authlevel": 3,
        "iss": ALTINN_ISSUER, "iat": now, "nbf": now, "exp": now + 1800, "jti": jti}
    assert set(jwt.header) == {"kid", "alg"} and jwt.header["alg"] == "RS256"


def test_it_is_signed_with_the_altinn_sides_own_key_which_its_jwks_publishes(world: World) -> None:
    resp = exchange(world.http, mint(world))
    kid = peek(resp.text).header["kid"]
    published = world.http.get(JWKS).json()["keys"]
    assert kid == published[0]["kid"]
    assert kid not in {k["kid"] for k in world.http.get("/jwk").json()["keys"]}
    validator = altinn_validator(ALTINN_ISSUER, http=world.http, clock=lambda: world.clock.now().timestamp())
    checked = validator.validate(resp.text)
    assert checked.consumer == VENDOR and checked.claims["urn:altinn:orgNumber"] == VENDOR


def test_a_system_users_authorization_details_become_the_one_object(world: World) -> None:
    original = mint(world, system_user_id=SU_ID)
    resp = exchange(world.http, original)
    assert resp.status_code == 200, resp.text
    details = peek(resp.text).claims["authorization_details"]
    assert details == peek(original).claims["authorization_details"][0]
    assert details["systemuser_id"] == [SU_ID]
    found = system_user(access_token(peek(resp.text).claims))
    assert found is not None and (found.system_user_id, found.owner_orgno, found.vendor_orgno) == (
        SU_ID, CONSUMER, VENDOR)


def test_exchanged_claims_keep_an_array_of_several_details_and_drop_what_altinn_drops() -> None:
    details = [{"type": "a"}, {"type": "b"}]
    original = {"aud": "x", "iss": "y", "client_amr": "z", "sid": "s", "jti": "j", "iat": 1, "nbf": 1, "exp": 2,
                "authorization_details": details, "consumer": {"ID": "0192:314330897"}, "custom": [1]}
    claims = exchanged_claims(original, orgno=VENDOR, issuer="https://a/", now=100, lifetime=60, jti="n", org="ttd")
    assert claims == {"authorization_details": details, "consumer": {"ID": "0192:314330897"}, "custom": [1],
                      "urn:altinn:org": "ttd", "urn:altinn:orgNumber": VENDOR,
                      "urn:altinn:authenticatemethod": "maskinporten", "urn:altinn:authlevel": 3,
                      "iss": "https://a/", "iat": 100, "nbf": 100, "exp": 160, "jti": "n"}


def test_the_lifetime_is_the_setting_and_the_issuer_is_below_the_public_url(rsa_keys: list[PrivateKeyHandle],
                                                                           world: World) -> None:
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent", altinn=AltinnSettings(
        public_url="https://altinn.example/", exchange_token_seconds=600))
    app = assemble(settings, ("token", "altinn"), Overrides(store=world.store, clock=world.clock, kek=b"test-kek"))
    with TestClient(app, base_url="http://portvakt.test") as http:
        claims = peek(exchange(http, mint(world)).text).claims
        assert claims["iss"] == "https://altinn.example/authentication/api/v1/openid/"
        assert claims["exp"] - claims["iat"] == 600
        assert http.get(OPENID).json()["issuer"] == "https://altinn.example/authentication/api/v1/openid/"


def test_the_provider_segment_is_read_without_regard_to_case(world: World) -> None:
    assert exchange(world.http, mint(world), "/authentication/api/v1/exchange/MaskinPorten").status_code == 200


@pytest.mark.parametrize(("orgno", "test", "org"), [
    (OPERATOR, None, "digdir"), (OPERATOR, "true", "ttd"), (OPERATOR, "TRUE", "ttd"), (OPERATOR, "false", "digdir"),
    (VENDOR, "true", None)])
def test_a_service_owner_scope_gets_urn_altinn_org_as_altinn_gives_it(world: World, orgno: str, test: str | None,
                                                                       org: str | None) -> None:
    token = mint(world, scopes=("altinn:serviceowner/instances.read",), consumer=orgno)
    resp = exchange(world.http, token, params={} if test is None else {"test": test})
    assert resp.status_code == 200, resp.text
    assert peek(resp.text).claims.get("urn:altinn:org") == org


def test_without_a_service_owner_scope_there_is_no_org_even_with_test(world: World) -> None:
    resp = exchange(world.http, mint(world, consumer=OPERATOR), params={"test": "true"})
    assert "urn:altinn:org" not in peek(resp.text).claims


# Refusals.

def test_no_token_is_401_with_a_bare_challenge(world: World) -> None:
    assert challenge(exchange(world.http, None)) == 'Bearer realm="altinn"'
    assert challenge(exchange(world.http, None, headers={"authorization": "Basic dTpw"})) == 'Bearer realm="altinn"'
    assert challenge(exchange(world.http, None, headers={"authorization": "Bearer "})) == 'Bearer realm="altinn"'


def test_two_authorization_headers_are_401(world: World) -> None:
    token = mint(world)
    resp = world.http.get(EXCHANGE, headers=[("authorization", f"Bearer {token}"),
                                             ("authorization", f"Bearer {token}")])
    assert challenge(resp) == 'Bearer realm="altinn"'


@pytest.mark.parametrize(("make", "reason"), [
    (lambda w, k: "not.a.jwt", "not a well-formed JWT"),
    (lambda w, k: Signer(k).sign({"iss": ISSUER}), "signed by a key the issuer does not publish"),
    (lambda w, k: mint(w, audience=["https://other.api.example/"]), "meant for another API"),
])
def test_a_token_that_is_not_valid_is_401_invalid_token(world: World, rsa_keys: list[PrivateKeyHandle],
                                                         make: Callable[[World, PrivateKeyHandle], str],
                                                         reason: str) -> None:
    value = challenge(exchange(world.http, make(world, rsa_keys[2])))
    assert value.startswith('Bearer realm="altinn", error="invalid_token"')
    assert reason in value


def test_an_expired_token_is_401(world: World) -> None:
    token = mint(world)
    world.clock.advance(131)
    assert "has expired" in challenge(exchange(world.http, token))


def test_an_altinn_token_cannot_be_exchanged_again(world: World) -> None:
    altinn_token = exchange(world.http, mint(world)).text
    assert "does not publish" in challenge(exchange(world.http, altinn_token))


def test_a_suppliers_token_is_401(world: World) -> None:
    value = challenge(exchange(world.http, mint(world, consumer=CONSUMER, supplier=VENDOR)))
    assert 'error="invalid_token"' in value and "supplier" in value


def test_a_token_whose_consumer_is_no_valid_orgno_is_401(world: World) -> None:
    assert "no valid organisation" in challenge(exchange(world.http, mint(world, consumer="991825828")))


@pytest.mark.parametrize("provider", ["id-porten", "altinnstudio", "AltinnStudio", "idporten", "x" * 300])
def test_another_provider_is_400(world: World, provider: str) -> None:
    resp = exchange(world.http, mint(world), f"/authentication/api/v1/exchange/{provider}")
    assert resp.status_code == 400, resp.text
    assert resp.json()["type"] == "/problems/invalid"
    assert "maskinporten" in resp.json()["detail"]
    assert len(resp.json()["detail"]) < 120


def test_the_token_is_checked_before_the_provider(world: World) -> None:
    assert exchange(world.http, None, "/authentication/api/v1/exchange/nope").status_code == 401


@pytest.mark.parametrize("params", [{"test": "yes"}, {"test": ""}, [("test", "true"), ("test", "false")]])
def test_a_test_flag_that_is_not_a_boolean_is_400(world: World, params: Any) -> None:
    resp = exchange(world.http, mint(world), params=params)
    assert resp.status_code == 400 and "true or false" in resp.json()["detail"]


def test_the_enterprise_user_header_is_410_after_the_token_is_checked(world: World) -> None:
    header = {"X-Altinn-EnterpriseUser-Authentication": "dXNlcjpwYXNzd29yZA=="}
    resp = exchange(world.http, mint(world), headers=header)
    assert resp.status_code == 410
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["status"] == 410 and "enterprise users are not supported" in resp.json()["detail"]
    assert "cGFzc3dvcmQ" not in resp.text and "password" not in resp.text
    assert exchange(world.http, None, headers=header).status_code == 401


def test_keys_out_of_reach_are_503_not_401(rsa_keys: list[PrivateKeyHandle]) -> None:
    class Unreachable:
        def verifier(self, kid: str) -> Verifier | None:
            raise JwksUnavailable("down", retry_after=7)

    store, clock = MemoryStore(), FixedClock(datetime.now(UTC))
    gate = TokenGate(TokenValidator(ISSUER, jwks=Unreachable()), frozenset(), "altinn")
    app = create_altinn_app(store, clock, gate,
                            token_exchange=TokenExchange(AltinnKeys(store, b"k", clock), ALTINN_ISSUER))
    resp = exchange(TestClient(app), Signer(rsa_keys[0]).sign({"iss": ISSUER}))
    assert resp.status_code == 503 and resp.headers["retry-after"] == "7"


def test_an_app_without_the_exchange_answers_404_on_its_paths() -> None:
    store, clock = MemoryStore(), FixedClock(datetime.now(UTC))
    app = create_altinn_app(store, clock, TokenGate(TokenValidator(ISSUER), frozenset(), "altinn"))
    http = TestClient(app)
    for path in (EXCHANGE, OPENID, JWKS):
        assert http.get(path).status_code == 404


def test_the_altinn_side_alone_exchanges_the_token_services_tokens(world: World) -> None:
    settings = Settings(data_dir="/nonexistent", altinn=AltinnSettings(token_issuer=ISSUER))
    app = assemble(settings, ("altinn",), Overrides(store=world.store, clock=world.clock, token_http=world.http,
                                                     kek=b"test-kek"))
    with TestClient(app, base_url="http://altinn.test") as alone:
        resp = exchange(alone, mint(world))
        assert resp.status_code == 200, resp.text
        assert peek(resp.text).header["kid"] == world.http.get(JWKS).json()["keys"][0]["kid"]


# The OpenID document and the keys.

def test_the_openid_configuration(world: World) -> None:
    resp = world.http.get(OPENID)
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "public, max-age=3600"
    assert resp.json() == {"issuer": ALTINN_ISSUER, "jwks_uri": ALTINN_ISSUER + ".well-known/openid-configuration/jwks",
                           "response_types_supported": ["token"], "subject_types_supported": ["pairwise"],
                           "id_token_signing_alg_values_supported": ["RS256"]}


def test_the_jwks_is_rfc_7517_with_base64url_members_and_thumbprint_kids(world: World) -> None:
    resp = world.http.get(JWKS)
    assert resp.headers["cache-control"] == "public, max-age=300"
    keys = resp.json()["keys"]
    assert len(keys) == 2  # the active key and the published next key
    for key in keys:
        assert set(key) == {"kty", "n", "e", "kid", "alg", "use"}
        assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
        assert _B64URL.fullmatch(key["n"]) and _B64URL.fullmatch(key["e"])
        assert key["kid"] == thumbprint(key) and len(key["kid"]) == 43


def test_keys_are_made_on_first_need_encrypted_apart_from_the_token_services(world: World) -> None:
    with world.store.read() as uow:
        assert uow.list_altinn_keys() == []
        service = {k.kid for k in uow.list_signing_keys()}
    assert exchange(world.http, mint(world)).status_code == 200
    with world.store.read() as uow:
        keys = uow.list_altinn_keys()
    assert sorted(k.state for k in keys) == sorted([SigningKeyState.ACTIVE, SigningKeyState.NEXT])
    assert not service & {k.kid for k in keys}
    for key in keys:
        assert key.encrypted_private_key.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert PrivateKeyHandle.from_pem(key.encrypted_private_key, b"test-kek").kid == key.kid


def race(rings: list[AltinnKeys]) -> set[str | None]:
    """Every keyring's first need at once; the kids they sign with."""
    barrier = threading.Barrier(len(rings))
    kids: list[str | None] = []

    def first_need(ring: AltinnKeys) -> None:
        barrier.wait()
        kids.append(ring.signer().kid)

    threads = [threading.Thread(target=first_need, args=(ring,)) for ring in rings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(kids) == len(rings)
    return set(kids)


def test_two_processes_racing_make_one_pair(world: World) -> None:
    rings = [AltinnKeys(world.store, b"test-kek", world.clock) for _ in range(4)]
    assert len(race(rings)) == 1
    with world.store.read() as uow:
        assert len(uow.list_altinn_keys()) == 2


def test_two_nodes_racing_on_one_sqlite_file_make_one_pair(sqlite_settings: Settings, world: World) -> None:
    stores = [open_store(sqlite_settings, migrate=False) for _ in range(3)]
    try:
        assert len(race([AltinnKeys(s, b"test-kek", world.clock) for s in stores])) == 1
        with stores[0].read() as uow:
            assert len(uow.list_altinn_keys()) == 2
    finally:
        for s in stores:
            s.close()


def test_a_rotation_signs_with_the_next_key_and_keeps_the_old_one_published(world: World) -> None:
    before = peek(exchange(world.http, mint(world)).text).header["kid"]
    published = [k["kid"] for k in world.http.get(JWKS).json()["keys"]]
    promoted = rotate_altinn_keys(world.store, b"test-kek", 2048, world.clock.now(), retire_seconds(1800))
    assert promoted.kid == published[1]
    world.runtime.registry.refresh()  # the change feed tells this process's keyring
    assert peek(exchange(world.http, mint(world)).text).header["kid"] == promoted.kid
    after = [k["kid"] for k in world.http.get(JWKS).json()["keys"]]
    assert after[0] == promoted.kid and before in after and len(after) == 3
    with world.store.read() as uow:
        retired = next(k for k in uow.list_altinn_keys() if k.kid == before)
    assert retired.delete_after == world.clock.now() + timedelta(seconds=1800 + 60 + 1)


def test_a_process_without_the_change_feed_sees_a_rotation_within_recheck_seconds(world: World) -> None:
    ticks = [0.0]
    ring = AltinnKeys(world.store, b"test-kek", world.clock, recheck_seconds=60, monotonic=lambda: ticks[0])
    old = ring.signer().kid
    promoted = rotate_altinn_keys(world.store, b"test-kek", 2048, world.clock.now(), 10)
    ticks[0] = 59.0
    assert ring.signer().kid == old
    ticks[0] = 60.0
    assert ring.signer().kid == promoted.kid
    ring.on_change("signing_key", promoted.kid)  # another kind: nothing to do
    assert ring.signer().kid == promoted.kid
    with pytest.raises(ValueError, match="recheck_seconds"):
        AltinnKeys(world.store, b"k", world.clock, recheck_seconds=0)


# Two apps on one SQLite file.

@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    settings = Settings(issuer=ISSUER, data_dir=tmp_path)
    open_store(settings).close()  # migrated once
    return settings


def test_two_apps_on_one_sqlite_file_share_the_altinn_keys(sqlite_settings: Settings, world: World) -> None:
    clock = world.clock
    stores = [open_store(sqlite_settings, migrate=False) for _ in range(2)]
    apps = [assemble(sqlite_settings, ("token", "altinn"), Overrides(store=s, clock=clock, kek=b"test-kek"))
            for s in stores]
    try:
        with TestClient(apps[0], base_url="http://portvakt.test") as one, \
                TestClient(apps[1], base_url="http://portvakt.test") as two:
            token = _sqlite_token(apps[0], clock)
            first = exchange(one, token)
            assert first.status_code == 200, first.text
            assert one.get(JWKS).json() == two.get(JWKS).json()
            second = exchange(two, token)
            assert peek(second.text).header["kid"] == peek(first.text).header["kid"]
            validator = altinn_validator(ALTINN_ISSUER, http=two, clock=lambda: clock.now().timestamp())
            assert validator.validate(first.text).consumer == VENDOR
        with stores[0].read() as uow:
            assert len(uow.list_altinn_keys()) == 2
    finally:
        for s in stores:
            s.close()


def _sqlite_token(app: Any, clock: FixedClock) -> str:
    """A token of the app's token service (its store has no clients: the minter signs what it is given)."""
    grant = TokenGrant(client_id="vendor-client", client_orgno=VENDOR, client_amr="private_key_jwt",
                       scopes=("brreg:test/read",), consumer_orgno=VENDOR, lifetime=120)
    return str(app.runtime.tokens._minter.mint(grant, int(clock.now().timestamp())).access_token)


def test_the_exchange_asks_for_no_scope_as_altinns(world: World) -> None:
    resp = exchange(world.http, mint(world, scopes=()))
    assert resp.status_code == 200, resp.text
    assert peek(resp.text).claims["scope"] == ""
