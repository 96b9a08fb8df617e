"""A tiny FastAPI API behind require_token, on the wire with TestClient (RFC 6750 §3, RFC 9457).

No `from __future__ import annotations` here: FastAPI must evaluate the route annotations, which
name dependencies built inside make_app.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.testclient import TestClient

from portvakt.jose import PrivateKeyHandle
from portvakt.resource import AccessToken, TokenValidator, install, require_token

from .conftest import CONSUMER, VENDOR, FakeIssuer, org, sign


def make_app(validator: TokenValidator, *, problems: bool) -> FastAPI:
    app = FastAPI()
    read = Annotated[AccessToken, Depends(require_token(validator, "brreg:test/read", realm="brreg"))]
    admin_scopes = require_token(validator, "brreg:test/admin", "brreg:test/read", realm="brreg")

    @app.get("/owners/{orgno}")
    def owners(orgno: str, token: read) -> dict[str, object]:
        return {"orgno": orgno, "consumer": token.consumer, "supplier": token.supplier}

    @app.get("/admin")
    def admin(token: Annotated[AccessToken, Depends(admin_scopes)]) -> dict[str, str]:
        return {"consumer": token.consumer}

    if problems:
        install(app)
    return app


@dataclass
class Api:
    """The app's TestClient, and whether install() added the problem-document handler."""

    http: TestClient
    problems: bool

    def get(self, url: str, headers: object = None) -> httpx.Response:
        response: httpx.Response = self.http.get(url, headers=headers)
        return response


@pytest.fixture(params=[True, False], ids=["problem", "plain"])
def api(request: pytest.FixtureRequest, validator: TokenValidator) -> Iterator[Api]:
    with TestClient(make_app(validator, problems=request.param)) as client:
        yield Api(client, request.param)


def detail(api: Api, response: httpx.Response) -> str:
    """The description from the body: a problem document, or FastAPI's {"detail": ...}."""
    body = response.json()
    if api.problems:
        assert response.headers["content-type"] == "application/problem+json"
        assert body["type"] == "about:blank" and body["status"] == response.status_code
    else:
        assert set(body) == {"detail"}
    return str(body["detail"])


def test_valid_token(api: Api, issuer_key: PrivateKeyHandle) -> None:
    token = sign(issuer_key, consumer=org(CONSUMER), supplier=org(VENDOR))
    r = api.get("/owners/974760673", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json() == {"orgno": "974760673", "consumer": CONSUMER, "supplier": VENDOR}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwdw=="}])
def test_no_bearer_token_gets_a_bare_challenge(api: Api, headers: dict[str, str]) -> None:
    r = api.get("/owners/1", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="brreg"'
    assert "access token" in detail(api, r)


def test_invalid_token(api: Api, stranger_key: PrivateKeyHandle) -> None:
    token = sign(stranger_key)
    r = api.get("/owners/1", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == ('Bearer realm="brreg", error="invalid_token", '
                                             'error_description="the access token is signed by a key the issuer '
                                             'does not publish"')
    assert token not in r.text and token not in str(r.headers)
    if api.problems:
        assert r.json()["error"] == "invalid_token" and r.headers["cache-control"] == "no-store"


def test_insufficient_scope(api: Api, issuer_key: PrivateKeyHandle) -> None:
    r = api.get("/admin", headers={"Authorization": f"Bearer {sign(issuer_key)}"})
    assert r.status_code == 403
    assert r.headers["www-authenticate"] == (
        'Bearer realm="brreg", error="insufficient_scope", '
        'error_description="the access token lacks the scope brreg:test/admin", '
        'scope="brreg:test/admin brreg:test/read"')
    assert detail(api, r) == "the access token lacks the scope brreg:test/admin"


@pytest.mark.parametrize("headers", [
    [("Authorization", "Bearer a"), ("Authorization", "Bearer b")], [("Authorization", "Bearer a b")],
])
def test_invalid_request(api: Api, headers: list[tuple[str, str]]) -> None:
    r = api.get("/owners/1", headers=headers)
    assert r.status_code == 400
    assert r.headers["www-authenticate"].startswith('Bearer realm="brreg", error="invalid_request", ')


def test_issuer_unreachable_without_keys_is_503(api: Api, issuer: FakeIssuer,
                                                issuer_key: PrivateKeyHandle) -> None:
    issuer.up = False
    r = api.get("/owners/1", headers={"Authorization": f"Bearer {sign(issuer_key)}"})
    assert r.status_code == 503
    assert "www-authenticate" not in r.headers
    assert r.headers["retry-after"] == "30"
    assert detail(api, r) == "the token issuer's signing keys are not available; try again later"
    if api.problems:
        assert r.json()["title"] == "Service Unavailable" and "error" not in r.json()


def test_bad_realm_is_refused(validator: TokenValidator) -> None:
    with pytest.raises(ValueError, match="realm"):
        require_token(validator, realm='a"b')
