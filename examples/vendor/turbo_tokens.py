"""Turbo Systemleverandør's Maskinporten client: an access token for a scope, for itself or for a customer.

It retries what may pass by itself: 503 and 429 after their Retry-After (capped), a timeout, a dropped connection.
It never retries a refusal (another 4xx): the same request would be refused again, so it raises `Refused` with
Maskinporten's MP code for the operator to act on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from portvakt.client import GrantSigner

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
RETRIED = (429, 503)


class Refused(Exception):
    """The token endpoint refused the request; `code` is the MP code (e.g. MP-250: no access)."""

    def __init__(self, status: int, error: str, code: str | None, description: str) -> None:
        super().__init__(f"{status} {error} {code or ''}: {description}")
        self.status = status
        self.error = error
        self.code = code


class Unavailable(Exception):
    """No token after every attempt (an outage, timeouts, dropped connections)."""


@dataclass
class TokenSource:
    """Fetches tokens with fresh grants from `token_endpoint`, retrying as described above."""

    signer: GrantSigner
    token_endpoint: str
    attempts: int = 3
    timeout: float = 5.0
    max_wait: float = 10.0
    backoff: float = 0.5
    sleep: Callable[[float], None] = time.sleep

    def token(self, scope: str, *, consumer_org: str | None = None) -> str:
        """An access token for `scope` (on behalf of `consumer_org` if given)."""
        problem = ""
        for attempt in range(1, self.attempts + 1):
            wait = self.backoff
            try:
                resp = httpx.post(self.token_endpoint, timeout=self.timeout, data={
                    "grant_type": JWT_BEARER, "assertion": self.signer.grant(scope, consumer_org=consumer_org)})
            except httpx.TimeoutException:
                problem = "the token endpoint did not answer in time"
            except httpx.TransportError as exc:
                problem = f"the connection failed ({type(exc).__name__})"
            else:
                body = _json(resp)
                if resp.status_code == 200:
                    return str(body["access_token"])
                code = str(body.get("error_uri", "")).rsplit("/", 1)[-1] or None
                if resp.status_code not in RETRIED:
                    raise Refused(resp.status_code, str(body.get("error")), code,
                                  str(body.get("error_description", "")))
                problem = f"{resp.status_code} {body.get('error')} {code}"
                wait = float(resp.headers.get("retry-after", self.backoff))
            if attempt < self.attempts:
                self.sleep(min(wait, self.max_wait))
        raise Unavailable(f"no token after {self.attempts} attempts: {problem}")


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
