"""The Altinn side's HTTP API (docs/protocol.md §4): delegation schemes, delegations, and the lookup.

    altinn = create_altinn_app(store, clock, TokenGate(local_validator(keyring, issuer, now), portal_clients))
    mount_altinn(app, altinn)                     # inside the token service's app
    # or, as its own process:
    altinn = create_altinn_app(store, clock, TokenGate(remote_validator(token_service_issuer, now), portal_clients))
"""

from __future__ import annotations

from .app import PREFIXES, create_altinn_app, mount_altinn
from .auth import TokenCheckUnavailable, TokenGate

__all__ = ["PREFIXES", "TokenCheckUnavailable", "TokenGate", "create_altinn_app", "mount_altinn"]
