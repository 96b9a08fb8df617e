"""The change feed's push on PostgreSQL (decision S12): every committed change also sends `NOTIFY portvakt_changes`,
and each worker listens on a connection of its own, so that other nodes drop a changed entry within milliseconds.
The feed stays the log a listener catches up from; the poll stays the fallback."""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .schema import changes

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("portvakt.changes")

#: The channel every committed change is announced on.
CHANNEL = "portvakt_changes"
#: Told the change seq a notification carries; None when changes may have been missed (the listener has just
#: (re)connected) or the payload names none: read the feed either way.
OnChange = Callable[[int | None], None]
#: Opens a new psycopg connection in autocommit mode.
Connect = Callable[[], "psycopg.Connection[Any]"]


def notify_on_commit(conn: Connection) -> None:
    """Announce the transaction's newest change seq on CHANNEL; PostgreSQL delivers it only once the transaction
    commits, and not at all on a rollback (PostgreSQL manual, NOTIFY)."""
    newest = sa.cast(sa.func.max(changes.c.seq), sa.Text)
    conn.execute(sa.select(sa.func.pg_notify(CHANNEL, newest)).select_from(changes))


def payload_seq(payload: str) -> int | None:
    """The change seq a notification names, or None for an empty or foreign payload."""
    return int(payload) if payload.isascii() and payload.isdigit() else None


class ChangeListener:
    """LISTEN on CHANNEL over one dedicated autocommit connection, in a daemon thread of its own: the wait never
    blocks an event loop, and a slow connect or a dead network only delays this thread (decision S12).

    Every notification, and every (re)connect, calls `on_change`. A lost connection is opened again with backoff
    (`backoff` seconds, doubling to at most `max_backoff`), logged once when lost, then at most once per `log_every`
    seconds while it stays down, and once more when it is back. It never confirms anyone's cache fresh: it only says
    when to read the feed."""

    def __init__(self, connect: Connect, *, wait_seconds: float = 0.5, backoff: float = 0.1, max_backoff: float = 5.0,
                 log_every: float = 60.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        if wait_seconds <= 0 or backoff <= 0 or max_backoff < backoff:
            raise ValueError("wait_seconds and backoff must be positive, max_backoff at least backoff")
        self._connect = connect
        self._wait = wait_seconds
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._log_every = log_every
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_change: OnChange = _ignore
        self._pid: int | None = None
        #: How many times a connection was opened and is (or was) listening.
        self.connects = 0
        self._down_since: float | None = None
        self._attempts = 0
        self._logged_at = 0.0

    @property
    def backend_pid(self) -> int | None:
        """The listening session's server process id while connected, else None."""
        return self._pid

    def start(self, on_change: OnChange) -> None:
        """Start listening in a daemon thread, calling `on_change` from that thread."""
        if self._thread is not None:
            raise RuntimeError("the change listener is already started")
        self._on_change = on_change
        self._thread = threading.Thread(target=self._run, name="portvakt-change-listener", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop listening and wait up to `timeout` seconds for the thread (it ends within `wait_seconds` unless
        it is connecting)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        delay = self._backoff
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._connected(conn.info.backend_pid)
                    delay = self._backoff
                    self._deliver(None)  # what was committed while no one listened is in the feed: read it now
                    self._listen(conn)
            except Exception as exc:  # noqa: BLE001 - whatever broke it, the poll covers the gap: try again
                self._lost(exc)
            finally:
                self._pid = None
            if self._stop.wait(delay * random.uniform(0.5, 1.0)):  # noqa: S311 - jitter, not a secret
                break
            delay = min(delay * 2, self._max_backoff)

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        """Hand on notifications until stopped; a broken connection raises out of the wait."""
        while not self._stop.is_set():
            with contextlib.closing(conn.notifies(timeout=self._wait)) as received:
                for note in received:
                    self._deliver(payload_seq(note.payload))

    def _deliver(self, seq: int | None) -> None:
        try:
            self._on_change(seq)
        except Exception:
            log.exception("the change listener's callback failed")

    def _connected(self, pid: int) -> None:
        self._pid = pid
        self.connects += 1
        if self._down_since is not None:
            log.warning("the change listener is listening again after %.1f s and %d attempts",
                        self._monotonic() - self._down_since, self._attempts)
        self._down_since = None
        self._attempts = 0

    def _lost(self, exc: Exception) -> None:
        """Count a failed connect or a dropped connection; log the first, then once per log_every."""
        if self._stop.is_set():
            return
        now = self._monotonic()
        self._attempts += 1
        if self._down_since is None:
            self._down_since = self._logged_at = now
            log.warning("the change listener has no database connection (%s); reconnecting, the poll of the "
                        "change feed goes on meanwhile", type(exc).__name__)
        elif now - self._logged_at >= self._log_every:
            self._logged_at = now
            log.warning("the change listener is still reconnecting after %.0f s and %d attempts (%s)",
                        now - self._down_since, self._attempts, type(exc).__name__)


def _ignore(_seq: int | None) -> None:
    """The callback before start()."""
