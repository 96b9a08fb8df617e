"""Non-blocking sections: code that must not wait on I/O (the event loop) marks itself, and the I/O points refuse.

POST /token runs its checks on the event loop when every answer they need is in memory (docs/security.md, Store
outage). The few places that would read a store or the network call `may_block()` first; inside a
`non_blocking()` section it raises WouldBlock, and the caller runs the same work again in a worker thread, where
waiting is allowed. The checks write nothing before the replay claim, so running them again is safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_NON_BLOCKING: ContextVar[bool] = ContextVar("portvakt_non_blocking", default=False)


class WouldBlock(BaseException):
    """The work needs I/O (a store, the network) and runs where it must not wait: run it in a worker thread.

    A BaseException, as asyncio.CancelledError is: a control-flow signal that the `except Exception` of a store
    adapter (which turns failures into StoreUnavailable or DelegationUnavailable) must not swallow."""


def may_block() -> None:
    """Called right before a store or network wait: raises WouldBlock inside a non_blocking() section."""
    if _NON_BLOCKING.get():
        raise WouldBlock


@contextmanager
def non_blocking() -> Iterator[None]:
    """A section that must not wait on I/O: every may_block() in it raises WouldBlock."""
    token = _NON_BLOCKING.set(True)
    try:
        yield
    finally:
        _NON_BLOCKING.reset(token)
