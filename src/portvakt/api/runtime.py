"""What the HTTP adapters are handed: the wired components of one server process."""

from __future__ import annotations

from dataclasses import dataclass

from portvakt.domain.ports import Clock, ReplayCache, Store
from portvakt.oauth.certificates import CertificateAuthenticator
from portvakt.oauth.keyring import Keyring
from portvakt.oauth.ratelimit import RateCounter
from portvakt.oauth.registry_cache import RegistryCache
from portvakt.oauth.service import TokenService
from portvakt.resource import TokenValidator
from portvakt.settings import Settings


@dataclass
class Runtime:
    """The token service's components (wiring.build_runtime makes them), shared by the routes of one process."""

    settings: Settings
    issuer: str
    store: Store
    replay: ReplayCache
    clock: Clock
    registry: RegistryCache
    keyring: Keyring
    tokens: TokenService
    #: The one validator of this process's own tokens, for /api/v1 and an Altinn side in the same process
    #: (docs/security.md, One token, two answers).
    validator: TokenValidator
    #: Enterprise certificates (docs/protocol.md §5): /token's, and the key registration's check of a locking x5c.
    certificates: CertificateAuthenticator
    #: The portal's own client_ids: only their tokens may send Portvakt-Acting-For (policy.require_portal).
    portal_clients: frozenset[str] = frozenset()
    #: /token's rate-limit counts shared by every node (Redis), or None: each process counts alone (H23).
    rate_counter: RateCounter | None = None
