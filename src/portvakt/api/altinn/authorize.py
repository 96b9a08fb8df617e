"""The decision point API providers ask (docs/protocol.md §6.6): may this system user do this action on this resource
(or with this access package) for this party? A XACML 3.0 JSON request in, Permit or NotApplicable out."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from portvakt.domain.altinn_errors import AltinnValidation, ValidationError
from portvakt.domain.orgno import is_valid_orgno
from portvakt.domain.policy import Caller
from portvakt.domain.systemregister import AUTHORIZE
from portvakt.domain.systemusers import permits

from ..v1.problems import ProblemError
from .auth import with_scope
from .deps import reading
from .systemusers import NO_STORE, documented

__all__ = ["ACCESS_PACKAGE", "ACTION_ID", "MAX_ATTRIBUTES", "MAX_BODY", "PARTY", "RESOURCE", "SYSTEM_USER",
           "Question", "read_question", "router"]

log = logging.getLogger("portvakt.altinn")
router = APIRouter(prefix="/authorization/api/v1", tags=["authorization"])
AuthorizerDep = Annotated[Caller, Depends(with_scope(AUTHORIZE))]

SYSTEM_USER = "urn:altinn:systemuser:uuid"
ACTION_ID = "urn:oasis:names:tc:xacml:1.0:action:action-id"
RESOURCE = "urn:altinn:resource"
ACCESS_PACKAGE = "urn:altinn:accesspackage"
PARTY = "urn:altinn:organization:identifier-no"
STATUS_OK = "urn:oasis:names:tc:xacml:1.0:status:ok"
#: docs/protocol.md §6.6 bounds: one decision request is a few hundred bytes and a handful of attributes.
MAX_BODY = 16 * 1024
MAX_ATTRIBUTES = 32
MAX_VALUE = 300
_CATEGORIES = ("AccessSubject", "Action", "Resource")


@dataclass(frozen=True, slots=True)
class Question:
    """What a decision request asks (docs/protocol.md §6.6)."""

    system_user_id: str
    action: str
    party: str
    resource: str | None
    package: str | None


class _Bad(Exception):
    """One reason a decision request is malformed, with the path of the offending member."""

    def __init__(self, title: str, path: str, code: str = "STD.VLD-00002") -> None:
        super().__init__(title)
        self.error = ValidationError(code, title, [path])


def _member(obj: Mapping[str, Any], name: str, path: str) -> Any:
    """The member `name` of a JSON object, its key matched without regard to case; None when absent; two keys
    differing only in case are ambiguous (400)."""
    found = [value for key, value in obj.items() if key.lower() == name.lower()]
    if len(found) > 1:
        raise _Bad(f"{name} is given more than once.", f"{path}/{name}")
    return found[0] if found else None


def _one(value: Any, path: str) -> Mapping[str, Any]:
    """A category: an object, or a list of exactly one object (docs/protocol.md §6.6)."""
    if isinstance(value, list):
        if len(value) != 1:
            raise _Bad("Exactly one element is expected (multiple requests are not supported).", path)
        value = value[0]
    if not isinstance(value, dict):
        raise _Bad("An object is expected.", path)
    return value


def _attributes(category: Mapping[str, Any], path: str, budget: list[int]) -> dict[str, str]:
    """A category's attributes, id (lower-cased) → value; each id at most once, values strings of bounded length."""
    raw = _member(category, "Attribute", path)
    if raw is None:
        return {}
    items = raw if isinstance(raw, list) else [raw]
    budget[0] -= len(items)
    if budget[0] < 0:
        raise _Bad(f"A request holds at most {MAX_ATTRIBUTES} attributes.", path)
    found: dict[str, str] = {}
    for i, item in enumerate(items):
        where = f"{path}/Attribute/{i}"
        if not isinstance(item, dict):
            raise _Bad("An attribute is an object.", where)
        attribute_id, value = _member(item, "AttributeId", where), _member(item, "Value", where)
        if not isinstance(attribute_id, str) or not 0 < len(attribute_id) <= MAX_VALUE:
            raise _Bad("AttributeId must be a string.", f"{where}/AttributeId")
        if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_VALUE:
            raise _Bad(f"Value must be a non-empty string of at most {MAX_VALUE} characters.", f"{where}/Value")
        key = attribute_id.strip().lower()
        if key in found:
            raise _Bad(f"{attribute_id} is given more than once.", where)
        found[key] = value.strip()
    return found


