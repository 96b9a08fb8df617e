"""/api/v1/clients/{client_id}/jwks (docs/protocol.md §3.3): read, replace and remove a client's public key set.

Key input is read here, not by a pydantic body model, so that nothing of a refused key, and above all
no private key sent by mistake, can reach a validation error, a log record or the store.

Every answer carries the set's strong ETag; PUT, POST and DELETE honour If-Match (RFC 9110 §13.1.1): the check
and the write are one transaction, so of two changes made from the same read one is applied and the other gets
412 with nothing written. Without If-Match a change applies unconditionally, as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response

from portvakt.domain.clients import replace_client_keys
from portvakt.domain.errors import Invalid
from portvakt.domain.models import IntegrationType, KeyOrigin
from portvakt.domain.policy import Caller, changeable_client, visible_client
from portvakt.jose import JoseError, PublicKey, parse_public_key
from portvakt.oauth.certificates import CertificateNotAccepted

from .auth import CallerDep
from .client_schemas import ClientId, JwksIn, JwksOut, entity_tag, jwks_out
from .deps import actor, now, reading, runtime, writing
from .problems import ProblemError, responses

router = APIRouter(tags=["client keys"])
MAX_BODY = 64 * 1024
JSON_TYPE = "application/json"
PEM_TYPE = "application/x-pem-file"
_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {
        JSON_TYPE: {"schema": JwksIn.model_json_schema()},
        PEM_TYPE: {"schema": {"type": "string", "description": "One PEM public key or PEM X.509 certificate."}},
    }}}


#: One entity tag of an If-Match list (RFC 9110 §8.8.3: [W/] DQUOTE *etagc DQUOTE), then a comma or the end.
_TAG = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)')
ETAG_HEADER = {"ETag": {"description": "The strong entity tag of this representation (RFC 9110 §8.8.3); send it "
                                        "in If-Match to change it only if it is still this one.",
                         "schema": {"type": "string"}}}


def if_match(request: Request, if_match: Annotated[str | None, Header(
        alias="If-Match", description="Change only if the current ETag is one of these (RFC 9110 §13.1.1); "
                                      "else 412 and nothing is written. `*`: any current representation.")] = None,
             ) -> str | None:
    """The If-Match field value, every field line of it joined (RFC 9110 §5.3); None when absent."""
    lines = request.headers.getlist("if-match")
    return ", ".join(lines) if lines else if_match


IfMatchDep = Annotated[str | None, Depends(if_match)]


def _tags(value: str) -> list[str]:
    """The strong entity tags of an If-Match list, weak ones left out (RFC 9110 §13.1.1 uses strong comparison,
    §8.8.3.2); anything but `*` or a list of entity tags is a 400."""
    tags: list[str] = []
    pos = 0
    while pos < len(value) or not value.strip():
        m = _TAG.match(value, pos)
        if m is None:
            raise ProblemError("malformed", 'If-Match must be * or a list of entity tags such as "a1b2" '
                                            "(RFC 9110 §13.1.1)")
        if m.group(1) is None:
            tags.append(f'"{m.group(2)}"')
        pos = m.end()
    return tags


def check_if_match(value: str | None, current: str, what: str) -> None:
    """RFC 9110 §13.1.1: with If-Match, go on only if `*` or one of its strong tags equals the current ETag; else the
    412 problem `precondition-failed` (RFC 9110 §15.5.13), raised inside the unit of work, which rolls back, so
    nothing is written. Absent, nothing is checked (clients that never read an ETag keep working)."""
    if value is None or value.strip() == "*":
        return
    if current not in _tags(value):
        raise ProblemError("precondition-failed", f"the {what} changed since it was read (its ETag is no longer the "
                           "one sent in If-Match); nothing was changed: read it again (GET), apply your change to "
                           "what it is now, and send that with the new ETag")


def precondition_responses(*kinds: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a change honouring If-Match: 200 with its ETag, 412, and the problem kinds given."""
    return {200: {"headers": ETAG_HEADER}, **responses("precondition-failed", *kinds)}


def with_etag(response: Response, shape: JwksOut | Any) -> None:
    """Set the representation's strong ETag on the answer (RFC 9110 §8.8.3)."""
    response.headers["etag"] = entity_tag(shape)


