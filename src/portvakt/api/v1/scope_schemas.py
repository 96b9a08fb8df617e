"""The JSON of scopes and access-list entries (docs/protocol.md §3.4 scope model and ACL entry): the input models
and the server's rules here, the response shapes in the wire room (portvakt.wire.scopes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from portvakt.domain.errors import Invalid
from portvakt.domain.models import IntegrationType, Scope, ScopeAccess, Visibility
from portvakt.wire.scopes import SELF_CONTAINED
from portvakt.wire.scopes import AccessOut as AccessOut
from portvakt.wire.scopes import ScopeOut as ScopeOut

MAX_INT = 2**31 - 1  # every integer of the API schemas: PostgreSQL INTEGER (docs/security.md, Input validation)


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_no_nul)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
                        AfterValidator(_no_nul)]
ReadOnly = Annotated[str | None, Field(max_length=300, description="read-only; ignored")]


class ScopeAttributes(BaseModel):
    """The attributes an API provider sets on a scope (docs/protocol.md §3.4 scope model); unknown fields are
    refused."""

    model_config = ConfigDict(extra="forbid")

    description: Description
    long_description: Text = ""
    visibility: Visibility = Visibility.PUBLIC
    at_max_age: Annotated[int, Field(ge=0, le=MAX_INT, strict=True, description="seconds; 0 = no limit")] = 0
    allowed_integration_types: Annotated[list[IntegrationType], Field(max_length=10)] = []
    accessible_for_all: StrictBool = False
    delegation_source: Annotated[str | None, Field(max_length=300), AfterValidator(_no_nul)] = None
    active: StrictBool | None = Field(None, description="omitted: unchanged (POST: true); true reactivates")
    token_type: Literal["SELF_CONTAINED"] = SELF_CONTAINED
    requires_user_consent: Literal[False] = False
    requires_user_authentication: Literal[False] = False
    requires_pseudonymous_tokens: Literal[False] = False
    authorization_max_lifetime: Annotated[int | None, Field(ge=0, le=MAX_INT, description="ignored")] = None
    name: ReadOnly = None
    owner_orgno: ReadOnly = None
    created: ReadOnly = None
    last_updated: ReadOnly = None

    def fields(self) -> dict[str, Any]:
        """The Scope fields this request sets."""
        return {"description": self.description, "long_description": self.long_description,
                "visibility": self.visibility, "at_max_age": self.at_max_age,
                "allowed_integration_types": tuple(t.value for t in self.allowed_integration_types),
                "accessible_for_all": self.accessible_for_all, "delegation_source": self.delegation_source}


class ScopeCreate(ScopeAttributes):
    """POST /scopes body: `prefix` and `subscope` are mandatory (docs/protocol.md §3.4)."""

    prefix: Annotated[str, Field(max_length=64)]
    subscope: Annotated[str, Field(max_length=128)]

    def to_scope(self, name: str, owner_orgno: str, now: datetime) -> Scope:
        """The new scope owned by the caller's org; `name`, if sent, must be prefix:subscope."""
        if self.name is not None and self.name != name:
            raise Invalid(f"name must be {name} (prefix:subscope)", field="name")
        return Scope(self.prefix, self.subscope, owner_orgno, created=now, last_updated=now,
                     active=self.active is not False, **self.fields())


class ScopeUpdate(ScopeAttributes):
    """PUT /scopes body: the full set of attributes; the name is immutable (docs/protocol.md §3.4)."""

    prefix: Annotated[str | None, Field(max_length=64)] = None
    subscope: Annotated[str | None, Field(max_length=128)] = None

    def apply(self, current: Scope) -> Scope:
        """The scope with these attributes; prefix, subscope and name, if sent, must not change."""
        for field, sent, have in (("prefix", self.prefix, current.prefix), ("name", self.name, current.name),
                                  ("subscope", self.subscope, current.subscope)):
            if sent is not None and sent != have:
                raise Invalid(f"{field} is immutable: {current.name} keeps its name", field=field)
        active = current.active if self.active is None else self.active
        return replace(current, active=active, **self.fields())


def scope_out(s: Scope) -> ScopeOut:
    """The JSON of a scope."""
    return ScopeOut(name=s.name, prefix=s.prefix, subscope=s.subscope, description=s.description,
                    long_description=s.long_description, visibility=s.visibility, at_max_age=s.at_max_age,
                    allowed_integration_types=list(s.allowed_integration_types),
                    accessible_for_all=s.accessible_for_all, delegation_source=s.delegation_source,
                    active=s.active, owner_orgno=s.owner_orgno, created=s.created, last_updated=s.last_updated)


def access_out(a: ScopeAccess) -> AccessOut:
    """The JSON of an access-list entry."""
    return AccessOut(scope=a.scope, state=a.state, prefix=a.scope.partition(":")[0], created=a.created,
                     consumer_orgno=a.consumer_orgno, last_updated=a.last_updated, owner_orgno=a.owner_orgno)
