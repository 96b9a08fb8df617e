"""/api/v1/clients (docs/protocol.md §3.2): list, create, read, replace, patch and deactivate client registrations.

A client's answers carry its strong ETag; PUT, PATCH and DELETE honour If-Match (RFC 9110 §13.1.1), checked in the
same transaction as the change (its key set has its own ETag, at /jwks)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from portvakt.domain.clients import (
    ClientFields,
    change_client,
    deactivate_client,
    fields_of,
    list_visible_clients,
    new_client,
)
from portvakt.domain.errors import Invalid
from portvakt.domain.models import Client, IntegrationType
from portvakt.domain.orgno import require_orgno
from portvakt.domain.policy import (
    CLIENT_SCOPES,
    Caller,
    changeable_client,
    owner_for_new_client,
    require,
    visible_client,
)

from .auth import CallerDep
from .client_schemas import (
    CLIENT_ID_PATTERN,
    ClientBase,
    ClientId,
    ClientIn,
    ClientOut,
    ClientPatch,
    ListedClientOut,
    client_list_json,
    client_out,
    entity_tag,
)
from .deps import actor, now, reading, writing
from .jwks import (
    ETAG_HEADER,
    IfMatchDep,
    check_if_match,
    precondition_responses,
    with_etag,
)
from .problems import responses

router = APIRouter(tags=["clients"])
_SIMPLE = ("description", "client_uri", "application_type", "token_endpoint_auth_method", "access_token_lifetime")


def _scopes(body: ClientBase) -> tuple[str, ...] | None:
    """`scopes`, or its alias `scope` (array or space-separated string); both given must agree."""
    alias = body.scope.split() if isinstance(body.scope, str) else body.scope
    if body.scopes is not None and alias is not None and set(body.scopes) != set(alias):
        raise Invalid("scopes and scope (its alias) name different scopes; send only one of them", field="scopes")
    chosen = body.scopes if body.scopes is not None else alias
    return None if chosen is None else tuple(chosen)


def _fields(body: ClientBase, base: ClientFields, *, patch: bool) -> ClientFields:
    """The fields a body asks for: PUT/POST replace all (defaults for missing), PATCH only those sent."""
    given = body.model_fields_set if patch else set(type(body).model_fields)
    changes: dict[str, Any] = {name: getattr(body, name) for name in _SIMPLE if name in given}
    if "client_name" in given:
        if body.client_name is None:
            raise Invalid("client_name must not be null", field="client_name")
        changes["client_name"] = body.client_name
    if "grant_types" in given:
        changes["grant_types"] = tuple(body.grant_types)
    if body.integration_type is not None:
        changes["integration_type"] = body.integration_type
    scopes = _scopes(body)
    if scopes is not None or not patch:
        changes["scopes"] = scopes or ()
    return replace(base, **changes)


def _server_set(body: ClientBase, current: Client | None, supplier_orgno: str | None) -> None:
    """Server-set fields may be echoed back only unchanged (docs tell users to strip them; be lenient)."""
    stored: dict[str, object] = {
        "client_id": current.client_id if current else None, "supplier_orgno": supplier_orgno,
        "active": current.active if current else True,
        "created": current.created if current else None, "last_updated": current.last_updated if current else None}
    for name, value in stored.items():
        sent = getattr(body, name)
        if sent is not None and sent != value:
            raise Invalid(f"{name} is set by the server and cannot be given or changed", field=name)
    if current is not None and body.client_orgno is not None and body.client_orgno != current.client_orgno:
        raise Invalid(f"client_orgno cannot change (it is {current.client_orgno})", field="client_orgno")


_LINK = {"Link": {"description": 'RFC 8288 `<...>; rel="next"` if there is more', "schema": {"type": "string"}}}
_LOCATION = {"Location": {"description": "The new client's URL", "schema": {"type": "string"}}}


@router.get("/clients", response_model=list[ListedClientOut], summary="List client registrations",
            responses={200: {"headers": _LINK}, **responses("invalid", "forbidden")})
def list_clients(request: Request, caller: CallerDep,
                 integration_type: IntegrationType | None = None,
                 client_orgno: Annotated[str | None, Query(description="Narrow to one owner org")] = None,
                 inactive: Annotated[bool, Query(description="Include deactivated clients")] = False,
                 limit: Annotated[int, Query(ge=1, le=1000, description="Page size")] = 100,
                 after: Annotated[str | None, Query(pattern=CLIENT_ID_PATTERN, description="Last client_id")] = None,
                 include: Annotated[Literal["jwks"] | None, Query(description="jwks: with key sets")] = None,
                 ) -> Response:
    """docs/protocol.md §3.2 GET /clients: own clients and supplied ones, by client_id; next page in `Link` (RFC
    8288)."""
    require(caller, *CLIENT_SCOPES)
    if client_orgno is not None:
        require_orgno(client_orgno, "client_orgno")
    with reading(request) as uow:
        found = list_visible_clients(uow, caller, client_orgno=client_orgno, integration_type=integration_type,
                                     include_inactive=inactive, after=after, limit=limit + 1)
    headers: dict[str, str] = {}
    if len(found) > limit:
        found = found[:limit]
        nxt = request.url.include_query_params(after=found[-1].client_id, limit=limit)
        headers["link"] = f'<{nxt}>; rel="next"'
    # Serialized once here; returning the models would make FastAPI validate them a second time.
    body = client_list_json(found, with_jwks=include == "jwks")
    return Response(body, media_type="application/json", headers=headers)


@router.post("/clients", response_model=ClientOut, status_code=201, summary="Register a client",
             responses={201: {"headers": {**_LOCATION, **ETAG_HEADER}}, **responses("invalid", "forbidden")})
def create_client(request: Request, response: Response, caller: CallerDep, body: ClientIn) -> ClientOut:
    """docs/protocol.md §3.2 POST /clients: dcr.write for the own org; dcr.supplier for another org (caller =
    supplier)."""
    client_orgno, supplier_orgno = owner_for_new_client(caller, body.client_orgno)
    _server_set(body, None, supplier_orgno)
    f = _fields(body, ClientFields("", IntegrationType.MASKINPORTEN), patch=False)
    with writing(request) as uow:
        client = new_client(uow, client_name=f.client_name, client_orgno=client_orgno,
                            integration_type=f.integration_type, scopes=f.scopes, actor=actor(caller),
                            now=now(request), description=f.description, supplier_orgno=supplier_orgno,
                            access_token_lifetime=f.access_token_lifetime, grant_types=f.grant_types,
                            token_endpoint_auth_method=f.token_endpoint_auth_method,
                            application_type=f.application_type, client_uri=f.client_uri)
    response.headers["location"] = str(request.url_for("get_client", client_id=client.client_id))
    out = client_out(client)
    with_etag(response, out)
    return out


@router.get("/clients/{client_id}", response_model=ClientOut, summary="Read a client",
            responses={200: {"headers": ETAG_HEADER}, **responses("not-found")})
def get_client(request: Request, response: Response, caller: CallerDep, client_id: ClientId) -> ClientOut:
    """docs/protocol.md §3.2 GET /clients/{id}: also a deactivated one (active=false); 404 for other orgs' clients."""
    with reading(request) as uow:
        out = client_out(visible_client(caller, uow.get_client(client_id), client_id))
    with_etag(response, out)
    return out