def _entries(body: bytes, media_type: str) -> Sequence[object]:
    """The key entries of a body: a JWK Set (`keys` may also hold a single entry), one JWK (an object
    without `keys`), or one raw PEM (RFC 7517 §5, RFC 7468)."""
    if media_type == PEM_TYPE:
        return [body]
    if media_type != JSON_TYPE and not media_type.endswith("+json"):
        raise ProblemError("unsupported-media-type", f"send {JSON_TYPE} (a JWK Set) or {PEM_TYPE} (one PEM key)")
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise ProblemError("malformed", "the body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise Invalid('the body must be a JWK Set: {"keys": [...]}', field="keys")
    keys = doc.get("keys", doc)
    if isinstance(keys, dict | str):
        return [keys]
    if not isinstance(keys, list):
        raise Invalid('the body must be a JWK Set: {"keys": [...]}', field="keys")
    return keys


def _parse(index: int, entry: object) -> PublicKey:
    """One entry as an RSA public key; refusals name the entry and never echo its content."""
    where = f"keys[{index}]"
    if not isinstance(entry, dict | str | bytes):
        raise Invalid(f"{where} must be a JWK object or a string holding a PEM public key or certificate",
                      field=where)
    try:
        return parse_public_key(entry)
    except JoseError as exc:
        raise Invalid(f"{where}: {exc}", field=where) from None


def _origin(index: int, entry: object) -> KeyOrigin | None:
    """docs/protocol.md §3.3 `origin` of one entry: how the key was made, if the entry says (a JWK member the API
    reads and never stores in the key; PEM has no place for it)."""
    value = entry.get("origin") if isinstance(entry, dict) else None
    if value is None:
        return None
    if not isinstance(value, str) or value not in {o.value for o in KeyOrigin}:
        allowed = ", ".join(o.value for o in KeyOrigin)
        raise Invalid(f'keys[{index}]: "origin" must be one of {allowed}', field=f"keys[{index}]")
    return KeyOrigin(value)


def key_origins(request: Request) -> dict[str, KeyOrigin]:
    """The origins the posted entries gave, by kid (read by posted_keys)."""
    found: dict[str, KeyOrigin] = getattr(request.state, "key_origins", {})
    return found


async def posted_keys(request: Request) -> list[PublicKey]:
    """The public keys of a POST/PUT body (docs/protocol.md §3.3), parsed before anything else sees the body; the
    entries' origins are kept for key_origins."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Invalid(f"the key set must be at most {MAX_BODY} bytes", field="keys")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    entries = _entries(body, media_type)
    keys = [_parse(i, e) for i, e in enumerate(entries)]
    origins = {k.kid: o for i, (k, e) in enumerate(zip(keys, entries, strict=True)) if (o := _origin(i, e))}
    request.state.key_origins = origins
    return keys


KeysDep = Annotated[list[PublicKey], Depends(posted_keys)]


@router.get("/clients/{client_id}/jwks", response_model=JwksOut, summary="Read a client's key set",
            responses={200: {"headers": ETAG_HEADER}, **responses("not-found")}, response_model_exclude_none=True)
def get_jwks(request: Request, response: Response, caller: CallerDep, client_id: ClientId) -> JwksOut:
    """docs/protocol.md §3.3 GET: the registered public keys with their expiry (`exp`), and the set's ETag."""
    with reading(request) as uow:
        out = jwks_out(visible_client(caller, uow.get_client(client_id), client_id))
    with_etag(response, out)
    return out


def _check_locks(request: Request, caller: Caller, client_id: str, keys: list[PublicKey]) -> None:
    """docs/protocol.md §3.3, §5.2 rule 6: a key with x5c is checked as an enterprise certificate of the client's
    org before anything is written (outside the transaction: the check may fetch a CRL)."""
    locking = [(i, k) for i, k in enumerate(keys) if "x5c" in k.jwk]
    if not locking:
        return
    with reading(request) as uow:
        client = changeable_client(caller, uow.get_client(client_id), client_id)
    if client.integration_type is IntegrationType.ALTINN_VIRKSYS:
        return  # the domain refuses a certificate on a system outright (docs/protocol.md §3.2)
    for i, key in locking:
        try:
            runtime(request).certificates.registrable(key.jwk, client.client_orgno, now(request))
        except CertificateNotAccepted as exc:
            raise Invalid(f"keys[{i}]: {exc}", field=f"keys[{i}]") from None


def _replace(request: Request, response: Response, caller: Caller, client_id: str, keys: list[PublicKey],
             expected: str | None) -> JwksOut:
    """POST and PUT: both replace the whole set (docs/protocol.md §3.3); every key expires a year from now. With
    If-Match, only if the set read in this same transaction still has that ETag (RFC 9110 §13.1.1)."""
    _check_locks(request, caller, client_id, keys)
    with writing(request) as uow:
        current = changeable_client(caller, uow.get_client(client_id), client_id)
        check_if_match(expected, entity_tag(jwks_out(current)), "key set")
        client = replace_client_keys(uow, client_id, [(k.kid, k.jwk) for k in keys], actor(caller), now(request),
                                     key_origins(request))
    out = jwks_out(client)
    with_etag(response, out)
    return out


_CHANGE_RESPONSES = precondition_responses("invalid", "forbidden", "not-found", "conflict", "unsupported-media-type")


@router.post("/clients/{client_id}/jwks", response_model=JwksOut, summary="Replace a client's key set",
             responses=_CHANGE_RESPONSES, openapi_extra=_BODY,
             response_model_exclude_none=True)
def post_jwks(request: Request, response: Response, caller: CallerDep, client_id: ClientId, keys: KeysDep,
              expected: IfMatchDep) -> JwksOut:
    """docs/protocol.md §3.3 POST: replace the whole set (≤ 5 RSA keys, unique kids); re-posting a key renews it."""
    return _replace(request, response, caller, client_id, keys, expected)


@router.put("/clients/{client_id}/jwks", response_model=JwksOut, summary="Replace a client's key set",
            responses=_CHANGE_RESPONSES, openapi_extra=_BODY,
            response_model_exclude_none=True)
def put_jwks(request: Request, response: Response, caller: CallerDep, client_id: ClientId, keys: KeysDep,
             expected: IfMatchDep) -> JwksOut:
    """docs/protocol.md §3.3 PUT: the same as POST (both replace the whole set)."""
    return _replace(request, response, caller, client_id, keys, expected)


@router.delete("/clients/{client_id}/jwks", response_model=JwksOut, summary="Remove a client's key set",
               responses=precondition_responses("forbidden", "not-found", "conflict"),
               response_model_exclude_none=True)
def delete_jwks(request: Request, response: Response, caller: CallerDep, client_id: ClientId,
                expected: IfMatchDep) -> JwksOut:
    """docs/protocol.md §3.3 DELETE, decision A15: replace the set with an empty one; 200 with `{"keys": []}`."""
    return _replace(request, response, caller, client_id, [], expected)
