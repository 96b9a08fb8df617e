"""The Altinn side's answers: schemes, delegations, the lookup, people and organisations (docs/protocol.md §4)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from .base import WireModel
from .vocabulary import PortalRole


class LanguagesOut(WireModel):
    """A text in Norwegian Bokmål, Nynorsk and English (null where missing)."""

    nb: str | None = None
    nn: str | None = None
    en: str | None = None


class SchemeOut(WireModel):
    """A delegation scheme."""

    scheme_id: str
    owner_org: str
    scopes: list[str]
    title: LanguagesOut
    description: LanguagesOut
    active: bool
    created: datetime
    last_updated: datetime


class DelegationOut(WireModel):
    """A delegation; `created_by`/`revoked_by` name the consumer's client and are shown to the consumer only."""

    delegation_id: str
    scheme_id: str
    consumer_org: str
    supplier_org: str
    scopes: list[str]
    title: LanguagesOut
    active: bool
    created: datetime
    created_by: str | None = None
    revoked: datetime | None = None
    revoked_by: str | None = None


class LookupOut(WireModel):
    """One entry of the lookup answer, exactly as docs/protocol.md §4.2 (Altinn 3 Access Management)."""

    model_config = ConfigDict(populate_by_name=True)

    consumer_org: str
    supplier_org: str
    delegation_scheme_id: str = Field(serialization_alias="delegation_scheme_Id")
    scopes: list[str]
    created: datetime
    resourceid: str


class PersonRoleOut(WireModel):
    """A role a person holds for an organisation, with the organisation's name."""

    orgno: str
    org_name: str
    role: PortalRole


class PersonOut(WireModel):
    """A person as the portal sees it: no password hash, ever."""

    username: str
    name: str
    mobile: str
    roles: list[PersonRoleOut]


class OrganisationOut(WireModel):
    """An organisation in the registry: its orgno and name (e.g. a supplier shown before delegating)."""

    orgno: str
    name: str
