"""portvakt.resource's system users (docs/protocol.md §6.5, §6.6): reading the system user of a token, every way a
token names one badly, and the decision point's client against a fake transport, failing closed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.resource import (
    AltinnAuthorization,
    AuthorizationUnavailable,
    InvalidToken,
    SystemUserClaim,
    altinn_validator,
    install_authorization,
    system_user,
)
from portvakt.resource.systemuser import decision_request, read_decision
from portvakt.resource.token import access_token

from .conftest import CONSUMER, NOW, VENDOR, claims, org

SU_ID = "2b0e7a3c-5d1f-4e8a-9c6b-7f2d1a0e3b4c"
SYSTEM = f"{VENDOR}_invoicing"
BASE = "https://altinn.test/"
URL = "https://altinn.test/authorization/api/v1/authorize"
PERMIT = {"Response": [{"Decision": "Permit", "Status": {"StatusCode": {
    "Value": "urn:oasis:names:tc:xacml:1.0:status:ok"}}}]}
NOT_APPLICABLE = {"Response": [{"Decision": "NotApplicable"}]}
CLAIM = SystemUserClaim(SU_ID, SYSTEM, CONSUMER, "ref-1", VENDOR)


def detail(**over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"type": "urn:altinn:systemuser", "systemuser_org": org(CONSUMER), "systemuser_id": [SU_ID],
                         "system_id": SYSTEM, "externalRef": "ref-1"}
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


def token(details: Any) -> Any:
    return access_token(claims(authorization_details=details))


# Reading the system user.

def test_a_token_names_its_system_user_with_the_vendor_as_consumer() -> None:
    assert system_user(token([detail()])) == SystemUserClaim(SU_ID, SYSTEM, CONSUMER, "ref-1", VENDOR)


def test_an_exchanged_tokens_single_object_is_read_too() -> None:
    assert system_user(token(detail())) == CLAIM


def test_a_token_without_authorization_details_names_none() -> None:
    assert system_user(access_token(claims())) is None


def test_details_of_another_type_name_none() -> None:
    assert system_user(token([{"type": "urn:altinn:consent", "id": "x"}])) is None
    assert system_user(token([])) is None


def test_a_missing_external_ref_is_the_owners_orgno() -> None:
    assert system_user(token([detail(externalRef=None)])).external_ref == CONSUMER  # type: ignore[union-attr]
    assert system_user(token([detail(externalRef="")])).external_ref == CONSUMER  # type: ignore[union-attr]


def test_the_id_is_read_in_its_canonical_form_and_a_lower_case_id_member_is_accepted() -> None:
    found = system_user(token([detail(systemuser_id=[SU_ID.upper()],
                                      systemuser_org={"authority": "iso6523-actorid-upis", "id": f"0192:{CONSUMER}"})]))
    assert found == CLAIM


@pytest.mark.parametrize(("details", "message"), [
    ("urn:altinn:systemuser", "not an array of objects"),
    ([detail(), "x"], "not an array of objects"),
    ([{"systemuser_id": [SU_ID]}], 'has no "type"'),
    ([detail(), detail()], "more than one system user"),
    ([detail(system_id=None)], '"system_id"'),
    ([detail(system_id="")], '"system_id"'),
    ([detail(systemuser_id=None)], '"systemuser_id" is not an array of one id'),
    ([detail(systemuser_id=SU_ID)], '"systemuser_id" is not an array of one id'),
    ([detail(systemuser_id=[SU_ID, SU_ID])], '"systemuser_id" is not an array of one id'),
    ([detail(systemuser_id=[7])], '"systemuser_id" is not an array of one id'),
    ([detail(systemuser_id=["not-a-uuid"])], '"systemuser_id" is not a uuid'),
    ([detail(systemuser_org=None)], '"systemuser_org"'),
    ([detail(systemuser_org={"ID": f"0192:{CONSUMER}"})], '"systemuser_org"'),
    ([detail(systemuser_org={"authority": "other", "ID": f"0192:{CONSUMER}"})], '"systemuser_org"'),
    ([detail(systemuser_org=org("12345"))], '"systemuser_org"'),
    ([detail(externalRef=5)], '"externalRef" is not a string'),
])
def test_a_system_user_named_badly_is_an_invalid_token(details: Any, message: str) -> None:
    with pytest.raises(InvalidToken, match=message) as refused:
        system_user(token(details))
    assert refused.value.status == 401


# The decision point's client.

class FakePdp:
    """The decision point behind httpx.MockTransport: records requests, answers what it is told."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answer: Callable[[httpx.Request], httpx.Response] = lambda r: httpx.Response(200, json=PERMIT)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def client(self) -> AltinnAuthorization:
        return AltinnAuthorization(BASE, lambda: "pdp-token", http=httpx.Client(transport=httpx.MockTransport(
            self.handle)))

    @property
    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.requests[-1].content)
        return data


