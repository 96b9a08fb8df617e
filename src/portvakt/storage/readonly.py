"""Read-only units of work (Store.read()): the error a write raises, and the guard that raises it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class ReadOnlyError(RuntimeError):
    """A write was attempted on a unit of work opened with Store.read() (a programming error)."""


class _Guarded(Protocol):
    @property
    def read_only(self) -> bool: ...


G = TypeVar("G", bound=_Guarded)


def writes(method: Callable[Concatenate[G, P], R]) -> Callable[Concatenate[G, P], R]:
    """Mark a repository method as a write: on a read-only unit of work it raises first (decision S3)."""

    @functools.wraps(method)
    def guarded(self: G, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.read_only:
            raise ReadOnlyError(f"{method.__name__}() on a read-only unit of work")
        return method(self, *args, **kwargs)

    return guarded
