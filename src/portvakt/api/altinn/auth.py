"""Who calls the Altinn side: a bearer token from the token service, checked by the one validator (api.bearer).

The Altinn side accepts tokens carrying the `altinn:maskinporten/...` scopes (docs/protocol.md §4.1 step 2,
§4.2). Whoever builds the app chooses the key source of its TokenGate: the keyring in the token service's own process
(oauth.bearer.local_validator), the issuer's /jwk when the Altinn side runs as its own process
(oauth.bearer.remote_validator). The rules are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends

from portvakt.domain.policy import Caller, require

from ..bearer import CallerDep, PortalCallerDep, TokenCheckUnavailable, TokenGate, authenticated, unavailable

__all__ = ["AuthenticatedDep", "PortalCallerDep", "TokenCheckUnavailable", "TokenGate", "authenticated",
           "unavailable", "with_scope"]


def with_scope(scope: str) -> Callable[[Caller], Caller]:
    """A dependency: an authenticated caller whose token carries `scope` (403 otherwise, RFC 6750 §3.1)."""

    def dependency(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
        require(caller, scope)
        return caller

    return dependency


AuthenticatedDep = CallerDep
