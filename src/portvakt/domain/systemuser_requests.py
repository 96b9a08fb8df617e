"""System-user requests (docs/protocol.md §6.2): a vendor asks a customer to approve a system user for one of its
systems, with some of the system's rights (standard) or access packages (standard or agent).

The key of a request is (system, party, external ref, type); an empty external ref is the party's orgno. Each write
runs inside the caller's unit of work with its audit event and change-feed entry (SYSTEM_USER_REQUEST_KIND, key the
request id). Approving and rejecting belong to the system users' module; these are the vendor's side.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from portvakt.wire.protocol import MAX_EXTERNAL_REF

from .accesspackages import package
from .altinn_errors import AltinnProblem, AltinnValidation, ValidationError
from .audit import Actor, record
from .changes import SYSTEM_USER_REQUEST_KIND
from .models import RegisteredSystem, RequestStatus, SystemRight, SystemUserRequest, SystemUserType
from .orgno import is_valid_orgno
from .ports import UnitOfWork
from .systemregister import MAX_PACKAGES, MAX_RIGHTS, is_allowed_redirect_url, system_not_found

__all__ = ["MAX_EXTERNAL_REF", "MAX_TITLE", "PAGE_SIZE", "TIMEOUT", "Created", "RequestSpec", "create_request",
           "delete_request", "external_ref_of", "is_timed_out", "redirect_matches", "request_by_external_ref",
           "request_not_found", "requests_by_system", "vendor_request"]

#: A request created longer ago than this is `timedOut` (docs/protocol.md §6.3).
TIMEOUT = timedelta(days=180)
PAGE_SIZE = 50
MAX_TITLE = 200
CREATE_ACTION = "systemuserrequest.create"
DELETE_ACTION = "systemuserrequest.delete"


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """A request as the vendor sends it (docs/protocol.md §6.2); None is a member left out of the body."""

    system_id: str
    party_orgno: str
    external_ref: str | None = None
    integration_title: str | None = None
    rights: tuple[SystemRight, ...] | None = None
    access_packages: tuple[str, ...] | None = None
    redirect_url: str | None = None


@dataclass(frozen=True, slots=True)
class Created:
    """The request a POST answers with; `new` is False when an existing one was returned (idempotent re-POST)."""

    request: SystemUserRequest
    new: bool


def request_not_found(request_id: str) -> AltinnProblem:
    """AUTH-00010 (404): no such request, or one the caller may not see (docs/protocol.md §6.2)."""
    return AltinnProblem("AUTH-00010", 404, "The id does not refer to a request.",
                         f"no request {request_id[:100]!r}")


def _refuse(code: str, title: str, status: int = 400) -> AltinnProblem:
    return AltinnProblem(code, status, title)


def external_ref_of(external_ref: str | None, party_orgno: str) -> str:
    """docs/protocol.md §6.2: a missing or empty external ref is the party's orgno."""
    return external_ref.strip() if external_ref and external_ref.strip() else party_orgno


def is_timed_out(request: SystemUserRequest, now: datetime) -> bool:
    """docs/protocol.md §6.3: `timedOut` once the request is more than 180 days old."""
    return now - request.created > TIMEOUT


def create_request(uow: UnitOfWork, spec: RequestSpec, user_type: SystemUserType, vendor: str, actor: Actor,
                   now: datetime) -> Created:
    """docs/protocol.md §6.2 (POST /vendor, /vendor/agent), its checks in order: an active system user with the key
    (AUTH-00004), the vendor's existing request (returned as is), the system (AUTH-00011), the party (AUTH-00000),
    the redirect URL (AUTH-00026, AUTH-00021), then the rights and packages."""
    _check_sizes(spec)
    external_ref = external_ref_of(spec.external_ref, spec.party_orgno)
    if _has_system_user(uow, spec.system_id, spec.party_orgno, external_ref, vendor):
        raise _refuse("AUTH-00004", "A system user with this system, party and external reference already exists.")
    existing = uow.find_request(spec.system_id, spec.party_orgno, external_ref, user_type)
    if existing is not None and existing.vendor_orgno == vendor and existing.status != RequestStatus.TIMEDOUT:
        return Created(existing, new=False)
    system = uow.get_system(spec.system_id)
    if system is None or system.deleted or system.vendor_orgno != vendor:
        raise system_not_found(spec.system_id)
    if not is_valid_orgno(spec.party_orgno) or uow.get_org(spec.party_orgno) is None:
        raise _refuse("AUTH-00000", "The party is not a registered organisation.")
    if spec.redirect_url:
        _check_redirect(spec.redirect_url, system)
    if user_type == SystemUserType.AGENT:
        rights: tuple[SystemRight, ...] = ()
        packages = _agent_packages(spec, system)
    else:
        rights, packages = _standard_rights(spec, system)
    title = (spec.integration_title or "").strip() or system.name.get("nb") or system.system_id
    request = SystemUserRequest(
        request_id=str(uuid.uuid4()), user_type=user_type, system_id=system.system_id, vendor_orgno=vendor,
        party_orgno=spec.party_orgno, external_ref=external_ref, integration_title=title[:MAX_TITLE],
        status=RequestStatus.NEW, created=now, last_updated=now, rights=rights, access_packages=packages,
        redirect_url=spec.redirect_url or None)
    uow.put_request(request)
    record(uow, actor=actor, action=CREATE_ACTION, kind=SYSTEM_USER_REQUEST_KIND, key=request.request_id,
           orgs=(vendor, request.party_orgno), before=None, after=request, now=now)
    return Created(request, new=True)


