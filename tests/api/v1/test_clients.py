"""/api/v1/clients on the wire (docs/protocol.md §3.2): happy paths, listing, the supplier flow, lenient input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portvakt.domain.models import JWT_BEARER
from tests.conftest import CONSUMER, OTHER, VENDOR, World

Api = Callable[..., Any]
READ, MODIFY, WRITE, SUPPLIER = ("idporten:dcr.read", "idporten:dcr.modify", "idporten:dcr.write",
                                 "idporten:dcr.supplier")


def invalid(r: Any, field: str) -> dict[str, Any]:
    """Assert a 400 `/problems/invalid` whose errors name `field`; return the problem."""
    assert r.status_code == 400, r.text
    body: dict[str, Any] = r.json()
    assert body["type"] == "/problems/invalid"
    assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def create(api: Api, orgno: str = VENDOR, token: tuple[str, ...] = (WRITE,), **fields: Any) -> dict[str, Any]:
    """POST a client as `orgno` with a token carrying `token` scopes; return it (201 asserted)."""
    body = {"client_name": "Turboskatt", "scopes": ["brreg:test/open"], **fields}
    r = api("POST", "/clients", orgno, token, json=body)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def ids(r: Any) -> list[str]:
    """The client_ids of a list response."""
    assert r.status_code == 200, r.text
    return [c["client_id"] for c in r.json()]


def test_create_returns_the_full_model(api: Api) -> None:
    r = api("POST", "/clients", VENDOR, (WRITE,), json={
        "client_name": "Turboskatt", "description": "long text", "scopes": ["brreg:test/read"],
        "access_token_lifetime": 60, "client_uri": "https://turbo.example/"})
    assert r.status_code == 201
    c = r.json()
    assert r.headers["location"].endswith(f"/api/v1/clients/{c['client_id']}")
    assert c["client_orgno"] == VENDOR and c["supplier_orgno"] is None
    assert c["integration_type"] == "maskinporten" and c["application_type"] == "web"
    assert c["token_endpoint_auth_method"] == "private_key_jwt" and c["grant_types"] == [JWT_BEARER]
    assert c["scopes"] == ["brreg:test/read"] and c["access_token_lifetime"] == 60 and c["active"] is True
    assert c["description"] == "long text" and c["client_uri"] == "https://turbo.example/"
    assert c["created"] == c["last_updated"] and c["created"].endswith("Z")


def test_get_put_patch_delete(api: Api) -> None:
    c = create(api)
    path = f"/clients/{c['client_id']}"
    assert api("GET", path, VENDOR, (READ,)).json() == c
    r = api("PUT", path, VENDOR, (MODIFY,), json={"client_name": "Renamed", "scopes": ["brreg:test/read"]})
    assert r.status_code == 200 and r.json()["client_name"] == "Renamed" and r.json()["scopes"] == ["brreg:test/read"]
    r = api("PATCH", path, VENDOR, (MODIFY,), json={"description": "patched"})
    assert r.json()["description"] == "patched" and r.json()["client_name"] == "Renamed"
    assert r.json()["scopes"] == ["brreg:test/read"]
    r = api("DELETE", path, VENDOR, (MODIFY,))
    assert r.status_code == 200 and r.json()["active"] is False
    assert api("GET", path, VENDOR, (READ,)).json()["active"] is False


def test_put_is_a_full_replace(api: Api) -> None:
    c = create(api, description="will go", access_token_lifetime=50)
    r = api("PUT", f"/clients/{c['client_id']}", VENDOR, (WRITE,), json={"client_name": "Only name"})
    assert r.json()["description"] == "" and r.json()["scopes"] == [] and r.json()["access_token_lifetime"] is None


def test_put_accepts_a_get_response_sent_back(api: Api) -> None:
    """Docs tell users to strip created/last_updated before PUT; sending them back unchanged is fine too."""
    c = create(api, integration_type="altinn_virksys")
    r = api("PUT", f"/clients/{c['client_id']}", VENDOR, (WRITE,), json={**c, "description": "again"})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "again" and r.json()["integration_type"] == "altinn_virksys"


def test_unknown_fields_are_ignored(api: Api) -> None:
    c = create(api, created_date="2020-01-01", redirect_uris=["https://x"], sso_disabled=True)
    assert "created_date" not in c and "redirect_uris" not in c


def test_aliases_scope_description_and_jwt_bearer_token(api: Api) -> None:
    c = create(api, scopes=None, scope=["brreg:test/open", "brreg:test/read"], Description="Her kan det stå",
               grant_types=["jwt_bearer_token"])
    assert c["scopes"] == ["brreg:test/open", "brreg:test/read"] and c["description"] == "Her kan det stå"
    assert c["grant_types"] == [JWT_BEARER]
    c = create(api, scopes=["brreg:test/open"], scope="brreg:test/open")
    assert c["scopes"] == ["brreg:test/open"]


def test_duplicate_scopes_collapse(api: Api) -> None:
    assert create(api, scopes=["brreg:test/open", "brreg:test/open"])["scopes"] == ["brreg:test/open"]


def test_unchanged_put_writes_no_audit_event(api: Api, world: World) -> None:
    c = create(api)
    with world.store.begin() as uow:
        before = len(uow.list_audit(org=VENDOR, entity_key=c["client_id"]))
    r = api("PUT", f"/clients/{c['client_id']}", VENDOR, (WRITE,), json=c)
    assert r.json() == c
    with world.store.begin() as uow:
        assert len(uow.list_audit(org=VENDOR, entity_key=c["client_id"])) == before


def test_every_change_is_audited(api: Api, world: World) -> None:
    c = create(api)
    path = f"/clients/{c['client_id']}"
    api("PATCH", path, VENDOR, (WRITE,), json={"description": "x"})
    api("POST", f"{path}/jwks", VENDOR, (WRITE,), json={"keys": [{**world.key.public_jwk, "kid": "own-kid"}]})
    api("DELETE", path, VENDOR, (WRITE,))
    with world.store.begin() as uow:
        events = uow.list_audit(org=VENDOR, entity_key=c["client_id"])
    assert [e.action for e in reversed(events)] == ["client.create", "client.update", "client.keys.replace",
                                                     "client.deactivate"]
    assert all(e.actor_orgno == VENDOR and e.actor_client_id == f"admin-{VENDOR}" for e in events)


def test_delete_is_idempotent(api: Api) -> None:
    c = create(api)
    assert api("DELETE", f"/clients/{c['client_id']}", VENDOR, (WRITE,)).status_code == 200
    assert api("DELETE", f"/clients/{c['client_id']}", VENDOR, (WRITE,)).json()["active"] is False


def test_deactivated_client_cannot_change(api: Api, world: World) -> None:
    c = create(api)
    path = f"/clients/{c['client_id']}"
    api("DELETE", path, VENDOR, (WRITE,))
    for method, sub, body in (("PATCH", "", {"description": "x"}), ("PUT", "", {"client_name": "x"}),
                              ("POST", "/jwks", {"keys": [world.key.public_jwk]})):
        r = api(method, path + sub, VENDOR, (WRITE,), json=body)
        assert r.status_code == 409 and r.json()["type"] == "/problems/conflict"


def test_list_hides_deactivated_unless_inactive(api: Api, world: World) -> None:
    c = create(api)
    api("DELETE", f"/clients/{c['client_id']}", VENDOR, (WRITE,))
    assert c["client_id"] not in ids(api("GET", "/clients", VENDOR, (READ,)))
    assert world.client_id in ids(api("GET", "/clients", VENDOR, (READ,)))
    assert c["client_id"] in ids(api("GET", "/clients?inactive=true", VENDOR, (READ,)))
    assert c["client_id"] in ids(api("GET", "/clients?inactive=TRUE", VENDOR, (READ,)))


def test_list_filters_by_integration_type(api: Api, world: World) -> None:
    v = create(api, integration_type="altinn_virksys")
    assert ids(api("GET", "/clients?integration_type=altinn_virksys", VENDOR, (READ,))) == [v["client_id"]]
    assert ids(api("GET", "/clients?integration_type=maskinporten", VENDOR, (READ,))) == [world.client_id]


def test_list_pages_with_link_header(api: Api, world: World) -> None:
    made = {create(api)["client_id"] for _ in range(4)} | {world.client_id}
    seen: list[str] = []
    url: str | None = "/clients?limit=2"
    while url is not None:
        r = api("GET", url, VENDOR, (READ,))
        page = ids(r)
        assert len(page) <= 2
        seen += page
        link = r.headers.get("link")
        url = None
        if link is not None:
            target, rel = link.split(";")
            assert rel.strip() == 'rel="next"'
            url = target.strip("<> ").split("/api/v1", 1)[1]
    assert seen == sorted(made)


def test_list_exact_page_has_no_next_link(api: Api, world: World) -> None:
    create(api)
    r = api("GET", "/clients?limit=2", VENDOR, (READ,))
    assert len(ids(r)) == 2 and "link" not in r.headers


def test_supplier_creates_for_another_org(api: Api) -> None:
    c = create(api, VENDOR, (SUPPLIER,), client_orgno=CONSUMER, scopes=["brreg:test/delegable"])
    assert c["client_orgno"] == CONSUMER and c["supplier_orgno"] == VENDOR
    path = f"/clients/{c['client_id']}"
    assert api("GET", path, VENDOR, (SUPPLIER,)).status_code == 200
    assert api("GET", path, CONSUMER, (READ,)).json() == c
    assert c["client_id"] in ids(api("GET", "/clients", CONSUMER, (READ,)))
    assert ids(api("GET", f"/clients?client_orgno={CONSUMER}", VENDOR, (SUPPLIER,))) == [c["client_id"]]
    assert ids(api("GET", f"/clients?client_orgno={OTHER}", VENDOR, (SUPPLIER,))) == []
    r = api("PATCH", path, VENDOR, (SUPPLIER,), json={"description": "changed by the supplier"})
    assert r.status_code == 200 and r.json()["supplier_orgno"] == VENDOR
    assert api("DELETE", path, VENDOR, (SUPPLIER,)).json()["active"] is False


def test_supplier_list_mixes_own_and_supplied(api: Api, world: World) -> None:
    s = create(api, VENDOR, (SUPPLIER,), client_orgno=CONSUMER)
    both = ids(api("GET", "/clients", VENDOR, (READ, SUPPLIER)))
    assert both == sorted([s["client_id"], world.client_id])
    assert ids(api("GET", "/clients", VENDOR, (READ,))) == [world.client_id]
    assert ids(api("GET", "/clients", VENDOR, (SUPPLIER,))) == [s["client_id"]]
    assert ids(api("GET", f"/clients?client_orgno={VENDOR}", VENDOR, (READ, SUPPLIER))) == [world.client_id]


def test_supplier_may_name_its_own_org_with_dcr_write(api: Api) -> None:
    """The flow of docs/protocol.md §4.4: dcr.write + dcr.supplier, client_orgno = the vendor's own orgno."""
    c = create(api, VENDOR, (WRITE, SUPPLIER), client_orgno=VENDOR, integration_type="altinn_virksys")
    assert c["client_orgno"] == VENDOR and c["supplier_orgno"] is None


