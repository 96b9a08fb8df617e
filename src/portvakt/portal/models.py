"""What the portal reads from the APIs: people and roles (Altinn side), systems, keys and scopes (/api/v1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

#: A key this close to its expiry is shown as expiring.
EXPIRING_WITHIN = timedelta(days=30)
ALTINN_VIRKSYS = "altinn_virksys"


class PortalRole(StrEnum):
    """A person's role for one organisation (decision P2)."""

    INTEGRATION_RESPONSIBLE = "integration_responsible"
    ACCESS_MANAGER = "access_manager"
    API_ADMIN = "api_admin"


class _Lenient(BaseModel):
    """Unknown members are ignored: the APIs may add fields."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class RoleGrant(_Lenient):
    """One role a person holds for one organisation."""

    orgno: str
    org_name: str
    role: PortalRole


class Person(_Lenient):
    """A person with portal access: name, mobile number and roles per organisation."""

    username: str
    name: str
    mobile: str
    roles: tuple[RoleGrant, ...] = ()

    def organisations(self) -> dict[str, str]:
        """orgno -> name of every organisation the person holds a role for, in the order given."""
        return {r.orgno: r.org_name for r in self.roles}

    def roles_for(self, orgno: str) -> frozenset[PortalRole]:
        """The person's roles for one organisation."""
        return frozenset(r.role for r in self.roles if r.orgno == orgno)


class System(_Lenient):
    """A client registration (docs/protocol.md §3.2); the portal shows those of integration_type altinn_virksys."""

    client_id: str
    client_name: str
    client_orgno: str
    supplier_orgno: str | None = None
    description: str = ""
    integration_type: str
    scopes: tuple[str, ...] = ()
    active: bool = True
    created: datetime
    last_updated: datetime


class KeyState(StrEnum):
    """How a key (or a system's key set) stands for getting tokens."""

    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    NONE = "none"


class RegisteredKey(_Lenient):
    """A registered public key (docs/protocol.md §3.3) with its expiry (`exp`, unix seconds)."""

    kty: str
    kid: str
    n: str
    e: str
    alg: str | None = None
    use: str | None = None
    x5c: tuple[str, ...] | None = None
    exp: int

    @property
    def expires(self) -> datetime:
        """The expiry as a UTC time."""
        return datetime.fromtimestamp(self.exp, UTC)

    def state(self, now: datetime) -> KeyState:
        """Expired, expiring within 30 days, or valid."""
        if self.expires <= now:
            return KeyState.EXPIRED
        return KeyState.EXPIRING if self.expires - now <= EXPIRING_WITHIN else KeyState.VALID

    def public_jwk(self) -> dict[str, Any]:
        """The public JWK as registered, without the server-set `exp` (to post the set again)."""
        return self.model_dump(mode="json", exclude={"exp"}, exclude_none=True)


def key_set_state(keys: list[RegisteredKey], now: datetime) -> KeyState:
    """The best state of a set: one valid key is enough to get tokens."""
    states = {k.state(now) for k in keys}
    for state in (KeyState.VALID, KeyState.EXPIRING, KeyState.EXPIRED):
        if state in states:
            return state
    return KeyState.NONE


class ScopeAccess(_Lenient):
    """An access-list entry: a scope an organisation may use (docs/protocol.md §3.4)."""

    scope: str
    state: Literal["APPROVED", "REQUESTED", "DENIED"]
    owner_orgno: str


class ScopeInfo(_Lenient):
    """A public scope (docs/protocol.md §3.4 scope model), as far as the portal needs it."""

    name: str
    description: str
    owner_orgno: str
    delegation_source: str | None = None
    active: bool = True


class SystemWithKeys(_Lenient):
    """A system and its registered keys."""

    system: System
    keys: tuple[RegisteredKey, ...]