def _change(request: Request, response: Response, caller: Caller, client_id: str, body: ClientBase,
            expected: str | None, *, patch: bool) -> ClientOut:
    """PUT and PATCH: policy, If-Match (RFC 9110 §13.1.1), server-set fields, then the change use-case, all in one
    transaction."""
    with writing(request) as uow:
        current = changeable_client(caller, uow.get_client(client_id), client_id)
        check_if_match(expected, entity_tag(client_out(current)), "client")
        _server_set(body, current, current.supplier_orgno)
        base = fields_of(current) if patch else ClientFields(current.client_name, current.integration_type)
        updated = change_client(uow, current, _fields(body, base, patch=patch), actor(caller), now(request))
    out = client_out(updated)
    with_etag(response, out)
    return out


@router.put("/clients/{client_id}", response_model=ClientOut, summary="Replace a client",
            responses=precondition_responses("invalid", "forbidden", "not-found", "conflict"))
def put_client(request: Request, response: Response, caller: CallerDep, client_id: ClientId, body: ClientIn,
               expected: IfMatchDep) -> ClientOut:
    """docs/protocol.md §3.2 PUT: full replace; integration_type and client_orgno cannot change."""
    return _change(request, response, caller, client_id, body, expected, patch=False)


@router.patch("/clients/{client_id}", response_model=ClientOut, summary="Change some fields of a client",
              responses=precondition_responses("invalid", "forbidden", "not-found", "conflict"))
def patch_client(request: Request, response: Response, caller: CallerDep, client_id: ClientId, body: ClientPatch,
                 expected: IfMatchDep) -> ClientOut:
    """docs/protocol.md §3.2 (PATCH is portvakt's addition): only the fields sent change, under the PUT rules."""
    return _change(request, response, caller, client_id, body, expected, patch=True)


@router.delete("/clients/{client_id}", response_model=ClientOut, summary="Deactivate a client",
               responses=precondition_responses("forbidden", "not-found"))
def delete_client(request: Request, response: Response, caller: CallerDep, client_id: ClientId,
                  expected: IfMatchDep) -> ClientOut:
    """docs/protocol.md §3.2 DELETE: deactivates (kept for history, no more tokens); returns the client,
    active=false. With If-Match, only if the client is still as read (RFC 9110 §13.1.1)."""
    with writing(request) as uow:
        current = changeable_client(caller, uow.get_client(client_id), client_id, deactivate=True)
        check_if_match(expected, entity_tag(client_out(current)), "client")
        out = client_out(deactivate_client(uow, current, actor(caller), now(request)))
    with_etag(response, out)
    return out
