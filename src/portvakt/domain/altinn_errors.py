"""Altinn's refusals on the system-user paths: a problem with an `AUTH-000NN` code, or a list of validation errors
with `AUTH.VLD-000NN` codes (docs/protocol.md §6, RFC 9457). The API renders them; nothing here knows the web."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["AltinnProblem", "AltinnValidation", "ValidationError"]


class AltinnProblem(Exception):
    """One refusal: `code` such as "AUTH-00011", its HTTP `status`, a client-safe `title`, an optional `detail`
    (RFC 9457 §3.1; never a secret)."""

    def __init__(self, code: str, status: int, title: str, detail: str | None = None) -> None:
        super().__init__(f"{code}: {title}")
        self.code = code
        self.status = status
        self.title = title
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ValidationError:
    """One broken rule of a request body: `code` such as "AUTH.VLD-00002", a client-safe `title` and the `paths`
    of the offending members (e.g. "/registersystemrequest/systemid")."""

    code: str
    title: str
    paths: tuple[str, ...] = ()

    def __init__(self, code: str, title: str, paths: Iterable[str] = ()) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "paths", tuple(paths))


class AltinnValidation(Exception):
    """A 400 carrying every validation error found, in the order found (at least one)."""

    status = 400

    def __init__(self, errors: Iterable[ValidationError]) -> None:
        self.errors: tuple[ValidationError, ...] = tuple(errors)
        if not self.errors:
            raise ValueError("AltinnValidation needs at least one error")
        super().__init__("; ".join(f"{e.code}: {e.title}" for e in self.errors))

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of its errors, in order."""
        return tuple(e.code for e in self.errors)
