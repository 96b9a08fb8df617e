"""A fake issuer behind httpx.MockTransport (no network), a fake monotonic clock and token helpers."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.resource import JwksCache, TokenValidator

ISSUER = "https://issuer.test/"
JWKS_URI = "https://issuer.test/jwk"
NOW = 1_700_000_000
VENDOR = "314330897"
CONSUMER = "310838128"


class FakeIssuer:
    """Serves /jwk and the RFC 8414 metadata, counts requests, and can be taken down."""

    def __init__(self, keys: list[PrivateKeyHandle]) -> None:
        self.jwks: dict[str, Any] = {"keys": [k.public_jwk for k in keys]}
        self.up = True
        self.status = 200
        self.headers: dict[str, str] = {}
        self.body: bytes | None = None
        self.metadata: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": JWKS_URI, "token_endpoint": ISSUER + "token"}
        self.requests: list[str] = []
        self.on_request: Callable[[], None] | None = None

    @property
    def fetches(self) -> int:
        """How many times /jwk was requested."""
        return self.requests.count("/jwk")

    def publish(self, *keys: PrivateKeyHandle) -> None:
        self.jwks = {"keys": [k.public_jwk for k in keys]}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if self.on_request is not None:
            self.on_request()
        if not self.up:
            raise httpx.ConnectError("issuer down", request=request)
        if request.url.path == "/.well-known/oauth-authorization-server":
            return httpx.Response(200, json=self.metadata)
        if request.url.path != "/jwk":
            return httpx.Response(404)
        body = self.body if self.body is not None else json.dumps(self.jwks).encode()
        return httpx.Response(self.status, content=body, headers=self.headers)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 5000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def org(orgno: str) -> dict[str, str]:
    return {"authority": "iso6523-actorid-upis", "ID": f"0192:{orgno}"}


def claims(**over: Any) -> dict[str, Any]:
    """Maskinporten-shaped access-token claims (docs/protocol.md §2.2) at NOW; None removes a claim."""
    c: dict[str, Any] = {"iss": ISSUER, "client_amr": "private_key_jwt", "token_type": "Bearer",
                         "client_id": "vendor-client", "aud": "unspecified", "consumer": org(VENDOR),
                         "scope": "brreg:test/read brreg:test/open", "iat": NOW, "exp": NOW + 120,
                         "client_orgno": VENDOR, "jti": uuid.uuid4().hex}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def sign(key: PrivateKeyHandle, alg: str = "RS256", kid: str | None = None, **over: Any) -> str:
    return Signer(key, alg=alg, kid=kid).sign(claims(**over))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, Any], body: dict[str, Any], signature: bytes = b"") -> str:
    """A hand-made compact JWS (for tokens Signer refuses to make)."""
    return ".".join((b64(json.dumps(header).encode()), b64(json.dumps(body).encode()), b64(signature)))


@pytest.fixture
def issuer_key(rsa_keys: list[PrivateKeyHandle]) -> PrivateKeyHandle:
    return rsa_keys[1]


@pytest.fixture
def next_key(rsa_keys: list[PrivateKeyHandle]) -> PrivateKeyHandle:
    return rsa_keys[2]


@pytest.fixture
def stranger_key(rsa_keys: list[PrivateKeyHandle]) -> PrivateKeyHandle:
    return rsa_keys[0]


@pytest.fixture
def issuer(issuer_key: PrivateKeyHandle) -> FakeIssuer:
    return FakeIssuer([issuer_key])


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def cache(issuer: FakeIssuer, ticker: Ticker) -> JwksCache:
    return JwksCache(JWKS_URI, http=issuer.client(), min_refresh_interval=30, max_age=3600, clock=ticker)


@pytest.fixture
def validator(cache: JwksCache) -> TokenValidator:
    return TokenValidator(ISSUER, jwks=cache, clock=lambda: NOW)