def test_read_only_scopes_cannot_change(api: Api, world: World) -> None:
    r = api("PATCH", f"/clients/{world.client_id}", VENDOR, (READ,), json={"description": "x"})
    assert r.status_code == 403 and r.json()["type"] == "/problems/forbidden"
    assert api("POST", "/clients", VENDOR, (READ, MODIFY), json={"client_name": "x"}).status_code == 403
    assert api("POST", "/clients", VENDOR, (WRITE,), json={"client_name": "x", "client_orgno": CONSUMER}
               ).status_code == 403


def test_list_without_dcr_scope_is_403(api: Api) -> None:
    assert api("GET", "/clients", VENDOR, ("idporten:scopes.write",)).status_code == 403


def test_patch_null_resets_nullable_fields_and_keeps_the_rest(api: Api) -> None:
    c = create(api, access_token_lifetime=30, client_uri="https://x.example/", scopes=["brreg:test/read"])
    r = api("PATCH", f"/clients/{c['client_id']}", VENDOR, (WRITE,),
            json={"access_token_lifetime": None, "client_uri": None, "scopes": None})
    assert r.status_code == 200
    assert r.json()["access_token_lifetime"] is None and r.json()["client_uri"] is None
    assert r.json()["scopes"] == ["brreg:test/read"]


def test_patch_with_merge_patch_media_type(api: Api, world: World) -> None:
    r = api("PATCH", f"/clients/{world.client_id}", VENDOR, (WRITE,), content=b'{"description": "mp"}',
            headers={"content-type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["description"] == "mp"
