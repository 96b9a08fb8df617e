"""An httpx.Auth that fetches a token with a JWT grant and reuses it until shortly before it expires."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import httpx

from .grants import GrantSigner, discover, fetch_token, party_details


class MaskinportenAuth(httpx.Auth):
    """`httpx.Client(auth=MaskinportenAuth(signer, scope))` sends `Authorization: Bearer <token>`; with
    `systemuser_org` (and `external_ref`) the token is a system user's (docs/protocol.md §6)."""

    def __init__(self, signer: GrantSigner, scope: str, *, consumer_org: str | None = None,
                 resource: str | list[str] | None = None, systemuser_org: str | None = None,
                 external_ref: str | None = None, token_endpoint: str | None = None, margin: int = 10) -> None:
        party_details(consumer_org, systemuser_org, external_ref)  # a bad orgno fails here, not at first use
        self._signer = signer
        self._scope = scope
        self._consumer_org = consumer_org
        self._systemuser_org = systemuser_org
        self._external_ref = external_ref
        self._resource = resource
        self._endpoint = token_endpoint
        self._margin = margin
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        """A valid access token, fetched when none is cached or it expires within the margin."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires - self._margin:
                with httpx.Client(timeout=10) as http:
                    endpoint = self._endpoint or discover(self._signer.audience, http)["token_endpoint"]
                    body = fetch_token(self._signer, self._scope, token_endpoint=endpoint,
                                       consumer_org=self._consumer_org, resource=self._resource,
                                       systemuser_org=self._systemuser_org, external_ref=self._external_ref,
                                       client=http)
                self._endpoint = endpoint
                self._token = str(body["access_token"])
                self._expires = time.monotonic() + float(body.get("expires_in", 0))
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        yield request
