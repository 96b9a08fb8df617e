"""The composition root: builds the caches, keys and services of one process from Settings, and `assemble` composes
its apps from them (the api room builds each app from ports; this package alone knows them all; decision C1)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from starlette.types import ASGIApp

from portvakt.altinn import HttpDelegationLookup, HttpSystemUserLookup, LocalDelegationLookup, LocalSystemUserLookup
from portvakt.altinn.keys import AltinnKeys, altinn_issuer
from portvakt.api.app import ChangePush, FastPath, create_altinn_service, create_app, create_front
from portvakt.api.metrics import CountedDelegations, CountedSystemUsers, CountingMinter, TimedReplay
from portvakt.api.runtime import Runtime
from portvakt.domain.clock import SystemClock
from portvakt.domain.delegations import DELEGATIONS_ADMIN
from portvakt.domain.ports import Clock, PasswordHasher, ReplayCache, Store
from portvakt.domain.systemregister import SYSTEMUSER_LOOKUP
from portvakt.oauth.bearer import local_validator, remote_validator
from portvakt.oauth.certificates import CertificateAuthenticator, CrlFetcher, TrustFolder
from portvakt.oauth.delegation import CachedDelegationLookup, DelegationLookup
from portvakt.oauth.keyring import Keyring, ensure_signing_keys
from portvakt.oauth.minter import AccessTokenMinter
from portvakt.oauth.observed_store import ObservedStore
from portvakt.oauth.registry_cache import RegistryCache
from portvakt.oauth.service import TokenService
from portvakt.oauth.service_tokens import ServiceTokenSource
from portvakt.oauth.systemuser import CachedSystemUserLookup, SystemUserLookup
from portvakt.settings import Role, Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from portvakt.api.altinn.exchange import TokenExchange
    from portvakt.api.bearer import TokenGate
    from portvakt.portal import PortalConfig
    from portvakt.sms import DevOutbox, SmsGateway
    from portvakt.storage.redis_ratelimit import RedisRateLimits

from .stores import key_encryption_key, open_replay, open_store

ALTINN_REALM = "altinn"
MAX_CRL_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Overrides:
    """What a test (or an embedding) puts in place of what `assemble` would make from Settings; None: as settings
    say."""

    store: Store | None = None
    clock: Clock | None = None
    replay: ReplayCache | None = None
    #: The passphrase of the signing keys at rest (decision K3); default key_encryption_key(settings).
    kek: bytes | None = None
    delegations: DelegationLookup | None = None
    #: Where /token finds system users (docs/protocol.md §6.5); default systemuser_lookup(settings, …).
    systemusers: SystemUserLookup | None = None
    #: How the Altinn side checks people's passwords (default argon2id, decision P2).
    hasher: PasswordHasher | None = None
    #: How the Altinn side alone reaches the token service's metadata and /jwk.
    token_http: httpx.Client | None = None
    portal_config: PortalConfig | None = None
    sms: SmsGateway | None = None
    #: The dev outbox behind /portal/dev/sms (also the SMS gateway unless `sms` is given).
    outbox: DevOutbox | None = None
    #: How the portal reaches the APIs (e.g. httpx.ASGITransport on an assembled app, in-process).
    portal_transport: httpx.AsyncBaseTransport | None = None
    #: Build /api/v1 and the in-process Altinn side on their first request, not at start (the test kit's server,
    #: decision F15); a server that serves people builds everything at start, so a fault shows before it serves.
    defer_apis: bool = False


def delegation_lookup(settings: Settings, store: Store, registry: RegistryCache, minter: AccessTokenMinter,
                      clock: Clock) -> DelegationLookup:
    """docs/protocol.md §4.2 step 4: the registry in this database (its answers cached until the change feed says
    otherwise, decision D4), or a remote Altinn side asked over HTTP with a delegations.admin token of the
    operator's own (decision D3)."""
    url = settings.altinn.url
    if url is None:
        cached = CachedDelegationLookup(LocalDelegationLookup(store))
        registry.on_change(cached.on_change)
        return cached
    mint = ServiceTokenSource(minter, clock, orgno=settings.operator_orgno, scopes=(DELEGATIONS_ADMIN,))
    a = settings.altinn
    return HttpDelegationLookup(url, mint, timeout=a.timeout_seconds, positive_ttl=a.positive_cache_seconds,
                                negative_ttl=a.negative_cache_seconds)


