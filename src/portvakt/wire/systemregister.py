"""The Altinn side's answers about the system register and system-user requests, in Altinn 3's camelCase shapes
with nulls left out (docs/protocol.md §6.1, §6.2). The portal parses them with these models too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from .base import is_none
from .systemusers import AccessPackageOut, CamelModel, PageLinks, RightOut, SystemUserRequestOut

__all__ = ["ChangelogEntryOut", "RegisteredSystemOut", "RequestOut", "RequestPage", "SucceededOut", "SystemDTOOut",
           "VendorOut"]


class VendorOut(CamelModel):
    """The vendor as an ISO 6523 actor id: {"authority": "iso6523-actorid-upis", "ID": "0192:<orgno>"}."""

    authority: str = "iso6523-actorid-upis"
    id: str = Field(alias="ID")


class RegisteredSystemOut(CamelModel):
    """A system as its vendor registered it (GET /vendor/{systemId})."""

    id: str
    vendor: VendorOut
    name: dict[str, str]
    description: dict[str, str]
    rights: list[RightOut]
    access_packages: list[AccessPackageOut]
    client_id: list[str]
    is_visible: bool
    allowed_redirect_urls: list[str]
    is_deleted: bool


class SystemDTOOut(CamelModel):
    """A system as the portal and the vendor's list show it (Altinn's RegisteredSystemDTO)."""

    system_id: str
    system_vendor_org_number: str
    system_vendor_org_name: str
    name: dict[str, str]
    description: dict[str, str]
    rights: list[RightOut]
    access_packages: list[AccessPackageOut]
    is_visible: bool


class SucceededOut(CamelModel):
    """The answer of a change: {"succeeded": true}."""

    succeeded: bool = True


class ChangelogEntryOut(CamelModel):
    """One change of a system: who changed it, how (create, update, rightsupdate, accesspackageupdate, delete),
    the system as it became, and when."""

    system_internal_id: str
    changed_by_org_number: str | None = Field(None, exclude_if=is_none)
    change_type: str
    changed_data: dict[str, Any] | None = Field(None, exclude_if=is_none)
    client_id: str | None = Field(None, exclude_if=is_none)
    created: datetime


class RequestOut(SystemUserRequestOut):
    """A system-user request as its vendor sees it: with where the customer approves it."""

    confirm_url: str | None = Field(None, exclude_if=is_none)


class RequestPage(CamelModel):
    """One page of a system's requests: {"links": {"next"?}, "data": [...]}."""

    links: PageLinks
    data: list[RequestOut]
