"""The one base of every response shape: unknown members are ignored, values are immutable (docs/decisions.md W2)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """A response shape; a reader ignores members it does not know, so a server may add fields (RFC 8259 §4)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def is_none(value: object) -> bool:
    """`Field(exclude_if=is_none)`: an optional member that is left out when it has no value (RFC 7517 §4)."""
    return value is None
