"""Renders OAuth errors once (RFC 6749 §5.2): error, error_description with trace id, error_uri."""

from __future__ import annotations

import json
import logging
import math
import secrets

from portvakt.oauth.errors import OAuthError

log = logging.getLogger("portvakt.token")


def new_trace_id() -> str:
    """32 hex characters, as Maskinporten's trace_id."""
    return secrets.token_hex(16)


def error_body(err: OAuthError, issuer: str, trace_id: str, *, retry_after: float | None = None,
               logged: bool = True) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """Status, JSON body and extra headers; the internal detail goes to the log only, a 5xx refusal at WARNING (so
    that in an outage the log throttle folds them, decision S11). Retry-After is `retry_after` in whole seconds
    (at least 1), else 5 on a 503 (RFC 9110 §10.2.3); `logged=False` for a caller that logs the refusal itself."""
    if logged:
        log.log(logging.WARNING if err.status >= 500 else logging.INFO,
                "token refused code=%s error=%s trace_id=%s detail=%s", err.code, err.error, trace_id, err.detail)
    body = {
        "error": err.error,
        "error_description": f"{err.description} (trace_id: {trace_id})",
        "error_uri": f"{issuer}errors/{err.code}",
    }
    if retry_after is not None:
        extra = [(b"retry-after", str(max(1, math.ceil(retry_after))).encode())]
    else:
        extra = [(b"retry-after", b"5")] if err.status == 503 else []
    return err.status, json.dumps(body).encode(), extra
