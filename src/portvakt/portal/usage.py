"""Whether a system can get a token now, and how: ready `portvakt token` commands and portvakt.client snippets
(decision P12), one for the scopes the vendor may use itself and one per customer and delegated scope, with
`--consumer-org` (docs/protocol.md §4.2); the key file named as the person has it (by how the key was made)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from portvakt.wire.clients import ClientOut, JwkOut
from portvakt.wire.vocabulary import IntegrationType

from .models import KeyState, key_set_state, live_keys

KeyFileKind = Literal["pem", "jwk", "p12"]


def key_file_names(kid: str) -> tuple[str, str, str]:
    """The file names the portal offers for a key: private PEM, private JWK, PKCS#12."""
    stem = "portvakt-" + "".join(ch for ch in kid[:12] if ch.isalnum() or ch in "-_")
    return f"{stem}-private.pem", f"{stem}-private.jwk.json", f"{stem}.p12"


@dataclass(frozen=True)
class KeyFile:
    """A private key file for a registered key: its name, its kind, and whether the portal gave it that name
    (a browser-made key's downloads, the PKCS#12) or it is the person's own file (a pasted key's private half)."""

    name: str
    kind: KeyFileKind
    named_by_portal: bool


def key_files(kid: str, origin: str | None) -> list[KeyFile]:
    """The private key files the person has for a key, by how it was made (the key's `origin`): the PKCS#12 the
    portal made; the PEM and the JWK the browser offered; otherwise (pasted, posted to the API, not known) their own
    PEM file, shown under the name the portal would give it. The first is the one the commands use."""
    pem, jwk, p12 = key_file_names(kid)
    if origin == "pkcs12":
        return [KeyFile(p12, "p12", True)]
    if origin == "browser":
        return [KeyFile(pem, "pem", True), KeyFile(jwk, "jwk", True)]
    return [KeyFile(pem, "pem", False)]


@dataclass(frozen=True)
class Command:
    """One ready token request: the command line and the same request in Python."""

    scopes: tuple[str, ...]
    consumer_org: str | None
    cli: str
    python: str


def _cli(api_url: str, client_id: str, kid: str, key: KeyFile, scopes: Sequence[str], consumer_org: str | None,
         ) -> str:
    args = ["portvakt", "token", "--issuer", api_url, "--client-id", client_id, "--kid", kid, "--key", key.name,
            "--scope", " ".join(scopes)]
    if consumer_org is not None:
        args += ["--consumer-org", consumer_org]
    return shlex.join(args)


def _python(api_url: str, client_id: str, kid: str, key: KeyFile, scopes: Sequence[str],
            consumer_org: str | None) -> str:
    q = json.dumps
    if key.kind == "p12":
        preamble, key_expr = "import getpass\n\n", f'load_private_key({q(key.name)}, getpass.getpass("Password: "))'
    else:
        preamble, key_expr = "", f"load_private_key({q(key.name)})"
    consumer = f", consumer_org={q(consumer_org)}" if consumer_org is not None else ""
    return (f"{preamble}from portvakt.client import GrantSigner, fetch_token, load_private_key\n\n"
            f"signer = GrantSigner(client_id={q(client_id)}, kid={q(kid)},\n"
            f"                     key={key_expr}, audience={q(api_url)})\n"
            f"token = fetch_token(signer, {q(' '.join(scopes))}, token_endpoint={q(api_url + 'token')}{consumer})\n"
            'print(token["access_token"])\n')


def command(api_url: str, client_id: str, kid: str, key: KeyFile, scopes: Sequence[str],
            consumer_org: str | None = None) -> Command:
    """A token request for these scopes, with the key `kid` in `key`; with `consumer_org` on a customer's behalf
    (docs/protocol.md §4.2)."""
    return Command(tuple(scopes), consumer_org, _cli(api_url, client_id, kid, key, scopes, consumer_org),
                   _python(api_url, client_id, kid, key, scopes, consumer_org))


