"""No organisation sees or changes another's scopes or access lists, whatever its token's scopes (docs/protocol.md
§3.4).

Where a refusal could reveal that a scope exists, another org's scope answers exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.v1.conftest import ALL_DCR
from tests.conftest import CONSUMER, PROVIDER, VENDOR, World

SW = "idporten:scopes.write"
TOKENS = pytest.mark.parametrize("scopes", [(), (SW,), ALL_DCR, (*ALL_DCR, SW)], ids=["none", "sw", "dcr", "both"])
Api = Callable[..., Any]
THEIRS, MISSING = "brreg:test/read", "brreg:no/such"

#: (method, path, body) of every operation that names one scope.
BY_NAME = [("GET", "/scopes", None), ("PUT", "/scopes", {"description": "mine now", "active": True}),
           ("DELETE", "/scopes", None), ("GET", "/scopes/access", None),
           ("PUT", f"/scopes/access/{VENDOR}", None), ("DELETE", f"/scopes/access/{VENDOR}", None),
           ("PUT", f"/scopes/access/{CONSUMER}", None)]


def state(world: World) -> tuple[Any, ...]:
    """What the provider's scope and access list look like in the store."""
    with world.store.begin() as uow:
        return uow.get_scope(THEIRS), tuple(uow.list_access(scope=THEIRS))


@TOKENS
@pytest.mark.parametrize(("method", "path", "body"), BY_NAME)
def test_another_orgs_scope_answers_like_a_missing_one(api: Api, world: World, scopes: tuple[str, ...],
                                                       method: str, path: str, body: Any) -> None:
    before = state(world)
    theirs = api(method, path, VENDOR, scopes, params={"scope": THEIRS}, json=body)
    missing = api(method, path, VENDOR, scopes, params={"scope": MISSING}, json=body)
    assert (theirs.status_code, theirs.json()["type"]) == (missing.status_code, missing.json()["type"])
    assert theirs.status_code == (404 if SW in scopes else 403), theirs.text
    assert PROVIDER not in theirs.text and "Test test/read" not in theirs.text
    assert state(world) == before


@TOKENS
def test_create_under_another_orgs_prefix_reveals_nothing(api: Api, world: World, scopes: tuple[str, ...]) -> None:
    before = state(world)
    taken, free = (api("POST", "/scopes", VENDOR, scopes, json={"prefix": "brreg", "subscope": sub, "description": "x"})
                   for sub in ("test/read", "no/such"))
    assert taken.status_code == free.status_code == 403
    assert taken.json()["type"] == free.json()["type"] == "/problems/forbidden"
    assert state(world) == before


@TOKENS
def test_own_list_never_shows_another_orgs_scopes(api: Api, scopes: tuple[str, ...]) -> None:
    r = api("GET", "/scopes", VENDOR, scopes, params={"inactive": "true"})
    assert r.status_code == (200 if SW in scopes else 403)
    if r.status_code == 200:
        assert r.json() == []


@TOKENS
def test_a_consumer_does_not_see_the_access_list_it_is_on(api: Api, scopes: tuple[str, ...]) -> None:
    r = api("GET", "/scopes/access", VENDOR, scopes, params={"scope": "brreg:test/short"})
    assert r.status_code in (403, 404) and VENDOR not in r.text


@TOKENS
def test_usable_scopes_are_the_own_orgs_only(api: Api, scopes: tuple[str, ...]) -> None:
    """/scopes/access/all answers for the token's org; CONSUMER's access to test/delegable is not VENDOR's."""
    r = api("GET", "/scopes/access/all", VENDOR, scopes)
    if not scopes:  # the endpoint names its scope: any admin scope
        assert r.status_code == 403
        return
    assert r.status_code == 200
    assert {a["consumer_orgno"] for a in r.json()} == {VENDOR}
    assert "brreg:test/delegable" not in [a["scope"] for a in r.json()]
