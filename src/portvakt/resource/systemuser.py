"""System users for API providers (docs/protocol.md §6.5, §6.6): read the system user a token names, and ask the
decision point whether it may act.

    token = validator.validate(raw, required_scopes=["brreg:x"])
    found = system_user(token)                      # None: the token names no system user
    pdp = AltinnAuthorization("https://altinn.example/", token_source)   # a token with altinn:authorization/authorize
    if found is None or not pdp.permits(found, "my_resource", "read", party=orgno):
        ...  # 403

A token's `authorization_details` (RFC 9396 §2) carries the system user as a one-element array; an Altinn token from
the exchange (docs/protocol.md §6.7) as that element alone. Both are read. The decision point's failures raise
AuthorizationUnavailable (503 with Retry-After), never "permitted".
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portvakt.wire.protocol import SYSTEMUSER_TYPE

from .errors import InvalidToken, ResourceError
from .jwks import JwksCache
from .token import AccessToken, orgno
from .validator import TokenValidator

__all__ = ["AUTHORIZE_PATH", "SYSTEMUSER_TYPE", "AltinnAuthorization", "AuthorizationUnavailable",
           "SystemUserClaim", "altinn_validator", "authorization_problem", "install_authorization", "system_user"]

log = logging.getLogger("portvakt.resource")

#: The decision point below the Altinn side's base URL (docs/protocol.md §6.6).
AUTHORIZE_PATH = "authorization/api/v1/authorize"
#: Where Altinn 3 (and portvakt's Altinn side) publishes the exchange's keys, below its issuer (§6.7).
ALTINN_JWKS_PATH = ".well-known/openid-configuration/jwks"
SUBJECT_ID = "urn:altinn:systemuser:uuid"
ACTION_ID = "urn:oasis:names:tc:xacml:1.0:action:action-id"
RESOURCE_ID = "urn:altinn:resource"
PARTY_ID = "urn:altinn:organization:identifier-no"
PACKAGE_ID = "urn:altinn:accesspackage"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
PERMIT = "Permit"
#: A decision is a few hundred bytes; anything much larger is not a decision.
MAX_RESPONSE_BYTES = 64 * 1024
RETRY_AFTER = 5
_ORGNO = re.compile(r"[0-9]{9}")
_VALUE = re.compile(r"[\x21-\x7e]{1,200}")


@dataclass(frozen=True, slots=True)
class SystemUserClaim:
    """The system user a validated token names: its id, its system, its owner (the customer), the external ref,
    and the vendor (the token's `consumer`, whose system it is) (docs/protocol.md §6.5)."""

    system_user_id: str
    system_id: str
    owner_orgno: str
    external_ref: str
    vendor_orgno: str


def _details(token: AccessToken) -> list[Mapping[str, Any]]:
    """RFC 9396 §2: `authorization_details` as a list of objects (an exchanged token's one object alone, §6.7)."""
    value = token.claims.get("authorization_details")
    if value is None:
        return []
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidToken('the access token claim "authorization_details" is not an array of objects (RFC 9396 §2)')
    return items


def _owner(value: object) -> str:
    """docs/protocol.md §6.5: `systemuser_org` is {"authority": "iso6523-actorid-upis", "ID": "0192:<orgno>"};
    a lower-case `id` (seen in early Altinn examples) is read too."""
    if isinstance(value, dict) and "ID" not in value and "id" in value:
        value = {**value, "ID": value["id"]}
    if not isinstance(value, dict) or "authority" not in value:
        raise InvalidToken('the access token\'s system user has no "systemuser_org" ISO 6523 organisation id')
    return orgno(value, "systemuser_org")


def _system_user_id(value: object) -> str:
    """docs/protocol.md §6.5: `systemuser_id` is an array holding the one system user's uuid."""
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], str):
        raise InvalidToken('the access token\'s "systemuser_id" is not an array of one id (docs/protocol.md §6.5)')
    try:
        return str(uuid.UUID(value[0]))
    except ValueError:
        raise InvalidToken('the access token\'s "systemuser_id" is not a uuid') from None


