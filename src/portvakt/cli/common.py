"""What the commands share: settings, the store, readable errors, JSON output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console

from portvakt.domain.audit import snapshot
from portvakt.domain.errors import DomainError
from portvakt.domain.ports import Store
from portvakt.jose import JoseError
from portvakt.settings import Settings

err = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """A usage error: one readable line on stderr and exit code 2 (like Typer's own usage errors)."""
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def settings() -> Settings:
    """Settings from the environment (PORTVAKT_*)."""
    return Settings()


@contextmanager
def readable_errors() -> Iterator[None]:
    """Turn domain and key errors into a one-line message and exit code 1, never a traceback."""
    try:
        yield
    except (DomainError, JoseError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


def open_store() -> Store:
    """The configured SQL store, migrated to head."""
    from portvakt.wiring import open_store as _open

    return _open(settings())


def print_json(entity: Any) -> None:
    """Print an entity (or plain data) as indented JSON on stdout."""
    data = entity if isinstance(entity, dict | list) else snapshot(entity)
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
