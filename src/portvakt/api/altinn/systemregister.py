"""The system register for vendors and the portal (docs/protocol.md §6.1), on Altinn 3's paths and shapes:
`/authentication/api/v1/systemregister`. Request bodies bind keys without regard to case, strings trimmed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from portvakt.domain import systemregister as sr
from portvakt.domain.models import AuditEvent, RegisteredSystem, SystemRight
from portvakt.domain.orgno import iso6523
from portvakt.domain.policy import Caller, require
from portvakt.domain.ports import UnitOfWork
from portvakt.wire.systemregister import (
    ChangelogEntryOut,
    RegisteredSystemOut,
    SucceededOut,
    SystemDTOOut,
    VendorOut,
)
from portvakt.wire.systemusers import AccessPackageOut, ResourceAttributeOut, RightOut

from .altinn_problems import altinn_responses
from .auth import AuthenticatedDep, PortalCallerDep
from .deps import actor, now, reading, writing

__all__ = ["AccessPackageIn", "LooseModel", "RightIn", "SystemIn", "packages_out", "right_of", "rights_out",
           "router"]

PREFIX = "/authentication/api/v1/systemregister"
router = APIRouter(prefix=PREFIX, tags=[" /authentication/api/v1/systemregister.:system register"],
                   responses=altinn_responses(404, 409))
#: A path segment that could be a system id; anything else is 404 without a lookup.
_SYSTEM_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
CHANGE_TYPES = frozenset({"create", "update", "rightsupdate", "accesspackageupdate", "delete"})
Str = Annotated[str, Field(max_length=200)]
Url = Annotated[str, Field(max_length=sr.MAX_URL)]
Text = Annotated[str, Field(max_length=sr.MAX_DESCRIPTION)]
Lang = Annotated[str, Field(max_length=10)]


def _trim(value: Any) -> Any:
    """Strings trimmed, also in lists and maps of strings (docs/protocol.md §6: strings are trimmed)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [v.strip() if isinstance(v, str) else v for v in value]
    if isinstance(value, dict):
        return {k: v.strip() if isinstance(v, str) else v for k, v in value.items()}
    return value


class LooseModel(BaseModel):
    """A request body whose keys bind without regard to case ("Resource", "accesspackages"), strings trimmed and
    unknown keys ignored, as Altinn's API binds them (docs/protocol.md §6)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _bind_loosely(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        names: dict[str, str] = {}
        for name, info in cls.model_fields.items():
            names[name.lower()] = name
            names[(info.alias or name).lower()] = name
        bound: dict[str, Any] = {}
        for key, value in data.items():
            found = names.get(key.lower()) if isinstance(key, str) else None
            if found is None:
                continue
            name = found
            if name in bound:
                raise ValueError(f"{key[:50]!r} is given twice (keys are matched without regard to case)")
            bound[name] = _trim(value)
        return bound


class AttributeIn(LooseModel):
    """One attribute naming a resource: {"id": "urn:altinn:resource", "value": "<resource id>"}."""

    id: Str
    value: Str


class RightIn(LooseModel):
    """A right: {"action"?: str, "resource": [attribute, ...]}."""

    action: Annotated[str | None, Field(max_length=100)] = None
    resource: Annotated[list[AttributeIn], Field(max_length=sr.MAX_ATTRIBUTES)]


class AccessPackageIn(LooseModel):
    """An access package: {"urn": "urn:altinn:accesspackage:<name>"}."""

    urn: Str


class VendorIn(LooseModel):
    """The vendor: {"ID": "0192:<orgno>"} (an `authority` is ignored)."""

    id: Annotated[str, Field(alias="ID", max_length=50)]


class SystemIn(LooseModel):
    """A system (POST and PUT /vendor): the whole of it, as docs/protocol.md §6.1."""

    id: Str
    vendor: VendorIn
    name: Annotated[dict[Lang, Annotated[str, Field(max_length=sr.MAX_NAME)]], Field(max_length=3)]
    description: Annotated[dict[Lang, Text], Field(max_length=3)]
    rights: Annotated[list[RightIn] | None, Field(max_length=sr.MAX_RIGHTS)] = None
    access_packages: Annotated[list[AccessPackageIn] | None, Field(max_length=sr.MAX_PACKAGES)] = None
    client_id: Annotated[list[Annotated[str, Field(max_length=sr.MAX_CLIENT_ID)]] | None,
                         Field(max_length=sr.MAX_CLIENT_IDS)] = None
    is_visible: bool = True
    allowed_redirect_urls: Annotated[list[Url] | None, Field(max_length=sr.MAX_REDIRECT_URLS)] = None

    def spec(self) -> sr.SystemSpec:
        """The domain's view of the body."""
        return sr.SystemSpec(
            system_id=self.id, vendor_id=self.vendor.id, name=self.name, description=self.description,
            rights=tuple(right_of(r) for r in self.rights or ()),
            access_packages=tuple(p.urn for p in self.access_packages or ()),
            client_ids=tuple(self.client_id or ()), allowed_redirect_urls=tuple(self.allowed_redirect_urls or ()),
            is_visible=self.is_visible)


