"""Wire schemas of /api/v1/clients and /jwks (docs/protocol.md §3.2 client model, §3.3 key set).

The response shapes live in the wire room (portvakt.wire.clients), shared with the portal; this module
holds the input models, the server's own rules, and turns the domain's clients into those shapes.
Input is lenient about unknown fields (ignored, as Maskinporten's API is) and strict about known
ones: a known field must have its exact JSON type, and a server-set field may only be echoed back
unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    TypeAdapter,
)

from portvakt.domain.clients import key_set_times
from portvakt.domain.models import JWT_BEARER, PRIVATE_KEY_JWT, Client, IntegrationType
from portvakt.wire.base import WireModel
from portvakt.wire.clients import ClientOut as ClientOut
from portvakt.wire.clients import JwkOut as JwkOut
from portvakt.wire.clients import JwksOut as JwksOut
from portvakt.wire.clients import ListedClientOut as ListedClientOut

from .scope_schemas import MAX_INT


def _no_nul(value: str) -> str:
    """No NUL characters: no store keeps them (PostgreSQL refuses them in text)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NoNul = AfterValidator(_no_nul)
Name = Annotated[StrictStr, StringConstraints(min_length=1, max_length=200), NoNul]
Word = Annotated[StrictStr, StringConstraints(max_length=200), NoNul]
ScopeName = Annotated[StrictStr, StringConstraints(min_length=1, max_length=200), NoNul]
ScopeList = Annotated[StrictStr, StringConstraints(max_length=10_000), NoNul]
Text = Annotated[StrictStr, StringConstraints(max_length=2000), NoNul]
Uri = Annotated[StrictStr, StringConstraints(max_length=2048, pattern=r"^https?://\S+$"), NoNul]
#: client_id in paths and `after`: printable ASCII without spaces (UUIDs, in practice).
CLIENT_ID_PATTERN = r"^[!-~]{1,100}$"
ClientId = Annotated[str, Path(pattern=CLIENT_ID_PATTERN, description="The client's client_id")]
LENIENT = ("Unknown fields are ignored (Maskinporten's API is lenient); known fields are checked "
           "strictly, and server-set fields (client_id, supplier_orgno, active, created, last_updated) "
           "are accepted only if they equal the stored value, so a GET response can be sent back as is.")


class ClientBase(BaseModel):
    """Fields shared by the client input schemas (docs/protocol.md §3.2)."""

    model_config = ConfigDict(extra="ignore")

    client_name: Name | None = Field(None, description="Display name.")
    description: Text = Field(
        "", validation_alias=AliasChoices("description", "Description"),
        description="Free text. `Description` (as written in the design note) is accepted as an alias.")
    client_orgno: Word | None = Field(
        None, description="Owner organisation. Defaults to the caller's; another organisation's orgno needs "
                          "idporten:dcr.supplier and makes the caller the supplier. Cannot change later.")
    supplier_orgno: Word | None = Field(
        None, description="Server-set: the caller when it registers for another organisation (read-only).")
    client_uri: Uri | None = Field(
        None, description="Home page of the client (http or https URL).")
    integration_type: IntegrationType | None = Field(
        None, description="`maskinporten` (default on create) or `altinn_virksys`. Cannot change after creation; "
                          "left out on PUT/PATCH it keeps the stored value.")
    application_type: Word = Field("web", description="Must be `web`.")
    token_endpoint_auth_method: Word = Field(PRIVATE_KEY_JWT, description="Must be `private_key_jwt`.")
    grant_types: list[Word] = Field(
        [JWT_BEARER], max_length=10,
        description=f"Must be `[{JWT_BEARER}]`; `jwt_bearer_token` is accepted as an alias.")
    scopes: list[ScopeName] | None = Field(
        None, max_length=200,
        description="Scopes the client may ask for. Each must be allowed for the integration type and "
                    "accessible to the client's organisation (owner, APPROVED access, accessible_for_all, or "
                    "a delegation scope). A scope the client already has stays even if it became inaccessible.")
    scope: list[ScopeName] | ScopeList | None = Field(
        None, description="Alias of `scopes` (the design note's spelling): an array, or a space-separated string "
                          "(RFC 7591 §2). If both are sent they must name the same scopes.")
    access_token_lifetime: Annotated[StrictInt, Field(le=MAX_INT)] | None = Field(
        None, description="Seconds; null or 0 uses the server default (0 is stored as null). "
                            "Capped by the scopes' at_max_age.")
    client_id: Word | None = Field(None, description="Server-set (read-only).")
    active: StrictBool | None = Field(None, description="Server-set (read-only); DELETE deactivates.")
    created: datetime | None = Field(None, description="Server-set (read-only).")
    last_updated: datetime | None = Field(None, description="Server-set (read-only).")


