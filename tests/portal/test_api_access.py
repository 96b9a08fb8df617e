"""The API provider admin's pages (decision P1, docs/protocol.md §3.4): the organisation's scopes and schemes, who has
access to a scope (with names), granting after seeing the organisation's name, revoking after a confirmation."""

from __future__ import annotations

import pytest

from portvakt.domain.models import AccessState

from .orgstack import (
    ADA,
    BAD_CHECKSUM,
    ESCAPED,
    SCRIPT,
    UNKNOWN_ORGNO,
    acting_headers,
    add_org,
    add_people,
    add_scheme,
    log_in,
)
from .stack import CONSUMER, DELEGABLE_SCOPE, OPEN_SCOPE, PROVIDER, READ_SCOPE, VENDOR, Stack

ACCESS = "/portal/scopes/access"


@pytest.fixture
def ada(stack: Stack) -> Stack:
    """Ada, the provider's API admin, logged in."""
    add_people(stack)
    return log_in(stack, ADA)


def state_of(stack: Stack, scope: str, orgno: str) -> AccessState | None:
    with stack.store.read() as uow:
        entry = uow.get_access(scope, orgno)
    return entry.state if entry else None


def test_the_scopes_and_schemes_of_the_organisation(ada: Stack) -> None:
    add_scheme(ada, {"nb": "Testordning", "en": "Test scheme"})
    page = ada.browser.get("/portal/scopes")
    assert page.status_code == 200
    for scope in (OPEN_SCOPE, READ_SCOPE, DELEGABLE_SCOPE):
        assert f"<code>{scope}</code>" in page.text
        assert f'href="/portal/scopes/access?scope={scope.replace(":", "%3A")}"' in page.text
    assert "Alle (åpent)" in page.text and "Kan delegeres av kundene" in page.text
    assert "Testordning" in page.text
    calls = [*ada.recorder.api_calls("GET", "/api/v1/scopes"),
             *ada.recorder.api_calls("GET", "/maskinporten-api/delegationSchemes")]
    assert len(calls) == 2 and all(acting_headers(r) == (PROVIDER, ADA) for r in calls)
    assert 'aria-current="page">API-tilganger</a>' in page.text


def test_who_has_access_with_names(ada: Stack) -> None:
    page = ada.browser.get(ACCESS, params={"scope": READ_SCOPE})
    assert page.status_code == 200
    assert "Vendor AS (314330897)" in page.text and "Godkjent" in page.text
    listed = ada.recorder.api_calls("GET", "/api/v1/scopes/access")
    assert listed[0].url.params["scope"] == READ_SCOPE and acting_headers(listed[0]) == (PROVIDER, ADA)


def test_granting_shows_the_name_first_then_grants(ada: Stack) -> None:
    step = ada.post(f"{ACCESS}/grant", {"scope": READ_SCOPE, "orgno": " 310 838 128 "})
    assert step.status_code == 200
    assert '<dd id="org"><strong>Consumer</strong> (310838128)</dd>' in step.text
    assert not ada.recorder.api_calls("PUT", "/scopes/access"), "nothing is granted before the confirmation"
    done = ada.post(f"{ACCESS}/grant/confirm", {"scope": READ_SCOPE, "orgno": CONSUMER}, follow_redirects=False)
    assert done.status_code == 303
    put = ada.recorder.api_calls("PUT", f"/api/v1/scopes/access/{CONSUMER}")
    assert len(put) == 1 and put[0].url.params["scope"] == READ_SCOPE and acting_headers(put[0]) == (PROVIDER, ADA)
    assert state_of(ada, READ_SCOPE, CONSUMER) is AccessState.APPROVED
    after = ada.browser.get(done.headers["location"]).text
    assert "Consumer (310838128) har nå tilgang til brreg:test/read." in after


