"""Use-cases for people: portal accounts with a password hash, a mobile number and roles per organisation.

"Accounts have argon2-hashed passwords, a name, a mobile number, and roles per organisation:
integration responsible, access manager (may delegate), and API provider admin." The password itself
never leaves these functions: it is checked against the policy, handed to the PasswordHasher, and dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from .audit import Actor, record
from .changes import PERSON_KIND
from .errors import Conflict, Invalid, NotFound
from .models import Person, PersonRole, PortalRole
from .orgs import require_org
from .ports import PasswordHasher, UnitOfWork

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,99}$")
MOBILE = re.compile(r"^\+[1-9][0-9]{7,14}$")
NORWAY = "+47"
MAX_NAME = 200
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
KIND = PERSON_KIND


def normalise_username(value: str) -> str:
    """Lower-cased; 3-100 characters of a-z 0-9 . _ @ - starting with a letter or digit."""
    username = value.strip().lower()
    if not USERNAME.fullmatch(username):
        raise Invalid("username must be 3-100 characters of a-z, 0-9, '.', '_', '@' or '-', "
                      "starting with a letter or digit", field="username")
    return username


def normalise_mobile(value: str) -> str:
    """E.164: `+` and 8-15 digits; 8 digits alone are Norwegian (+47); spaces, dashes, 00 prefix allowed."""
    compact = re.sub(r"[\s().-]", "", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif re.fullmatch(r"[0-9]{8}", compact):
        compact = NORWAY + compact
    if not MOBILE.fullmatch(compact) or (compact.startswith(NORWAY) and len(compact) != len(NORWAY) + 8):
        raise Invalid("mobile must be a phone number: +47 and 8 digits, or + and 8-15 digits", field="mobile")
    return compact


def check_name(value: str) -> str:
    """A person's name: not empty, at most 200 characters, no control characters."""
    name = " ".join(value.split())
    if not name or len(name) > MAX_NAME or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise Invalid(f"name must be 1-{MAX_NAME} characters without control characters", field="name")
    return name


