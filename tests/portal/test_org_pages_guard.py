"""The access manager's and API provider admin's pages are guarded: the role for the chosen organisation is
checked before any API call (403 page otherwise), every POST needs the CSRF token, and API refusals or
failures become readable pages, never a 500."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from .orgstack import ADA, TOR, add_delegation, add_people, add_scheme, fail_when, log_in
from .stack import READ_SCOPE, VENDOR, Stack

DELEGATION_PAGES = ["/portal/delegations", "/portal/delegations/new", "/portal/delegations/some-id/revoke"]
ACCESS_PAGES = ["/portal/scopes", f"/portal/scopes/access?scope={READ_SCOPE}",
                f"/portal/scopes/access/revoke?scope={READ_SCOPE}&orgno={VENDOR}"]
DELEGATION_POSTS = ["/portal/delegations/new", "/portal/delegations/confirm", "/portal/delegations/some-id/revoke"]
ACCESS_POSTS = ["/portal/scopes/access/grant", "/portal/scopes/access/grant/confirm", "/portal/scopes/access/revoke"]
#: The API paths these pages use; none may be called for a person without the role.
ORG_APIS = ("/accessmanagement/api/v1/delegations", "/accessmanagement/api/v1/maskinporten", "/organisations/",
            "/api/v1/scopes", "/maskinporten-api/")


def org_api_calls(stack: Stack) -> list[str]:
    return [f"{r.method} {r.url.path}" for r in stack.recorder.requests if any(p in r.url.path for p in ORG_APIS)]


def problem(status: int, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"type": "/problems/x", "title": "Refused", "status": status, "detail": detail},
                          headers={"content-type": "application/problem+json"})


@pytest.mark.parametrize(("username", "pages", "posts"), [
    ("ida@vendor.test", DELEGATION_PAGES + ACCESS_PAGES, DELEGATION_POSTS + ACCESS_POSTS),
    (TOR, ACCESS_PAGES, ACCESS_POSTS),
    (ADA, DELEGATION_PAGES, DELEGATION_POSTS),
])
def test_without_the_role_it_is_403_and_no_api_is_called(stack: Stack, username: str, pages: list[str],
                                                         posts: list[str]) -> None:
    add_people(stack)
    if username in (TOR, ADA):
        log_in(stack, username)
    else:
        assert stack.login(username).status_code == 303
    for path in pages:
        resp = stack.browser.get(path)
        assert resp.status_code == 403, path
        assert "Du har ikke rollen som trengs for denne siden" in resp.text
    for path in posts:
        resp = stack.post(path, {"scheme_id": "x", "supplier_org": VENDOR, "scope": READ_SCOPE, "orgno": VENDOR})
        assert resp.status_code == 403, path
    assert org_api_calls(stack) == []


def test_signed_out_people_go_to_the_login_page(stack: Stack) -> None:
    for path in DELEGATION_PAGES + ACCESS_PAGES:
        resp = stack.browser.get(path, follow_redirects=False)
        assert resp.status_code == 303, path
        assert resp.headers["location"] == "/portal/login?next=" + quote(path, safe=""), path  # back there after
    assert org_api_calls(stack) == []


@pytest.mark.parametrize("token", [None, "", "wrong"])
@pytest.mark.parametrize(("username", "path"), [(TOR, p) for p in DELEGATION_POSTS] + [(ADA, p) for p in ACCESS_POSTS])
def test_every_post_needs_the_csrf_token(stack: Stack, username: str, path: str, token: str | None) -> None:
    add_people(stack)
    log_in(stack, username)
    data = {"scheme_id": add_scheme(stack, {"nb": "Ordning"}), "supplier_org": VENDOR, "scope": READ_SCOPE,
            "orgno": VENDOR}
    if token is not None:
        data["csrf_token"] = token
    resp = stack.browser.post(path, data=data, follow_redirects=False)
    assert resp.status_code == 403 and "sikkerhetskode" in resp.text
    assert org_api_calls(stack) == []


@pytest.mark.parametrize(("username", "paths"), [
    (TOR, ["/portal/delegations", "/portal/delegations/new"]),
    (ADA, ["/portal/scopes", f"/portal/scopes/access?scope={READ_SCOPE}"]),
])
def test_every_form_on_the_pages_carries_the_token(stack: Stack, username: str, paths: list[str]) -> None:
    add_people(stack)
    log_in(stack, username)
    for path in paths:
        html = stack.browser.get(path).text
        assert html.count('name="csrf_token"') == html.count('method="post"'), path


@pytest.mark.parametrize("failure", ["500", "shape", "connect"])
def test_failing_apis_give_a_readable_503(stack: Stack, failure: str) -> None:
    add_people(stack)
    log_in(stack, TOR)

    def broken(request: httpx.Request) -> httpx.Response | None:
        if "/accessmanagement/api/v1/delegations" not in request.url.path:
            return None
        if failure == "connect":
            raise httpx.ConnectError("refused", request=request)
        return problem(500, "internal 1234") if failure == "500" else httpx.Response(200, json={"odd": True})

    fail_when(stack, broken)
    resp = stack.browser.get("/portal/delegations")
    assert resp.status_code == 503
    assert "Portalen får ikke kontakt med tjenestene" in resp.text and "internal 1234" not in resp.text


def test_a_refused_delegation_is_a_readable_message(stack: Stack) -> None:
    add_people(stack)
    scheme = add_scheme(stack, {"nb": "Ordning"})
    log_in(stack, TOR)
    fail_when(stack, lambda r: problem(400, "the scheme was just deactivated") if r.method == "POST"
              and r.url.path.endswith("/delegations") else None)
    resp = stack.post("/portal/delegations/confirm", {"scheme_id": scheme, "supplier_org": VENDOR})
    assert resp.status_code == 400
    assert 'role="alert"' in resp.text
    assert "Tjenesten avviste forespørselen: the scheme was just deactivated" in resp.text


def test_a_refused_grant_is_tied_to_the_orgno_field(stack: Stack) -> None:
    add_people(stack)
    log_in(stack, ADA)
    fail_when(stack, lambda r: problem(400, "not now") if r.method == "PUT" else None)
    resp = stack.post("/portal/scopes/access/grant/confirm", {"scope": READ_SCOPE, "orgno": VENDOR})
    assert resp.status_code == 400
    assert 'id="orgno-error" data-color="danger">Tjenesten avviste forespørselen: not now' in resp.text


def test_a_failing_revoke_is_a_503_and_the_delegation_stays(stack: Stack) -> None:
    add_people(stack)
    found = add_delegation(stack, add_scheme(stack, {"nb": "Ordning"}))
    log_in(stack, TOR)
    fail_when(stack, lambda r: problem(503, "down") if r.method == "DELETE" else None)
    assert stack.post(f"/portal/delegations/{found}/revoke", {}).status_code == 503
    with stack.store.read() as uow:
        still = uow.get_delegation(found)
    assert still is not None and still.active
