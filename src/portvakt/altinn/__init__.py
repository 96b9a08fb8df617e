"""The Altinn side's lookups for the token service: delegations (docs/protocol.md §4.2 step 4) and system users
(docs/protocol.md §6.5).

    LocalDelegationLookup(store)                       # the registry in this database
    HttpDelegationLookup("https://altinn.example/", mint_admin_token)   # a remote Altinn side
    LocalSystemUserLookup(store)                       # the system register in this database
    HttpSystemUserLookup("https://altinn.example/", mint_lookup_token)  # a remote Altinn side's byExternalId

The delegation lookups implement `portvakt.oauth.delegation.DelegationLookup` and fail closed with
`DelegationUnavailable`; the system-user lookups `portvakt.oauth.systemuser.SystemUserLookup`, failing closed with
`SystemUserUnavailable`. The local ones are wrapped in `oauth.delegation.CachedDelegationLookup` and
`oauth.systemuser.CachedSystemUserLookup`, whose answers the change feed drops (decision D4); the HTTP ones keep a
short cache of their own (a "yes" at most 30 s, a "no" at most 5 s).
"""

from __future__ import annotations

from .http import HttpDelegationLookup
from .local import LocalDelegationLookup
from .systemuser_http import HttpSystemUserLookup
from .systemuser_local import LocalSystemUserLookup

__all__ = ["HttpDelegationLookup", "HttpSystemUserLookup", "LocalDelegationLookup", "LocalSystemUserLookup"]