def _required(attributes: dict[str, str], attribute_id: str, path: str) -> str:
    value = attributes.get(attribute_id)
    if value is None:
        raise _Bad(f"The attribute {attribute_id} is required.", f"{path}/{attribute_id}", "STD.VLD-00000")
    return value


def read_question(doc: Any) -> Question:
    """docs/protocol.md §6.6: the question of a XACML JSON request `{"Request": {"AccessSubject", "Action",
    "Resource"}}` (keys in any case; each category an object or a one-element list); AltinnValidation otherwise."""
    try:
        if not isinstance(doc, dict):
            raise _Bad("The body must be a JSON object.", "/")
        request = _member(doc, "Request", "")
        if not isinstance(request, dict):
            raise _Bad("The member Request (an object) is required.", "/Request", "STD.VLD-00000")
        budget = [MAX_ATTRIBUTES]
        found: dict[str, dict[str, str]] = {}
        for name in _CATEGORIES:
            path = f"/Request/{name}"
            value = _member(request, name, "/Request")
            if value is None:
                raise _Bad(f"The member {name} is required.", path, "STD.VLD-00000")
            found[name] = _attributes(_one(value, path), path, budget)
        subject, action, resource = found["AccessSubject"], found["Action"], found["Resource"]
        party = _required(resource, PARTY, "/Request/Resource")
        if not is_valid_orgno(party):
            raise _Bad("The party must be a 9-digit organisation number.", f"/Request/Resource/{PARTY}")
        resource_id, package = resource.get(RESOURCE), resource.get(ACCESS_PACKAGE)
        if resource_id is None and package is None:
            raise _Bad(f"The resource needs {RESOURCE} or {ACCESS_PACKAGE}.", "/Request/Resource", "STD.VLD-00000")
        return Question(system_user_id=_required(subject, SYSTEM_USER, "/Request/AccessSubject"),
                        action=_required(action, ACTION_ID, "/Request/Action"), party=party, resource=resource_id,
                        package=package)
    except _Bad as exc:
        raise AltinnValidation([exc.error]) from None


async def _question(request: Request) -> Question:
    """The body, at most MAX_BODY bytes (413 otherwise), read as a decision request."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ProblemError("too-large", f"a decision request is at most {MAX_BODY} bytes")
    try:
        doc = json.loads(raw)
    except ValueError:
        raise AltinnValidation([ValidationError("STD.VLD-00001", "The body is not valid JSON.", ["/"])]) from None
    return read_question(doc)


def _answer(permit: bool) -> dict[str, Any]:
    """The XACML JSON response with one result (docs/protocol.md §6.6)."""
    return {"Response": [{"Decision": "Permit" if permit else "NotApplicable",
                          "Status": {"StatusCode": {"Value": STATUS_OK}}}]}


#: The request body as OpenAPI shows it (read by `_question`, not bound by the framework).
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": 'XACML 3.0 JSON: {"Request": {"AccessSubject", "Action", "Resource"}}'}}}}}
_ANSWER = {"type": "object", "required": ["Response"], "properties": {"Response": {"type": "array", "items": {
    "type": "object", "required": ["Decision"], "properties": {
        "Decision": {"type": "string", "enum": ["Permit", "NotApplicable"]}, "Status": {"type": "object"}}}}}}


@router.post("/authorize", responses={**documented(413), 200: {
                 "description": "The decision", "content": {"application/json": {"schema": _ANSWER}}}},
             openapi_extra=_BODY,
             summary="Decide whether a system user may act (XACML 3.0 JSON; Permit or NotApplicable)")
def authorize(request: Request, caller: AuthorizerDep,
              question: Annotated[Question, Depends(_question)]) -> JSONResponse:
    """docs/protocol.md §6.6: any organisation's own token with altinn:authorization/authorize; the answer says
    Permit or NotApplicable and nothing else (never why), so asking about another's system user reveals nothing
    beyond that."""
    with reading(request) as uow:
        permit = permits(uow, question.system_user_id, question.resource, question.action, question.party,
                         question.package)
    log.info("decision for %s: system user %s, party %s: %s", caller.client_id, question.system_user_id[:64],
             question.party, "Permit" if permit else "NotApplicable")
    return JSONResponse(_answer(permit), headers=NO_STORE)