def systemuser_lookup(settings: Settings, store: Store, registry: RegistryCache, minter: AccessTokenMinter,
                      clock: Clock) -> SystemUserLookup:
    """docs/protocol.md §6.5: the system register in this database (its answers cached until the change feed says
    otherwise), or a remote Altinn side's byExternalId asked with a systemuser.read token of the operator's own,
    cached no longer than the delegation lookup's TTLs."""
    url = settings.altinn.url
    if url is None:
        cached = CachedSystemUserLookup(LocalSystemUserLookup(store))
        registry.on_change(cached.on_change)
        return cached
    mint = ServiceTokenSource(minter, clock, orgno=settings.operator_orgno, scopes=(SYSTEMUSER_LOOKUP,))
    a = settings.altinn
    return HttpSystemUserLookup(url, mint, timeout=a.timeout_seconds, positive_ttl=a.positive_cache_seconds,
                                negative_ttl=a.negative_cache_seconds)


def certificate_authenticator(settings: Settings, clock: Clock) -> CertificateAuthenticator:
    """docs/protocol.md §5: the trust folder, and CRL downloads when PORTVAKT_CERTIFICATES__FETCH_CRLS is on (T15)."""
    c = settings.certificates
    folder = TrustFolder(c.trust_dir, recheck_seconds=c.recheck_seconds)
    if not c.fetch_crls:
        return CertificateAuthenticator(folder)
    http = httpx.Client(timeout=c.crl_timeout_seconds, follow_redirects=False)

    def get(url: str) -> bytes:
        """One CRL download: bounded in time and size; transport failures become OSError."""
        try:
            with http.stream("GET", url) as resp:
                resp.raise_for_status()
                body = bytearray()
                for chunk in resp.iter_bytes():
                    body += chunk
                    if len(body) > MAX_CRL_BYTES:
                        raise ValueError("the CRL is larger than 16 MiB")
                return bytes(body)
        except httpx.HTTPError as exc:
            raise OSError(exc.__class__.__name__) from None

    return CertificateAuthenticator(folder, crls=CrlFetcher(get, clock=clock.now))


def build_runtime(settings: Settings, overrides: Overrides | None = None) -> Runtime:
    """Wire the token service of one process: store, replay cache, registry, signing keys, issuer and token service.
    It opens the store without migrating: `prepare` does that once, before any worker starts."""
    o = overrides or Overrides()
    clock = o.clock or SystemClock()
    store = o.store or open_store(settings, migrate=False)
    replay = o.replay or _replay_beside(settings, store, clock)
    kek = o.kek or key_encryption_key(settings)
    ensure_signing_keys(store, kek, settings.signing.key_bits, clock.now())
    registry = RegistryCache(store, max_staleness=settings.cache.max_staleness_seconds,
                             retry_every=settings.cache_poll_seconds)
    keyring = Keyring(store, kek, clock)
    registry.on_change(keyring.on_change)
    issuer = settings.resolved_issuer()
    minter = AccessTokenMinter(keyring, issuer, settings.token)
    delegations = o.delegations or delegation_lookup(settings, store, registry, minter, clock)
    systemusers = o.systemusers or systemuser_lookup(settings, store, registry, minter, clock)
    certificates = certificate_authenticator(settings, clock)
    tokens = TokenService(registry=registry, replay=TimedReplay(replay),
                          minter=CountingMinter(keyring, issuer, settings.token),
                          delegations=CountedDelegations(delegations), clock=clock,
                          rules=settings.token, certificates=certificates,
                          system_users=CountedSystemUsers(systemusers))
    return Runtime(settings=settings, issuer=issuer, store=ObservedStore(store, registry.refresh), replay=replay,
                   clock=clock, registry=registry, keyring=keyring, tokens=tokens,
                   validator=local_validator(keyring, issuer, clock), certificates=certificates,
                   portal_clients=portal_clients(settings))