@pytest.fixture
def pdp() -> FakePdp:
    return FakePdp()


def test_a_permit_is_true_and_the_request_is_the_xacml_json_of_the_contract(pdp: FakePdp) -> None:
    assert pdp.client().permits(CLAIM, "app_reports", "write", party="910753614") is True
    sent = pdp.requests[-1]
    assert (sent.method, str(sent.url)) == ("POST", URL)
    assert sent.headers["authorization"] == "Bearer pdp-token"
    assert "ocp-apim-subscription-key" not in sent.headers
    assert pdp.body == {"Request": {
        "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": SU_ID}]}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "write",
                                   "DataType": "http://www.w3.org/2001/XMLSchema#string"}]}],
        "Resource": [{"Attribute": [{"AttributeId": "urn:altinn:resource", "Value": "app_reports"},
                                    {"AttributeId": "urn:altinn:organization:identifier-no",
                                     "Value": "910753614"}]}]}}


def test_the_party_defaults_to_the_owner_and_a_package_is_a_resource_attribute(pdp: FakePdp) -> None:
    assert pdp.client().permits(CLAIM, "app_reports", package="urn:altinn:accesspackage:skattnaering") is True
    attributes = pdp.body["Request"]["Resource"][0]["Attribute"]
    assert {"AttributeId": "urn:altinn:organization:identifier-no", "Value": CONSUMER} in attributes
    assert {"AttributeId": "urn:altinn:accesspackage", "Value": "urn:altinn:accesspackage:skattnaering"} in attributes
    assert pdp.body["Request"]["Action"][0]["Attribute"][0]["Value"] == "read"


def test_a_subscription_key_is_sent_for_altinns_platform(pdp: FakePdp) -> None:
    client = AltinnAuthorization(BASE, lambda: "t", subscription_key="sub-key",
                                 http=httpx.Client(transport=httpx.MockTransport(pdp.handle)))
    assert client.permits(CLAIM, "app_reports")
    assert pdp.requests[-1].headers["ocp-apim-subscription-key"] == "sub-key"


@pytest.mark.parametrize("answer", [
    NOT_APPLICABLE, {"Response": [{"Decision": "Deny"}]}, {"Response": [{"Decision": "Indeterminate"}]},
    {"Response": [{"Decision": "permit"}]}, {"Response": [{"Decision": "Permit"}, {"Decision": "NotApplicable"}]},
])
def test_anything_but_permit_is_false(pdp: FakePdp, answer: dict[str, Any]) -> None:
    pdp.answer = lambda r: httpx.Response(200, json=answer)
    assert pdp.client().permits(CLAIM, "app_reports") is False


def test_the_answers_members_are_read_without_regard_to_case() -> None:
    assert read_decision({"response": [{"decision": "Permit"}]}) is True
    assert read_decision({"RESPONSE": {"Decision": "Permit"}}) is True


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"Response": []}', b'{"Response": "Permit"}',
                                  b'{"Response": [{"Status": {}}]}', b'{"Response": [3]}', b'{"Decision": "Permit"}'])
def test_an_answer_that_is_no_decision_is_unavailable_never_permitted(pdp: FakePdp, body: bytes) -> None:
    pdp.answer = lambda r: httpx.Response(200, content=body)
    with pytest.raises(AuthorizationUnavailable):
        pdp.client().permits(CLAIM, "app_reports")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 503])
def test_a_refusal_or_failure_of_the_decision_point_is_unavailable(pdp: FakePdp, status: int) -> None:
    pdp.answer = lambda r: httpx.Response(status, json=PERMIT, headers={"retry-after": "17"})
    with pytest.raises(AuthorizationUnavailable) as refused:
        pdp.client().permits(CLAIM, "app_reports")
    assert (refused.value.status, refused.value.retry_after) == (503, 17)
    assert str(status) in refused.value.detail
    assert "pdp-token" not in refused.value.detail + refused.value.description


def test_a_retry_after_that_is_no_small_number_becomes_five_seconds(pdp: FakePdp) -> None:
    for value in ("soon", "0", "999999"):
        pdp.answer = lambda r, v=value: httpx.Response(503, headers={"retry-after": v})  # type: ignore[misc]
        with pytest.raises(AuthorizationUnavailable) as refused:
            pdp.client().permits(CLAIM, "app_reports")
        assert refused.value.retry_after == 5


