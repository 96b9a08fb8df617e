"""The Altinn side's delegation lookups for the token service (spec §4.2 step 4).

    LocalDelegationLookup(store)                       # same database: no cache, revocation is immediate
    HttpDelegationLookup("https://altinn.example/", mint_admin_token)   # a remote Altinn side

Both implement `portvakt.oauth.delegation.DelegationLookup` and fail closed with
`DelegationUnavailable` when they cannot answer.
"""

from __future__ import annotations

from .http import HttpDelegationLookup
from .local import LocalDelegationLookup

__all__ = ["HttpDelegationLookup", "LocalDelegationLookup"]
