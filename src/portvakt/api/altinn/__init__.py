"""The Altinn side's HTTP API (spec §4): delegation schemes, delegations, and the lookup.

    altinn = create_altinn_app(store, clock, LocalTokenCheck(BearerValidator(keyring, issuer, clock)))
    mount_altinn(app, altinn)                     # inside the token service's app
    # or, as its own process:
    altinn = create_altinn_app(store, clock, RemoteTokenCheck(TokenValidator(token_service_issuer)))
"""

from __future__ import annotations

from .app import PREFIXES, create_altinn_app, mount_altinn
from .auth import LocalTokenCheck, RemoteTokenCheck, TokenCheck, TokenCheckUnavailable, TokenRefused

__all__ = ["PREFIXES", "LocalTokenCheck", "RemoteTokenCheck", "TokenCheck", "TokenCheckUnavailable",
           "TokenRefused", "create_altinn_app", "mount_altinn"]