def _replay_beside(settings: Settings, store: Store, clock: Clock) -> ReplayCache:
    """The replay cache that goes with `store`: in memory beside the memory store (tests), else as settings say."""
    from portvakt.storage.memory import MemoryReplayCache, MemoryStore

    return MemoryReplayCache(clock=clock) if isinstance(store, MemoryStore) else open_replay(settings, store)


def change_push(settings: Settings, store: Store) -> ChangePush | None:
    """Decision S12: on PostgreSQL with PORTVAKT_CACHE__NOTIFY on, a listener that wakes the refresher when any
    process commits a change; else None, and the poll alone reads the change feed."""
    from portvakt.storage.sql.store import SqlStore

    inner = store.inner if isinstance(store, ObservedStore) else store
    if not settings.cache.notify or not isinstance(inner, SqlStore):
        return None
    return inner.change_listener()


def shared_rate_limits(settings: Settings) -> RedisRateLimits | None:
    """docs/security.md, Token flood: with PORTVAKT_REDIS_URL, the counts every node shares, for /token's limits and
    the portal's login throttle (one client, injected into both); else None, and each process counts alone."""
    if not settings.redis_url:
        return None
    from portvakt.storage.redis_ratelimit import RedisRateLimits

    return RedisRateLimits(settings.redis_url, timeout=settings.ratelimit.redis_timeout_seconds)


def portal_clients(settings: Settings) -> frozenset[str]:
    """The portal's own client_ids (`serve` and `portal-client` provision PORTVAKT_PORTAL__CLIENT_ID): the only
    clients whose tokens may act for an organisation (policy.require_portal)."""
    return frozenset({settings.portal.client_id})


def token_exchange(settings: Settings, store: Store, clock: Clock, kek: bytes) -> TokenExchange:
    """docs/protocol.md §6.7: the Altinn side's keys in `store` (made on first need, encrypted under `kek`), its
    issuer below PORTVAKT_ALTINN__PUBLIC_URL (default: this server's issuer) and the exchanged tokens' lifetime."""
    from portvakt.api.altinn.exchange import TokenExchange

    keys = AltinnKeys(store, kek, clock, bits=settings.signing.key_bits)
    issuer = altinn_issuer(settings.altinn.public_url or settings.resolved_issuer())
    return TokenExchange(keys, issuer, settings.altinn.exchange_token_seconds)


def assemble(settings: Settings, roles: Iterable[Role] | None = None, overrides: Overrides | None = None) -> FastPath:
    """The one composition root: the app of a process serving `roles` (default settings.roles; the valid
    combinations are Settings.role_problem's), with what `overrides` puts in place (decision C1)."""
    if roles is not None:
        settings = settings.model_copy(update={"roles": sorted(set(roles))})
    problem = settings.role_problem()
    if problem:
        raise ValueError(problem)
    o = overrides or Overrides()
    served = set(settings.roles)
    shared = shared_rate_limits(settings) if served & {"token", "portal"} else None
    if "token" in served:
        app = _token_service(settings, o, with_altinn="altinn" in served, shared=shared)
    elif "altinn" in served:
        app = _altinn_alone(settings, o)
    else:  # the portal alone keeps no database; it calls the APIs over HTTP (decision P11)
        app = create_front(settings.limits)
    if "portal" in served:
        app.mount_portal(portal_app(settings, o, login_counts=shared))
    return app


def _token_service(settings: Settings, o: Overrides, *, with_altinn: bool,
                   shared: RedisRateLimits | None = None) -> FastPath:
    """The token service; with the Altinn side in the same process, checking callers against the keyring; with
    `shared`, /token's rate limits on every node's counts."""
    rt = build_runtime(settings, o)
    rt.rate_counter = shared
    altinn = (lambda: _altinn_beside(settings, o, rt)) if with_altinn else None
    return create_app(rt, altinn=altinn, push=change_push(settings, rt.store), defer=o.defer_apis)


