"""Use-cases of the Altinn side: delegation schemes and delegations (docs/protocol.md §4.1 steps 2 and 5).

Each use-case runs inside the caller's unit of work and records its audit event and change-feed
entry there (kinds and keys: domain/changes.py). Delegations are recorded under DELEGATION_KIND with
a pair_key, so a cache of has_delegation answers can drop exactly that pair.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from .audit import Actor, record
from .changes import DELEGATION_KIND, SCHEME_KIND, pair_key
from .errors import Invalid, NotFound
from .models import Delegation, DelegationScheme
from .orgs import require_org
from .ports import UnitOfWork
from .scopes import split_scope_name

ALTINN_PREFIX = "altinn"
SCHEMES_WRITE = "altinn:maskinporten/delegationSchemes.write"
DELEGATIONS_WRITE = "altinn:maskinporten/delegations.write"
DELEGATIONS_ADMIN = "altinn:maskinporten/delegations.admin"
#: The lookup's non-admin scope (docs/protocol.md §4.3, decision D9): an org sees only the delegations it may see.
DELEGATIONS_LOOKUP = "altinn:maskinporten/delegations"
LANGUAGES = ("nb", "nn", "en")
MAX_SCOPES = 50
MAX_TITLE = 200
MAX_DESCRIPTION = 4000


def check_texts(texts: Mapping[str, str], field: str, limit: int, *, nb_required: bool) -> dict[str, str]:
    """Texts in nb/nn/en (docs/protocol.md §4.1 step 2 title/description); nb is required where any text is."""
    found: dict[str, str] = {}
    for lang, text in texts.items():
        if lang not in LANGUAGES:
            raise Invalid(f"{field} language must be one of nb, nn, en, got {lang[:20]!r}", field=field)
        text = text.strip()
        if "\x00" in text or len(text) > limit:
            raise Invalid(f"{field}.{lang} must be at most {limit} characters without NUL", field=field)
        if text:
            found[lang] = text
    if (nb_required or found) and "nb" not in found:
        raise Invalid(f"{field} needs a Norwegian Bokmål (nb) text", field=field)
    return {lang: found[lang] for lang in LANGUAGES if lang in found}


def check_scheme_scopes(uow: UnitOfWork, owner_orgno: str, scopes: Iterable[str]) -> tuple[str, ...]:
    """docs/protocol.md §4.1: a scheme names one or more of the owner's active scopes that have a delegation_source."""
    names = tuple(dict.fromkeys(scopes))
    if not names or len(names) > MAX_SCOPES:
        raise Invalid(f"a delegation scheme names 1 to {MAX_SCOPES} scopes", field="scopes")
    for name in names:
        try:
            split_scope_name(name)
        except Invalid as exc:
            raise Invalid(exc.message, field="scopes") from None
        scope = uow.get_scope(name)
        if scope is None or scope.owner_orgno != owner_orgno or not scope.active:
            raise Invalid(f"{name} is not an active scope of {owner_orgno}", field="scopes")
        if not scope.delegation_source:
            raise Invalid(f"{name} has no delegation_source, so it cannot be delegated (docs/protocol.md §4.1 step 1)",
                          field="scopes")
    return names


def create_scheme(uow: UnitOfWork, owner_orgno: str, scopes: Iterable[str], title: Mapping[str, str],
                  description: Mapping[str, str], actor: Actor, now: datetime) -> DelegationScheme:
    """docs/protocol.md §4.1 step 2: an API provider creates a delegation scheme naming its own delegable scopes."""
    require_org(uow, owner_orgno, "owner_org")
    scheme = DelegationScheme(scheme_id=str(uuid.uuid4()), owner_orgno=owner_orgno,
                              scopes=check_scheme_scopes(uow, owner_orgno, scopes),
                              title=check_texts(title, "title", MAX_TITLE, nb_required=True),
                              description=check_texts(description, "description", MAX_DESCRIPTION,
                                                      nb_required=False),
                              created=now, last_updated=now)
    uow.put_scheme(scheme)
    record(uow, actor=actor, action="scheme.create", kind=SCHEME_KIND, key=scheme.scheme_id, orgs=(owner_orgno,),
           before=None, after=scheme, now=now)
    return scheme


def owned_scheme(uow: UnitOfWork, scheme_id: str, owner_orgno: str | None) -> DelegationScheme:
    """The scheme if `owner_orgno` owns it (None: the operator, any owner); NotFound otherwise."""
    scheme = uow.get_scheme(scheme_id)
    if scheme is None or (owner_orgno is not None and scheme.owner_orgno != owner_orgno):
        raise NotFound(f"no delegation scheme {scheme_id}")
    return scheme