def check_password(password: str) -> None:
    """The password policy (NIST SP 800-63B §5.1.1.2: a minimum length, long passphrases allowed)."""
    if len(password) < MIN_PASSWORD or len(password) > MAX_PASSWORD or not password.strip():
        raise Invalid(f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters", field="password")


def parse_role(text: str) -> PersonRole:
    """`ORGNO:ROLE`, e.g. `314330897:integration_responsible` (a '-' in the role name is read as '_')."""
    orgno, _, role = text.strip().partition(":")
    names = ", ".join(r.value for r in PortalRole)
    try:
        return PersonRole(orgno, PortalRole(role.replace("-", "_")))
    except ValueError:
        raise Invalid(f"a role is ORGNO:ROLE with ROLE one of {names}; got {text[:60]!r}", field="roles") from None


def check_roles(uow: UnitOfWork, roles: Iterable[PersonRole]) -> tuple[PersonRole, ...]:
    """Each role's orgno is a registered organisation (mod-11); duplicates dropped, sorted."""
    unique = set(roles)
    for r in unique:
        require_org(uow, r.orgno, "roles")
    return tuple(sorted(unique, key=lambda r: (r.orgno, r.role.value)))


def require_person(uow: UnitOfWork, username: str) -> Person:
    """The person, or NotFound."""
    person = find_person(uow, username)
    if person is None:
        raise NotFound(f"no person {username[:100]!r}")
    return person


def find_person(uow: UnitOfWork, username: str) -> Person | None:
    """The person with this username (any case), or None; a malformed username finds no one."""
    try:
        return uow.get_person(normalise_username(username))
    except Invalid:
        return None


def _save(uow: UnitOfWork, action: str, before: Person | None, after: Person, actor: Actor,
          now: datetime) -> Person:
    """Store and audit (the snapshot leaves out the hash); visible to every organisation of the roles."""
    uow.put_person(after)
    orgs = {r.orgno for p in (before, after) if p is not None for r in p.roles}
    record(uow, actor=actor, action=action, kind=KIND, key=after.username, orgs=tuple(orgs), before=before,
           after=after, now=now)
    return after


def add_person(uow: UnitOfWork, hasher: PasswordHasher, *, username: str, name: str, mobile: str, password: str,
               roles: Iterable[PersonRole], actor: Actor, now: datetime) -> Person:
    """Create an account; Conflict if the username is taken."""
    person = Person(username=normalise_username(username), name=check_name(name), mobile=normalise_mobile(mobile),
                    password_hash="", roles=check_roles(uow, roles), created=now, updated=now)
    if uow.get_person(person.username) is not None:
        raise Conflict(f"the username {person.username} is taken", field="username")
    check_password(password)
    return _save(uow, "person.create", None, replace(person, password_hash=hasher.hash(password)), actor, now)


def set_password(uow: UnitOfWork, hasher: PasswordHasher, username: str, password: str, actor: Actor,
                 now: datetime) -> Person:
    """Replace the password hash (the policy applies)."""
    before = require_person(uow, username)
    check_password(password)
    after = replace(before, password_hash=hasher.hash(password), updated=now)
    return _save(uow, "person.password", before, after, actor, now)


def set_roles(uow: UnitOfWork, username: str, roles: Iterable[PersonRole], actor: Actor, now: datetime) -> Person:
    """Replace the person's roles; unchanged roles change nothing."""
    before = require_person(uow, username)
    wanted = check_roles(uow, roles)
    if wanted == before.roles:
        return before
    return _save(uow, "person.roles", before, replace(before, roles=wanted, updated=now), actor, now)


def grant_role(uow: UnitOfWork, username: str, role: PersonRole, actor: Actor, now: datetime) -> Person:
    """Add one role (idempotent)."""
    return set_roles(uow, username, (*require_person(uow, username).roles, role), actor, now)


def revoke_role(uow: UnitOfWork, username: str, role: PersonRole, actor: Actor, now: datetime) -> Person:
    """Remove one role (idempotent)."""
    kept = [r for r in require_person(uow, username).roles if r != role]
    return set_roles(uow, username, kept, actor, now)


def deactivate_person(uow: UnitOfWork, username: str, actor: Actor, now: datetime) -> Person:
    """The person can no longer log in; the account stays for the audit trail (idempotent)."""
    before = require_person(uow, username)
    if not before.active:
        return before
    return _save(uow, "person.deactivate", before, replace(before, active=False, updated=now), actor, now)


def password_matches(hasher: PasswordHasher, person: Person | None, password: str) -> bool:
    """Constant-ish time: an unknown or inactive person costs one verification too (OWASP ASVS V2.2)."""
    if person is None or len(password) > MAX_PASSWORD:
        hasher.verify(hasher.dummy_hash(), password[:MAX_PASSWORD])
        return False
    ok = hasher.verify(person.password_hash, password)
    return ok and person.active


def store_rehash(uow: UnitOfWork, person: Person, new_hash: str, now: datetime) -> Person:
    """Keep a hash made with the current parameters, unless the password changed meanwhile."""
    current = uow.get_person(person.username)
    if current is None or current.password_hash != person.password_hash:
        return current or person
    after = replace(current, password_hash=new_hash)
    return _save(uow, "person.password.rehash", current, after, Actor.operator("login"), now)


def authenticate(uow: UnitOfWork, hasher: PasswordHasher, username: str, password: str,
                 now: datetime) -> Person | None:
    """The active person if the password matches, else None; rehashes when the parameters changed."""
    person = find_person(uow, username)
    if not password_matches(hasher, person, password) or person is None:
        return None
    if hasher.needs_rehash(person.password_hash):
        person = store_rehash(uow, person, hasher.hash(password), now)
    return person
