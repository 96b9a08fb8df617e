"""The words of the protocol that appear on the wire; the domain uses these same enums (docs/decisions.md W1)."""

from __future__ import annotations

from enum import StrEnum


class IntegrationType(StrEnum):
    """Client integration types (docs/protocol.md §3.2; `altinn_virksys`: §4.4)."""

    MASKINPORTEN = "maskinporten"
    ALTINN_VIRKSYS = "altinn_virksys"


class Visibility(StrEnum):
    """Scope visibility (docs/protocol.md §3.4)."""

    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"
    INTERNAL = "INTERNAL"


class AccessState(StrEnum):
    """State of a consumer's access to a scope (docs/protocol.md §3.4 ACL entry)."""

    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    DENIED = "DENIED"


class PortalRole(StrEnum):
    """What a person may do in the portal for an organisation (people and their roles)."""

    INTEGRATION_RESPONSIBLE = "integration_responsible"
    ACCESS_MANAGER = "access_manager"
    API_ADMIN = "api_admin"


class KeyOrigin(StrEnum):
    """How a client's key was made, as the one who registered it said (docs/protocol.md §3.3 `origin`): pasted,
    made in the browser or as a PKCS#12 in the portal, or posted to the API."""

    PASTE = "paste"
    BROWSER = "browser"
    PKCS12 = "pkcs12"
    API = "api"