RightsBody = Annotated[list[RightIn], Body(max_length=sr.MAX_RIGHTS)]
PackagesBody = Annotated[list[AccessPackageIn], Body(max_length=sr.MAX_PACKAGES)]


def right_of(right: RightIn) -> SystemRight:
    """A right of the wire as the domain's (docs/protocol.md §6.1)."""
    return SystemRight(resource=tuple((a.id, a.value) for a in right.resource), action=right.action or None)


def rights_out(rights: Sequence[SystemRight]) -> list[RightOut]:
    """Rights in the wire's shape."""
    return [RightOut(action=r.action, resource=[ResourceAttributeOut(id=k, value=v) for k, v in r.resource])
            for r in rights]


def packages_out(packages: Sequence[str]) -> list[AccessPackageOut]:
    """Access packages in the wire's shape."""
    return [AccessPackageOut(urn=p) for p in packages]


def _register_writer(caller: AuthenticatedDep) -> Caller:
    """docs/protocol.md §6.1: the vendor's paths need systemregister.write or systemregister.admin."""
    require(caller, sr.SYSTEMREGISTER_WRITE, sr.SYSTEMREGISTER_ADMIN)
    return caller


RegisterWriter = Annotated[Caller, Depends(_register_writer)]


def _writer(caller: Caller) -> sr.Writer:
    return sr.Writer(caller.orgno, admin=caller.has(sr.SYSTEMREGISTER_ADMIN))


def _system_id(value: str) -> str:
    """A path segment that cannot be a system id is AUTH-00011 (404) without a lookup."""
    if not _SYSTEM_ID.fullmatch(value):
        raise sr.system_not_found(value)
    return value


def system_out(system: RegisteredSystem) -> RegisteredSystemOut:
    """The vendor's full view of a system."""
    return RegisteredSystemOut(
        id=system.system_id, vendor=VendorOut(ID=iso6523(system.vendor_orgno)["ID"]), name=system.name,
        description=system.description, rights=rights_out(system.rights),
        access_packages=packages_out(system.access_packages), client_id=list(system.client_ids),
        is_visible=system.is_visible, allowed_redirect_urls=list(system.allowed_redirect_urls),
        is_deleted=system.deleted)


def dto_out(uow: UnitOfWork, system: RegisteredSystem, names: dict[str, str] | None = None) -> SystemDTOOut:
    """The portal's view of a system, with the vendor's name (`names` remembers the names already read)."""
    names = {} if names is None else names
    if system.vendor_orgno not in names:
        org = uow.get_org(system.vendor_orgno)
        names[system.vendor_orgno] = org.name if org else ""
    return SystemDTOOut(system_id=system.system_id, system_vendor_org_number=system.vendor_orgno,
                        system_vendor_org_name=names[system.vendor_orgno], name=system.name,
                        description=system.description, rights=rights_out(system.rights),
                        access_packages=packages_out(system.access_packages), is_visible=system.is_visible)


def changelog_out(event: AuditEvent) -> ChangelogEntryOut:
    """One audit event of a system as a changelog entry."""
    data = event.after or event.before or {}
    return ChangelogEntryOut(
        system_internal_id=str(data.get("internal_id", "")), changed_by_org_number=event.actor_orgno,
        change_type=event.action if event.action in CHANGE_TYPES else "unknown", changed_data=event.after,
        client_id=event.actor_client_id, created=event.at)


# The portal's reads (docs/protocol.md §6.1): every system not deleted, for a customer who adds a system user.

@router.get("", response_model=list[SystemDTOOut], response_model_exclude_none=True,
            summary="Every system not deleted (the portal)")
@router.get("/", response_model=list[SystemDTOOut], response_model_exclude_none=True, include_in_schema=False)
def list_all(request: Request, caller: PortalCallerDep) -> list[SystemDTOOut]:
    """docs/protocol.md §6.1: the portal lists the register (visible or not: it filters)."""
    with reading(request) as uow:
        names: dict[str, str] = {}
        return [dto_out(uow, s, names) for s in uow.list_systems()]


@router.get("/vendor", response_model=list[SystemDTOOut], response_model_exclude_none=True,
            summary="The vendor's own systems not deleted")
