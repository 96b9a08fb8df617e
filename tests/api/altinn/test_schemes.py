"""/maskinporten-api/delegationSchemes on the wire (docs/protocol.md §4.1 step 2): historic body in, clean JSON out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.altinn.conftest import DELEGABLE, DW, HISTORIC, SW, Altinn
from tests.conftest import CONSUMER, PROVIDER, World

PATH = "/maskinporten-api/delegationSchemes"


def problem(r: Any, status: int, kind: str, field: str | None = None) -> dict[str, Any]:
    """A problem+json answer of this status and kind (naming the field, if given)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["type"] == f"/problems/{kind}", body
    if field is not None:
        assert any(e["field"].split(".")[0] == field for e in body["errors"]), body
    return body


def test_create_answers_the_clean_shape(scheme: dict[str, Any], world: World) -> None:
    assert set(scheme) == {"scheme_id", "owner_org", "scopes", "title", "description", "active", "created",
                           "last_updated"}
    assert scheme["owner_org"] == PROVIDER and scheme["scopes"] == [DELEGABLE] and scheme["active"] is True
    assert scheme["title"] == {"nb": "Reelle rettighetshavere - På vegne av", "nn": None,
                               "en": "Beneficial owners - on behalf of"}
    assert scheme["description"] == {"nb": "Gir leverandøren tilgang", "nn": None, "en": None}
    assert scheme["created"] == scheme["last_updated"]


def test_read_list_replace_deactivate(altinn: Altinn, scheme: dict[str, Any], world: World) -> None:
    one = f"{PATH}/{scheme['scheme_id']}"
    assert altinn("GET", one, PROVIDER, SW).json() == scheme
    assert altinn("GET", PATH, PROVIDER, SW).json() == [scheme]
    world.clock.advance(5)
    changed = {**scheme, "title": {"nb": "Ny tittel", "nn": "Ny tittel (nn)"}, "description": {}}
    r = altinn("PUT", one, PROVIDER, SW, json=changed)  # PUT accepts what GET returned
    assert r.status_code == 200, r.text
    assert r.json()["title"] == {"nb": "Ny tittel", "nn": "Ny tittel (nn)", "en": None}
    assert r.json()["created"] == scheme["created"] and r.json()["last_updated"] != scheme["last_updated"]
    r = altinn("DELETE", one, PROVIDER, SW)
    assert r.status_code == 200 and r.json()["active"] is False
    assert altinn("GET", PATH, PROVIDER, SW).json() == []
    assert [s["active"] for s in altinn("GET", PATH, PROVIDER, SW, params={"inactive": True}).json()] == [False]
    r = altinn("PUT", one, PROVIDER, SW, json={**HISTORIC, "active": True})
    assert r.status_code == 200 and r.json()["active"] is True


def test_another_orgs_scheme_is_404(altinn: Altinn, scheme: dict[str, Any]) -> None:
    one = f"{PATH}/{scheme['scheme_id']}"
    for method, kw in (("GET", {}), ("PUT", {"json": {**HISTORIC, "owner_org": CONSUMER}}), ("DELETE", {})):
        problem(altinn(method, one, CONSUMER, SW, **kw), 404, "not-found")
    assert altinn("GET", PATH, CONSUMER, SW).json() == []
    assert altinn("GET", one, PROVIDER, SW).json()["active"] is True


@pytest.mark.parametrize("scheme_id", ["no-such-id", "a%00b", "x" * 300, "%C3%A6%E2%80%8B", "..%2F..%2Fetc"])
def test_unknown_or_odd_ids_are_404(altinn: Altinn, scheme_id: str) -> None:
    for method, kw in (("GET", {}), ("PUT", {"json": HISTORIC}), ("DELETE", {})):
        assert altinn(method, f"{PATH}/{scheme_id}", PROVIDER, SW, **kw).status_code == 404


def test_owner_org_must_be_the_callers(altinn: Altinn) -> None:
    problem(altinn("POST", PATH, CONSUMER, SW, json=HISTORIC), 403, "forbidden")


def test_owner_org_defaults_to_the_caller(altinn: Altinn) -> None:
    body = {k: v for k, v in HISTORIC.items() if k != "owner_org"}
    assert altinn("POST", PATH, PROVIDER, SW, json=body).json()["owner_org"] == PROVIDER


@pytest.mark.parametrize("scope", ["brreg:test/read", "idporten:dcr.read", "brreg:missing", "bad scope"])
def test_only_own_delegable_scopes(altinn: Altinn, scope: str) -> None:
    body = problem(altinn("POST", PATH, PROVIDER, SW, json={**HISTORIC, "scopes": [scope]}), 400, "invalid",
                   "scopes")
    assert scope in body["detail"]


def test_another_orgs_delegable_scope_is_refused(altinn: Altinn) -> None:
    problem(altinn("POST", PATH, CONSUMER, SW, json={**HISTORIC, "owner_org": CONSUMER}), 400, "invalid",
            "scopes")


@pytest.mark.parametrize(("change", "field"), [
    ({"title": [{"code": "en", "value": "English only"}]}, "title"),
    ({"title": [{"code": "xx_XX", "value": "?"}]}, "title"),
    ({"title": [{"code": "nb_NO", "value": "a"}, {"code": "nb", "value": "b"}]}, "title"),
    ({"title": []}, "title"), ({"title": "plain"}, "title"), ({"title": [{"code": "nb"}]}, "title"),
    ({"title": [{"code": "nb", "value": "a\u0000"}]}, "title"),
    ({"description": [{"code": "nn_NO", "value": "Berre nynorsk"}]}, "description"),
    ({"default_language": "klingon"}, "default_language"), ({"scopes": []}, "scopes"),
    ({"scopes": "brreg:test/delegable"}, "scopes"), ({"unknown": 1}, "unknown"), ({"active": False}, "active"),
])
def test_invalid_bodies_are_400(altinn: Altinn, change: dict[str, Any], field: str) -> None:
    problem(altinn("POST", PATH, PROVIDER, SW, json={**HISTORIC, **change}), 400, "invalid", field)


def test_missing_title_and_broken_json(altinn: Altinn) -> None:
    problem(altinn("POST", PATH, PROVIDER, SW, json={"scopes": [DELEGABLE]}), 400, "invalid", "title")
    r = altinn("POST", PATH, PROVIDER, SW, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400


def test_scheme_id_in_put_body_is_immutable(altinn: Altinn, scheme: dict[str, Any]) -> None:
    r = altinn("PUT", f"{PATH}/{scheme['scheme_id']}", PROVIDER, SW, json={**HISTORIC, "scheme_id": "other"})
    problem(r, 400, "invalid", "scheme_id")


@pytest.mark.parametrize(("method", "path"), [("GET", PATH), ("POST", PATH), ("GET", f"{PATH}/x"),
                                              ("PUT", f"{PATH}/x"), ("DELETE", f"{PATH}/x")])
def test_authorization(altinn: Altinn, method: str, path: str) -> None:
    """No token: 401 with a Bearer challenge; a token without delegationSchemes.write: 403."""
    kw = {"json": HISTORIC} if method in ("POST", "PUT") else {}
    r = altinn(method, path, None, **kw)
    problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")
    problem(altinn(method, path, PROVIDER, DW, **kw), 403, "forbidden")
    r = altinn(method, path, None, headers={"authorization": "Bearer not.a.token"}, **kw)
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
    assert "not.a.token" not in r.text