class ClientIn(ClientBase):
    """A client registration for POST (create) and PUT (full replace) (docs/protocol.md §3.2)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"description": LENIENT})

    client_name: Name = Field(description="Display name.")


class ClientPatch(ClientBase):
    """A partial change (PATCH): only the fields sent change; null resets client_uri and access_token_lifetime."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"description": LENIENT})


def _client_fields(c: Client) -> dict[str, Any]:
    """The members of a client's wire form (docs/protocol.md §3.2 client model; no keys: see /jwks)."""
    return {"client_id": c.client_id, "client_name": c.client_name, "client_orgno": c.client_orgno,
            "supplier_orgno": c.supplier_orgno, "description": c.description, "client_uri": c.client_uri,
            "integration_type": c.integration_type, "application_type": c.application_type,
            "token_endpoint_auth_method": c.token_endpoint_auth_method, "grant_types": list(c.grant_types),
            "scopes": list(c.scopes), "access_token_lifetime": c.access_token_lifetime, "active": c.active,
            "created": c.created, "last_updated": c.last_updated}


def client_out(c: Client) -> ClientOut:
    """The wire form of a client (no keys: see /jwks)."""
    return ClientOut(**_client_fields(c))


class JwksIn(BaseModel):
    """A key set to register (docs/protocol.md §3.3): replaces the whole set; at most 5 keys with unique kids."""

    keys: list[dict[str, Any] | str] = Field(
        description="Each entry: an RSA public JWK (kty, n, e; optional kid, alg RS256/RS384/RS512, use sig), or a "
                    "string holding a PEM public key or PEM X.509 certificate (which becomes a JWK with x5c). "
                    "RSA keys of at least 2048 bits only. Without a kid, the kid is the RFC 7638 thumbprint. "
                    "Private keys are refused and never stored. A single JWK object without `keys` is accepted. "
                    "A JWK may say how the key was made in `origin` (paste, browser, pkcs12, api; default api): "
                    "kept with the key, not in it, and kept when the same key is posted again.")


def jwks_out(c: Client) -> JwksOut:
    """The wire form of a client's key set."""
    keys = [JwkOut.model_validate({**k.jwk, "kid": k.kid, "exp": int(k.expires.timestamp()), "origin": k.origin})
            for k in c.keys]
    created, last = key_set_times(c)
    return JwksOut(keys=keys, created=created, last_updated=last)


_LISTING = TypeAdapter(list[ListedClientOut])


def client_list_json(clients: Sequence[Client], *, with_jwks: bool) -> bytes:
    """GET /clients as JSON, serialized once; `include=jwks` adds each client's key set (docs/decisions.md A14)."""
    return _LISTING.dump_json([ListedClientOut(**_client_fields(c), jwks=jwks_out(c) if with_jwks else None)
                               for c in clients])


def entity_tag(shape: WireModel) -> str:
    """A strong entity tag of a representation (RFC 9110 §8.8.3): the SHA-256 of its canonical JSON (sorted members,
    no spaces), 128 bits of it in base64url, quoted. It changes exactly when the representation does, and every
    node and store computes the same tag for the same data, with nothing stored (docs/protocol.md §3.3)."""
    canonical = json.dumps(shape.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()[:16]
    return '"' + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") + '"'
