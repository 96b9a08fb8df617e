"""System users on the Altinn side (docs/protocol.md §6.2, §6.5): the token service's lookup, the vendor's lists,
and the customer's list, read and delete through the portal."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Annotated, Any, Union

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from portvakt.domain.altinn_errors import AltinnProblem, AltinnValidation, ValidationError
from portvakt.domain.errors import Forbidden
from portvakt.domain.models import RegisteredSystem, SystemRight, SystemUser
from portvakt.domain.orgno import is_valid_orgno
from portvakt.domain.policy import Caller, require
from portvakt.domain.ports import UnitOfWork
from portvakt.domain.systemregister import REQUEST_WRITE, SYSTEMREGISTER_ADMIN, SYSTEMREGISTER_WRITE, SYSTEMUSER_LOOKUP
from portvakt.domain.systemusers import (
    customer_system_user,
    customer_system_users,
    delete_system_user,
    vendor_lookup,
    vendor_system,
    vendor_system_user,
)
from portvakt.wire.systemusers import (
    AccessPackageOut,
    AltinnProblemOut,
    AltinnValidationOut,
    PageLinks,
    ResourceAttributeOut,
    RightOut,
    SystemUserExternalOut,
    SystemUserOut,
    SystemUserPage,
)

from ..v1.problems import MEDIA_TYPE, Problem
from .auth import PortalCallerDep, authenticated, with_scope
from .deps import actor, now, public_base, reading, writing

__all__ = ["acting_party", "documented", "external_out", "packages_out", "query", "query_doc", "required",
           "rights_out", "router", "system_user_out"]

router = APIRouter(prefix="/authentication/api/v1/systemuser", tags=["system users"])
NO_STORE = {"cache-control": "no-store"}
PAGE_SIZE = 50
#: Longest query parameter value read (orgnos, system ids, client ids and external refs are all shorter).
MAX_PARAM = 300
MAX_TOKEN = 64


def _vendor(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    """docs/protocol.md §6.2: the vendor's lists need systemregister.write (own systems) or .admin (any)."""
    require(caller, SYSTEMREGISTER_WRITE, SYSTEMREGISTER_ADMIN)
    return caller


VendorDep = Annotated[Caller, Depends(_vendor)]
RequestWriterDep = Annotated[Caller, Depends(with_scope(REQUEST_WRITE))]
LookupDep = Annotated[Caller, Depends(with_scope(SYSTEMUSER_LOOKUP))]


# Shapes shared by the system-user routers.

#: The answers' shapes by status: Altinn's problems, and the policy's own for a missing token, scope or party.
_REFUSALS: dict[int, tuple[tuple[type[Any], ...], str]] = {
    400: ((AltinnValidationOut, AltinnProblemOut, Problem), "Invalid input (Altinn's validation problem)"),
    401: ((Problem,), "A valid bearer token is required"),
    403: ((Problem, AltinnProblemOut), "The token, or the party it acts for, does not allow this"),
    404: ((AltinnProblemOut,), "No such entity"),
    409: ((AltinnProblemOut,), "Conflict with the entity's state"),
    413: ((Problem,), "Request body too large"),
}