@dataclass(frozen=True)
class TokenFacts:
    """What decides which of a vendor's scopes a token can carry now (docs/protocol.md §3.4, §4.2, §7 step 10)."""

    #: Scopes the vendor may use itself: its own, open to all, or with APPROVED access (active ones).
    own: frozenset[str] = frozenset()
    #: Active scopes customers can delegate (they have a delegation_source).
    delegable: frozenset[str] = frozenset()
    #: scope -> the customers that have delegated it to the vendor (active delegations).
    delegated_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: customer orgno -> the scopes it may use itself (a delegated scope needs the customer's own access, MP-250).
    customer_access: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: orgno -> name, for the customers shown.
    names: Mapping[str, str] = field(default_factory=dict)

    def customers_for(self, scope: str) -> list[tuple[str, bool]]:
        """The customers that delegated `scope` to the vendor, and whether each may use it itself, by name."""
        if scope not in self.delegable:
            return []
        found = [(orgno, scope in self.customer_access.get(orgno, frozenset()))
                 for orgno in self.delegated_by.get(scope, ())]
        return sorted(found, key=lambda c: (self.names.get(c[0], c[0]).casefold(), c[0]))

    def own_scopes(self, system: ClientOut) -> list[str]:
        """The system's scopes the vendor may use itself, in the system's order."""
        return [s for s in system.scopes if s in self.own]

    def delegated_scopes(self, system: ClientOut) -> list[str]:
        """The system's scopes that can only be used on a customer's behalf (delegable, not the vendor's own)."""
        return [s for s in system.scopes if s in self.delegable and s not in self.own]


class TokenState(StrEnum):
    """Whether a system can get a token now, or the first reason it cannot (docs/protocol.md §1.5 MP codes)."""

    READY = "ready"
    EXPIRING = "expiring"
    CERTIFICATE = "certificate"
    DEACTIVATED = "deactivated"
    NO_KEY = "no_key"
    EXPIRED = "expired"
    NO_SCOPES = "no_scopes"
    REVOKED = "revoked"
    NOT_DELEGATED = "not_delegated"

    @property
    def can_get_tokens(self) -> bool:
        """True for the states in which a token can be had now."""
        return self in (TokenState.READY, TokenState.EXPIRING, TokenState.CERTIFICATE)


def token_state(system: ClientOut, keys: Sequence[JwkOut], now: datetime, facts: TokenFacts) -> TokenState:
    """Can the system get a token now? Deactivated (MP-100); no key (MP-128; a Maskinporten client without keys uses
    its organisation's enterprise certificate, docs/protocol.md §3.2); only expired keys (MP-121/128); no scopes; or
    none it may still use: its own access revoked (MP-250), or no customer has delegated one to it (MP-251)."""
    if not system.active:
        return TokenState.DEACTIVATED
    certificate = not keys and system.integration_type == IntegrationType.MASKINPORTEN
    if not keys and not certificate:
        return TokenState.NO_KEY
    if keys and not live_keys(keys, now):
        return TokenState.EXPIRED
    if not system.scopes:
        return TokenState.NO_SCOPES
    if not facts.own_scopes(system) and not any(ok for s in facts.delegated_scopes(system)
                                                for _, ok in facts.customers_for(s)):
        only_delegable = all(s in facts.delegable for s in system.scopes)
        return TokenState.NOT_DELEGATED if only_delegable else TokenState.REVOKED
    if certificate:
        return TokenState.CERTIFICATE
    return TokenState.EXPIRING if key_set_state(keys, now) is KeyState.EXPIRING else TokenState.READY


@dataclass(frozen=True)
class CustomerCommand:
    """A customer that delegated a scope to the vendor: its command, or None when the customer has no access to the
    scope itself (the token service would refuse it, MP-250)."""

    orgno: str
    name: str | None
    command: Command | None


@dataclass(frozen=True)
class DelegatedScope:
    """A delegated scope of the system and the customers who delegated it."""

    scope: str
    customers: list[CustomerCommand]


@dataclass(frozen=True)
class Usage:
    """How the system gets a token with one of its keys: the key file, the own command, the customers' commands."""

    kid: str
    token_endpoint: str
    files: list[KeyFile]
    own: Command | None
    delegated: list[DelegatedScope]

    @property
    def key_file(self) -> KeyFile:
        """The file the commands use."""
        return self.files[0]


def usage_for(api_url: str, system: ClientOut, key: JwkOut, facts: TokenFacts) -> Usage:
    """The commands for one key of a system: one for the scopes the vendor may use itself (none if there are none),
    then per delegated scope, each customer's own command with `--consumer-org`."""
    files = key_files(key.kid, key.origin)
    own_scopes = facts.own_scopes(system)
    own = command(api_url, system.client_id, key.kid, files[0], own_scopes) if own_scopes else None
    delegated = [DelegatedScope(scope, [
        CustomerCommand(orgno, facts.names.get(orgno),
                        command(api_url, system.client_id, key.kid, files[0], [scope], orgno) if ok else None)
        for orgno, ok in facts.customers_for(scope)]) for scope in facts.delegated_scopes(system)]
    return Usage(key.kid, api_url + "token", files, own, delegated)
