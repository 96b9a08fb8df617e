"""ETag and If-Match on a client's key set and on the client (RFC 9110 §8.8.3, §13.1.1; docs/protocol.md §3.2, §3.3):
a stale If-Match is a 412 problem with nothing written, and two additions made from the same read give one 200 and
one 412 on every store, so no key is lost."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from portvakt.jose import PrivateKeyHandle
from tests.api.v1.conftest import api, token_for
from tests.api.v1.stores import STORES, world_on_store
from tests.api.v1.test_clients import MODIFY, READ, WRITE, Api, create
from tests.conftest import VENDOR, World

#: The self-service API's fixtures, used here outside tests/api/v1, and `world` on the store a test asks for.
__all__ = ["api", "token_for", "world_on_store"]
PRECONDITION = "/problems/precondition-failed"


def _jwks(client_id: str) -> str:
    return f"/clients/{client_id}/jwks"


def _key(handle: PrivateKeyHandle, kid: str) -> dict[str, Any]:
    """The handle's public JWK under another kid (each kid names one key across all clients)."""
    return {**handle.public_jwk, "kid": kid}


def _read(api: Api, client_id: str) -> tuple[list[dict[str, Any]], str]:
    """GET the key set: its keys as they can be posted again (without `exp`, `origin`) and its ETag."""
    r = api("GET", _jwks(client_id), VENDOR, (READ,))
    assert r.status_code == 200, r.text
    keys = [{k: v for k, v in key.items() if k not in ("exp", "origin")} for key in r.json()["keys"]]
    return keys, r.headers["etag"]


def _precondition_failed(r: Any) -> None:
    """Assert the 412 problem document of RFC 9457 / RFC 9110 §15.5.13."""
    assert r.status_code == 412, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == PRECONDITION and body["status"] == 412
    assert "If-Match" in body["detail"] and "nothing was changed" in body["detail"]


@pytest.fixture
def system(api: Api) -> str:
    """A new client of the vendor, without keys."""
    return str(create(api, integration_type="altinn_virksys")["client_id"])


def test_the_key_set_has_a_strong_etag_that_follows_its_content(api: Api, system: str,
                                                                 rsa_keys: list[PrivateKeyHandle]) -> None:
    _, empty = _read(api, system)
    assert empty.startswith('"') and empty.endswith('"') and not empty.startswith("W/")
    assert _read(api, system)[1] == empty, "the same set, the same tag"
    r = api("PUT", _jwks(system), VENDOR, (WRITE,), json={"keys": [_key(rsa_keys[1], "etag-a")]})
    assert r.status_code == 200, r.text
    keys, one = _read(api, system)
    assert one != empty and r.headers["etag"] == one, "a change answers with the new set's tag"
    assert [k["kid"] for k in keys] == ["etag-a"]


def test_if_match_with_the_current_etag_changes_the_set(api: Api, system: str,
                                                       rsa_keys: list[PrivateKeyHandle]) -> None:
    keys, tag = _read(api, system)
    r = api("PUT", _jwks(system), VENDOR, (WRITE,), json={"keys": [*keys, _key(rsa_keys[1], "match-a")]},
            headers={"if-match": tag})
    assert r.status_code == 200, r.text
    assert [k["kid"] for k in r.json()["keys"]] == ["match-a"]


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_a_stale_if_match_is_412_and_writes_nothing(api: Api, system: str, rsa_keys: list[PrivateKeyHandle],
                                                    method: str) -> None:
    _, stale = _read(api, system)
    assert api("PUT", _jwks(system), VENDOR, (WRITE,),
               json={"keys": [_key(rsa_keys[1], f"stale-{method}")]}).status_code == 200
    before = _read(api, system)
    body = {} if method == "DELETE" else {"json": {"keys": [_key(rsa_keys[2], f"late-{method}")]}}
    _precondition_failed(api(method, _jwks(system), VENDOR, (WRITE,), headers={"if-match": stale}, **body))
    assert _read(api, system) == before, "nothing was written"


def test_if_match_lists_star_and_weak_tags(api: Api, system: str, rsa_keys: list[PrivateKeyHandle]) -> None:
    """RFC 9110 §13.1.1: `*` matches any current set, a list matches if one member does, and the comparison is
    strong, so a weak tag never matches."""
    _, tag = _read(api, system)
    put = {"json": {"keys": [_key(rsa_keys[1], "list-a")]}}
    _precondition_failed(api("PUT", _jwks(system), VENDOR, (WRITE,), headers={"if-match": f"W/{tag}"}, **put))
    r = api("PUT", _jwks(system), VENDOR, (WRITE,), headers={"if-match": f'"other", {tag}'}, **put)
    assert r.status_code == 200, r.text
    r = api("PUT", _jwks(system), VENDOR, (WRITE,), headers={"if-match": "*"},
            json={"keys": [_key(rsa_keys[1], "list-b")]})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("value", ["abc", '"open', " "])
