"""The system register (docs/protocol.md §6.1): vendors' systems, their rights, access packages and client ids.

Each use-case runs inside the caller's unit of work and records its audit event and change-feed entry there
(SYSTEM_KIND, key system_id; the action is the changelog's change type). Refusals are Altinn's: validation errors
`AUTH.VLD-000NN` collected and returned together, problems `AUTH-000NN`; the owner check (403) comes first.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from portvakt.wire.protocol import ICD_NO_ORGNO

from .accesspackages import package
from .altinn_errors import AltinnProblem, AltinnValidation, ValidationError
from .audit import Actor, record
from .changes import SYSTEM_KIND
from .errors import Forbidden
from .models import AuditEvent, RegisteredSystem, SystemRight
from .orgno import is_valid_orgno
from .ports import UnitOfWork

__all__ = ["AUTHORIZE", "REQUEST_READ", "REQUEST_WRITE", "RESOURCE_ATTRIBUTE", "SYSTEMREGISTER_ADMIN",
           "SYSTEMREGISTER_WRITE", "SYSTEMUSER_LOOKUP", "SystemSpec", "Writer", "delete_system",
           "is_allowed_redirect_url", "owned_system", "portal_system", "register_system", "replace_access_packages",
           "replace_rights", "system_changelog", "system_not_found", "update_system", "vendor_orgno"]

#: A vendor registers and changes its own systems (docs/protocol.md §6.1).
SYSTEMREGISTER_WRITE = "altinn:authentication/systemregister.write"
#: Change any vendor's systems (docs/protocol.md §6.1).
SYSTEMREGISTER_ADMIN = "altinn:authentication/systemregister.admin"
#: A vendor creates and deletes system-user requests (docs/protocol.md §6.2).
REQUEST_WRITE = "altinn:authentication/systemuser.request.write"
#: A vendor reads its system-user requests (docs/protocol.md §6.2).
REQUEST_READ = "altinn:authentication/systemuser.request.read"
#: The token service looks system users up (docs/protocol.md §6.5).
SYSTEMUSER_LOOKUP = "altinn:maskinporten/systemuser.read"
#: An API provider asks the decision point (docs/protocol.md §6.6).
AUTHORIZE = "altinn:authorization/authorize"

RESOURCE_ATTRIBUTE = "urn:altinn:resource"
#: portvakt has no resource registry: a resource id is any id of this shape (docs/protocol.md §6.1).
RESOURCE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
ACTION = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
#: `<vendor orgno>_<name>`: usable as one path segment.
SYSTEM_ID = re.compile(r"^[0-9]{9}_[A-Za-z0-9._-]{1,90}$")
LANGUAGES = ("nb", "nn", "en")
MAX_NAME = 200
MAX_DESCRIPTION = 4000
MAX_RIGHTS = 100
MAX_ATTRIBUTES = 10
MAX_PACKAGES = 50
MAX_CLIENT_IDS = 20
MAX_CLIENT_ID = 100
MAX_REDIRECT_URLS = 20
MAX_URL = 2000
MAX_CHANGELOG = 1000
#: http:// is allowed for these hosts only (local development), docs/protocol.md §6.1.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

_P = "/registersystemrequest/"
PATH_VENDOR, PATH_ID, PATH_NAME, PATH_DESCRIPTION = _P + "vendor/id", _P + "systemid", _P + "name", _P + "description"
PATH_REDIRECTS, PATH_CLIENTS = _P + "allowedredirecturls", _P + "clientid"
PATH_PACKAGES, PATH_RIGHTS, PATH_ACTION = _P + "accesspackages", _P + "rights/resource", _P + "rights/action"


@dataclass(frozen=True, slots=True)
class SystemSpec:
    """A system as a vendor sends it (POST/PUT body, docs/protocol.md §6.1); `vendor_id` is `0192:<orgno>`."""

    system_id: str
    vendor_id: str
    name: Mapping[str, str]
    description: Mapping[str, str]
    rights: tuple[SystemRight, ...] = ()
    access_packages: tuple[str, ...] = ()
    client_ids: tuple[str, ...] = ()
    allowed_redirect_urls: tuple[str, ...] = ()
    is_visible: bool = True


@dataclass(frozen=True, slots=True)
class Writer:
    """Who writes to the register: the token's consumer, and whether the token carries the admin scope."""

    orgno: str
    admin: bool = False

    def may_change(self, vendor_orgno: str) -> bool:
        """docs/protocol.md §6.1: a vendor changes its own systems; the admin scope any system."""
        return self.admin or self.orgno == vendor_orgno