def system_user(token: AccessToken) -> SystemUserClaim | None:
    """docs/protocol.md §6.5: the system user of the token's `authorization_details`, or None when it names none;
    InvalidToken when it names one badly (or more than one)."""
    found = []
    for item in _details(token):
        kind = item.get("type")
        if not isinstance(kind, str):
            raise InvalidToken('an "authorization_details" object of the access token has no "type" (RFC 9396 §2)')
        if kind == SYSTEMUSER_TYPE:
            found.append(item)
    if not found:
        return None
    if len(found) > 1:
        raise InvalidToken("the access token names more than one system user (docs/protocol.md §6.5)")
    item = found[0]
    system_id = item.get("system_id")
    if not isinstance(system_id, str) or not system_id:
        raise InvalidToken('the access token\'s system user has no "system_id" string')
    owner = _owner(item.get("systemuser_org"))
    ref = item.get("externalRef", owner)
    if not isinstance(ref, str):
        raise InvalidToken('the access token\'s "externalRef" is not a string')
    return SystemUserClaim(system_user_id=_system_user_id(item.get("systemuser_id")), system_id=system_id,
                           owner_orgno=owner, external_ref=ref or owner, vendor_orgno=token.consumer)


class AuthorizationUnavailable(ResourceError):
    """The decision point gave no usable answer (unreachable, slow, refusing our token, unreadable): 503 with
    Retry-After; never read as "permitted" (RFC 9110 §15.6.4). `detail` is for logs."""

    status: ClassVar[int] = 503

    def __init__(self, detail: str, retry_after: int = RETRY_AFTER) -> None:
        super().__init__("the authorization service is not available; try again later")
        self.detail = detail
        self.retry_after = max(1, retry_after)


def _attribute(attribute_id: str, value: str, *, typed: bool = False) -> dict[str, str]:
    attribute = {"AttributeId": attribute_id, "Value": value}
    if typed:
        attribute["DataType"] = XSD_STRING
    return attribute


def decision_request(system_user_id: str, resource: str, action: str, party: str,
                     package: str | None = None) -> dict[str, Any]:
    """docs/protocol.md §6.6: the XACML JSON request (JSON profile of XACML 3.0 §4.2) of one question."""
    resource_attributes = [_attribute(RESOURCE_ID, resource), _attribute(PARTY_ID, party)]
    if package is not None:
        resource_attributes.append(_attribute(PACKAGE_ID, package))
    return {"Request": {
        "AccessSubject": [{"Attribute": [_attribute(SUBJECT_ID, system_user_id)]}],
        "Action": [{"Attribute": [_attribute(ACTION_ID, action, typed=True)]}],
        "Resource": [{"Attribute": resource_attributes}]}}


def _member(obj: Mapping[str, Any], name: str) -> Any:
    """A member matched without regard to case (the decision point's docs show both PascalCase and camelCase)."""
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == name:
            return value
    return None


def read_decision(body: Any) -> bool:
    """True only when every result's Decision is Permit (and there is one); AuthorizationUnavailable when the body
    is not a decision response (JSON profile of XACML 3.0 §4.2.2)."""
    results = _member(body, "response") if isinstance(body, dict) else None
    if isinstance(results, dict):
        results = [results]
    if not isinstance(results, list) or not results or not all(isinstance(r, dict) for r in results):
        raise AuthorizationUnavailable("the decision point's answer has no Response list")
    decisions = [_member(result, "decision") for result in results]
    if not all(isinstance(d, str) for d in decisions):
        raise AuthorizationUnavailable("a result of the decision point has no Decision")
    return all(d == PERMIT for d in decisions)


def _retry_after(response: httpx.Response) -> int:
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() and 0 < int(value) <= 3600 else RETRY_AFTER