def update_scheme(uow: UnitOfWork, scheme_id: str, owner_orgno: str | None, scopes: Iterable[str],
                  title: Mapping[str, str], description: Mapping[str, str], actor: Actor, now: datetime,
                  *, active: bool | None = None) -> DelegationScheme:
    """Replace a scheme's scopes and texts (owner immutable); `active` None keeps its state."""
    before = owned_scheme(uow, scheme_id, owner_orgno)
    after = replace(before, scopes=check_scheme_scopes(uow, before.owner_orgno, scopes),
                    title=check_texts(title, "title", MAX_TITLE, nb_required=True),
                    description=check_texts(description, "description", MAX_DESCRIPTION, nb_required=False),
                    active=before.active if active is None else active, last_updated=now)
    uow.put_scheme(after)
    record(uow, actor=actor, action="scheme.update", kind=SCHEME_KIND, key=scheme_id, orgs=(before.owner_orgno,),
           before=before, after=after, now=now)
    return after


def deactivate_scheme(uow: UnitOfWork, scheme_id: str, owner_orgno: str | None, actor: Actor,
                      now: datetime) -> DelegationScheme:
    """Deactivate a scheme: its delegations stop counting at once (docs/protocol.md §4.2 step 4); idempotent."""
    before = owned_scheme(uow, scheme_id, owner_orgno)
    if not before.active:
        return before
    after = replace(before, active=False, last_updated=now)
    uow.put_scheme(after)
    record(uow, actor=actor, action="scheme.deactivate", kind=SCHEME_KIND, key=scheme_id,
           orgs=(before.owner_orgno,), before=before, after=after, now=now)
    return after


def _by(actor: Actor) -> str | None:
    """Who acted, as stored on a delegation: the portal's signed-in person, else the client (or operator),
    else the org."""
    return actor.person or actor.client_id or actor.orgno


def delegate(uow: UnitOfWork, consumer_orgno: str, supplier_orgno: str, scheme_id: str, actor: Actor,
             now: datetime) -> tuple[Delegation, bool]:
    """docs/protocol.md §4.1 step 5: a consumer gives an active scheme to a supplier; (delegation, newly created).

    Idempotent: an active delegation of the same scheme to the same supplier is returned unchanged.
    """
    require_org(uow, consumer_orgno, "consumer_org")
    require_org(uow, supplier_orgno, "supplier_org")
    if consumer_orgno == supplier_orgno:
        raise Invalid("an organisation cannot delegate to itself", field="supplier_org")
    scheme = uow.get_scheme(scheme_id)
    if scheme is None or not scheme.active:
        raise NotFound(f"no active delegation scheme {scheme_id}")
    existing = uow.list_delegations(consumer_orgno=consumer_orgno, supplier_orgno=supplier_orgno,
                                    scheme_id=scheme_id)
    if existing:
        return existing[0], False
    made = Delegation(delegation_id=str(uuid.uuid4()), consumer_orgno=consumer_orgno,
                      supplier_orgno=supplier_orgno, scheme_id=scheme_id, created=now, created_by=_by(actor))
    uow.put_delegation(made)
    record(uow, actor=actor, action="delegation.create", kind=DELEGATION_KIND,
           key=pair_key(consumer_orgno, supplier_orgno), orgs=(consumer_orgno, supplier_orgno, scheme.owner_orgno),
           before=None, after=made, now=now)
    return made, True


def revoke_delegation(uow: UnitOfWork, delegation_id: str, consumer_orgno: str | None, actor: Actor,
                      now: datetime) -> Delegation:
    """The consumer revokes (None: the operator); the row stays as history; idempotent (docs/protocol.md §4.2 step
    4)."""
    before = uow.get_delegation(delegation_id)
    if before is None or (consumer_orgno is not None and before.consumer_orgno != consumer_orgno):
        raise NotFound(f"no delegation {delegation_id}")
    if not before.active:
        return before
    after = replace(before, revoked=now, revoked_by=_by(actor))
    uow.put_delegation(after)
    scheme = uow.get_scheme(before.scheme_id)
    record(uow, actor=actor, action="delegation.revoke", kind=DELEGATION_KIND,
           key=pair_key(before.consumer_orgno, before.supplier_orgno),
           orgs=(before.consumer_orgno, before.supplier_orgno, scheme.owner_orgno if scheme else ""),
           before=before, after=after, now=now)
    return after


def delegations_between(uow: UnitOfWork, consumer_orgno: str, supplier_orgno: str,
                        scope: str) -> list[tuple[Delegation, DelegationScheme]]:
    """docs/protocol.md §4.2 lookup: active delegations consumer→supplier of active schemes naming the scope."""
    found: list[tuple[Delegation, DelegationScheme]] = []
    for d in uow.list_delegations(consumer_orgno=consumer_orgno, supplier_orgno=supplier_orgno):
        scheme = uow.get_scheme(d.scheme_id)
        if scheme is not None and scheme.active and scope in scheme.scopes:
            found.append((d, scheme))
    return found
