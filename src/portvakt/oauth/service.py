"""The token endpoint, framework-free: handle_token_request(TokenRequest) -> IssuedToken (docs/protocol.md §7)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from portvakt.domain.models import JWT_BEARER, PRIVATE_KEY_JWT, Client, IntegrationType
from portvakt.domain.ports import ClaimOutcome, Clock, IssuedBeforeLoss, ReplayCache, ReplayClaim, first_use_all
from portvakt.jose import BadSignature, MalformedJWT, UnsupportedAlgorithm, UnverifiedJWT, Verifier, peek
from portvakt.settings import TokenSettings

from . import mp_codes as mp
from .authorization_details import from_form
from .certificates import CertificateAuthenticator, amr, same_certificate
from .delegation import DelegationLookup
from .grant import JWTBearerGrant, read_grant
from .minter import AccessTokenMinter, IssuedToken, TokenGrant
from .registry_cache import RegistryCache
from .scopes import token_grant
from .systemuser import SystemUserLookup


@dataclass(frozen=True, slots=True)
class CheckedRequest:
    """A request that passed every check but the replay claim: what it is granted, its claim, its client, its time."""

    decided: TokenGrant
    claim: ReplayClaim
    iss: str
    now: int


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """The parsed form of POST /token: every (name, value) pair, in order (RFC 6749 §3.2); `peeked`, when the
    endpoint already decoded the form's assertion (to read its iss), that assertion and its unverified JWT, so
    it is not decoded twice."""

    form: list[tuple[str, str]]
    peeked: tuple[str, UnverifiedJWT] | None = None


def _verify(verifier: Verifier, grant: JWTBearerGrant) -> None:
    """docs/protocol.md §1.2: the grant's signature verifies with the key or the certificate's key (MP-124)."""
    try:
        verifier.verify(grant.jwt)
    except (BadSignature, UnsupportedAlgorithm) as exc:
        raise mp.MP124(detail=str(exc)) from exc


def _single(form: list[tuple[str, str]], name: str) -> str | None:
    """RFC 6749 §3.1: parameters must not be repeated."""
    values = [v for k, v in form if k == name]
    if len(values) > 1:
        raise mp.MP011(f": parameter {name} is repeated")
    return values[0] if values else None


class TokenService:
    """Runs every check of docs/protocol.md §7 and has the minter make the access token; `system_users` answers
    grants for an Altinn system user (§6.5; None: such grants get MP-292)."""

    def __init__(self, *, registry: RegistryCache, replay: ReplayCache, minter: AccessTokenMinter,
                 delegations: DelegationLookup, clock: Clock, rules: TokenSettings,
                 certificates: CertificateAuthenticator, system_users: SystemUserLookup | None = None) -> None:
        self._registry = registry
        self._certificates = certificates
        self._replay = self.replay = replay
        self._minter = minter
        self._delegations = delegations
        self._system_users = system_users
        self._clock = clock
        self._audiences = {minter.issuer, minter.issuer.rstrip("/")}
        self._rules = rules

    def handle_token_request(self, request: TokenRequest) -> IssuedToken:
        """docs/protocol.md §7 steps 1-12, one clock reading; raises an OAuthError with its MP code on the first
        failed check."""
        checked = self.check(request)
        self.settle(checked, first_use_all(self._replay, [checked.claim])[0])
        return self.mint(checked)

    def check(self, request: TokenRequest) -> CheckedRequest:
        """Every check of docs/protocol.md §7 but the replay claim (step 7), which writes, and so comes last; raises an
        OAuthError with its MP code on the first failed check. Inside a non_blocking() section, WouldBlock when an
        answer it needs is not in memory (nothing is written before the claim, so it can be run again)."""
        self._registry.ensure_fresh()  # first: MP-504 past the staleness bound (docs/security.md, Stale cache)
        grant, assertion = self._read(request)
        at = self._clock.now()
        now = int(at.timestamp())
        client, client_amr = self._authenticate(grant, at)
        self._check_times(grant, now)
        decided = token_grant(self._registry, self._delegations, client, grant, client_amr, self._system_users)
        return CheckedRequest(decided, self._claim(grant, assertion), grant.iss, now)

    def settle(self, checked: CheckedRequest, outcome: ClaimOutcome) -> None:
        """Step 7's verdict: the grant is single-use (MP-012), and one issued before the replay store lost its data
        is refused too (docs/security.md, Replay after a store crash)."""
        if isinstance(outcome, IssuedBeforeLoss):
            raise mp.MP012(f": {outcome}", detail=f"client_id={checked.iss}") from outcome
        if not outcome:
            raise mp.MP012(detail=f"client_id={checked.iss}")

    def mint(self, checked: CheckedRequest) -> IssuedToken:
        """The access token of a request that passed every check and whose claim was its first use."""
        return self._minter.mint(checked.decided, checked.now)

    def _read(self, request: TokenRequest) -> tuple[JWTBearerGrant, str]:
        """Steps 1-2: grant_type, no authorization_details parameter (RFC 9396 §6.2, MP-270), assertion, JWT shape
        and header (with the grant's authorization_details, docs/protocol.md §6.5)."""
        grant_type = _single(request.form, "grant_type")
        assertion = _single(request.form, "assertion")
        if grant_type is None:
            raise mp.MP011(": missing parameter grant_type")
        if grant_type != JWT_BEARER:
            raise mp.MP010()
        from_form(_single(request.form, "authorization_details"))
        if not assertion:
            raise mp.MP011(": missing parameter assertion")
        if request.peeked is not None and request.peeked[0] == assertion:
            jwt = request.peeked[1]
        else:
            try:
                jwt = peek(assertion, max_length=self._rules.max_assertion_bytes)
            except MalformedJWT as exc:
                raise mp.MP011(": the assertion is not a well-formed JWT", detail=str(exc)) from exc
        return read_grant(jwt, strict=self._rules.strict), assertion

    def _authenticate(self, grant: JWTBearerGrant, now: datetime) -> tuple[Client, str]:
        """Steps 3-5: client (MP-100), aud (MP-110), key or certificate (MP-120..129), signature (MP-124); returns the
        client and its client_amr."""
        view = self._registry.client(grant.iss)
        if view is None or not view.client.active:
            raise mp.MP100(detail=f"iss={grant.iss[:80]!r}")
        if not self._audiences.intersection(grant.aud):
            raise mp.MP110()
        client = view.client
        if client.integration_type is IntegrationType.ALTINN_VIRKSYS:
            if grant.x5c is not None:
                raise mp.MP129(detail=f"client_id={client.client_id}")
            if not any(not k.is_expired(now) for k, _ in view.keys.values()):
                raise mp.MP128(detail=f"client_id={client.client_id}")
        if grant.kid is None:
            if grant.x5c is None or view.keys:
                raise mp.MP127()
            return client, self._by_certificate(grant, grant.x5c, client, now)
        key, verifier = view.keys.get(grant.kid, (None, None))
        if key is None or verifier is None:  # a stored key the key rules now refuse has no verifier
            why = "not registered" if key is None else "registered but refused by the key rules"
            raise mp.MP126(detail=f"client_id={client.client_id} kid {why}")
        if key.is_expired(now):
            raise mp.MP121(detail=f"kid={grant.kid} expired {key.expires.isoformat()}")
        _verify(verifier, grant)
        locked = key.jwk.get("x5c")
        if isinstance(locked, list) and locked:
            self._check_lock(grant, [str(c) for c in locked], client, now)
        return client, PRIVATE_KEY_JWT

    def _by_certificate(self, grant: JWTBearerGrant, x5c: list[str], client: Client, now: datetime) -> str:
        """docs/protocol.md §5.2: a client without keys signs with any valid enterprise certificate of its org."""
        cert = self._certificates.authenticate(x5c, client, now)
        _verify(cert.verifier, grant)
        return amr(cert)

    def _check_lock(self, grant: JWTBearerGrant, locked: list[str], client: Client, now: datetime) -> None:
        """docs/protocol.md §5.2 rule 6: a key registered with x5c binds the client to that certificate, which must
        still be valid and unrevoked; a grant that sends another certificate is refused (MP-120)."""
        kid = grant.kid or ""
        if grant.x5c is not None and not same_certificate(grant.x5c[0], locked[0]):
            raise mp.MP120(f" The certificate in x5c is not the one key {kid[:100]} is locked to.")
        self._certificates.authenticate(locked, client, now, about=f"key {kid[:100]} is locked to a certificate, and ")

    def _check_times(self, grant: JWTBearerGrant, now: int) -> None:
        """Step 6 (§7): exp passed MP-130; iat > now+10 s MP-131; strict: iat < now-10 s MP-133 (T13); MP-132."""
        if grant.exp <= now:
            raise mp.MP130()
        if grant.iat > now + self._rules.grant_max_future_iat:
            raise mp.MP131()
        if self._rules.strict and grant.iat < now - self._rules.grant_max_future_iat:
            raise mp.MP133()
        if grant.exp - grant.iat > self._rules.grant_max_lifetime:
            raise mp.MP132()

    def _claim(self, grant: JWTBearerGrant, assertion: str) -> ReplayClaim:
        """Step 7's key: the grant's (iss, jti), or the whole assertion when it has no jti; kept until the grant has
        expired, with the allowed clock skew (docs/protocol.md §1.3)."""
        if grant.jti is not None:
            key = hashlib.sha256(f"{grant.iss}\x00{grant.jti}".encode()).digest()
        else:
            key = hashlib.sha256(assertion.encode()).digest()
        expires = datetime.fromtimestamp(grant.exp + self._rules.grant_max_future_iat, UTC)
        return ReplayClaim(key, expires, datetime.fromtimestamp(grant.iat, UTC))