def test_an_unreachable_or_slow_decision_point_is_unavailable(pdp: FakePdp) -> None:
    for error in (httpx.ConnectError("down"), httpx.ReadTimeout("slow")):
        def fail(request: httpx.Request, e: Exception = error) -> httpx.Response:
            raise e
        pdp.answer = fail
        with pytest.raises(AuthorizationUnavailable, match="not available") as refused:
            pdp.client().permits(CLAIM, "app_reports")
        assert type(error).__name__ in refused.value.detail


def test_an_oversized_answer_is_unavailable(pdp: FakePdp) -> None:
    pdp.answer = lambda r: httpx.Response(200, content=b'{"Response": [{"Decision": "Permit"}]}' + b" " * 70_000)
    with pytest.raises(AuthorizationUnavailable, match="not available"):
        pdp.client().permits(CLAIM, "app_reports")


def test_a_token_source_that_fails_is_unavailable_and_nothing_is_sent(pdp: FakePdp) -> None:
    def broken() -> str:
        raise RuntimeError("secret-material-in-message")
    client = AltinnAuthorization(BASE, broken, http=httpx.Client(transport=httpx.MockTransport(pdp.handle)))
    with pytest.raises(AuthorizationUnavailable) as refused:
        client.permits(CLAIM, "app_reports")
    assert pdp.requests == []
    assert "secret-material" not in refused.value.detail


@pytest.mark.parametrize("kwargs", [{"party": "12345"}, {"party": "abcdefghi"}, {"resource": ""},
                                    {"resource": "has space"}, {"action": ""}, {"package": "x" * 201}])
def test_a_malformed_question_is_a_value_error_before_anything_is_sent(pdp: FakePdp, kwargs: dict[str, str]) -> None:
    args: dict[str, Any] = {"resource": "app_reports", **kwargs}
    with pytest.raises(ValueError, match=r"party|resource|action|package"):
        pdp.client().permits(CLAIM, **args)
    assert pdp.requests == []


def test_the_client_refuses_a_bad_configuration() -> None:
    with pytest.raises(ValueError, match="http"):
        AltinnAuthorization("altinn.test", lambda: "t")
    with pytest.raises(ValueError, match="timeout"):
        AltinnAuthorization(BASE, lambda: "t", timeout=0)


def test_its_own_http_client_is_made_once_and_closed() -> None:
    client = AltinnAuthorization("http://127.0.0.1:9/", lambda: "t", timeout=0.2)
    with pytest.raises(AuthorizationUnavailable):
        client.permits(CLAIM, "app_reports")
    made = client._http
    assert made is not None
    client.close()
    assert made.is_closed and client._http is None


def test_decision_request_without_a_package_names_resource_and_party_only() -> None:
    body = decision_request(SU_ID, "r", "read", CONSUMER)
    assert [a["AttributeId"] for a in body["Request"]["Resource"][0]["Attribute"]] == [
        "urn:altinn:resource", "urn:altinn:organization:identifier-no"]


def test_unavailable_renders_as_503_with_retry_after_never_as_permitted(pdp: FakePdp) -> None:
    pdp.answer = lambda r: httpx.Response(503, headers={"retry-after": "9"})
    app = FastAPI()
    install_authorization(app)
    client = pdp.client()

    @app.get("/x")
    def route() -> dict[str, bool]:
        return {"permitted": client.permits(CLAIM, "app_reports")}

    resp = TestClient(app).get("/x")
    assert resp.status_code == 503
    assert resp.headers["retry-after"] == "9"
    assert resp.headers["cache-control"] == "no-store"
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json() == {"type": "about:blank", "title": "Service Unavailable", "status": 503,
                           "detail": "the authorization service is not available; try again later"}


# Altinn tokens from the exchange.

def test_altinn_validator_checks_an_exchanged_token_against_the_openid_jwks(rsa_keys: list[PrivateKeyHandle]) -> None:
    issuer = "https://altinn.test/authentication/api/v1/openid/"
    key = rsa_keys[1]
    seen: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"keys": [key.public_jwk]})

    validator = altinn_validator(issuer, http=httpx.Client(transport=httpx.MockTransport(serve)), clock=lambda: NOW)
    exchanged = claims(iss=issuer, aud=None, client_amr=None, authorization_details=detail(),
                       **{"urn:altinn:orgNumber": VENDOR, "urn:altinn:authlevel": 3, "nbf": NOW})
    found = validator.validate(Signer(key).sign(exchanged))
    assert seen == [issuer + ".well-known/openid-configuration/jwks"]
    assert found.consumer == VENDOR
    assert system_user(found) == CLAIM
    with pytest.raises(InvalidToken, match="alg"):
        validator.validate(Signer(key, alg="RS512").sign(exchanged))
