"""The composition root: builds the store, caches, keys and services from Settings."""

from __future__ import annotations

import base64
import os
import secrets
from datetime import datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp

from portvakt.altinn import HttpDelegationLookup, LocalDelegationLookup
from portvakt.api.altinn import TokenGate
from portvakt.api.app import FastPath, create_altinn_service
from portvakt.api.app import create_app as _create_app
from portvakt.api.limits import BodyLimit
from portvakt.api.runtime import Runtime
from portvakt.api.v1.problems import too_large
from portvakt.domain.clock import SystemClock
from portvakt.domain.delegations import DELEGATIONS_ADMIN
from portvakt.domain.ports import Clock, ReplayCache, Store
from portvakt.oauth.bearer import remote_validator
from portvakt.oauth.catalog import Catalog
from portvakt.oauth.delegation import CachedDelegationLookup, DelegationLookup
from portvakt.oauth.issuer import AccessTokenIssuer
from portvakt.oauth.keyring import Keyring, ensure_signing_keys
from portvakt.oauth.observed_store import ObservedStore
from portvakt.oauth.service import TokenService
from portvakt.oauth.service_tokens import ServiceTokenSource
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryReplayCache, MemoryStore

KEK_FILE = "signing-key-encryption.key"
ALTINN_SOURCE = "altinn"
DATA_DIR_MODE = 0o700


def key_encryption_key(settings: Settings) -> bytes:
    """The passphrase that encrypts signing keys at rest: from settings, else a 0600 file in data_dir."""
    if settings.signing.key_encryption_key is not None:
        return settings.signing.key_encryption_key.get_secret_value().encode()
    path = data_dir(settings) / KEK_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    return path.read_text().strip().encode()


def data_dir(settings: Settings) -> Path:
    """The data directory, owner-only: it holds the key-encryption key, the portal's key and the SQLite file
    (docs/security.md, Data at rest)."""
    path = Path(settings.data_dir)
    path.mkdir(parents=True, exist_ok=True, mode=DATA_DIR_MODE)
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(DATA_DIR_MODE)
    return path


def open_store(settings: Settings, *, migrate: bool = True) -> Store:
    """The SQL store on the configured database, migrated to head unless told not to; it waits at most
    limits.store_busy_seconds for a busy database (docs/security.md, Store outage)."""
    from portvakt.storage.sql.migrate import upgrade
    from portvakt.storage.sql.store import SqlStore

    url = settings.resolved_database_url()
    if settings.database_url is None:
        data_dir(settings)
    if migrate:
        upgrade(url)
    return SqlStore(url, busy_timeout=settings.limits.store_busy_seconds)


def altinn_issuer(settings: Settings) -> str:
    """The Altinn side's URL, the issuer of delegation source "altinn": a remote one, else this server."""
    return (settings.altinn.url or settings.resolved_issuer()).rstrip("/") + "/"


def prepare(settings: Settings, clock: Clock | None = None) -> Store:
    """What `init` and `serve` do before any worker starts: migrate, signing keys, operator and Altinn entries,
    and the portal's own client when this server is the one the portal calls."""
    from portvakt.domain.bootstrap import bootstrap_altinn, bootstrap_operator

    now = (clock or SystemClock()).now()
    store = open_store(settings)
    if "token" in settings.roles:
        ensure_signing_keys(store, key_encryption_key(settings), settings.signing.key_bits, now)
    with store.begin() as uow:
        bootstrap_operator(uow, settings.operator_orgno, settings.operator_name, now)
        bootstrap_altinn(uow, settings.operator_orgno, now, source_name=ALTINN_SOURCE,
                         source_issuer=altinn_issuer(settings))
    if "portal" in settings.roles and "token" in settings.roles and settings.portal.api_url is None:
        provision_portal_client(settings, store, now)
    return store


def provision_portal_client(settings: Settings, store: Store, now: datetime) -> str:
    """The portal's key pair (made once, the private half a 0600 file) and its client at this server with
    the public half (domain.portal_client); returns the kid."""
    from portvakt.domain.portal_client import bootstrap_portal_client
    from portvakt.jose import PrivateKeyHandle
    from portvakt.portal.config import key_file

    path = key_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(PrivateKeyHandle.generate(2048).to_pem())
    handle = PrivateKeyHandle.from_pem(path.read_bytes())
    with store.begin() as uow:
        bootstrap_portal_client(uow, settings.operator_orgno, settings.portal.client_id, handle.public_jwk, now)
    return handle.kid


def delegation_lookup(settings: Settings, store: Store, catalog: Catalog, issuer: AccessTokenIssuer,
                      clock: Clock) -> tuple[DelegationLookup, bool]:
    """docs/protocol.md §4.2 step 4: the registry in this database (its answers cached until the change feed says
    otherwise), or a remote Altinn side asked over HTTP with a delegations.admin token of the operator's own.
    The flag says the lookup may wait on the network."""
    url = settings.altinn.url
    if url is None:
        cached = CachedDelegationLookup(LocalDelegationLookup(store))
        catalog.on_change(cached.on_change)
        return cached, False
    mint = ServiceTokenSource(issuer, clock, orgno=settings.operator_orgno, scopes=(DELEGATIONS_ADMIN,))
    a = settings.altinn
    return HttpDelegationLookup(url, mint, timeout=a.timeout_seconds, positive_ttl=a.positive_cache_seconds,
                                negative_ttl=a.negative_cache_seconds), True


