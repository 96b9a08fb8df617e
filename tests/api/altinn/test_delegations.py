"""/accessmanagement/api/v1: searching schemes, delegating, listing and revoking (docs/protocol.md §4.1 step 5)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.altinn.conftest import DELEGABLE, DW, SW, Altinn
from tests.api.altinn.test_schemes import problem
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR, World

BASE = "/accessmanagement/api/v1"
SEARCH = f"{BASE}/maskinporten/schemes"
DELEGATIONS = f"{BASE}/delegations"


def give(altinn: Altinn, scheme: dict[str, Any], supplier: str = VENDOR, consumer: str = CONSUMER) -> Any:
    return altinn("POST", DELEGATIONS, consumer, DW, json={"scheme_id": scheme["scheme_id"], "supplier_org": supplier})


def test_search_lists_active_schemes_to_any_authenticated_org(altinn: Altinn, scheme: dict[str, Any]) -> None:
    assert altinn("GET", SEARCH, OTHER).json() == [scheme]  # a token with no altinn scope at all
    assert altinn("GET", SEARCH, CONSUMER, DW, params={"q": "RETTIGHETS"}).json() == [scheme]
    assert altinn("GET", SEARCH, CONSUMER, DW, params={"q": "beneficial"}).json() == [scheme]
    assert altinn("GET", SEARCH, CONSUMER, DW, params={"q": "skatt"}).json() == []
    altinn("DELETE", f"/maskinporten-api/delegationSchemes/{scheme['scheme_id']}", PROVIDER, SW)
    assert altinn("GET", SEARCH, CONSUMER, DW).json() == []
    problem(altinn("GET", SEARCH, None), 401, "unauthorized")
    problem(altinn("GET", SEARCH, CONSUMER, DW, params={"q": "x" * 201}), 400, "invalid")


def test_delegate_201_then_idempotent_200(altinn: Altinn, scheme: dict[str, Any], world: World) -> None:
    r = give(altinn, scheme)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["consumer_org"], made["supplier_org"], made["scheme_id"]) == (CONSUMER, VENDOR, scheme["scheme_id"])
    assert made["scopes"] == [DELEGABLE] and made["title"] == scheme["title"] and made["active"] is True
    assert made["created_by"] == f"admin-{CONSUMER}" and made["revoked"] is None
    world.clock.advance(10)
    again = give(altinn, scheme)
    assert again.status_code == 200 and again.json() == made


def test_lists_by_role(altinn: Altinn, scheme: dict[str, Any]) -> None:
    made = give(altinn, scheme).json()
    assert altinn("GET", DELEGATIONS, CONSUMER, DW).json() == [made]
    assert altinn("GET", DELEGATIONS, CONSUMER, DW, params={"role": "supplier"}).json() == []
    seen_by_supplier = altinn("GET", DELEGATIONS, VENDOR, DW, params={"role": "supplier"}).json()
    assert seen_by_supplier == [{**made, "created_by": None}], "the consumer's client id is not the supplier's"
    assert altinn("GET", DELEGATIONS, VENDOR, DW).json() == []
    for role in ("consumer", "supplier"):
        assert altinn("GET", DELEGATIONS, OTHER, DW, params={"role": role}).json() == []
    problem(altinn("GET", DELEGATIONS, CONSUMER, DW, params={"role": "provider"}), 400, "invalid", "role")


def test_revoke_by_consumer_keeps_history(altinn: Altinn, scheme: dict[str, Any], world: World) -> None:
    made = give(altinn, scheme).json()
    world.clock.advance(30)
    r = altinn("DELETE", f"{DELEGATIONS}/{made['delegation_id']}", CONSUMER, DW)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["active"] is False and done["revoked"] is not None and done["revoked_by"] == f"admin-{CONSUMER}"
    assert altinn("GET", DELEGATIONS, CONSUMER, DW).json() == []
    assert altinn("GET", DELEGATIONS, CONSUMER, DW, params={"include_revoked": True}).json() == [done]
    assert altinn("DELETE", f"{DELEGATIONS}/{made['delegation_id']}", CONSUMER, DW).json() == done
    assert give(altinn, scheme).status_code == 201, "a new delegation after a revocation"


@pytest.mark.parametrize("who", [VENDOR, OTHER, PROVIDER])
def test_only_the_consumer_revokes(altinn: Altinn, scheme: dict[str, Any], who: str) -> None:
    made = give(altinn, scheme).json()
    problem(altinn("DELETE", f"{DELEGATIONS}/{made['delegation_id']}", who, DW), 404, "not-found")
    assert altinn("GET", DELEGATIONS, CONSUMER, DW).json() == [made]


@pytest.mark.parametrize("delegation_id", ["no-such", "a%00", "x" * 300])
def test_unknown_delegation_is_404(altinn: Altinn, delegation_id: str) -> None:
    problem(altinn("DELETE", f"{DELEGATIONS}/{delegation_id}", CONSUMER, DW), 404, "not-found")


@pytest.mark.parametrize(("body", "status", "kind"), [
    ({"supplier_org": CONSUMER}, 400, "invalid"), ({"supplier_org": "123456785"}, 400, "invalid"),
    ({"supplier_org": "12"}, 400, "invalid"), ({"scheme_id": "no-such"}, 404, "not-found"),
    ({"scheme_id": "a\u0000b"}, 404, "not-found"), ({"scheme_id": 7}, 400, "invalid"),
    ({"consumer_org": OTHER}, 400, "invalid"), ({"supplier_org": None}, 400, "invalid"),
])
def test_refused_delegations(altinn: Altinn, scheme: dict[str, Any], body: dict[str, Any], status: int,
                             kind: str) -> None:
    full = {"scheme_id": scheme["scheme_id"], "supplier_org": VENDOR, **body}
    problem(altinn("POST", DELEGATIONS, CONSUMER, DW, json=full), status, kind)


def test_deactivated_scheme_cannot_be_delegated(altinn: Altinn, scheme: dict[str, Any]) -> None:
    altinn("DELETE", f"/maskinporten-api/delegationSchemes/{scheme['scheme_id']}", PROVIDER, SW)
    problem(give(altinn, scheme), 404, "not-found")


@pytest.mark.parametrize(("method", "path"), [("GET", DELEGATIONS), ("POST", DELEGATIONS),
                                              ("DELETE", f"{DELEGATIONS}/x")])
def test_authorization(altinn: Altinn, method: str, path: str) -> None:
    kw = {"json": {"scheme_id": "x", "supplier_org": VENDOR}} if method == "POST" else {}
    problem(altinn(method, path, None, **kw), 401, "unauthorized")
    problem(altinn(method, path, CONSUMER, SW, **kw), 403, "forbidden")
