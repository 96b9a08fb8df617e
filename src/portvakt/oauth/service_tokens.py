"""Tokens the token service gives itself, to call the Altinn side's lookup (docs/protocol.md §4.2 step 4)."""

from __future__ import annotations

import threading
from datetime import datetime

from portvakt.domain.models import Client, IntegrationType
from portvakt.domain.ports import Clock

from .issuer import AccessTokenIssuer, TokenGrant

SERVICE_CLIENT_ID = "portvakt-token-service"
SERVICE_AMR = "internal"


class ServiceTokenSource:
    """A callable that returns a fresh access token of the operator's own, signed with the active key.

    The token is the same shape as any other (docs/protocol.md §2.2) so the Altinn side checks it like any caller's
    token; it is reused until `renew_before` seconds before it expires, and never logged.
    """

    def __init__(self, issuer: AccessTokenIssuer, clock: Clock, *, orgno: str, scopes: tuple[str, ...],
                 lifetime: int = 120, renew_before: int = 30) -> None:
        if not 0 <= renew_before < lifetime:
            raise ValueError("renew_before must be below lifetime")
        self._issuer = issuer
        self._clock = clock
        self._orgno = orgno
        self._scopes = scopes
        self._lifetime = lifetime
        self._renew_before = renew_before
        self._lock = threading.Lock()
        self._token = ""
        self._renew_at = 0

    def __call__(self) -> str:
        """The cached token while it has more than `renew_before` seconds left, else a new one."""
        at = self._clock.now()
        now = int(at.timestamp())
        with self._lock:
            if now >= self._renew_at:
                issued = self._issuer.issue(self._grant(at), now)
                self._token, self._renew_at = issued.access_token, issued.exp - self._renew_before
            return self._token

    def _grant(self, at: datetime) -> TokenGrant:
        client = Client(client_id=SERVICE_CLIENT_ID, client_name="portvakt token service", client_orgno=self._orgno,
                        integration_type=IntegrationType.MASKINPORTEN, scopes=self._scopes, created=at,
                        last_updated=at)
        return TokenGrant(client=client, client_amr=SERVICE_AMR, scopes=self._scopes, consumer_orgno=self._orgno,
                          supplier_orgno=None, delegation_source=None, audience=None, pid=None,
                          lifetime=self._lifetime)