def system_not_found(system_id: str) -> AltinnProblem:
    """AUTH-00011 (404): no such system, or another vendor's (docs/protocol.md §6.1)."""
    return AltinnProblem("AUTH-00011", 404, "The Id does not refer to a Registered System.",
                         f"no system {system_id[:100]!r}")


def vendor_orgno(vendor_id: str) -> str:
    """docs/protocol.md §6.1: `vendor.ID` is `0192:<9-digit orgno>`; anything else is AUTH.VLD-00000 on its own."""
    icd, sep, orgno = vendor_id.strip().partition(":")
    if not sep or icd != ICD_NO_ORGNO or not is_valid_orgno(orgno):
        raise AltinnValidation([ValidationError(
            "AUTH.VLD-00000", "The vendor must be an ISO 6523 identifier 0192:<organisation number>.",
            [PATH_VENDOR])])
    return orgno


def owned_system(uow: UnitOfWork, system_id: str, writer: Writer) -> RegisteredSystem:
    """The system, deleted or not, that `writer` may change: 404 AUTH-00011 when there is none, 403 when it is
    another vendor's (docs/protocol.md §6.1, the owner check)."""
    system = uow.get_system(system_id)
    if system is None:
        raise system_not_found(system_id)
    if not writer.may_change(system.vendor_orgno):
        raise Forbidden(f"the system {system_id} belongs to another vendor")
    return system


def portal_system(uow: UnitOfWork, system_id: str) -> RegisteredSystem:
    """A system not deleted, as the portal shows it; 404 AUTH-00011 otherwise."""
    system = uow.get_system(system_id)
    if system is None or system.deleted:
        raise system_not_found(system_id)
    return system


def register_system(uow: UnitOfWork, spec: SystemSpec, writer: Writer, actor: Actor,
                    now: datetime) -> RegisteredSystem:
    """docs/protocol.md §6.1 (POST /vendor): the vendor check alone first, the owner check, then every other
    validation error at once; the new system has a new internal uuid."""
    vendor = vendor_orgno(spec.vendor_id)
    if not writer.may_change(vendor):
        raise Forbidden("a vendor registers only its own systems (vendor.ID must be the token's organisation)")
    errors: list[ValidationError] = []
    if uow.get_org(vendor) is None:
        errors.append(ValidationError("AUTH.VLD-00000", "The vendor is not a registered organisation.",
                                      [PATH_VENDOR]))
    errors += _id_errors(spec.system_id, vendor)
    if not errors and uow.get_system(spec.system_id) is not None:
        errors.append(ValidationError("AUTH.VLD-00002", f"The system id already exists: {spec.system_id}",
                                      [PATH_ID]))
    errors += _spec_errors(uow, spec, vendor, None)
    _raise(errors)
    system = RegisteredSystem(
        system_id=spec.system_id, internal_id=str(uuid.uuid4()), vendor_orgno=vendor, name=_texts(spec.name),
        description=_texts(spec.description), created=now, last_updated=now, rights=spec.rights,
        access_packages=_unique(spec.access_packages), client_ids=spec.client_ids,
        allowed_redirect_urls=_unique(spec.allowed_redirect_urls), is_visible=spec.is_visible)
    return _write(uow, None, system, "create", writer, actor, now)


