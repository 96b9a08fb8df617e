"""What the access manager's and API provider admin's pages read: delegation schemes, delegations,
organisations (the Altinn side, docs/protocol.md §4.1) and a provider's own scopes and their access lists
(docs/protocol.md §3.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Lenient(BaseModel):
    """Unknown members are ignored: the APIs may add fields."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Texts(_Lenient):
    """A text in Bokmål, Nynorsk and English, as the Altinn side gives it (null where missing)."""

    nb: str | None = None
    nn: str | None = None
    en: str | None = None

    def shown(self, language: str) -> str:
        """The text in the page's language, falling back to Bokmål (then any text there is)."""
        wanted = self.en if language == "en" else self.nb
        return wanted or self.nb or self.nn or self.en or ""


class Scheme(_Lenient):
    """A delegation scheme: an API provider's named set of delegable scopes (docs/protocol.md §4.1 step 2)."""

    scheme_id: str
    owner_org: str
    scopes: tuple[str, ...] = ()
    title: Texts = Texts()
    description: Texts = Texts()
    active: bool = True


class Delegation(_Lenient):
    """A consumer's delegation of a scheme to a supplier (docs/protocol.md §4.1 step 5); revoked ones are history."""

    delegation_id: str
    scheme_id: str
    consumer_org: str
    supplier_org: str
    scopes: tuple[str, ...] = ()
    title: Texts = Texts()
    active: bool
    created: datetime
    created_by: str | None = None
    revoked: datetime | None = None
    revoked_by: str | None = None


class Organisation(_Lenient):
    """An organisation in the registry: its orgno and name."""

    orgno: str
    name: str


class OwnScope(_Lenient):
    """One of the API provider's own scopes (docs/protocol.md §3.4 scope model), as far as the pages show it."""

    name: str
    description: str = ""
    visibility: str = "PUBLIC"
    accessible_for_all: bool = False
    delegation_source: str | None = None
    active: bool = True


class AccessEntry(_Lenient):
    """An access-list entry of an own scope (docs/protocol.md §3.4): the consumer and its state."""

    scope: str
    state: str
    consumer_orgno: str
    created: datetime
    last_updated: datetime


@dataclass(frozen=True)
class Notice:
    """A success message a page shows after a change: a catalogue key and its values."""

    key: str
    values: dict[str, str]
