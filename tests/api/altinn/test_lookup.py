"""The lookup the token service asks, on the wire exactly as docs/protocol.md §4.2: 200 shape, 400, 401, 403."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.altinn.conftest import ADMIN, DELEGABLE, DW, SW, Altinn
from tests.api.altinn.test_schemes import problem
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR

LOOKUP = "/accessmanagement/api/v1/maskinporten/delegations"
OPERATOR_ORG = OTHER  # any org whose token carries delegations.admin
PARAMS = {"supplierorg": VENDOR, "consumerorg": CONSUMER, "scope": DELEGABLE}


@pytest.fixture
def delegation(altinn: Altinn, scheme: dict[str, Any]) -> dict[str, Any]:
    r = altinn("POST", "/accessmanagement/api/v1/delegations", CONSUMER, DW,
               json={"scheme_id": scheme["scheme_id"], "supplier_org": VENDOR})
    assert r.status_code == 201
    body: dict[str, Any] = r.json()
    return body


def test_200_answers_the_altinn_shape(altinn: Altinn, scheme: dict[str, Any], delegation: dict[str, Any]) -> None:
    r = altinn("GET", LOOKUP, OPERATOR_ORG, ADMIN, params=PARAMS)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.json() == [{"consumer_org": CONSUMER, "supplier_org": VENDOR,
                         "delegation_scheme_Id": scheme["scheme_id"], "scopes": [DELEGABLE],
                         "created": delegation["created"], "resourceid": scheme["scheme_id"]}]
    assert altinn("GET", f"{LOOKUP}/", OPERATOR_ORG, ADMIN, params=PARAMS).json() == r.json(), "spec's trailing /"


@pytest.mark.parametrize("change", [{"scope": "brreg:test/read"}, {"supplierorg": OTHER},
                                    {"consumerorg": VENDOR, "supplierorg": CONSUMER}])
def test_200_empty_when_not_delegated(altinn: Altinn, delegation: dict[str, Any], change: dict[str, str]) -> None:
    r = altinn("GET", LOOKUP, OPERATOR_ORG, ADMIN, params={**PARAMS, **change})
    assert r.status_code == 200 and r.json() == []


def test_revoked_and_deactivated_are_gone(altinn: Altinn, scheme: dict[str, Any],
                                          delegation: dict[str, Any]) -> None:
    altinn("DELETE", f"/accessmanagement/api/v1/delegations/{delegation['delegation_id']}", CONSUMER, DW)
    assert altinn("GET", LOOKUP, OPERATOR_ORG, ADMIN, params=PARAMS).json() == []
    altinn("POST", "/accessmanagement/api/v1/delegations", CONSUMER, DW,
           json={"scheme_id": scheme["scheme_id"], "supplier_org": VENDOR})
    assert len(altinn("GET", LOOKUP, OPERATOR_ORG, ADMIN, params=PARAMS).json()) == 1
    altinn("DELETE", f"/maskinporten-api/delegationSchemes/{scheme['scheme_id']}", PROVIDER, SW)
    assert altinn("GET", LOOKUP, OPERATOR_ORG, ADMIN, params=PARAMS).json() == []


@pytest.mark.parametrize("params", [
    {}, {"supplierorg": VENDOR, "scope": DELEGABLE},
    {"supplierorg": VENDOR, "consumerorg": CONSUMER}, {**PARAMS, "supplierorg": "123456789"},
    {**PARAMS, "consumerorg": "abc"}, {**PARAMS, "consumerorg": ""}, {**PARAMS, "scope": "no scope"},
    {**PARAMS, "scope": "x" * 400}, {**PARAMS, "supplierorg": "٣١٤٣٣٠٨٩٧"},
])
def test_400_when_a_parameter_is_missing_or_invalid(altinn: Altinn, params: dict[str, str]) -> None:
    problem(altinn("GET", LOOKUP, OPERATOR_ORG, ADMIN, params=params), 400, "invalid")


def test_401_without_token_even_without_parameters(altinn: Altinn) -> None:
    for params in (PARAMS, {}):
        r = altinn("GET", LOOKUP, None, params=params)
        problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("scopes", [(), DW, SW, ("idporten:dcr.read",)])
def test_403_without_the_admin_scope(altinn: Altinn, scopes: tuple[str, ...]) -> None:
    for params in (PARAMS, {}):
        problem(altinn("GET", LOOKUP, CONSUMER, scopes, params=params), 403, "forbidden")
