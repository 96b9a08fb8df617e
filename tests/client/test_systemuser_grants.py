"""A system user's grant from portvakt.client (docs/protocol.md §6): `systemuser_org` and `external_ref` put the
contract's `authorization_details` into the signed grant, and a bad orgno is refused before anything is sent."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest

from portvakt.client import SYSTEM_USER_TYPE, GrantSigner, MaskinportenAuth, fetch_token, systemuser_details
from portvakt.jose import PrivateKeyHandle

ISSUER = "http://portvakt.test/"
TOKEN_URL = f"{ISSUER}token"
OWNER = "310838128"
CONSUMER = "910753614"
NOW = 1_760_000_000


@pytest.fixture
def signer(rsa_keys: list[PrivateKeyHandle]) -> GrantSigner:
    return GrantSigner(client_id="client-1", key=rsa_keys[0], kid=rsa_keys[0].kid, audience=ISSUER)


def verified(signer: GrantSigner, grant: str) -> dict[str, Any]:
    """The grant's claims, after its signature verified with the signer's public key."""
    key = jwt.PyJWK(signer.key.public_jwk, algorithm="RS256").key
    claims: dict[str, Any] = jwt.decode(grant, key, algorithms=["RS256"], audience=ISSUER,
                                           options={"verify_exp": False, "verify_iat": False})
    return claims


def systemuser_org(orgno: str) -> dict[str, str]:
    return {"authority": "iso6523-actorid-upis", "ID": f"0192:{orgno}"}


def test_the_grant_carries_the_system_users_authorization_details_exactly(signer: GrantSigner) -> None:
    claims = verified(signer, signer.grant("brreg:test/read", systemuser_org=OWNER, now=NOW))
    jti = claims.pop("jti")
    assert isinstance(jti, str) and len(jti) == 36
    assert claims == {"aud": ISSUER, "iss": "client-1", "scope": "brreg:test/read", "iat": NOW, "exp": NOW + 120,
                      "authorization_details": [{"type": "urn:altinn:systemuser",
                                                 "systemuser_org": systemuser_org(OWNER)}]}


def test_an_external_ref_goes_into_the_details(signer: GrantSigner) -> None:
    claims = verified(signer, signer.grant("a:b", systemuser_org=OWNER, external_ref="kunde-42", now=NOW))
    assert claims["authorization_details"] == [{"type": SYSTEM_USER_TYPE, "systemuser_org": systemuser_org(OWNER),
                                                "externalRef": "kunde-42"}]
    assert "consumer_org" not in claims


def test_without_systemuser_org_there_are_no_details(signer: GrantSigner) -> None:
    claims = verified(signer, signer.grant("a:b", consumer_org=CONSUMER, now=NOW))
    assert claims["consumer_org"] == CONSUMER and "authorization_details" not in claims


@pytest.mark.parametrize(("orgno", "says"), [
    ("31083812", "9 digits"),
    ("310838129", "mod-11"),
    ("31083812x", "9 digits"),
    ("３１０８３８１２８", "9 digits"),
    ("0192:310838128", "without the 0192: prefix"),
    ("", "is not an organisation number"),
])
def test_a_bad_orgno_is_refused_with_a_clear_message(signer: GrantSigner, orgno: str, says: str) -> None:
    with pytest.raises(ValueError, match="is not an organisation number") as raised:
        signer.grant("a:b", systemuser_org=orgno)
    assert says in str(raised.value)


@pytest.mark.parametrize(("options", "says"), [
    ({"external_ref": "x"}, "external_ref goes with systemuser_org"),
    ({"systemuser_org": OWNER, "consumer_org": CONSUMER}, "exclude each other"),
    ({"systemuser_org": OWNER, "external_ref": ""}, "non-empty"),
    ({"systemuser_org": OWNER, "external_ref": " x"}, "leading or trailing spaces"),
    ({"systemuser_org": OWNER, "external_ref": "x" * 201}, "at most 200"),
])
def test_options_that_do_not_fit_are_refused(signer: GrantSigner, options: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        signer.grant("a:b", **options)


def test_an_external_ref_of_the_servers_longest_is_accepted() -> None:
    assert systemuser_details(OWNER, "x" * 200)[0]["externalRef"] == "x" * 200


def test_systemuser_details_is_the_grants_value() -> None:
    assert systemuser_details(OWNER, "r") == [{"type": SYSTEM_USER_TYPE, "systemuser_org": systemuser_org(OWNER),
                                               "externalRef": "r"}]


class TokenEndpoint:
    """A fake token endpoint that records each grant it is sent and answers a token."""

    def __init__(self) -> None:
        self.grants: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/oauth-authorization-server":
            return httpx.Response(200, json={"issuer": ISSUER, "token_endpoint": TOKEN_URL})
        form = parse_qs(request.content.decode())
        self.grants.append(form["assertion"][0])
        return httpx.Response(200, json={"access_token": f"token-{len(self.grants)}", "token_type": "Bearer",
                                         "expires_in": 120, "scope": form.get("scope", ["a:b"])[0]})


@pytest.fixture
def endpoint() -> TokenEndpoint:
    return TokenEndpoint()


def test_fetch_token_sends_the_details(signer: GrantSigner, endpoint: TokenEndpoint) -> None:
    with httpx.Client(transport=httpx.MockTransport(endpoint)) as http:
        body = fetch_token(signer, "a:b", token_endpoint=TOKEN_URL, systemuser_org=OWNER, external_ref="r",
                           client=http)
    assert body["access_token"] == "token-1"
    assert verified(signer, endpoint.grants[0])["authorization_details"][0]["externalRef"] == "r"


def test_fetch_token_sends_nothing_for_a_bad_orgno(signer: GrantSigner, endpoint: TokenEndpoint) -> None:
    with httpx.Client(transport=httpx.MockTransport(endpoint)) as http, pytest.raises(ValueError, match="9 digits"):
        fetch_token(signer, "a:b", token_endpoint=TOKEN_URL, systemuser_org="123", client=http)
    assert endpoint.grants == []


def test_the_auth_refuses_a_bad_orgno_when_made(signer: GrantSigner) -> None:
    with pytest.raises(ValueError, match="mod-11"):
        MaskinportenAuth(signer, "a:b", systemuser_org="310838129")


def test_the_auth_fetches_a_system_users_token_once(signer: GrantSigner, endpoint: TokenEndpoint,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    real_client = httpx.Client
    monkeypatch.setattr("portvakt.client.auth.httpx.Client",
                        lambda **kw: real_client(transport=httpx.MockTransport(endpoint), **kw))
    auth = MaskinportenAuth(signer, "a:b", systemuser_org=OWNER)
    seen: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={})

    with real_client(transport=httpx.MockTransport(api), auth=auth) as http:
        http.get("http://api.test/a")
        http.get("http://api.test/b")
    assert seen == ["Bearer token-1", "Bearer token-1"]
    details = verified(signer, endpoint.grants[0])["authorization_details"]
    assert json.dumps(details) == json.dumps([{"type": SYSTEM_USER_TYPE, "systemuser_org": systemuser_org(OWNER)}])
