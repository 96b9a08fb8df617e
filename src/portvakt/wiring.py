"""The composition root: builds the store, caches, keys and services from Settings."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from portvakt.api.app import FastPath
from portvakt.api.app import create_app as _create_app
from portvakt.api.runtime import Runtime
from portvakt.domain.clock import SystemClock
from portvakt.domain.ports import Clock, ReplayCache, Store
from portvakt.oauth.catalog import Catalog
from portvakt.oauth.delegation import DelegationLookup, NoDelegations
from portvakt.oauth.issuer import AccessTokenIssuer
from portvakt.oauth.keyring import Keyring, ensure_signing_keys
from portvakt.oauth.service import TokenService
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryReplayCache, MemoryStore

KEK_FILE = "signing-key-encryption.key"


def key_encryption_key(settings: Settings) -> bytes:
    """The passphrase that encrypts signing keys at rest: from settings, else a 0600 file in data_dir."""
    if settings.signing.key_encryption_key is not None:
        return settings.signing.key_encryption_key.get_secret_value().encode()
    path = Path(settings.data_dir) / KEK_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    return path.read_text().strip().encode()


def open_store(settings: Settings, *, migrate: bool = True) -> Store:
    """The SQL store on the configured database, migrated to head unless told not to."""
    from portvakt.storage.sql.migrate import upgrade
    from portvakt.storage.sql.store import SqlStore

    url = settings.resolved_database_url()
    if url.startswith("sqlite:"):
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    if migrate:
        upgrade(url)
    return SqlStore(url)


def prepare(settings: Settings, clock: Clock | None = None) -> Store:
    """What `init` and `serve` do before any worker starts: migrate, signing keys, operator entries."""
    from portvakt.domain.bootstrap import bootstrap_operator

    now = (clock or SystemClock()).now()
    store = open_store(settings)
    ensure_signing_keys(store, key_encryption_key(settings), settings.signing.key_bits, now)
    with store.begin() as uow:
        bootstrap_operator(uow, settings.operator_orgno, settings.operator_name, now)
    return store


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

    return SqlReplayCache(settings.resolved_database_url())


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
    tokens = TokenService(catalog=catalog, replay=replay, issuer=AccessTokenIssuer(keyring, issuer),
                          delegations=delegations or NoDelegations(), clock=clock, issuer_id=issuer,
                          rules=settings.token)
    return Runtime(settings=settings, issuer=issuer, store=store, replay=replay, clock=clock,
                   catalog=catalog, keyring=keyring, tokens=tokens)


def create_app(settings: Settings | None = None, **overrides: object) -> FastPath:
    """The whole server for these settings (DESIGN: `create_app(settings)` wires everything)."""
    return _create_app(build_runtime(settings or Settings(), **overrides))  # type: ignore[arg-type]


def app_from_environment() -> FastPath:
    """uvicorn factory for `portvakt serve` workers: settings come from PORTVAKT_* variables."""
    import logging

    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return _create_app(build_runtime(settings, migrate=False))