def update_system(uow: UnitOfWork, system_id: str, spec: SystemSpec, writer: Writer, actor: Actor,
                  now: datetime) -> RegisteredSystem:
    """docs/protocol.md §6.1 (PUT /vendor/{systemId}): replaces everything but the id, vendor, internal id and
    created; a body naming another vendor is 404, a deleted system 400."""
    current = owned_system(uow, system_id, writer)
    if vendor_orgno(spec.vendor_id) != current.vendor_orgno:
        raise system_not_found(system_id)
    _not_deleted(current)
    errors: list[ValidationError] = []
    if spec.system_id != system_id:
        errors.append(ValidationError("AUTH.VLD-00012", "The system id in the body does not match the one in the URL.",
                                      [PATH_ID]))
    errors += _spec_errors(uow, spec, current.vendor_orgno, system_id)
    _raise(errors)
    after = replace(current, name=_texts(spec.name), description=_texts(spec.description), rights=spec.rights,
                    access_packages=_unique(spec.access_packages), client_ids=spec.client_ids,
                    allowed_redirect_urls=_unique(spec.allowed_redirect_urls), is_visible=spec.is_visible,
                    last_updated=now)
    return _write(uow, current, after, "update", writer, actor, now)


def replace_rights(uow: UnitOfWork, system_id: str, rights: Sequence[SystemRight], writer: Writer, actor: Actor,
                   now: datetime) -> RegisteredSystem:
    """docs/protocol.md §6.1 (PUT /vendor/{systemId}/rights): the list replaces the system's rights."""
    current = owned_system(uow, system_id, writer)
    _not_deleted(current)
    _raise(_rights_errors(rights))
    after = replace(current, rights=tuple(rights), last_updated=now)
    return _write(uow, current, after, "rightsupdate", writer, actor, now)


def replace_access_packages(uow: UnitOfWork, system_id: str, packages: Sequence[str], writer: Writer, actor: Actor,
                            now: datetime) -> RegisteredSystem:
    """docs/protocol.md §6.1 (PUT /vendor/{systemId}/accesspackages): the list replaces the system's packages."""
    current = owned_system(uow, system_id, writer)
    _not_deleted(current)
    _raise(_package_errors(packages, current.is_visible))
    after = replace(current, access_packages=_unique(packages), last_updated=now)
    return _write(uow, current, after, "accesspackageupdate", writer, actor, now)


def delete_system(uow: UnitOfWork, system_id: str, writer: Writer, actor: Actor, now: datetime) -> RegisteredSystem:
    """docs/protocol.md §6.1 (DELETE /vendor/{systemId}): a soft delete that frees the client ids; its system users
    stop working (the lookup and the decision point skip a deleted system). Deleting it again changes nothing."""
    current = owned_system(uow, system_id, writer)
    if current.deleted:
        return current
    return _write(uow, current, replace(current, deleted=True, last_updated=now), "delete", writer, actor, now)


def system_changelog(uow: UnitOfWork, system_id: str, writer: Writer) -> list[AuditEvent]:
    """docs/protocol.md §6.1 (GET /vendor/{systemId}/changelog): the system's audit events, oldest first."""
    system = owned_system(uow, system_id, writer)
    events = uow.list_audit(org=system.vendor_orgno, entity_kind=SYSTEM_KIND, entity_key=system_id,
                            limit=MAX_CHANGELOG)
    return sorted(events, key=lambda e: (e.at, e.seq))


def _write(uow: UnitOfWork, before: RegisteredSystem | None, after: RegisteredSystem, action: str, writer: Writer,
           actor: Actor, now: datetime) -> RegisteredSystem:
    uow.put_system(after)
    record(uow, actor=actor, action=action, kind=SYSTEM_KIND, key=after.system_id,
           orgs=(after.vendor_orgno, writer.orgno), before=before, after=after, now=now)
    return after


