"""The seeding API of a test server: organisations, scopes, access, clients with keys, delegations.

Every call runs the same domain use-cases as `/api/v1` and the Altinn side (as the operator), in one unit of work
of the server's own store, so the rules hold (a scope's prefix belongs to its owner, a client gets only scopes its
organisation may use, a scheme names only delegable scopes, ...) and the token service sees the change at once.
A rule broken comes back as SeedError with the domain's own readable message.

Organisations can be given as an `Org` or an orgno; an orgno not registered yet is registered on first use. Scopes
can be given as an `ApiScope` or a name. Altinn 3's system users (docs/protocol.md §6) are `system(client, rights)`,
the vendor's registered system, and `system_user(system, customer)`, a customer's approved system user for it.
"""

from __future__ import annotations

import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portvakt.jose import KeyFormatError, PrivateKeyHandle, parse_public_key

from .keys import KeyDealer

if TYPE_CHECKING:
    from portvakt.client import GrantSigner, MaskinportenAuth
    from portvakt.domain.ports import Clock, Store, UnitOfWork

_ACTOR_NAME = "testing"


class SeedError(ValueError):
    """A seeding call broke a rule of the registry; the message says which (never key material)."""


@dataclass(frozen=True)
class Org:
    """A registered organisation; `str(org)` is its orgno."""

    orgno: str
    name: str

    def __str__(self) -> str:
        return self.orgno


@dataclass(frozen=True)
class ApiScope:
    """A registered scope (an API); `str(scope)` is its name, `prefix:subscope` (docs/protocol.md §3.4)."""

    name: str
    owner: str
    delegable: bool = False
    at_max_age: int = 0

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Scheme:
    """A delegation scheme of an API provider (docs/protocol.md §4.1 step 2)."""

    scheme_id: str
    owner: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Delegation:
    """A consumer's delegation of a scheme to a supplier (docs/protocol.md §4.1 step 5)."""

    delegation_id: str
    consumer: str
    supplier: str
    scheme_id: str


@dataclass(frozen=True)
class System:
    """A vendor's system in the system register (docs/protocol.md §6.1): the clients that may act as it, and the
    resource ids and access packages it may be given."""

    system_id: str
    vendor: str
    client_ids: tuple[str, ...]
    rights: tuple[str, ...]
    access_packages: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.system_id


@dataclass(frozen=True)
class SystemUser:
    """A customer's approved system user (docs/protocol.md §6.2): its id goes in the token's `systemuser_id`."""

    system_user_id: str
    system_id: str
    owner: str
    external_ref: str
    agent: bool = False

    def __str__(self) -> str:
        return self.system_user_id


@dataclass(frozen=True)
class Client:
    """A registered client with its key: `client_id`, `key` (the private half; None when only a public key was
    given) and `kid`, and what a grant for this server needs (docs/protocol.md §1.2-§1.3)."""

    client_id: str
    org: str
    scopes: tuple[str, ...]
    integration_type: str
    kid: str
    issuer: str
    token_endpoint: str
    key: PrivateKeyHandle | None = field(default=None, repr=False)

    def _private(self) -> PrivateKeyHandle:
        if self.key is None:
            raise SeedError(f"client {self.client_id} was registered with a public key only; sign its grants "
                            "with the private key you hold")
        return self.key

    @property
    def private_key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM, for code that reads a key file."""
        return self._private().to_pem()

    def write_private_key(self, path: str | Path) -> Path:
        """Write the private key (PEM, mode 0600; an existing file is replaced) to `path` and return it."""
        from portvakt.files import write_private

        return write_private(Path(path), self.private_key_pem, replace=True)

    def signer(self, *, lifetime: int = 120) -> GrantSigner:
        """A GrantSigner for this client's grants to this server (portvakt.client)."""
        from portvakt.client import GrantSigner

        return GrantSigner(client_id=self.client_id, key=self._private(), kid=self.kid, audience=self.issuer,
                           lifetime=lifetime)

    def auth(self, scopes: str | Iterable[object], *, consumer_org: str | Org | None = None,
             resource: str | list[str] | None = None, systemuser_org: str | Org | None = None,
             external_ref: str | None = None) -> MaskinportenAuth:
        """An httpx.Auth that fetches this client's tokens from this server (portvakt.client.MaskinportenAuth); with
        `systemuser_org`, a system user's tokens (docs/protocol.md §6)."""
        from portvakt.client import MaskinportenAuth

        from .tokens import scope_string

        return MaskinportenAuth(self.signer(), scope_string(scopes),
                                consumer_org=None if consumer_org is None else str(consumer_org),
                                resource=resource, token_endpoint=self.token_endpoint,
                                systemuser_org=None if systemuser_org is None else str(systemuser_org),
                                external_ref=external_ref)