def documented(*statuses: int, empty_404: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` of the refusals an operation answers with (docs/protocol.md §6 error shapes); 400, 401
    and 403 always; `empty_404` for a 404 without a body (the lookup)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({400, 401, 403, *statuses}):
        models, description = _REFUSALS[status]
        if status == 404 and empty_404:
            out[404] = {"description": "No match (no body)"}
            continue
        refs = [{"$ref": f"#/components/schemas/{m.__name__}"} for m in models]
        model: Any = models[0] if len(models) == 1 else Union[models]  # noqa: UP007 (a runtime union of classes)
        out[status] = {"model": model, "description": description,
                       "content": {MEDIA_TYPE: {"schema": refs[0] if len(refs) == 1 else {"anyOf": refs}}}}
    return out


def query_doc(*names: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """`openapi_extra` naming the query parameters an operation reads itself (their names in any case)."""
    return {"parameters": [{"name": n, "in": "query", "required": n not in optional, "schema": {"type": "string"}}
                           for n in (*names, *optional)]}


def rights_out(rights: Iterable[SystemRight]) -> list[RightOut]:
    """Rights in Altinn's shape: {"action"?, "resource": [{"id", "value"}]}."""
    return [RightOut(action=r.action, resource=[ResourceAttributeOut(id=k, value=v) for k, v in r.resource])
            for r in rights]


def packages_out(packages: Iterable[str]) -> list[AccessPackageOut]:
    """Access packages in Altinn's shape: {"urn"}."""
    return [AccessPackageOut(urn=p) for p in packages]


def _supplier_name(uow: UnitOfWork, vendor_orgno: str) -> str:
    org = uow.get_org(vendor_orgno)
    return org.name if org is not None else ""


def _product_name(system: RegisteredSystem | None, system_id: str) -> str:
    """The system's Bokmål name (else any), the id when there is none."""
    if system is None:
        return system_id
    return system.name.get("nb") or next(iter(system.name.values()), system_id)


def external_out(uow: UnitOfWork, user: SystemUser, *, product_name: str | None = None) -> SystemUserExternalOut:
    """Altinn's SystemUserExternalDTO of a system user; `product_name` defaults to the system's name."""
    name = product_name if product_name is not None else _product_name(uow.get_system(user.system_id),
                                                                        user.system_id)
    return SystemUserExternalOut(
        id=user.system_user_id, integration_title=user.integration_title, system_id=user.system_id,
        product_name=name, reportee_org_no=user.owner_orgno, created=user.created, is_deleted=user.deleted,
        supplier_name=_supplier_name(uow, user.vendor_orgno), supplier_orgno=user.vendor_orgno,
        external_ref=user.external_ref, user_type=user.user_type.value)


def system_user_out(uow: UnitOfWork, user: SystemUser, *, internal_id: bool = False) -> SystemUserOut:
    """A system user as its owner sees it (with the system's internal id for the agents' list)."""
    system = uow.get_system(user.system_id)
    base = external_out(uow, user, product_name=_product_name(system, user.system_id))
    return SystemUserOut(**base.model_dump(), rights=rights_out(user.rights),
                         access_packages=packages_out(user.access_packages),
                         system_internal_id=system.internal_id if internal_id and system is not None else None)


# Who calls, and what it sends.

def acting_party(caller: Caller, party: str) -> str:
    """docs/protocol.md §6.2: the customer's paths are the portal's, acting (Portvakt-Acting-For) for `party` with a
    signed-in person (Portvakt-Person); any other caller or party is Forbidden."""
    if caller.person is None:
        raise Forbidden("send Portvakt-Acting-For (the organisation) and Portvakt-Person (the signed-in person)")
    if caller.orgno != party:
        raise Forbidden("the party in the path must be the organisation you act for")
    return party


def query(request: Request) -> dict[str, str]:
    """The query parameters with their names lower-cased (Altinn binds them without regard to case); the first of
    a name given twice wins."""
    found: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        found.setdefault(name.lower(), value)
    return found


def _bad(title: str, name: str) -> AltinnValidation:
    return AltinnValidation([ValidationError("STD.VLD-00002", title, [f"/{name}"])])


def required(params: dict[str, str], *names: str) -> list[str]:
    """The values of the named query parameters, trimmed: each missing or blank one is STD.VLD-00000, too long
    STD.VLD-00002 (docs/protocol.md §6.5)."""
    missing = [n for n in names if not params.get(n.lower(), "").strip()]
    if missing:
        raise AltinnValidation([ValidationError("STD.VLD-00000", f"The query parameter {n} is required.", [f"/{n}"])
                                for n in missing])
    values = []
    for name in names:
        value = params[name.lower()].strip()
        if len(value) > MAX_PARAM:
            raise _bad(f"The query parameter {name} is longer than {MAX_PARAM} characters.", name)
        values.append(value)
    return values


def _orgno(value: str, name: str) -> str:
    """A 9-digit orgno with a valid mod-11 check digit (docs/protocol.md §2.2), else STD.VLD-00002."""
    if not is_valid_orgno(value):
        raise _bad(f"The query parameter {name} must be a 9-digit organisation number.", name)
    return value


def _optional(params: dict[str, str], name: str) -> str:
    value = params.get(name.lower(), "").strip()
    if len(value) > MAX_PARAM:
        raise _bad(f"The query parameter {name} is longer than {MAX_PARAM} characters.", name)
    return value


def page_token(seq: int) -> str:
    """docs/protocol.md §6.2 paging: base64url (unpadded) of the JSON of the last seq of the page."""
    return base64.urlsafe_b64encode(json.dumps(seq).encode()).rstrip(b"=").decode()


def _after(token: str | None) -> int:
    """The seq a continuation token names (0 without one); STD.VLD-00002 for anything else."""
    if not token:
        return 0
    value: object = None
    if len(token) <= MAX_TOKEN:
        try:
            value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (ValueError, binascii.Error):
            value = None
    if type(value) is not int or value < 0:
        raise _bad("The continuation token is not valid.", "token")
    return value


# The token service's lookup (docs/protocol.md §6.5).

@router.get("/byExternalId", response_model=SystemUserExternalOut, response_model_exclude_none=True,
            responses=documented(404, empty_404=True),
            openapi_extra=query_doc("clientId", "systemProviderOrgNo", "systemUserOwnerOrgNo",
                                    optional=("externalRef",)),
            summary="The system user the token service looks up for a grant (404 without a body if none)")
def lookup(request: Request, caller: LookupDep) -> Response:
    """docs/protocol.md §6.5: clientId, systemProviderOrgNo and systemUserOwnerOrgNo are required (names in any
    case), externalRef defaults to the owner's orgno; never cached (Cache-Control: no-store)."""
    params = query(request)
    client_id, vendor, owner = required(params, "clientId", "systemProviderOrgNo", "systemUserOwnerOrgNo")
    _orgno(vendor, "systemProviderOrgNo")
    _orgno(owner, "systemUserOwnerOrgNo")
    external_ref = _optional(params, "externalRef")
    with reading(request) as uow:
        user = vendor_lookup(uow, client_id, vendor, owner, external_ref)
        if user is None:
            return Response(status_code=404, headers=NO_STORE)
        body = external_out(uow, user, product_name=user.system_id)
    return JSONResponse(body.model_dump(mode="json", by_alias=True), headers=NO_STORE)


router.add_api_route("/byexternalid", lookup, methods=["GET"], include_in_schema=False)


# The vendor's lists (docs/protocol.md §6.2).

@router.get("/vendor/byquery", response_model=SystemUserExternalOut, response_model_exclude_none=True,
            responses=documented(404), openapi_extra=query_doc("system-id", "orgno", optional=("external-ref",)),
            summary="The vendor's system user for a customer and external ref (404 AUTH-00015 if none)")
def by_query(request: Request, caller: RequestWriterDep) -> Response:
    """docs/protocol.md §6.2: system-id and orgno are required, external-ref defaults to orgno; the system must be
    the caller's (AUTH-00011)."""
    params = query(request)
    system_id, owner = required(params, "system-id", "orgno")
    _orgno(owner, "orgno")
    external_ref = _optional(params, "external-ref") or owner
    with reading(request) as uow:
        system = vendor_system(uow, system_id, caller.orgno)
        user = vendor_system_user(uow, system, owner, external_ref)
        if user is None:
            raise AltinnProblem("AUTH-00015", 404, "The SystemUser was not found.")
        body = external_out(uow, user)
    return JSONResponse(body.model_dump(mode="json", by_alias=True), headers=NO_STORE)


@router.get("/vendor/bysystem/{system_id}", response_model=SystemUserPage, response_model_exclude_none=True,
            responses=documented(404), openapi_extra=query_doc(optional=("token",)),
            summary="The system users of one of the vendor's systems, 50 a page")
def by_system(system_id: str, request: Request, caller: VendorDep) -> Response:
    """docs/protocol.md §6.2: `{"links": {"next"?}, "data": [...]}` by creation order; `?token=` continues; another
    vendor's system is AUTH-00011 (the admin scope sees every system)."""
    after = _after(query(request).get("token"))
    vendor = None if caller.has(SYSTEMREGISTER_ADMIN) else caller.orgno
    with reading(request) as uow:
        system = vendor_system(uow, system_id, vendor)
        users = list(uow.list_system_users(system_id=system.system_id, after_seq=after, limit=PAGE_SIZE + 1))
        data = [external_out(uow, u) for u in users[:PAGE_SIZE]]
    more = len(users) > PAGE_SIZE
    link = (f"{public_base(request)}{request.url.path.lstrip('/')}?token={page_token(users[PAGE_SIZE - 1].seq)}"
            if more else None)
    page = SystemUserPage(links=PageLinks(next=link), data=data)
    return JSONResponse(page.model_dump(mode="json", by_alias=True), headers=NO_STORE)


# The customer's system users, through the portal (docs/protocol.md §6.2).

@router.get("/{party}", response_model=list[SystemUserOut], response_model_exclude_none=True,
            responses=documented(),
            summary="The party's system users (the portal acting for the party)")
def list_own(party: str, request: Request, caller: PortalCallerDep) -> list[SystemUserOut]:
    """docs/protocol.md §6.2: not deleted, oldest first."""
    acting_party(caller, party)
    with reading(request) as uow:
        return [system_user_out(uow, u) for u in customer_system_users(uow, party)]


@router.get("/{party}/{system_user_id}", response_model=SystemUserOut, response_model_exclude_none=True,
            responses=documented(404),
            summary="One of the party's system users (AUTH-00015 if it has no such one)")
def get_own(party: str, system_user_id: str, request: Request, caller: PortalCallerDep) -> SystemUserOut:
    """docs/protocol.md §6.2: another party's system user is 404, as an unknown one."""
    acting_party(caller, party)
    with reading(request) as uow:
        return system_user_out(uow, customer_system_user(uow, party, system_user_id))


@router.delete("/{party}/{system_user_id}", status_code=202, response_model=int,
               responses={**documented(), 404: {"description": "No such system user of the party: body 0",
                                                "content": {"application/json": {"schema": {"type": "integer"}}}}},
               summary="Delete one of the party's system users: 202 body 1, or 404 body 0")
def delete_own(party: str, system_user_id: str, request: Request, caller: PortalCallerDep) -> Response:
    """docs/protocol.md §6.2: soft delete, with its request; the token service's lookup stops finding it; an agent
    system user with clients is AUTH-00035 (400)."""
    acting_party(caller, party)
    with writing(request) as uow:
        done = delete_system_user(uow, party, system_user_id, actor(caller), now(request))
    return JSONResponse(1 if done is not None else 0, status_code=202 if done is not None else 404)
