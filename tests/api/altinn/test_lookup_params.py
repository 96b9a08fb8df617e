"""The lookup's parameters and scopes on the wire (docs/protocol.md §4.3, decision D9): `supplierorg` optional, and
the non-admin scope altinn:maskinporten/delegations seeing only what its org may see."""

from __future__ import annotations

from typing import Any

import pytest

from portvakt.domain.delegations import DELEGATIONS_LOOKUP
from portvakt.domain.orgno import is_valid_orgno
from tests.api.altinn.conftest import ADMIN, DELEGABLE, DW, Altinn
from tests.api.altinn.test_lookup import LOOKUP
from tests.api.altinn.test_schemes import problem
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR

DELEGATE = "/accessmanagement/api/v1/delegations"
READER = (DELEGATIONS_LOOKUP,)
BY_CONSUMER = {"consumerorg": CONSUMER, "scope": DELEGABLE}


@pytest.fixture
def two(altinn: Altinn, scheme: dict[str, Any]) -> list[str]:
    """CONSUMER delegates the scheme to VENDOR and to OTHER; the suppliers, sorted."""
    for supplier in (VENDOR, OTHER):
        r = altinn("POST", DELEGATE, CONSUMER, DW, json={"scheme_id": scheme["scheme_id"], "supplier_org": supplier})
        assert r.status_code == 201, r.text
    return sorted([VENDOR, OTHER])


def _suppliers(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return sorted(e["supplier_org"] for e in r.json())


def test_without_supplierorg_every_active_delegation_of_the_consumer(altinn: Altinn, two: list[str]) -> None:
    assert _suppliers(altinn("GET", LOOKUP, PROVIDER, ADMIN, params=BY_CONSUMER)) == two
    assert _suppliers(altinn("GET", LOOKUP, PROVIDER, ADMIN, params={**BY_CONSUMER, "supplierorg": ""})) == two
    assert _suppliers(altinn("GET", f"{LOOKUP}/", PROVIDER, ADMIN, params=BY_CONSUMER)) == two


def test_without_supplierorg_revoked_and_other_scopes_are_left_out(altinn: Altinn, two: list[str]) -> None:
    mine = altinn("GET", DELEGATE, CONSUMER, DW).json()
    altinn("DELETE", f"{DELEGATE}/{mine[0]['delegation_id']}", CONSUMER, DW)
    assert _suppliers(altinn("GET", LOOKUP, PROVIDER, ADMIN, params=BY_CONSUMER)) == [mine[1]["supplier_org"]]
    assert altinn("GET", LOOKUP, PROVIDER, ADMIN, params={**BY_CONSUMER, "scope": "brreg:test/read"}).json() == []
    assert altinn("GET", LOOKUP, PROVIDER, ADMIN, params={**BY_CONSUMER, "consumerorg": VENDOR}).json() == []


def test_non_admin_supplier_sees_only_its_own(altinn: Altinn, two: list[str]) -> None:
    assert _suppliers(altinn("GET", LOOKUP, VENDOR, READER, params=BY_CONSUMER)) == [VENDOR]
    assert _suppliers(altinn("GET", LOOKUP, OTHER, READER, params={**BY_CONSUMER, "supplierorg": VENDOR})) == []


def test_non_admin_consumer_sees_all_of_its_own(altinn: Altinn, two: list[str]) -> None:
    assert _suppliers(altinn("GET", LOOKUP, CONSUMER, READER, params=BY_CONSUMER)) == two


def test_non_admin_scope_owner_sees_all_of_its_scope(altinn: Altinn, two: list[str]) -> None:
    """Altinn 3 lets the org owning the scope's prefix look its delegations up (decision D9)."""
    assert _suppliers(altinn("GET", LOOKUP, PROVIDER, READER, params=BY_CONSUMER)) == two


def test_non_admin_third_party_sees_nothing(altinn: Altinn, two: list[str]) -> None:
    stranger = next(f"{n:08d}{c}" for n in range(10_000_000, 10_000_100) for c in "0123456789"
                    if is_valid_orgno(f"{n:08d}{c}") and f"{n:08d}{c}" not in (CONSUMER, VENDOR, OTHER, PROVIDER))
    assert altinn("GET", LOOKUP, stranger, READER, params=BY_CONSUMER).json() == []


@pytest.mark.parametrize("params", [{}, {"scope": DELEGABLE}, {"consumerorg": CONSUMER},
                                    {**BY_CONSUMER, "supplierorg": "123456789"},
                                    {**BY_CONSUMER, "supplierorg": "9" * 400}])
def test_400_still_for_a_missing_consumer_or_scope_or_a_bad_supplier(altinn: Altinn, params: dict[str, str]) -> None:
    for scopes in (ADMIN, READER):
        problem(altinn("GET", LOOKUP, CONSUMER, scopes, params=params), 400, "invalid")


@pytest.mark.parametrize("scopes", [(), DW, ("altinn:maskinporten/delegations.read",)])
def test_403_without_either_scope(altinn: Altinn, scopes: tuple[str, ...]) -> None:
    problem(altinn("GET", LOOKUP, CONSUMER, scopes, params=BY_CONSUMER), 403, "forbidden")