@pytest.mark.parametrize(("typed", "message"), [
    ("", "Skriv inn et organisasjonsnummer."),
    ("abc", "Et organisasjonsnummer har 9 siffer"),
    (BAD_CHECKSUM, "er ikke et gyldig organisasjonsnummer"),
    (UNKNOWN_ORGNO, "Fant ingen organisasjon med organisasjonsnummer"),
])
def test_a_bad_orgno_is_tied_to_its_field(ada: Stack, typed: str, message: str) -> None:
    for path in (f"{ACCESS}/grant", f"{ACCESS}/grant/confirm"):
        resp = ada.post(path, {"scope": READ_SCOPE, "orgno": typed})
        assert resp.status_code == 400
        assert 'aria-describedby="orgno-hint orgno-error" aria-invalid="true"' in resp.text
        assert 'id="orgno-error" data-color="danger">' in resp.text and message in resp.text
        assert 'href="#orgno"' in resp.text
    assert not ada.recorder.api_calls("PUT", "/scopes/access")


def test_revoking_asks_first(ada: Stack) -> None:
    ask = ada.browser.get(f"{ACCESS}/revoke", params={"scope": READ_SCOPE, "orgno": VENDOR})
    assert ask.status_code == 200 and "<strong>Vendor AS</strong> (314330897)" in ask.text
    assert not ada.recorder.api_calls("DELETE", "/scopes/access")
    done = ada.post(f"{ACCESS}/revoke", {"scope": READ_SCOPE, "orgno": VENDOR}, follow_redirects=False)
    assert done.status_code == 303
    deleted = ada.recorder.api_calls("DELETE", f"/api/v1/scopes/access/{VENDOR}")
    assert len(deleted) == 1 and acting_headers(deleted[0]) == (PROVIDER, ADA)
    assert state_of(ada, READ_SCOPE, VENDOR) is AccessState.DENIED
    after = ada.browser.get(done.headers["location"]).text
    assert "Tilgangen til Vendor AS (314330897) er trukket tilbake." in after
    assert "Avslått eller trukket tilbake" in after


@pytest.mark.parametrize("orgno", [CONSUMER, UNKNOWN_ORGNO, "nonsense", ""])
def test_revoking_someone_not_on_the_list_is_not_found(ada: Stack, orgno: str) -> None:
    assert ada.browser.get(f"{ACCESS}/revoke", params={"scope": READ_SCOPE, "orgno": orgno}).status_code == 404
    assert ada.post(f"{ACCESS}/revoke", {"scope": READ_SCOPE, "orgno": orgno}).status_code == 404
    assert not ada.recorder.api_calls("DELETE", "/scopes/access")


@pytest.mark.parametrize("scope", ["someone:else/scope", "idporten:dcr.write", "", "x" * 300])
def test_a_scope_of_another_organisation_is_not_found(ada: Stack, scope: str) -> None:
    resp = ada.browser.get(ACCESS, params={"scope": scope})
    assert resp.status_code == 404 and "Fant ikke siden" in resp.text
    assert ada.post(f"{ACCESS}/grant", {"scope": scope, "orgno": CONSUMER}).status_code == 404
    assert not ada.recorder.api_calls("GET", "/api/v1/scopes/access")
    assert not ada.recorder.api_calls("PUT", "/scopes/access")


def test_names_are_escaped(ada: Stack) -> None:
    add_org(ada, UNKNOWN_ORGNO, SCRIPT)
    pages = [ada.post(f"{ACCESS}/grant", {"scope": READ_SCOPE, "orgno": UNKNOWN_ORGNO})]
    ada.post(f"{ACCESS}/grant/confirm", {"scope": READ_SCOPE, "orgno": UNKNOWN_ORGNO})
    pages.append(ada.browser.get(ACCESS, params={"scope": READ_SCOPE}))
    pages.append(ada.browser.get(f"{ACCESS}/revoke", params={"scope": READ_SCOPE, "orgno": UNKNOWN_ORGNO}))
    for resp in pages:
        assert resp.status_code == 200
        assert SCRIPT not in resp.text and ESCAPED in resp.text, resp.url