def test_a_malformed_if_match_is_400(api: Api, system: str, rsa_keys: list[PrivateKeyHandle], value: str) -> None:
    r = api("PUT", _jwks(system), VENDOR, (WRITE,), headers={"if-match": value},
            json={"keys": [_key(rsa_keys[1], "malformed")]})
    assert r.status_code == 400 and r.json()["type"] == "/problems/malformed", r.text
    assert "If-Match" in r.json()["detail"]
    assert _read(api, system)[0] == []


def test_without_if_match_a_change_applies_as_before(api: Api, system: str,
                                                     rsa_keys: list[PrivateKeyHandle]) -> None:
    _read(api, system)
    for kid in ("plain-a", "plain-b"):
        r = api("POST", _jwks(system), VENDOR, (WRITE,), json={"keys": [_key(rsa_keys[1], kid)]})
        assert r.status_code == 200, r.text
    assert [k["kid"] for k in _read(api, system)[0]] == ["plain-b"]


def test_an_unknown_client_is_404_before_the_precondition(api: Api, rsa_keys: list[PrivateKeyHandle]) -> None:
    """RFC 9110 §13.2.1: preconditions are evaluated only where the request would otherwise succeed."""
    r = api("PUT", _jwks("no-such-client"), VENDOR, (WRITE,), headers={"if-match": '"x"'},
            json={"keys": [_key(rsa_keys[1], "nobody")]})
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("world", STORES, indirect=True)
def test_two_additions_from_one_read_give_one_200_and_one_412_and_lose_no_key(
        api: Api, world: World, rsa_keys: list[PrivateKeyHandle]) -> None:
    """The check and the write are one transaction: the second writer's If-Match names the set before the first
    writer's key, so it is refused; reading again and retrying keeps both keys."""
    system = str(create(api, integration_type="altinn_virksys")["client_id"])

    def add(kid: str, keys: list[dict[str, Any]], tag: str, start: threading.Barrier) -> Any:
        start.wait()
        return api("PUT", _jwks(system), VENDOR, (WRITE,), json={"keys": [*keys, _key(rsa_keys[1], kid)]},
                   headers={"if-match": tag})

    for round_ in range(4):
        keys, tag = _read(api, system)
        kids = [f"burst-{round_}-a", f"burst-{round_}-b"]
        start = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(add, kids, (keys, keys), (tag, tag), (start, start)))
        assert sorted(r.status_code for r in answers) == [200, 412], [r.text for r in answers]
        _precondition_failed(next(r for r in answers if r.status_code == 412))
        loser = kids[[r.status_code for r in answers].index(412)]
        keys, tag = _read(api, system)
        r = api("PUT", _jwks(system), VENDOR, (WRITE,), json={"keys": [*keys, _key(rsa_keys[2], loser)]},
                headers={"if-match": tag})
        assert r.status_code == 200, r.text
        assert sorted(k["kid"] for k in r.json()["keys"]) == sorted(kids)
        assert api("PUT", _jwks(system), VENDOR, (WRITE,), json={"keys": []}).status_code == 200


def test_the_client_has_its_own_etag_and_patch_honours_if_match(api: Api, system: str) -> None:
    path = f"/clients/{system}"
    r = api("GET", path, VENDOR, (READ,))
    tag = r.headers["etag"]
    assert tag.startswith('"') and api("GET", path, VENDOR, (READ,)).headers["etag"] == tag
    r = api("PATCH", path, VENDOR, (MODIFY,), json={"client_name": "Renamed"}, headers={"if-match": tag})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] != tag and r.headers["etag"] == api("GET", path, VENDOR, (READ,)).headers["etag"]
    _precondition_failed(api("PATCH", path, VENDOR, (MODIFY,), json={"client_name": "Lost"},
                             headers={"if-match": tag}))
    _precondition_failed(api("DELETE", path, VENDOR, (MODIFY,), headers={"if-match": tag}))
    now = api("GET", path, VENDOR, (READ,)).json()
    assert now["client_name"] == "Renamed" and now["active"] is True, "nothing was written"
    r = api("DELETE", path, VENDOR, (MODIFY,), headers={"if-match": r.headers["etag"]})
    assert r.status_code == 200 and r.json()["active"] is False


def test_the_openapi_document_names_etag_if_match_and_412(world: World) -> None:
    doc = world.http.get("/api/v1/openapi.json").json()
    for method in ("put", "post", "delete"):
        op = doc["paths"]["/clients/{client_id}/jwks"][method]
        assert "412" in op["responses"] and "ETag" in op["responses"]["200"]["headers"]
        assert any(p["name"] == "If-Match" and p["in"] == "header" for p in op["parameters"])
    assert "ETag" in doc["paths"]["/clients/{client_id}/jwks"]["get"]["responses"]["200"]["headers"]
    assert "412" in doc["paths"]["/clients/{client_id}"]["patch"]["responses"]
