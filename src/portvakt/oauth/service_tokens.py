"""Tokens the token service gives itself, to call the Altinn side's lookup (docs/protocol.md §4.2 step 4)."""

from __future__ import annotations

import threading

from portvakt.domain.ports import Clock

from .minter import AccessTokenMinter, TokenGrant

SERVICE_CLIENT_ID = "portvakt-token-service"
SERVICE_AMR = "internal"


class ServiceTokenSource:
    """A callable that returns a fresh access token of the operator's own, signed with the active key.

    The token is the same shape as any other (docs/protocol.md §2.2) so the Altinn side checks it like any caller's
    token; it is reused until `renew_before` seconds before it expires, and never logged.
    """

    def __init__(self, minter: AccessTokenMinter, clock: Clock, *, orgno: str, scopes: tuple[str, ...],
                 lifetime: int = 120, renew_before: int = 30) -> None:
        if not 0 <= renew_before < lifetime:
            raise ValueError("renew_before must be below lifetime")
        self._minter = minter
        self._clock = clock
        self._grant = TokenGrant(client_id=SERVICE_CLIENT_ID, client_orgno=orgno, client_amr=SERVICE_AMR,
                                 scopes=scopes, consumer_orgno=orgno, lifetime=lifetime)
        self._renew_before = renew_before
        self._lock = threading.Lock()
        self._token = ""
        self._renew_at = 0

    def __call__(self) -> str:
        """The cached token while it has more than `renew_before` seconds left, else a new one."""
        now = int(self._clock.now().timestamp())
        with self._lock:
            if now >= self._renew_at:
                issued = self._minter.mint(self._grant, now)
                self._token, self._renew_at = issued.access_token, issued.exp - self._renew_before
            return self._token