def _check_sizes(spec: RequestSpec) -> None:
    """Bounded input (docs/security.md, Resource exhaustion): the body's strings and lists."""
    errors = []
    if len(spec.external_ref or "") > MAX_EXTERNAL_REF:
        errors.append(ValidationError("AUTH.VLD-00092", f"externalRef is at most {MAX_EXTERNAL_REF} characters.",
                                      ["/externalRef"]))
    if len(spec.integration_title or "") > MAX_TITLE:
        errors.append(ValidationError("AUTH.VLD-00092", f"integrationTitle is at most {MAX_TITLE} characters.",
                                      ["/integrationTitle"]))
    if len(spec.rights or ()) > MAX_RIGHTS or len(spec.access_packages or ()) > MAX_PACKAGES:
        errors.append(ValidationError("AUTH.VLD-00092", "Too many rights or access packages.", ["/rights"]))
    if errors:
        raise AltinnValidation(errors)


def _has_system_user(uow: UnitOfWork, system_id: str, party: str, external_ref: str, vendor: str) -> bool:
    """docs/protocol.md §6.2: an active system user of this vendor's system with the key. Only the vendor's own
    count, so the answer tells a vendor nothing about another vendor's customers."""
    return any(u.external_ref == external_ref and u.vendor_orgno == vendor and not u.deleted
               for u in uow.list_system_users(system_id=system_id, owner_orgno=party))


def _origin_and_path(url: str) -> tuple[str, str, int | None, str] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        return None
    return parts.scheme, parts.hostname or "", port, parts.path or "/"


def redirect_matches(url: str, allowed: Sequence[str]) -> bool:
    """docs/protocol.md §6.2: the URL is an allowed one's scheme, host, port and path; the query is ignored."""
    mine = _origin_and_path(url) if is_allowed_redirect_url(url.split("#", 1)[0]) else None
    return mine is not None and any(_origin_and_path(a) == mine for a in allowed)


def _check_redirect(url: str, system: RegisteredSystem) -> None:
    """AUTH-00026 when the system has no redirect URLs, AUTH-00021 when the URL is none of them."""
    if not system.allowed_redirect_urls:
        raise _refuse("AUTH-00026", "The system has no allowed redirect URLs.")
    if not redirect_matches(url, system.allowed_redirect_urls):
        raise _refuse("AUTH-00021", "The redirect URL is not one of the system's allowed redirect URLs.")


def _standard_rights(spec: RequestSpec, system: RegisteredSystem) -> tuple[tuple[SystemRight, ...], tuple[str, ...]]:
    """docs/protocol.md §6.2: rights or packages (AUTH-00001 both missing, AUTH-00059 both empty); each right one of
    the system's (AUTH-00001); each package the system's (AUTH-00063) and assignable (AUTH-00064)."""
    if spec.rights is None and spec.access_packages is None:
        raise _refuse("AUTH-00001", "Ask for rights or access packages.")
    wanted = {r.key: r for r in spec.rights or ()}
    packages = tuple(dict.fromkeys(spec.access_packages or ()))
    if not wanted and not packages:
        raise _refuse("AUTH-00059", "Ask for at least one right or access package.")
    offered = {r.key for r in system.rights}
    if len(wanted) > len(offered) or not set(wanted) <= offered:
        raise _refuse("AUTH-00001", "One or more rights are not rights of the system.")
    _check_packages(packages, system, agent=False)
    return tuple(wanted.values()), packages


