"""Opening what a process stands on: the data dir (0700), the store, the replay cache, the key-encryption key, and
`prepare`, which migrates and bootstraps once before any worker starts (decisions K3, S1, H21, C1)."""

from __future__ import annotations

import base64
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from portvakt.domain.clock import SystemClock
from portvakt.domain.ports import Clock, ReplayCache, Store
from portvakt.files import write_private
from portvakt.oauth.keyring import ensure_signing_keys
from portvakt.settings import Settings

if TYPE_CHECKING:
    from portvakt.storage.sql.engine import ConnectionLimits

KEK_FILE = "signing-key-encryption.key"
ALTINN_SOURCE = "altinn"
DATA_DIR_MODE = 0o700
def key_encryption_key(settings: Settings) -> bytes:
    """The passphrase that encrypts signing keys at rest: from settings, else a 0600 file in data_dir."""
    if settings.signing.key_encryption_key is not None:
        return settings.signing.key_encryption_key.get_secret_value().encode()
    path = data_dir(settings) / KEK_FILE
    if not path.exists():
        write_private(path, base64.urlsafe_b64encode(secrets.token_bytes(32)))
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
    return SqlStore(url, busy_timeout=settings.limits.store_busy_seconds, limits=connection_limits(settings))


def connection_limits(settings: Settings) -> ConnectionLimits:
    """PORTVAKT_STORE__* for PostgreSQL connections: the connect, statement and lock timeouts, TCP keepalives and
    tcp_user_timeout, the pool (docs/security.md, Store outage); unset timeouts follow limits.store_busy_seconds."""
    from portvakt.storage.sql.engine import ConnectionLimits

    s = settings.store
    return ConnectionLimits(connect_timeout=s.connect_timeout_seconds, statement_timeout=s.statement_timeout_seconds,
                            tcp_user_timeout=s.tcp_user_timeout_seconds, keepalives_idle=s.keepalives_idle_seconds,
                            keepalives_interval=s.keepalives_interval_seconds, keepalives_count=s.keepalives_count,
                            pool_size=s.pool_size, max_overflow=s.max_overflow, pool_timeout=s.pool_timeout_seconds)


def printable_database_url(settings: Settings) -> str:
    """The database URL with its password masked, for a line the operator reads."""
    import sqlalchemy as sa

    return sa.make_url(settings.resolved_database_url()).render_as_string(hide_password=True)


def replay_window(settings: Settings) -> timedelta:
    """How long a grant may be valid (grant_max_lifetime + grant_max_future_iat): after the replay store lost its
    data, grants issued before the loss are refused this long (docs/security.md, Replay after a store crash)."""
    return timedelta(seconds=settings.token.grant_max_lifetime + settings.token.grant_max_future_iat)


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
        write_private(path, PrivateKeyHandle.generate(2048).to_pem())
    handle = PrivateKeyHandle.from_pem(path.read_bytes())
    with store.begin() as uow:
        bootstrap_portal_client(uow, settings.operator_orgno, settings.portal.client_id, handle.public_jwk, now)
    return handle.kid


def open_replay(settings: Settings, store: Store) -> ReplayCache:
    """The replay cache: the database (default), Redis, or process memory; each bounded by PORTVAKT_STORE__*."""
    if settings.replay_store == "memory":
        from portvakt.storage.memory import MemoryReplayCache

        return MemoryReplayCache()
    if settings.replay_store == "redis":
        from portvakt.storage.redis_replay import RedisReplayCache

        if not settings.redis_url:
            raise ValueError("PORTVAKT_REDIS_URL is required with PORTVAKT_REPLAY_STORE=redis")
        s = settings.store
        return RedisReplayCache(settings.redis_url, window=replay_window(settings),
                                socket_timeout=s.redis_socket_timeout_seconds,
                                connect_timeout=s.redis_socket_connect_timeout_seconds,
                                health_check_interval=s.redis_health_check_interval_seconds)
    from portvakt.storage.sql.replay import SqlReplayCache

    return SqlReplayCache(settings.resolved_database_url(), busy_timeout=settings.limits.store_busy_seconds,
                          limits=connection_limits(settings))
