"""What the portal asks the Altinn side about people and organisations (people log in and act).

Login and person lookups need the portal's own token (altinn:portal). The portal checks a person's role
for an organisation before it acts for it; this side trusts it to (policy.acting_for).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from portvakt.altinn.passwords import VerifierBusy
from portvakt.domain.errors import NotFound
from portvakt.domain.models import Person
from portvakt.domain.orgno import require_orgno
from portvakt.domain.people import find_person, password_matches, store_rehash
from portvakt.domain.ports import UnitOfWork

from ..v1.problems import MEDIA_TYPE, Problem, responses
from .auth import AuthenticatedDep, PortalCallerDep
from .deps import context, now, reading, writing
from .schemas import LoginIn, OrganisationOut, PersonOut, person_out

log = logging.getLogger("portvakt.altinn")
router = APIRouter(prefix="/accessmanagement/api/v1", tags=["portal"])
PortalDep = PortalCallerDep
LOGIN_FAILED = "wrong username or password"
NO_STORE = {"cache-control": "no-store"}
BUSY_RETRY_SECONDS = 1


def _login_failed() -> JSONResponse:
    """One answer for an unknown username, a wrong password and an inactive person (OWASP ASVS V2.2)."""
    body = Problem(type="/problems/login-failed", title="Login failed", status=401, detail=LOGIN_FAILED)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=401, media_type=MEDIA_TYPE,
                        headers=NO_STORE)


def _busy() -> JSONResponse:
    """429 with Retry-After when the password checks are all taken (RFC 6585 §4; docs/security.md, Login flood)."""
    body = Problem(type="/problems/busy", title="Too many logins at once", status=429,
                   detail="too many password checks are running; try again shortly")
    return JSONResponse(body.model_dump(exclude_none=True), status_code=429, media_type=MEDIA_TYPE,
                        headers={**NO_STORE, "retry-after": str(BUSY_RETRY_SECONDS)})


def _out(uow: UnitOfWork, person: Person) -> PersonOut:
    """The person with the names of the organisations of its roles."""
    names = {r.orgno: org.name for r in person.roles if (org := uow.get_org(r.orgno)) is not None}
    return person_out(person, names)


@router.post("/portal/login", response_model=PersonOut, responses=responses("invalid", "forbidden"),
             summary="Check a person's username and password (the portal's token only)")
def login(body: LoginIn, request: Request, response: Response, caller: PortalDep) -> Any:
    """argon2id verification in a worker thread (sync route), bounded by the hasher's gate (429 when full);
    a hash with old parameters is rehashed."""
    hasher = context(request).hasher
    with reading(request) as uow:
        person = find_person(uow, body.username)
    try:
        matches = password_matches(hasher, person, body.password)
    except VerifierBusy:
        log.warning("portal login refused: every password check is taken (portal client %s)", caller.client_id)
        return _busy()
    if not matches or person is None:
        log.info("portal login refused (portal client %s)", caller.client_id)
        return _login_failed()
    if hasher.needs_rehash(person.password_hash):
        fresh = hasher.hash(body.password)
        with writing(request) as uow:
            person = store_rehash(uow, person, fresh, now(request))
    log.info("person %s logged in through the portal client %s", person.username, caller.client_id)
    response.headers.update(NO_STORE)
    with reading(request) as uow:
        return _out(uow, person)


@router.get("/portal/people/{username}", response_model=PersonOut, responses=responses("forbidden", "not-found"),
            summary="An active person with the current roles (the portal's token only)")
def get_person(username: str, request: Request, response: Response, caller: PortalDep) -> PersonOut:
    """Roles may have changed since login; an unknown or deactivated person is 404."""
    response.headers.update(NO_STORE)
    with reading(request) as uow:
        person = find_person(uow, username)
        if person is None or not person.active:
            raise NotFound(f"no active person {username[:100]!r}")
        return _out(uow, person)


@router.get("/organisations/{orgno}", response_model=OrganisationOut,
            responses=responses("invalid", "not-found"),
            summary="A registered organisation's name (e.g. a supplier's, before delegating to it)")
def get_organisation(orgno: str, request: Request, caller: AuthenticatedDep) -> OrganisationOut:
    """400 for an orgno that fails mod-11 (docs/protocol.md §2.2), 404 for one not in the registry."""
    require_orgno(orgno, "orgno")
    with reading(request) as uow:
        org = uow.get_org(orgno)
    if org is None:
        raise NotFound(f"no organisation {orgno}")
    return OrganisationOut(orgno=org.orgno, name=org.name)