def _agent_packages(spec: RequestSpec, system: RegisteredSystem) -> tuple[str, ...]:
    """docs/protocol.md §6.4: an agent request names packages (AUTH-00058), each the system's (AUTH-00063) and meant
    for clients (AUTH-00065)."""
    packages = tuple(dict.fromkeys(spec.access_packages or ()))
    if not packages:
        raise _refuse("AUTH-00058", "An agent request needs access packages.")
    _check_packages(packages, system, agent=True)
    return packages


def _check_packages(packages: tuple[str, ...], system: RegisteredSystem, *, agent: bool) -> None:
    for urn in packages:
        if urn not in system.access_packages:
            raise _refuse("AUTH-00063", "An access package is not one of the system's.")
    for urn in packages:
        known = package(urn)
        if agent and (known is None or not known.for_clients):
            raise _refuse("AUTH-00065", "An access package cannot be given to an agent system user.")
        if not agent and (known is None or not known.assignable):
            raise _refuse("AUTH-00064", "An access package cannot be given to a standard system user.")


def vendor_request(uow: UnitOfWork, request_id: str, vendor: str, user_type: SystemUserType) -> SystemUserRequest:
    """docs/protocol.md §6.2 (GET /vendor/{id}, /vendor/agent/{id}): the vendor's own request not deleted, else
    AUTH-00010 (another vendor's too: its existence is not revealed); an agent read of a standard request is
    AUTH-00025, a standard read of an agent request AUTH-00010."""
    request = uow.get_request(request_id)
    if request is None or request.deleted or request.vendor_orgno != vendor:
        raise request_not_found(request_id)
    if request.user_type != user_type:
        if user_type == SystemUserType.AGENT:
            raise _refuse("AUTH-00025", "The request is not an agent request.")
        raise request_not_found(request_id)
    return request


def _vendor_system(uow: UnitOfWork, system_id: str, vendor: str) -> RegisteredSystem:
    system = uow.get_system(system_id)
    if system is None or system.vendor_orgno != vendor:
        raise system_not_found(system_id)
    return system


def request_by_external_ref(uow: UnitOfWork, system_id: str, party: str, external_ref: str, vendor: str,
                            user_type: SystemUserType) -> SystemUserRequest:
    """docs/protocol.md §6.2 (GET /vendor/byexternalref/...): AUTH-00011 for another vendor's system, AUTH-00010
    when there is no such request."""
    _vendor_system(uow, system_id, vendor)
    found = uow.find_request(system_id, party, external_ref_of(external_ref, party), user_type)
    if found is None or found.vendor_orgno != vendor:
        raise request_not_found(external_ref)
    return found


def requests_by_system(uow: UnitOfWork, system_id: str, vendor: str, user_type: SystemUserType,
                       after_id: str | None = None,
                       limit: int = PAGE_SIZE) -> tuple[list[SystemUserRequest], str | None]:
    """docs/protocol.md §6.2 (GET /vendor/bysystem/{systemId}): one page of the system's requests of this type, by
    creation, after the request `after_id`; and the id to continue after, None on the last page."""
    _vendor_system(uow, system_id, vendor)
    after: tuple[datetime, str] | None = None
    if after_id is not None:
        last = uow.get_request(after_id)
        if last is None or last.system_id != system_id or last.user_type != user_type:
            raise AltinnValidation([ValidationError("AUTH.VLD-00094", "The continuation token is not valid here.",
                                                    ["/token"])])
        after = (last.created, last.request_id)
    found = list(uow.list_requests(system_id, user_type, after=after, limit=limit + 1))
    page = found[:limit]
    return page, page[-1].request_id if len(found) > limit else None


def delete_request(uow: UnitOfWork, request_id: str, vendor: str, actor: Actor, now: datetime) -> SystemUserRequest:
    """docs/protocol.md §6.2 (DELETE /vendor/{id}): a soft delete of the vendor's own request, standard or agent;
    another vendor's is AUTH-00010. A system user approved from it stays."""
    request = uow.get_request(request_id)
    if request is None or request.deleted or request.vendor_orgno != vendor:
        raise request_not_found(request_id)
    after = replace(request, deleted=True, last_updated=now)
    uow.put_request(after)
    record(uow, actor=actor, action=DELETE_ACTION, kind=SYSTEM_USER_REQUEST_KIND, key=request_id,
           orgs=(vendor, request.party_orgno), before=request, after=after, now=now)
    return after
