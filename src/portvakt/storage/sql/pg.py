"""PostgreSQL connections whose every wait is bounded (docs/security.md, Store outage); imported only for a
PostgreSQL URL, so that a SQLite store loads no psycopg."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from psycopg.abc import PQGen
from psycopg.errors import ConnectionTimeout, _WaitTimeout
from sqlalchemy.engine import URL, Engine

from .engine import ConnectionLimits, pg_connect_params

_WAIT_INTERVAL = 0.1  # psycopg's own polling interval while it waits on the socket
RV = TypeVar("RV")


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection on which no wait for the server lasts longer than `deadline` seconds: past it the
    connection is closed and ConnectionTimeout raised, which the pool takes for a lost connection. No server-side
    timeout ends a wait on a server that is stopped or a link that is black-holed (docs/security.md, Store outage).
    `notifies()` waits as long as its caller asks."""

    deadline: float | None = None
    _listening = False

    def wait(self, gen: PQGen[RV], interval: float = _WAIT_INTERVAL, timeout: float | None = None) -> RV:
        """psycopg's wait, bounded by `deadline` when the caller gives no timeout of its own."""
        bound = self.deadline if timeout is None and not self._listening else None
        if bound is None:
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, bound)
        except _WaitTimeout:
            self.close()
            raise ConnectionTimeout(f"the database did not answer within {bound:g} s") from None

    def notifies(self, *, timeout: float | None = None,
                 stop_after: int | None = None) -> Generator[psycopg.Notify, None, None]:
        """psycopg's notifies(), without the deadline: a listener waits for as long as it asks."""
        self._listening = True
        try:
            yield from super().notifies(timeout=timeout, stop_after=stop_after)
        finally:
            self._listening = False


def bounded_engine(url: URL, busy_timeout: float, limits: ConnectionLimits) -> Engine:
    """A PostgreSQL engine whose connections are BoundedConnections with pg_connect_params, and whose pool waits at
    most pool_timeout (default: the busy timeout) for a free connection."""
    given = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    params = pg_connect_params(limits, busy_timeout, given)
    pool_timeout = limits.pool_timeout if limits.pool_timeout is not None else busy_timeout
    engine = sa.create_engine(url, pool_pre_ping=True, pool_timeout=pool_timeout,
                              pool_size=limits.pool_size, max_overflow=limits.max_overflow, connect_args=params)
    deadline = limits.deadline(busy_timeout)

    def connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> BoundedConnection:
        """Open a BoundedConnection where SQLAlchemy would open a plain psycopg one."""
        conn = BoundedConnection.connect(*cargs, **cparams)
        conn.deadline = deadline
        return conn

    sa.event.listen(engine, "do_connect", connect)
    return engine
