"""The Altinn side's delegation lookups for the token service (docs/protocol.md §4.2 step 4).

    LocalDelegationLookup(store)                       # the registry in this database
    HttpDelegationLookup("https://altinn.example/", mint_admin_token)   # a remote Altinn side

Both implement `portvakt.oauth.delegation.DelegationLookup` and fail closed with
`DelegationUnavailable` when they cannot answer. The local one is wrapped in
`oauth.delegation.CachedDelegationLookup`, whose answers the change feed drops (decision D4); the HTTP
one keeps a short cache of its own (a "yes" at most 30 s, a "no" at most 5 s).
"""

from __future__ import annotations

from .http import HttpDelegationLookup
from .local import LocalDelegationLookup

__all__ = ["HttpDelegationLookup", "LocalDelegationLookup"]
