"""/api/v1/clients/{client_id}/jwks (docs/protocol.md §3.3): read, replace and remove a client's public key set.

Key input is read here, not by a pydantic body model, so that nothing of a refused key, and above all
no private key sent by mistake, can reach a validation error, a log record or the store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from portvakt.domain.clients import replace_client_keys
from portvakt.domain.errors import Invalid
from portvakt.domain.models import IntegrationType
from portvakt.domain.policy import Caller, changeable_client, visible_client
from portvakt.jose import JoseError, PublicKey, parse_public_key
from portvakt.oauth.certificates import CertificateNotAccepted

from .auth import CallerDep
from .client_schemas import ClientId, JwksIn, JwksOut, jwks_out
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


async def posted_keys(request: Request) -> list[PublicKey]:
    """The public keys of a POST/PUT body (docs/protocol.md §3.3), parsed before anything else sees the body."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Invalid(f"the key set must be at most {MAX_BODY} bytes", field="keys")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return [_parse(i, e) for i, e in enumerate(_entries(body, media_type))]


KeysDep = Annotated[list[PublicKey], Depends(posted_keys)]


@router.get("/clients/{client_id}/jwks", response_model=JwksOut, summary="Read a client's key set",
            responses=responses("not-found"), response_model_exclude_none=True)
def get_jwks(request: Request, caller: CallerDep, client_id: ClientId) -> JwksOut:
    """docs/protocol.md §3.3 GET: the registered public keys with their expiry (`exp`)."""
    with reading(request) as uow:
        return jwks_out(visible_client(caller, uow.get_client(client_id), client_id))


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


def _replace(request: Request, caller: Caller, client_id: str, keys: list[PublicKey]) -> JwksOut:
    """POST and PUT: both replace the whole set (docs/protocol.md §3.3); every key expires a year from now."""
    _check_locks(request, caller, client_id, keys)
    with writing(request) as uow:
        changeable_client(caller, uow.get_client(client_id), client_id)
        client = replace_client_keys(uow, client_id, [(k.kid, k.jwk) for k in keys], actor(caller), now(request))
    return jwks_out(client)


_CHANGE_RESPONSES = responses("invalid", "forbidden", "not-found", "conflict", "unsupported-media-type")


@router.post("/clients/{client_id}/jwks", response_model=JwksOut, summary="Replace a client's key set",
             responses=_CHANGE_RESPONSES, openapi_extra=_BODY,
             response_model_exclude_none=True)
def post_jwks(request: Request, caller: CallerDep, client_id: ClientId, keys: KeysDep) -> JwksOut:
    """docs/protocol.md §3.3 POST: replace the whole set (≤ 5 RSA keys, unique kids); re-posting a key renews it."""
    return _replace(request, caller, client_id, keys)


@router.put("/clients/{client_id}/jwks", response_model=JwksOut, summary="Replace a client's key set",
            responses=_CHANGE_RESPONSES, openapi_extra=_BODY,
            response_model_exclude_none=True)
def put_jwks(request: Request, caller: CallerDep, client_id: ClientId, keys: KeysDep) -> JwksOut:
    """docs/protocol.md §3.3 PUT: the same as POST (both replace the whole set)."""
    return _replace(request, caller, client_id, keys)


@router.delete("/clients/{client_id}/jwks", response_model=JwksOut, summary="Remove a client's key set",
               responses=responses("forbidden", "not-found", "conflict"), response_model_exclude_none=True)
def delete_jwks(request: Request, caller: CallerDep, client_id: ClientId) -> JwksOut:
    """docs/protocol.md §3.3 DELETE, decision A15: replace the set with an empty one; 200 with `{"keys": []}`."""
    return _replace(request, caller, client_id, [])
