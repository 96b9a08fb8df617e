"""The JWT-bearer grant (RFC 7523 §2.1, docs/protocol.md §1.2-§1.3): its shape, read from an unverified JWT."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from portvakt.domain.orgno import is_valid_orgno
from portvakt.jose import GRANT_ALGORITHMS, UnverifiedJWT

from . import mp_codes as mp
from .authorization_details import SystemUserDetails, from_claim
from .errors import OAuthError

_PID = re.compile(r"^[0-9]{11}$")
_MAX_CLAIM_LEN = 2048
DOCUMENTED_CLAIMS = frozenset({"aud", "iss", "iat", "exp", "jti", "scope", "resource", "pid", "consumer_org",
                               "iss_onbehalfof", "authorization_details"})
"""The grant claims of docs/protocol.md §1.3; strict mode (decision T13) refuses any other."""


@dataclass(frozen=True, slots=True)
class JWTBearerGrant:
    """A grant's claims after the shape checks, not yet verified; `consumer_orgno` is the claim consumer_org,
    `system_user` what its `authorization_details` asks for (docs/protocol.md §6.5)."""

    jwt: UnverifiedJWT
    alg: str
    kid: str | None
    x5c: list[str] | None
    iss: str
    aud: list[str]
    iat: int
    exp: int
    jti: str | None
    scopes: tuple[str, ...]
    resource: list[str] | None
    consumer_orgno: str | None
    pid: str | None
    system_user: SystemUserDetails | None = None


def _bad(what: str) -> OAuthError:
    return mp.MP011(f": {what}")


def _str_claim(claims: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise _bad(f"missing claim {name}")
        return None
    if not isinstance(value, str) or not value or len(value) > _MAX_CLAIM_LEN:
        raise _bad(f"claim {name} must be a non-empty string")
    return value


def _int_claim(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"claim {name} must be a NumericDate")
    return int(value)


def _str_list(value: Any, name: str) -> list[str]:
    """RFC 7519 §4.1.3 / RFC 8707 §2: a string or an array of strings."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or len(items) > 16 or not all(
            isinstance(i, str) and 0 < len(i) <= _MAX_CLAIM_LEN for i in items):
        raise _bad(f"claim {name} must be a string or an array of strings")
    return items


def _header(jwt: UnverifiedJWT) -> tuple[str, str | None, list[str] | None]:
    """docs/protocol.md §1.2: alg in RS256/384/512; kid a string; x5c an array of strings (MP-123)."""
    alg = jwt.header.get("alg")
    if alg not in GRANT_ALGORITHMS:
        raise mp.MP125(detail=f"alg={str(alg)[:20]!r}")
    kid = jwt.header.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid or len(kid) > 256):
        raise _bad("header kid must be a non-empty string")
    x5c = jwt.header.get("x5c")
    if x5c is not None and (not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c)):
        raise mp.MP123()
    return str(alg), kid, x5c


def parse_scopes(value: str) -> tuple[str, ...]:
    """docs/protocol.md §1.3: whitespace-separated scopes; duplicates collapse, order kept."""
    return tuple(dict.fromkeys(value.split()))


def _strict(claims: dict[str, Any]) -> None:
    """Strict mode (decision T13, docs/protocol.md §1.3): only documented claims, and `aud` a single string."""
    extra = sorted(str(name)[:64] for name in claims if name not in DOCUMENTED_CLAIMS)
    if extra:
        named = ", ".join(repr(n) for n in extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        which = "claim {} is" if len(extra) == 1 else "claims {} are"
        allowed = ", ".join(sorted(DOCUMENTED_CLAIMS))
        raise _bad(f"{which.format(named)} not documented; strict mode accepts only {allowed} "
                   "(docs/protocol.md §1.3), as Maskinporten does")
    if not isinstance(claims.get("aud"), str):
        raise _bad("claim aud must be a single string, not an array; strict mode follows Maskinporten here "
                   "(docs/protocol.md §1.3)")


def read_grant(jwt: UnverifiedJWT, *, strict: bool = False) -> JWTBearerGrant:
    """Check the header and claim types of a grant (docs/protocol.md §7 steps 2 and 9; strict mode: decision T13)."""
    alg, kid, x5c = _header(jwt)
    c = jwt.claims
    iss = _str_claim(c, "iss", required=True)
    scope = _str_claim(c, "scope", required=True)
    if "aud" not in c:
        raise _bad("missing claim aud")
    consumer_orgno = _str_claim(c, "consumer_org", required=False)
    if consumer_orgno is not None and not is_valid_orgno(consumer_orgno):
        raise _bad("claim consumer_org must be a 9-digit organisation number")
    if "iss_onbehalfof" in c and consumer_orgno is not None:
        raise _bad("consumer_org and iss_onbehalfof are mutually exclusive")
    pid = _str_claim(c, "pid", required=False)
    if pid is not None and not _PID.match(pid):
        raise _bad("claim pid must be an 11-digit person identifier")
    scopes = parse_scopes(scope or "")
    if not scopes:
        raise _bad("claim scope is empty")
    system_user = from_claim(c)
    if system_user is not None and consumer_orgno is not None:
        raise mp.MP303(": consumer_org cannot be combined with authorization_details (one party per grant)")
    aud = _str_list(c["aud"], "aud")
    if strict:
        _strict(c)
    return JWTBearerGrant(
        jwt=jwt, alg=alg, kid=kid, x5c=x5c, iss=iss or "", aud=aud,
        iat=_int_claim(c, "iat"), exp=_int_claim(c, "exp"), jti=_str_claim(c, "jti", required=False),
        scopes=scopes,
        resource=_str_list(c["resource"], "resource") if c.get("resource") is not None else None,
        consumer_orgno=consumer_orgno, pid=pid, system_user=system_user,
    )