def _not_deleted(system: RegisteredSystem) -> None:
    """docs/protocol.md §6.1: a deleted system is kept, but never changed again."""
    if system.deleted:
        raise AltinnValidation([ValidationError("AUTH.VLD-00093", "Cannot update a system marked as deleted.",
                                                [PATH_ID])])


def _raise(errors: list[ValidationError]) -> None:
    if errors:
        unique = list(dict.fromkeys(errors))
        raise AltinnValidation(unique)


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _texts(texts: Mapping[str, str]) -> dict[str, str]:
    return {lang: texts[lang].strip() for lang in LANGUAGES if texts.get(lang, "").strip()}


def _id_errors(system_id: str, vendor: str) -> list[ValidationError]:
    """docs/protocol.md §6.1: no spaces (AUTH.VLD-00013); `<vendor orgno>_<name>` (AUTH.VLD-00001)."""
    if any(c.isspace() for c in system_id):
        return [ValidationError("AUTH.VLD-00013", "The system id may not contain spaces.", [PATH_ID])]
    if not SYSTEM_ID.fullmatch(system_id) or system_id.split("_", 1)[0] != vendor:
        return [ValidationError(
            "AUTH.VLD-00001", "The system id must be <vendor orgno>_<name>: the vendor's organisation number, '_' "
            "and up to 90 of A-Z a-z 0-9 . _ -.", [PATH_ID])]
    return []


def _spec_errors(uow: UnitOfWork, spec: SystemSpec, vendor: str, own_id: str | None) -> list[ValidationError]:
    """Every rule of a whole system but its id (docs/protocol.md §6.1)."""
    return [*_text_errors(spec.name, PATH_NAME, MAX_NAME), *_text_errors(spec.description, PATH_DESCRIPTION,
                                                                         MAX_DESCRIPTION),
            *_redirect_errors(spec.allowed_redirect_urls), *_client_id_errors(uow, spec.client_ids, vendor, own_id),
            *_rights_errors(spec.rights), *_package_errors(spec.access_packages, spec.is_visible)]


def _text_errors(texts: Mapping[str, str], path: str, limit: int) -> list[ValidationError]:
    """docs/protocol.md §6.1: texts in nb, nn, en; nb is required (the portal's language)."""
    bad = [lang for lang in texts if lang not in LANGUAGES]
    too_long = [lang for lang, text in texts.items() if len(text.strip()) > limit or "\x00" in text]
    if bad or too_long or not texts.get("nb", "").strip():
        return [ValidationError("AUTH.VLD-00091", f"Give a text in nb (and optionally nn, en), each at most {limit} "
                                                  "characters.", [path])]
    return []


def is_allowed_redirect_url(url: str) -> bool:
    """docs/protocol.md §6.1: an absolute https URL with a host and no user info or fragment; http only for
    localhost, 127.0.0.1 and [::1] (local development)."""
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    if not host or "@" in parts.netloc or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and host in LOCAL_HOSTS


def _redirect_errors(urls: Sequence[str]) -> list[ValidationError]:
    """AUTH.VLD-00005: a redirect URL that is not absolute https (docs/protocol.md §6.1)."""
    if len(urls) > MAX_REDIRECT_URLS:
        return [_too_many(PATH_REDIRECTS, MAX_REDIRECT_URLS)]
    if all(is_allowed_redirect_url(u) for u in urls):
        return []
    return [ValidationError("AUTH.VLD-00005", "Every redirect URL must be an absolute https URL (http only for "
                                              "localhost).", [PATH_REDIRECTS])]