OrgRef = Org | str
ScopeRef = ApiScope | str


def _orgno(ref: OrgRef) -> str:
    return ref.orgno if isinstance(ref, Org) else str(ref)


def _scope_name(ref: ScopeRef) -> str:
    return ref.name if isinstance(ref, ApiScope) else str(ref)


def _scope_names(scopes: str | Iterable[ScopeRef]) -> list[str]:
    if isinstance(scopes, str | ApiScope):
        return [n for n in _scope_name(scopes).split(" ") if n]
    return [_scope_name(s) for s in scopes]


class Seeder(ABC):
    """The seeding half of `Maskinporten`: the server half gives it its store, clock, issuer and Altinn side.

    Every method takes handles or plain orgnos and scope names and returns a handle, so a new kind of actor slots in
    as one more method of the same shape: once Altinn system users exist, `system_user(system, customer)` takes a
    `Client` and an `OrgRef` and returns a `SystemUser` handle that `token(...)` accepts."""

    _seed_lock: threading.Lock
    _keys: KeyDealer
    _rng: random.Random

    def _init_seeding(self) -> None:
        self._seed_lock = threading.Lock()
        self._keys = KeyDealer()
        self._rng = random.Random()  # noqa: S311 (orgnos for tests, not secrets)

    @abstractmethod
    def _seed_store(self) -> Store:
        """The running server's store (its commits refresh the token service's caches at once)."""

    @abstractmethod
    def _seed_clock(self) -> Clock:
        """The running server's clock."""

    @abstractmethod
    def _delegation_source(self) -> str:
        """The issuer of the server's own Altinn side, the delegation source of delegable scopes."""

    @property
    @abstractmethod
    def issuer(self) -> str:
        """The server's issuer identifier."""

    @property
    @abstractmethod
    def token_endpoint(self) -> str:
        """The server's token endpoint."""

    @contextmanager
    def _unit(self) -> Iterator[tuple[UnitOfWork, datetime]]:
        """One unit of work on the server's store, domain errors as SeedError."""
        from portvakt.domain.altinn_errors import AltinnProblem, AltinnValidation
        from portvakt.domain.errors import DomainError

        try:
            with self._seed_lock, self._seed_store().begin() as uow:
                yield uow, self._seed_clock().now()
        except DomainError as exc:
            raise SeedError(exc.message) from None
        except (AltinnProblem, AltinnValidation) as exc:  # the Altinn side's refusals carry their AUTH codes
            raise SeedError(str(exc)) from None

    @staticmethod
    def _actor() -> Any:
        from portvakt.domain.audit import Actor

        return Actor.operator(_ACTOR_NAME)

    def _ensure_org(self, uow: UnitOfWork, ref: OrgRef, now: datetime) -> str:
        """The orgno of `ref`, registered first if it is not yet."""
        from portvakt.domain.orgs import add_org

        orgno = _orgno(ref)
        if uow.get_org(orgno) is None:
            name = ref.name if isinstance(ref, Org) else f"Test organisation {orgno}"
            add_org(uow, orgno, name, self._actor(), now)
        return orgno

    def _fresh_orgno(self, uow: UnitOfWork) -> str:
        """A valid (mod-11), unregistered 9-digit orgno in the 3xxxxxxxx range of test organisations."""
        from portvakt.domain.orgno import is_valid_orgno

        while True:
            body = "3" + "".join(self._rng.choice("0123456789") for _ in range(7))
            for digit in "0123456789":
                if is_valid_orgno(body + digit) and uow.get_org(body + digit) is None:
                    return body + digit

    def org(self, orgno: str | None = None, name: str | None = None) -> Org:
        """Register an organisation; without `orgno`, one with a fresh valid orgno (9 digits, mod-11)."""
        from portvakt.domain.orgs import add_org

        with self._unit() as (uow, now):
            number = orgno if orgno is not None else self._fresh_orgno(uow)
            made = add_org(uow, number, name or f"Test organisation {number}", self._actor(), now)
        return Org(made.orgno, made.name)

    def scope(self, name: str, owner: OrgRef | None = None, *, delegable: bool = False, at_max_age: int = 0,
              accessible_for_all: bool = False, integration_types: Sequence[str] = (),
              description: str | None = None) -> ApiScope:
        """Register (or update) the scope `prefix:subscope` of `owner` (default: the prefix's owner, else a new
        organisation that gets the prefix). `delegable`: its delegation source is this server's Altinn side, so
        it can be delegated (docs/protocol.md §4.1 step 1); `at_max_age`: its tokens' longest life (§2.3)."""
        from portvakt.domain.models import Scope
        from portvakt.domain.orgs import assign_prefix
        from portvakt.domain.scopes import put_scope, split_scope_name

        with self._unit() as (uow, now):
            prefix, subscope = split_scope_name(name)
            holder = uow.get_prefix_owner(prefix)
            if owner is not None:
                owner_no = self._ensure_org(uow, owner, now)
            elif holder is not None:
                owner_no = holder
            else:
                owner_no = self._ensure_org(uow, Org(self._fresh_orgno(uow), f"API provider of {prefix}"), now)
            if holder is None:
                assign_prefix(uow, prefix, owner_no, self._actor(), now)
            before = uow.get_scope(name)
            source = self._delegation_source() if delegable else None
            saved = put_scope(uow, Scope(prefix, subscope, owner_no, description or f"Test API {name}", now, now,
                                         at_max_age=at_max_age, allowed_integration_types=tuple(integration_types),
                                         accessible_for_all=accessible_for_all, delegation_source=source),
                              self._actor(), now, create=before is None)
        return ApiScope(saved.name, saved.owner_orgno, delegable, saved.at_max_age)

    def grant_access(self, scope: ScopeRef, org: OrgRef) -> None:
        """Put `org` on the scope's access list, approved (docs/protocol.md §3.4)."""
        from portvakt.domain.models import AccessState
        from portvakt.domain.scopes import set_access

        with self._unit() as (uow, now):
            orgno = self._ensure_org(uow, org, now)
            set_access(uow, _scope_name(scope), orgno, AccessState.APPROVED, self._actor(), now)

    def revoke_access(self, scope: ScopeRef, org: OrgRef) -> None:
        """Revoke `org`'s access to the scope: its entry stays as DENIED (docs/protocol.md §3.4)."""
        from portvakt.domain.scopes import revoke_access

        with self._unit() as (uow, now):
            revoke_access(uow, _scope_name(scope), _orgno(org), self._actor(), now)

    def client(self, org: OrgRef, scopes: str | Iterable[ScopeRef], integration_type: str = "maskinporten",
               key: PrivateKeyHandle | Mapping[str, Any] | bytes | str | Path | None = None, *,
               name: str | None = None, access_token_lifetime: int | None = None) -> Client:
        """Register a client of `org` with `scopes` and one key, and return its client_id, private key and kid.

        `key`: None makes one (RSA-2048); else a PrivateKeyHandle, a private or public key as PEM (bytes or text)
        or JWK (a mapping), or the path of such a file. With a public key only, `Client.key` is None.
        """
        from portvakt.domain.clients import new_client, replace_client_keys
        from portvakt.domain.models import IntegrationType

        try:
            kind = IntegrationType(integration_type)
        except ValueError:
            allowed = ", ".join(t.value for t in IntegrationType)
            raise SeedError(f"integration_type must be one of {allowed}") from None
        private, kid, public_jwk = self._key_material(key)
        names = _scope_names(scopes)
        with self._unit() as (uow, now):
            orgno = self._ensure_org(uow, org, now)
            made = new_client(uow, client_name=name or f"Test system of {orgno}", client_orgno=orgno,
                              integration_type=kind, scopes=names, actor=self._actor(), now=now,
                              access_token_lifetime=access_token_lifetime)
            replace_client_keys(uow, made.client_id, [(kid, public_jwk)], self._actor(), now)
        return Client(made.client_id, orgno, made.scopes, kind.value, kid, self.issuer, self.token_endpoint,
                      private)

    def _key_material(self, key: PrivateKeyHandle | Mapping[str, Any] | bytes | str | Path | None,
                      ) -> tuple[PrivateKeyHandle | None, str, dict[str, Any]]:
        """(private handle or None, kid, public JWK) of what `client(key=...)` was given."""
        if key is None:
            key = self._keys.deal()
        if isinstance(key, PrivateKeyHandle):
            return key, key.kid, key.public_jwk
        if isinstance(key, Mapping):
            data: bytes | dict[str, Any] = dict(key)
        elif isinstance(key, Path) or (isinstance(key, str) and not key.lstrip().startswith(("-----", "{"))):
            data = Path(key).read_bytes()
        else:
            data = key.encode() if isinstance(key, str) else key
        try:
            if isinstance(data, bytes) and b"PRIVATE KEY" in data:
                handle = PrivateKeyHandle.from_pem(data)
                return handle, handle.kid, handle.public_jwk
            public = parse_public_key(data)
        except (KeyFormatError, ValueError) as exc:
            raise SeedError(f"the client key could not be read: {exc}") from None
        jwk = dict(public.jwk)
        jwk.setdefault("use", "sig")
        jwk.setdefault("kid", public.kid)
        return None, public.kid, jwk

    def scheme(self, scopes: str | Iterable[ScopeRef], owner: OrgRef | None = None,
               title: str | None = None) -> Scheme:
        """A delegation scheme naming `scopes` (all delegable, all of one owner; default: the first scope's owner),
        docs/protocol.md §4.1 step 2."""
        from portvakt.domain.delegations import create_scheme

        names = _scope_names(scopes)
        with self._unit() as (uow, now):
            owner_no = _orgno(owner) if owner is not None else self._owner_of(uow, names[0] if names else "")
            made = create_scheme(uow, owner_no, names, {"nb": title or f"Delegering av {' '.join(names)}"}, {},
                                 self._actor(), now)
        return Scheme(made.scheme_id, made.owner_orgno, made.scopes)

    @staticmethod
    def _owner_of(uow: UnitOfWork, scope: str) -> str:
        found = uow.get_scope(scope)
        if found is None:
            raise SeedError(f"no scope {scope!r}; make it first with scope({scope!r}, delegable=True)")
        return found.owner_orgno

    def delegate(self, scope_or_scheme: ScopeRef | Scheme, consumer: OrgRef, supplier: OrgRef) -> Delegation:
        """`consumer` delegates the scope (through a scheme of the scope's owner naming it, made when there is none)
        or the scheme to `supplier` (docs/protocol.md §4.1 step 5). The consumer still needs access to the scope
        (grant_access) for a token on its behalf (§4.2)."""
        from portvakt.domain.delegations import create_scheme, delegate

        with self._unit() as (uow, now):
            if isinstance(scope_or_scheme, Scheme):
                scheme_id = scope_or_scheme.scheme_id
            else:
                name = _scope_name(scope_or_scheme)
                owner = self._owner_of(uow, name)
                existing = [s for s in uow.list_schemes(owner_orgno=owner, scope=name) if s.scopes == (name,)]
                scheme_id = existing[0].scheme_id if existing else create_scheme(
                    uow, owner, [name], {"nb": f"Delegering av {name}"}, {}, self._actor(), now).scheme_id
            made, _ = delegate(uow, self._ensure_org(uow, consumer, now), self._ensure_org(uow, supplier, now),
                               scheme_id, self._actor(), now)
        return Delegation(made.delegation_id, made.consumer_orgno, made.supplier_orgno, made.scheme_id)

    def revoke(self, what: Delegation | ScopeRef | Scheme, consumer: OrgRef | None = None,
               supplier: OrgRef | None = None) -> None:
        """Revoke a delegation: the one given, or every active one from `consumer` to `supplier` of the scheme or
        of schemes naming the scope (docs/protocol.md §4.2 step 4: the next token is refused with MP-251)."""
        from portvakt.domain.delegations import revoke_delegation

        with self._unit() as (uow, now):
            if isinstance(what, Delegation):
                ids = [what.delegation_id]
            else:
                if consumer is None or supplier is None:
                    raise SeedError("revoke(scope_or_scheme, consumer, supplier) needs the consumer and the supplier")
                found = uow.list_delegations(consumer_orgno=_orgno(consumer), supplier_orgno=_orgno(supplier))
                ids = [d.delegation_id for d in found if self._covers(uow, d.scheme_id, what)]
                if not ids:
                    raise SeedError(f"{_orgno(consumer)} has delegated nothing of that to {_orgno(supplier)}")
            for delegation_id in ids:
                revoke_delegation(uow, delegation_id, None, self._actor(), now)

    @staticmethod
    def _covers(uow: UnitOfWork, scheme_id: str, what: ScopeRef | Scheme) -> bool:
        if isinstance(what, Scheme):
            return scheme_id == what.scheme_id
        scheme = uow.get_scheme(scheme_id)
        return scheme is not None and _scope_name(what) in scheme.scopes

    def system(self, client: Client | str | Iterable[Client | str], rights: str | Iterable[str] = (), *,
               access_packages: Iterable[str] = (), name: str | None = None,
               system_id: str | None = None) -> System:
        """Register a system of the clients' organisation (docs/protocol.md §6.1) that those clients may act as,
        offering `rights` (resource ids, each a right with any action) and `access_packages`; `system_id` defaults
        to `<vendor orgno>_<a fresh name>`."""
        from portvakt.domain.models import SystemRight
        from portvakt.domain.systemregister import SystemSpec, Writer, register_system

        clients = [client] if isinstance(client, Client | str) else list(client)
        resources = (rights,) if isinstance(rights, str) else tuple(rights)
        packages = tuple(access_packages)
        with self._unit() as (uow, now):
            ids = [c.client_id if isinstance(c, Client) else c for c in clients]
            found = [uow.get_client(i) for i in ids]
            vendors = {c.client_orgno for c in found if c is not None}
            if not ids or None in found or len(vendors) != 1:
                raise SeedError("system() needs one or more registered clients of one organisation")
            vendor = vendors.pop()
            made = register_system(uow, SystemSpec(
                system_id=system_id or f"{vendor}_{name or 'system'}{self._rng.randrange(10**6):06d}",
                vendor_id=f"0192:{vendor}", name={"nb": name or f"Testsystem for {vendor}"},
                description={"nb": "Laget av portvakt.testing"},
                rights=tuple(SystemRight(resource=(("urn:altinn:resource", r),)) for r in resources),
                access_packages=packages, client_ids=tuple(ids)), Writer(vendor, admin=True), self._actor(), now)
        return System(made.system_id, vendor, made.client_ids, resources, made.access_packages)

    def system_user(self, system: System | str, customer: OrgRef, *, external_ref: str | None = None,
                    rights: str | Iterable[str] | None = None, access_packages: Iterable[str] | None = None,
                    agent: bool = False) -> SystemUser:
        """`customer` approves a system user for `system` (docs/protocol.md §6.2): by default with every right
        (a standard system user) or every access package (`agent=True`, for a facilitator's clients, §6.4) the
        system offers; `external_ref` defaults to the customer's orgno, as on the wire."""
        from portvakt.domain.models import SystemRight, SystemUserType
        from portvakt.domain.systemuser_requests import RequestSpec, create_request
        from portvakt.domain.systemusers import approve_request

        kind = SystemUserType.AGENT if agent else SystemUserType.STANDARD
        with self._unit() as (uow, now):
            registered = uow.get_system(str(system))
            if registered is None or registered.deleted:
                raise SeedError(f"no system {str(system)!r}; make it first with system(client, rights)")
            owner = self._ensure_org(uow, customer, now)
            chosen = registered.rights if rights is None else tuple(
                SystemRight(resource=(("urn:altinn:resource", r),)) for r in ((rights,) if isinstance(rights, str)
                                                                              else rights))
            packages = registered.access_packages if access_packages is None else tuple(access_packages)
            spec = RequestSpec(system_id=registered.system_id, party_orgno=owner, external_ref=external_ref,
                               rights=None if agent else chosen, access_packages=packages or None)
            request = create_request(uow, spec, kind, registered.vendor_orgno, self._actor(), now).request
            made = approve_request(uow, request.request_id, owner, kind, self._actor(), now)
        return SystemUser(made.system_user_id, made.system_id, made.owner_orgno, made.external_ref, agent)

    def remove_system_user(self, system_user: SystemUser) -> None:
        """The owner deletes the system user (docs/protocol.md §6.2): the next token for it is refused with MP-303."""
        from portvakt.domain.systemusers import delete_system_user

        with self._unit() as (uow, now):
            if delete_system_user(uow, system_user.owner, system_user.system_user_id, self._actor(), now) is None:
                raise SeedError(f"no system user {system_user.system_user_id} of {system_user.owner}")