def list_own(request: Request, caller: RegisterWriter) -> list[SystemDTOOut]:
    """docs/protocol.md §6.1: the token's organisation's systems, never another vendor's."""
    with reading(request) as uow:
        return [dto_out(uow, s) for s in uow.list_systems(vendor_orgno=caller.orgno)]


@router.get("/vendor/{system_id}", response_model=RegisteredSystemOut, response_model_exclude_none=True,
            summary="One own system, deleted or not")
def get_own(system_id: str, request: Request, caller: RegisterWriter) -> RegisteredSystemOut:
    """docs/protocol.md §6.1: 404 AUTH-00011 unknown; 403 another vendor's (unless admin)."""
    with reading(request) as uow:
        return system_out(sr.owned_system(uow, _system_id(system_id), _writer(caller)))


@router.post("/vendor", response_model=str, summary="Register a system; the answer is its new internal id")
def create(body: SystemIn, request: Request, caller: RegisterWriter) -> str:
    """docs/protocol.md §6.1: 200 with the internal uuid as a JSON string; 400 validation errors, 403 another
    vendor's."""
    with writing(request) as uow:
        system = sr.register_system(uow, body.spec(), _writer(caller), actor(caller), now(request))
    return system.internal_id


@router.put("/vendor/{system_id}", response_model=SucceededOut, summary="Replace an own system")
def update(system_id: str, body: SystemIn, request: Request, caller: RegisterWriter) -> SucceededOut:
    """docs/protocol.md §6.1: the whole system but its id, vendor and internal id is replaced."""
    with writing(request) as uow:
        sr.update_system(uow, _system_id(system_id), body.spec(), _writer(caller), actor(caller), now(request))
    return SucceededOut()


@router.put("/vendor/{system_id}/rights", response_model=SucceededOut, summary="Replace an own system's rights")
def put_rights(system_id: str, body: RightsBody, request: Request, caller: RegisterWriter) -> SucceededOut:
    """docs/protocol.md §6.1: the list replaces the rights."""
    with writing(request) as uow:
        sr.replace_rights(uow, _system_id(system_id), [right_of(r) for r in body], _writer(caller), actor(caller),
                          now(request))
    return SucceededOut()


@router.put("/vendor/{system_id}/accesspackages", response_model=SucceededOut,
            summary="Replace an own system's access packages")
def put_packages(system_id: str, body: PackagesBody, request: Request, caller: RegisterWriter) -> SucceededOut:
    """docs/protocol.md §6.1: the list replaces the access packages."""
    with writing(request) as uow:
        sr.replace_access_packages(uow, _system_id(system_id), [p.urn for p in body], _writer(caller),
                                   actor(caller), now(request))
    return SucceededOut()


@router.delete("/vendor/{system_id}", response_model=SucceededOut, summary="Delete an own system (soft)")
def delete(system_id: str, request: Request, caller: RegisterWriter) -> SucceededOut:
    """docs/protocol.md §6.1: kept as deleted; its client ids are free again, its system users stop working."""
    with writing(request) as uow:
        sr.delete_system(uow, _system_id(system_id), _writer(caller), actor(caller), now(request))
    return SucceededOut()


@router.get("/vendor/{system_id}/changelog", response_model=list[ChangelogEntryOut],
            response_model_exclude_none=True, summary="An own system's changes, oldest first")
def changelog(system_id: str, request: Request, caller: RegisterWriter) -> list[ChangelogEntryOut]:
    """docs/protocol.md §6.1: from the audit trail."""
    with reading(request) as uow:
        return [changelog_out(e) for e in sr.system_changelog(uow, _system_id(system_id), _writer(caller))]


@router.get("/{system_id}", response_model=SystemDTOOut, response_model_exclude_none=True,
            summary="One system not deleted (the portal)")
def get_one(system_id: str, request: Request, caller: PortalCallerDep) -> SystemDTOOut:
    """docs/protocol.md §6.1: 404 AUTH-00011 unknown or deleted."""
    with reading(request) as uow:
        return dto_out(uow, sr.portal_system(uow, _system_id(system_id)))


@router.get("/{system_id}/rights", response_model=list[RightOut], response_model_exclude_none=True,
            summary="A system's rights (the portal)")
def get_rights(system_id: str, request: Request, caller: PortalCallerDep) -> list[RightOut]:
    """docs/protocol.md §6.1."""
    with reading(request) as uow:
        return rights_out(sr.portal_system(uow, _system_id(system_id)).rights)


@router.get("/{system_id}/accesspackages", response_model=list[AccessPackageOut],
            summary="A system's access packages (the portal)")
def get_packages(system_id: str, request: Request, caller: PortalCallerDep) -> list[AccessPackageOut]:
    """docs/protocol.md §6.1."""
    with reading(request) as uow:
        return packages_out(sr.portal_system(uow, _system_id(system_id)).access_packages)