def _client_id_errors(uow: UnitOfWork, client_ids: Sequence[str], vendor: str,
                      own_id: str | None) -> list[ValidationError]:
    """docs/protocol.md §6.1: each client id is one of the vendor's own clients on this server (AUTH.VLD-00090),
    listed once (AUTH.VLD-00011, compared without case), and on no other system not deleted (AUTH.VLD-00004)."""
    if len(client_ids) > MAX_CLIENT_IDS:
        return [_too_many(PATH_CLIENTS, MAX_CLIENT_IDS)]
    errors: list[ValidationError] = []
    if len({c.lower() for c in client_ids}) < len(client_ids):
        errors.append(ValidationError("AUTH.VLD-00011", "The body lists a client id twice.", [PATH_CLIENTS]))
    for client_id in dict.fromkeys(client_ids):
        client = uow.get_client(client_id) if 0 < len(client_id) <= MAX_CLIENT_ID else None
        if client is None or client.client_orgno != vendor:
            errors.append(ValidationError("AUTH.VLD-00090", "Each client id must be a client of the vendor on this "
                                                            "server.", [PATH_CLIENTS]))
        elif any(s.system_id != own_id for s in uow.systems_with_client_id(client_id)):
            errors.append(ValidationError("AUTH.VLD-00004", "A client id is already used by another system.",
                                          [PATH_CLIENTS]))
    return errors


def _rights_errors(rights: Sequence[SystemRight]) -> list[ValidationError]:
    """docs/protocol.md §6.1: each resource attribute is `urn:altinn:resource` (AUTH.VLD-00009) with a resource id
    of the accepted shape (AUTH.VLD-00003), an action of the same shape when given; no right twice (AUTH.VLD-00006,
    key: the action and the set of attribute pairs)."""
    if len(rights) > MAX_RIGHTS:
        return [_too_many(PATH_RIGHTS, MAX_RIGHTS)]
    errors: list[ValidationError] = []
    for right in rights:
        if not right.resource or len(right.resource) > MAX_ATTRIBUTES \
                or any(key != RESOURCE_ATTRIBUTE for key, _ in right.resource):
            errors.append(ValidationError("AUTH.VLD-00009", "Each resource attribute id must be urn:altinn:resource.",
                                          [PATH_RIGHTS]))
        elif not all(RESOURCE_ID.fullmatch(value) for _, value in right.resource):
            errors.append(ValidationError("AUTH.VLD-00003", "A resource id must be 1 to 200 of A-Z a-z 0-9 _ . : -.",
                                          [PATH_RIGHTS]))
        if right.action is not None and not ACTION.fullmatch(right.action):
            errors.append(ValidationError("AUTH.VLD-00003", "An action must be 1 to 100 of A-Z a-z 0-9 _ . : -.",
                                          [PATH_ACTION]))
    if len({r.key for r in rights}) < len(rights):
        errors.append(ValidationError("AUTH.VLD-00006", "The body lists a right twice.", [PATH_RIGHTS]))
    return errors


def _package_errors(packages: Sequence[str], is_visible: bool) -> list[ValidationError]:
    """docs/protocol.md §6.1: each package is in the catalogue (AUTH.VLD-00008), listed once (AUTH.VLD-00007); a
    visible system holds no package meant for clients (AUTH.VLD-00018: agent system users come from requests)."""
    if len(packages) > MAX_PACKAGES:
        return [_too_many(PATH_PACKAGES, MAX_PACKAGES)]
    errors: list[ValidationError] = []
    known = [package(urn) for urn in packages]
    if any(p is None for p in known):
        errors.append(ValidationError("AUTH.VLD-00008", "An access package is not known.", [PATH_PACKAGES]))
    if len(set(packages)) < len(packages):
        errors.append(ValidationError("AUTH.VLD-00007", "The body lists an access package twice.", [PATH_PACKAGES]))
    if is_visible and any(p is not None and p.for_clients for p in known):
        errors.append(ValidationError("AUTH.VLD-00018", "A visible system may not hold access packages meant for "
                                                        "clients; set isVisible to false.", [PATH_PACKAGES]))
    return errors


def _too_many(path: str, limit: int) -> ValidationError:
    return ValidationError("AUTH.VLD-00092", f"At most {limit} entries.", [path])
