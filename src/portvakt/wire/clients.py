"""Client registrations and their key sets as /api/v1 answers (docs/protocol.md §3.2 client model, §3.3 key set)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .base import WireModel, is_none
from .vocabulary import IntegrationType, KeyOrigin


class ClientOut(WireModel):
    """A client registration as the API returns it (docs/protocol.md §3.2 client model; timestamps ISO 8601)."""

    client_id: str
    client_name: str
    client_orgno: str
    supplier_orgno: str | None
    description: str
    client_uri: str | None
    integration_type: IntegrationType
    application_type: str
    token_endpoint_auth_method: str
    grant_types: list[str]
    scopes: list[str]
    access_token_lifetime: int | None
    active: bool
    created: datetime
    last_updated: datetime


class JwkOut(WireModel):
    """A registered public key with its expiry (`exp`, unix seconds: one year after it was posted)."""

    kty: str
    kid: str
    n: str
    e: str
    alg: str | None = Field(None, exclude_if=is_none)
    use: str | None = Field(None, exclude_if=is_none)
    x5c: list[str] | None = Field(None, exclude_if=is_none)
    exp: int
    origin: KeyOrigin | None = Field(None, exclude_if=is_none, description=(
        "How the key was made: paste, browser or pkcs12 (in the portal), api; absent for keys registered before "
        "portvakt recorded it. Set when the key is first posted; posting the key again keeps it."))


class JwksOut(WireModel):
    """A client's key set (docs/protocol.md §3.3; like nais/digdirator's DigdirJwks)."""

    keys: list[JwkOut]
    created: datetime | None = Field(
        None, exclude_if=is_none,
        description="When the oldest key of the set was first registered (absent for an empty set).")
    last_updated: datetime | None = Field(None, exclude_if=is_none,
                                          description="When the set was last posted (absent for an empty set).")


class ListedClientOut(ClientOut):
    """A client in GET /clients; with `include=jwks` also its key set (docs/decisions.md A14)."""

    jwks: JwksOut | None = Field(
        None, exclude_if=is_none,
        description="The client's key set, as GET /clients/{client_id}/jwks answers it; only with include=jwks.")
