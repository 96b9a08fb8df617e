"""A store whose own writes reach this process's caches at once (DESIGN: caches that changes are pushed into).

Other processes see a change at their next poll of the change feed (cache_poll_seconds); the process that
made it reads the feed right after the commit, so e.g. a revoked delegation or key stops its tokens at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Generic, TypeVar

from portvakt.domain.models import Change
from portvakt.domain.ports import StoreOf, TokenReads

log = logging.getLogger("portvakt.registry")

W = TypeVar("W", bound=TokenReads)


class ObservedStore(Generic[W]):
    """Wraps a Store; after every committed unit of work it calls `after_commit` (e.g. RegistryCache.refresh)."""

    def __init__(self, inner: StoreOf[W], after_commit: Callable[[], object]) -> None:
        self.inner = inner
        self._after_commit = after_commit

    @contextmanager
    def begin(self) -> Iterator[W]:
        """The inner store's transaction; when it has committed, tell the caches (a failure is only logged:
        the change feed's next poll repairs it)."""
        with self.inner.begin() as uow:
            yield uow
        try:
            self._after_commit()
        except Exception:
            log.exception("refreshing the caches after a commit failed; the next poll will")

    def read(self) -> AbstractContextManager[W]:
        """The inner store's read-only unit of work."""
        return self.inner.read()

    def changes_since(self, seq: int) -> Sequence[Change]:
        """The inner store's change feed."""
        return self.inner.changes_since(seq)

    def last_change_seq(self) -> int:
        """The inner store's newest change sequence number."""
        return self.inner.last_change_seq()

    def prune_changes(self, before: datetime) -> int:
        """Prune the inner store's change feed."""
        return self.inner.prune_changes(before)

    def close(self) -> None:
        """Close the inner store."""
        self.inner.close()