def open_replay(settings: Settings, store: Store) -> ReplayCache:
    """The replay cache: the database (default), Redis, or process memory."""
    if settings.replay_store == "memory":
        return MemoryReplayCache()
    if settings.replay_store == "redis":
        from portvakt.storage.redis_replay import RedisReplayCache

        if not settings.redis_url:
            raise ValueError("PORTVAKT_REDIS_URL is required with PORTVAKT_REPLAY_STORE=redis")
        return RedisReplayCache(settings.redis_url)
    from portvakt.storage.sql.replay import SqlReplayCache

    return SqlReplayCache(settings.resolved_database_url(), busy_timeout=settings.limits.store_busy_seconds)


def build_runtime(settings: Settings, *, store: Store | None = None, replay: ReplayCache | None = None,
                  clock: Clock | None = None, delegations: DelegationLookup | None = None,
                  kek: bytes | None = None, migrate: bool = True) -> Runtime:
    """Wire one process: store, replay cache, catalog, signing keys, issuer and token service."""
    clock = clock or SystemClock()
    if store is None:
        store = open_store(settings, migrate=migrate)
    replay = replay or (MemoryReplayCache(clock=clock) if isinstance(store, MemoryStore)
                       else open_replay(settings, store))
    kek = kek or key_encryption_key(settings)
    ensure_signing_keys(store, kek, settings.signing.key_bits, clock.now())
    catalog = Catalog(store)
    keyring = Keyring(store, kek, clock)
    catalog.on_change(keyring.on_change)
    issuer = settings.resolved_issuer()
    signer = AccessTokenIssuer(keyring, issuer)
    if delegations is None:
        delegations, _ = delegation_lookup(settings, store, catalog, signer, clock)
    tokens = TokenService(catalog=catalog, replay=replay, issuer=signer, delegations=delegations, clock=clock,
                          issuer_id=issuer, rules=settings.token)
    return Runtime(settings=settings, issuer=issuer, store=ObservedStore(store, catalog.refresh), replay=replay,
                   clock=clock, catalog=catalog, keyring=keyring, tokens=tokens,
                   portal_clients=portal_clients(settings))


def portal_clients(settings: Settings) -> frozenset[str]:
    """The portal's own client_ids (`serve` and `portal-client` provision PORTVAKT_PORTAL__CLIENT_ID): the only
    clients whose tokens may act for an organisation (policy.require_portal)."""
    return frozenset({settings.portal.client_id})


def create_app(settings: Settings | None = None, **overrides: object) -> FastPath:
    """The whole server for these settings (DESIGN: `create_app(settings)` wires everything)."""
    return _create_app(build_runtime(settings or Settings(), **overrides))  # type: ignore[arg-type]


def altinn_alone(settings: Settings, *, store: Store | None = None, clock: Clock | None = None) -> ASGIApp:
    """The Altinn side as its own process: callers' tokens are checked against the token service's /jwk."""
    problem = settings.role_problem()
    if problem or not settings.altinn.token_issuer:
        raise ValueError(problem or "the Altinn side alone needs PORTVAKT_ALTINN__TOKEN_ISSUER")
    store = store or open_store(settings, migrate=False)
    clock = clock or SystemClock()
    check = TokenGate(remote_validator(settings.altinn.token_issuer, clock), portal_clients(settings), "altinn")
    return create_altinn_service(store, clock, check, limits=settings.limits,
                                 docs=settings.resolved_interactive_docs())


def portal_app(settings: Settings) -> ASGIApp:
    """The web portal for these settings: its SMS gateway (the dev outbox in dev mode) and its config."""
    from portvakt.portal import create_portal, portal_config
    from portvakt.sms import DevOutbox, NoSmsProvider, SmsGateway, from_settings

    config = portal_config(settings)
    outbox: DevOutbox | None = None
    sms: SmsGateway
    if settings.sms.provider == "http":
        sms = from_settings(settings.sms)
    elif config.dev_mode:
        sms = outbox = DevOutbox()
    else:  # an outbox nobody can read would swallow PKCS#12 passwords: refuse to send instead
        sms = NoSmsProvider()
    return create_portal(config, sms=sms, outbox=outbox)


def portal_alone(settings: Settings) -> ASGIApp:
    """The portal as its own process (`serve --only portal`): /portal and /healthz, nothing else."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})

    app = Starlette(routes=[Route("/", _to_portal), Route("/healthz", health),
                            Mount("/portal", portal_app(settings))])
    return BodyLimit(app, settings.limits.max_body_bytes, too_large)


async def _to_portal(request: Request) -> Response:
    """GET / of a server with the portal: people land on the portal."""
    return RedirectResponse("/portal/", status_code=303)


def app_from_environment() -> ASGIApp:
    """uvicorn factory for `portvakt serve` workers: settings come from PORTVAKT_* variables."""
    import logging

    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    roles = set(settings.roles)
    if "token" in roles:
        app = _create_app(build_runtime(settings, migrate=False), altinn="altinn" in roles)
        if "portal" in roles:
            app.app.mount("/portal", portal_app(settings))
            app.app.add_route("/", _to_portal, methods=["GET"])
        return app
    if "altinn" in roles:
        return altinn_alone(settings)
    return portal_alone(settings)
