"""What a unit of work really sends to the database, for tests that check query plans."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from portvakt.domain.ports import UnitOfWork
from portvakt.storage.sql import SqlStore


def sent_statements(store: SqlStore, work: Callable[[UnitOfWork], object]) -> list[tuple[str, Any]]:
    """(SQL, parameters) of every statement `work` sends inside one transaction of `store`."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        sent.append((statement, params))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        with store.begin() as uow:
            work(uow)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    return sent