def _altinn_beside(settings: Settings, o: Overrides, rt: Runtime) -> FastAPI:
    """The Altinn side in the token service's process: callers' tokens are checked against its keyring, and its
    own keys follow the same change feed."""
    from portvakt.api.bearer import TokenGate

    gate = TokenGate(rt.validator, rt.portal_clients, ALTINN_REALM)
    exchange = token_exchange(settings, rt.store, rt.clock, o.kek or key_encryption_key(settings))
    rt.registry.on_change(exchange.keys.on_change)
    return _altinn_app(settings, o, rt.store, rt.clock, gate, exchange)


def _altinn_alone(settings: Settings, o: Overrides) -> FastPath:
    """The Altinn side as its own process: callers' tokens are checked against the token service's /jwk."""
    from portvakt.api.bearer import TokenGate

    issuer = settings.altinn.token_issuer
    assert issuer, "Settings.role_problem() requires the token service's issuer"
    clock = o.clock or SystemClock()
    gate = TokenGate(remote_validator(issuer, clock, http=o.token_http), portal_clients(settings), ALTINN_REALM)
    store = o.store or open_store(settings, migrate=False)
    exchange = token_exchange(settings, store, clock, o.kek or key_encryption_key(settings))
    return create_altinn_service(_altinn_app(settings, o, store, clock, gate, exchange), settings.limits)


def _altinn_app(settings: Settings, o: Overrides, store: Store, clock: Clock, gate: TokenGate,
                exchange: TokenExchange) -> FastAPI:
    """The Altinn side's app (docs/protocol.md §4) as settings.altinn says: its docs page, public and portal URLs."""
    from portvakt.api.altinn.app import create_altinn_app

    return create_altinn_app(store, clock, gate, hasher=o.hasher, docs=settings.resolved_interactive_docs(),
                             token_exchange=exchange, public_url=settings.altinn.public_url,
                             portal_url=settings.altinn.portal_url)


def portal_app(settings: Settings, overrides: Overrides | None = None, *,
               login_counts: RedisRateLimits | None = None) -> ASGIApp:
    """The web portal for these settings: its config, its SMS gateway (the dev outbox in dev mode), how it reaches
    the APIs, and the login throttle's counts shared with the other nodes (default: shared_rate_limits(settings))."""
    from portvakt.portal import portal_config
    from portvakt.portal.app import create_portal

    o = overrides or Overrides()
    config = o.portal_config or portal_config(settings)
    sms, outbox = _sms(settings, config.dev_mode, o)
    http = None if o.portal_transport is None else httpx.AsyncClient(
        transport=o.portal_transport, timeout=config.settings.timeout_seconds, follow_redirects=False)
    return create_portal(config, sms=sms, outbox=outbox, http=http, clock=o.clock or SystemClock(),
                         monotonic=time.monotonic, login_counts=login_counts or shared_rate_limits(settings))


def _sms(settings: Settings, dev_mode: bool, o: Overrides) -> tuple[SmsGateway, DevOutbox | None]:
    """The portal's SMS gateway and the outbox its /dev/sms page shows (docs/security.md, SMS outbox disclosure)."""
    from portvakt.sms import DevOutbox, NoSmsProvider, from_settings

    if o.sms is not None or o.outbox is not None:
        return o.sms or o.outbox or NoSmsProvider(), o.outbox
    if settings.sms.provider == "http":
        return from_settings(settings.sms), None
    if dev_mode:
        outbox = DevOutbox()
        return outbox, outbox
    return NoSmsProvider(), None  # an outbox nobody can read would swallow PKCS#12 passwords: refuse to send


def app_from_environment() -> ASGIApp:
    """uvicorn factory for `portvakt serve` workers: settings come from PORTVAKT_* variables."""
    from portvakt.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return assemble(settings)