class AltinnAuthorization:
    """A client of the decision point, `POST <base_url>authorization/api/v1/authorize` (docs/protocol.md §6.6).

    `token_source()` returns a bearer token for it (one with `altinn:authorization/authorize`; e.g. a portvakt
    client's cached token). `subscription_key`, for Altinn's own platform, is sent as Ocp-Apim-Subscription-Key.
    Every failure is AuthorizationUnavailable: an answer is Permit or it is not, and no answer is never Permit.
    """

    def __init__(self, base_url: str, token_source: Callable[[], str], *, timeout: float = 2.0,
                 http: httpx.Client | None = None, subscription_key: str | None = None) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the decision point's base URL must be an http(s) URL")
        if timeout <= 0:
            raise ValueError("timeout must be above 0")
        self.url = base_url.rstrip("/") + "/" + AUTHORIZE_PATH
        self._token_source = token_source
        self._timeout = float(timeout)
        self._http = http
        self._owns_http = http is None
        self._subscription_key = subscription_key

    def permits(self, system_user: SystemUserClaim, resource: str, action: str = "read", party: str | None = None,
                package: str | None = None) -> bool:
        """docs/protocol.md §6.6: may `system_user` do `action` on `resource` for `party` (default: its owner), or
        does it hold `package`? ValueError for a malformed question; AuthorizationUnavailable for no answer."""
        target = system_user.owner_orgno if party is None else party
        if not _ORGNO.fullmatch(target):
            raise ValueError("party must be a 9-digit organisation number")
        for name, value in (("resource", resource), ("action", action), ("package", package)):
            if value is not None and not (isinstance(value, str) and _VALUE.fullmatch(value)):
                raise ValueError(f"{name} must be 1 to 200 printable characters without spaces")
        body = decision_request(system_user.system_user_id, resource, action, target, package)
        return read_decision(self._ask(body))

    def close(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._owns_http and self._http is not None:
            self._http.close()
            self._http = None

    def _ask(self, body: dict[str, Any]) -> Any:
        """One POST; the decoded JSON of a 200, else AuthorizationUnavailable (the token never in a message)."""
        try:
            token = self._token_source()
        except Exception as exc:  # noqa: BLE001 - the token source is the caller's: any failure is "no answer"
            raise AuthorizationUnavailable(f"no token for the decision point: {type(exc).__name__}") from None
        headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
        if self._subscription_key:
            headers["ocp-apim-subscription-key"] = self._subscription_key
        try:
            response = self._client().post(self.url, json=body, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise AuthorizationUnavailable(f"cannot reach {self.url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            log.warning("decision point %s answered HTTP %d", self.url, response.status_code)
            raise AuthorizationUnavailable(f"{self.url} answered HTTP {response.status_code}", _retry_after(response))
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise AuthorizationUnavailable(f"{self.url} answered more than {MAX_RESPONSE_BYTES} bytes")
        try:
            return json.loads(response.content)
        except (ValueError, RecursionError):
            raise AuthorizationUnavailable(f"{self.url} did not answer JSON") from None

    def _client(self) -> httpx.Client:
        """The injected client, or one made on first use (no redirects: the URL is configured)."""
        if self._http is None:
            self._http = httpx.Client(timeout=self._timeout, follow_redirects=False)
        return self._http


def altinn_validator(issuer: str, *, http: httpx.Client | None = None, audience: str | None = None,
                     leeway: float = 10, clock: Callable[[], float] | None = None) -> TokenValidator:
    """A TokenValidator of the Altinn tokens the exchange issues (docs/protocol.md §6.7): `issuer` is the Altinn
    side's (`<base URL>authentication/api/v1/openid/`), its keys at `<issuer>.well-known/openid-configuration/jwks`
    (OpenID discovery, not RFC 8414, so the key set is named directly); RS256 only, as that side signs."""
    jwks = JwksCache(issuer.rstrip("/") + "/" + ALTINN_JWKS_PATH, http=http)
    return TokenValidator(issuer, jwks=jwks, audience=audience, leeway=leeway, algorithms=("RS256",),
                          clock=clock or time.time)


def authorization_problem(request: Request, exc: Exception) -> Response:
    """AuthorizationUnavailable as a 503 problem document with Retry-After (RFC 9457 §3, RFC 9110 §10.2.3)."""
    if not isinstance(exc, AuthorizationUnavailable):
        raise exc
    body = {"type": "about:blank", "title": HTTPStatus(exc.status).phrase, "status": exc.status,
            "detail": exc.description}
    return JSONResponse(body, status_code=exc.status, media_type="application/problem+json",
                        headers={"Retry-After": str(exc.retry_after), "Cache-Control": "no-store"})


def install_authorization(app: Starlette) -> None:
    """Render AuthorizationUnavailable raised in a route as 503 + Retry-After (authorization_problem)."""
    app.add_exception_handler(AuthorizationUnavailable, authorization_problem)
