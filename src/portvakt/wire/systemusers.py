"""The Altinn side's answers about system users, in Altinn 3's camelCase shapes with nulls left out
(docs/protocol.md §6.2–§6.5): the customer's and the vendor's lists, the lookup, a request to confirm, agents'
clients. The portal parses them with these models too."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from .base import WireModel, is_none

__all__ = ["AccessPackageOut", "AgentClientsOut", "AltinnProblemOut", "AltinnValidationErrorOut",
           "AltinnValidationOut", "ClientDelegationOut", "ClientOut", "ConfirmRequestOut", "PageLinks",
           "ResourceAttributeOut", "RightOut", "SystemUserExternalOut", "SystemUserInformationOut", "SystemUserOut",
           "SystemUserPage", "SystemUserRequestOut"]


class CamelModel(WireModel):
    """A response shape whose members are camelCase on the wire (snake_case in Python)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ResourceAttributeOut(CamelModel):
    """One attribute naming a resource: {"id": "urn:altinn:resource", "value": "<resource id>"}."""

    id: str
    value: str


class RightOut(CamelModel):
    """A right: the resource's attributes, and the action when the right names one."""

    action: str | None = Field(None, exclude_if=is_none)
    resource: list[ResourceAttributeOut]


class AccessPackageOut(CamelModel):
    """An access package: {"urn": "urn:altinn:accesspackage:<name>"}."""

    urn: str


class SystemUserExternalOut(CamelModel):
    """Altinn's SystemUserExternalDTO: what a vendor and the token service's lookup see of a system user."""

    id: str
    integration_title: str
    system_id: str
    product_name: str
    reportee_org_no: str
    created: datetime
    is_deleted: bool
    supplier_name: str
    supplier_orgno: str
    external_ref: str
    user_type: str


class SystemUserOut(SystemUserExternalOut):
    """A system user as its owner sees it: with its rights and access packages (and, in the agents' list, the
    system's internal id)."""

    system_internal_id: str | None = Field(None, exclude_if=is_none)
    rights: list[RightOut]
    access_packages: list[AccessPackageOut]


class PageLinks(CamelModel):
    """`next`: the absolute URL of the next page, left out on the last one."""

    next: str | None = Field(None, exclude_if=is_none)


class SystemUserPage(CamelModel):
    """One page of a vendor's system users: {"links": {"next"?}, "data": [...]}."""

    links: PageLinks
    data: list[SystemUserExternalOut]


class SystemUserRequestOut(CamelModel):
    """A system-user request, as its vendor and the portal's confirm page both see it; an agent request has no
    `rights`."""

    id: str
    integration_title: str
    external_ref: str
    system_id: str
    party_org_no: str
    rights: list[RightOut] | None = Field(None, exclude_if=is_none)
    access_packages: list[AccessPackageOut]
    status: str
    redirect_url: str | None = Field(None, exclude_if=is_none)
    escalated: bool
    created: datetime
    timed_out: bool


class ConfirmRequestOut(SystemUserRequestOut):
    """A request as the portal's confirm page shows it: the request, and who asks for what."""

    user_type: str
    vendor_org_no: str
    vendor_name: str
    system_name: dict[str, str]
    system_description: dict[str, str]


class ClientOut(CamelModel):
    """A client of an agent system user (or one that could become one); `clientId` is its orgno."""

    client_id: str
    client_organization_number: str
    client_organization_name: str


class SystemUserInformationOut(CamelModel):
    """Which agent system user a client list is about."""

    system_user_id: str
    system_user_owner_org: str


class AgentClientsOut(CamelModel):
    """An agent system user's clients, or the organisations that could become its clients."""

    links: PageLinks
    system_user_information: SystemUserInformationOut
    data: list[ClientOut]


class ClientDelegationOut(CamelModel):
    """The answer of adding or removing a client: {"agent": <system user id>, "client": <orgno>}."""

    agent: str
    client: str


class AltinnProblemOut(WireModel):
    """Altinn's problem document (RFC 9457, with Altinn's `code` "AUTH-000NN" and `traceId`)."""

    type: str
    title: str
    status: int
    detail: str | None = Field(None, exclude_if=is_none)
    code: str
    traceId: str  # noqa: N815 (Altinn's member name)


class AltinnValidationErrorOut(WireModel):
    """One validation error: its code ("AUTH.VLD-000NN", "STD.VLD-0000N"), title and the offending paths."""

    code: str
    title: str
    paths: list[str]


class AltinnValidationOut(WireModel):
    """Altinn's 400 validation problem: code "STD-00000" and the validation errors."""

    type: str
    title: str
    status: int
    code: str
    traceId: str  # noqa: N815 (Altinn's member name)
    validationErrors: list[AltinnValidationErrorOut]  # noqa: N815 (Altinn's member name)
