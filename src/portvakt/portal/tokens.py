"""The portal's own access token: a JWT grant signed with its key (docs/protocol.md §1.2), cached until near expiry."""

from __future__ import annotations

import asyncio
import logging

import httpx

from portvakt.client import GrantSigner, load_private_key
from portvakt.client.grants import JWT_BEARER
from portvakt.jose import JoseError

from .clock import Clock, Monotonic
from .config import PortalConfig

log = logging.getLogger("portvakt.portal")
#: Fetch a new token this many seconds before the cached one expires.
MARGIN_SECONDS = 20.0


class TokenUnavailable(Exception):
    """The portal could not get its own token; the reason is safe to log (no grant, no token)."""


class PortalTokenSource:
    """Signs grants for the portal's client and caches the token (one fetch at a time); `clock` dates the grants,
    `monotonic` times the cached token's life."""

    def __init__(self, config: PortalConfig, http: httpx.AsyncClient, *, clock: Clock, monotonic: Monotonic) -> None:
        self._config = config
        self._http = http
        self._clock, self._monotonic = clock, monotonic
        self._signer: GrantSigner | None = None
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    def _load_signer(self) -> GrantSigner:
        """The grant signer, with the key read from key_file on first use (it may be made after start)."""
        if self._signer is None:
            cfg = self._config
            try:
                key = load_private_key(cfg.key_file)
            except (OSError, JoseError) as exc:
                raise TokenUnavailable(f"cannot read the portal's key {cfg.key_file}: {exc.__class__.__name__}") \
                    from None
            self._signer = GrantSigner(client_id=cfg.settings.client_id, key=key, kid=cfg.settings.kid or key.kid,
                                       audience=cfg.api_url)
        return self._signer

    def forget(self, refused: str) -> None:
        """Drop the cached token if it is the one the API refused (concurrent refusals fetch one new token)."""
        if self._token == refused:
            self._token = None

    async def token(self) -> str:
        """A valid access token for the portal's scopes."""
        async with self._lock:
            if self._token is None or self._monotonic() >= self._expires - MARGIN_SECONDS:
                self._token, lifetime = await self._fetch()
                self._expires = self._monotonic() + lifetime
            return self._token

    async def _fetch(self) -> tuple[str, float]:
        """POST one grant to the token endpoint (RFC 7523 §2.1); refusals name only the OAuth error."""
        signer = self._load_signer()
        grant = signer.grant(" ".join(self._config.scopes), now=int(self._clock.now().timestamp()))
        try:
            resp = await self._http.post(self._config.token_endpoint,
                                         data={"grant_type": JWT_BEARER, "assertion": grant})
        except httpx.HTTPError as exc:
            raise TokenUnavailable(f"cannot reach the token endpoint: {exc.__class__.__name__}") from None
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            error = body.get("error") if isinstance(body, dict) else None
            described = body.get("error_description") if isinstance(body, dict) else None
            log.warning("the portal's token request was refused: HTTP %s %s %s", resp.status_code, error, described)
            raise TokenUnavailable(f"the token endpoint refused the portal's client (HTTP {resp.status_code})")
        lifetime = body.get("expires_in")
        return body["access_token"], float(lifetime) if isinstance(lifetime, int | float) else 60.0
