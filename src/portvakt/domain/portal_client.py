"""The portal's own client: an operator-owned maskinporten client whose token acts for people's orgs.

The portal never touches the database: it calls the self-service API and the Altinn side with this client's
token, sending Portvakt-Acting-For and Portvakt-Person (policy.acting_for) for the signed-in person.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from portvakt.wire.protocol import PORTAL_CLIENT_SCOPES as PORTAL_CLIENT_SCOPES
from portvakt.wire.protocol import PRIVATE_JWK_MEMBERS

from .audit import Actor, record
from .changes import CLIENT_KIND
from .clients import change_client, check_client_scopes, fields_of, replace_client_keys
from .errors import Conflict, Invalid
from .models import Client, IntegrationType
from .orgs import require_org
from .ports import UnitOfWork

PORTAL_CLIENT_NAME = "portvakt portal"
PORTAL_CLIENT_DESCRIPTION = "The web portal: acts for the organisation a signed-in person represents"
#: Re-post the key (renewing its one-year expiry, docs/protocol.md §3.3) when less than this is left.
RENEW_BEFORE = timedelta(days=30)
CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def _public_kid(public_jwk: Mapping[str, Any]) -> str:
    """The kid of a public JWK; a private member or a missing kid is Invalid."""
    if PRIVATE_JWK_MEMBERS & set(public_jwk):
        raise Invalid("the portal's key must be a public JWK; it has private members", field="public_jwk")
    kid = public_jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Invalid("the portal's public JWK needs a kid", field="public_jwk")
    return kid


def _create(uow: UnitOfWork, operator_orgno: str, client_id: str, actor: Actor, now: datetime) -> Client:
    """The client with the portal scopes (the operator owns them all, so it may use them, docs/protocol.md §3.2)."""
    require_org(uow, operator_orgno, "operator_orgno")
    check_client_scopes(uow, operator_orgno, IntegrationType.MASKINPORTEN, PORTAL_CLIENT_SCOPES, actor)
    client = Client(client_id=client_id, client_name=PORTAL_CLIENT_NAME, client_orgno=operator_orgno,
                    integration_type=IntegrationType.MASKINPORTEN, scopes=PORTAL_CLIENT_SCOPES, created=now,
                    last_updated=now, description=PORTAL_CLIENT_DESCRIPTION)
    uow.put_client(client)
    record(uow, actor=actor, action="client.create", kind=CLIENT_KIND, key=client_id, orgs=(operator_orgno,),
           before=None, after=client, now=now)
    return client


def _repaired(uow: UnitOfWork, client: Client, operator_orgno: str, actor: Actor, now: datetime) -> Client:
    """The existing client with its name and exactly the portal scopes (unchanged if already so)."""
    if client.client_orgno != operator_orgno or client.supplier_orgno is not None:
        raise Conflict(f"client {client.client_id} exists and is not the operator's own; "
                       "choose another client_id for the portal", field="client_id")
    if not client.active:
        raise Conflict(f"the portal client {client.client_id} is deactivated; the operator deactivated it, "
                       "so it is not brought back silently", field="client_id")
    wanted = replace(fields_of(client), client_name=PORTAL_CLIENT_NAME, scopes=PORTAL_CLIENT_SCOPES)
    return change_client(uow, client, wanted, actor, now)


def _key_is_current(client: Client, kid: str, public_jwk: Mapping[str, Any], now: datetime) -> bool:
    """Exactly this one key, and far enough from its expiry."""
    return (len(client.keys) == 1 and client.keys[0].kid == kid and client.keys[0].jwk == dict(public_jwk)
            and client.keys[0].expires - now > RENEW_BEFORE)


def bootstrap_portal_client(uow: UnitOfWork, operator_orgno: str, client_id: str, public_jwk: dict[str, Any],
                            now: datetime) -> bool:
    """Create or repair the portal's client (idempotent; False if nothing changed).

    Its key set becomes exactly `public_jwk` (the key file may have been regenerated); run it after
    bootstrap_operator and bootstrap_altinn, which make the scopes it needs.
    """
    if not CLIENT_ID.fullmatch(client_id):
        raise Invalid("the portal's client_id must be 1-100 of A-Z a-z 0-9 . _ -", field="client_id")
    kid = _public_kid(public_jwk)
    actor = Actor.operator("init")
    found = uow.get_client(client_id)
    client = _create(uow, operator_orgno, client_id, actor, now) if found is None else \
        _repaired(uow, found, operator_orgno, actor, now)
    changed = client is not found
    if not _key_is_current(client, kid, public_jwk, now):
        replace_client_keys(uow, client_id, [(kid, dict(public_jwk))], actor, now)
        changed = True
    return changed
