"""The change feed's kinds and keys: what every committed change records, and what caches drop.

Every use-case that changes a fact writes one (kind, key) row in the same transaction (audit.record);
the token service's caches read the feed and forget exactly the entries a row names.
"""

from __future__ import annotations

#: A client, its keys included (key: client_id).
CLIENT_KIND = "client"
#: A scope (key: scope name).
SCOPE_KIND = "scope"
#: An access-list entry (key: access_key).
ACCESS_KIND = "access"
#: One of the server's signing keys (key: kid).
SIGNING_KEY_KIND = "signing_key"
#: A delegation scheme of the Altinn side (key: scheme_id).
SCHEME_KIND = "scheme"
#: A delegation from a consumer to a supplier (key: pair_key).
DELEGATION_KIND = "delegation"
#: An organisation (key: orgno).
ORG_KIND = "org"
#: A scope prefix (key: prefix).
PREFIX_KIND = "prefix"
#: A delegation source (key: its name).
DELEGATION_SOURCE_KIND = "delegationsource"
#: A portal person (key: username).
PERSON_KIND = "person"
#: A system of the system register (key: system_id); caches of system-user answers drop them all.
SYSTEM_KIND = "system"
#: A system user (key: its owner's orgno); caches drop the owner's answers.
SYSTEM_USER_KIND = "systemuser"
#: A system-user request (key: request_id); no cache holds them.
SYSTEM_USER_REQUEST_KIND = "systemuserrequest"
#: A client added to or removed from an agent system user (key: system_user_id).
AGENT_CLIENT_KIND = "agentclient"
#: One of the Altinn side's own signing keys (key: kid).
ALTINN_KEY_KIND = "altinn_signing_key"
#: A client relationship registered or removed by the operator (key: the client's orgno); no cache holds them.
CLIENT_RELATIONSHIP_KIND = "clientrelationship"

_SEP = "|"


def access_key(scope: str, consumer_orgno: str) -> str:
    """The key of an access-list entry: caches drop exactly its answer."""
    return f"{scope}{_SEP}{consumer_orgno}"


def access_of(key: str) -> tuple[str, str]:
    """(scope, consumer) of an access_key."""
    scope, _, consumer = key.partition(_SEP)
    return scope, consumer


def pair_key(consumer_orgno: str, supplier_orgno: str) -> str:
    """The key of a consumer→supplier pair: caches drop exactly its answers."""
    return f"{consumer_orgno}{_SEP}{supplier_orgno}"


def pair_of(key: str) -> tuple[str, str]:
    """(consumer, supplier) of a pair_key."""
    consumer, _, supplier = key.partition(_SEP)
    return consumer, supplier
