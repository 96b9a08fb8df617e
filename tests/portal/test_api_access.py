"""The API provider admin's pages (decision P1, docs/protocol.md §3.4): the organisation's scopes and schemes, who has
access to a scope (with names), granting after seeing the organisation's name, revoking after a confirmation."""

from __future__ import annotations

import html
import json
import re

import httpx
import pytest

from portvakt.domain import usecases as uc
from portvakt.domain.delegations import create_scheme
from portvakt.domain.models import AccessState, Scope

from .orgstack import (
    ADA,
    BAD_CHECKSUM,
    ESCAPED,
    SCRIPT,
    UNKNOWN_ORGNO,
    acting_headers,
    add_delegation,
    add_org,
    add_people,
    add_scheme,
    confirm_then_delete,
    fail_when,
    log_in,
)
from .stack import CONSUMER, DELEGABLE_SCOPE, ISSUER, OP, OPEN_SCOPE, OTHER, PROVIDER, READ_SCOPE, VENDOR, Stack

ACCESS = "/portal/scopes/access"
#: A second scope of the provider open for delegation.
SECOND_SCOPE = "brreg:test/second"


def visible(page: str) -> str:
    """The text of a page as a person reads it: no tags, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split()).replace(" )", ")").replace("( ", "(")


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
        assert f'<code class="pv-ident">{scope}</code>' in page.text
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
    assert "Vendor AS (314330897)" in visible(page.text) and "Godkjent" in page.text
    assert 'data-label="Organisasjon"' in page.text
    listed = ada.recorder.api_calls("GET", "/api/v1/scopes/access")
    assert listed[0].url.params["scope"] == READ_SCOPE and acting_headers(listed[0]) == (PROVIDER, ADA)


def test_granting_shows_the_name_first_then_grants(ada: Stack) -> None:
    step = ada.post(f"{ACCESS}/grant", {"scope": READ_SCOPE, "orgno": " 310 838 128 "})
    assert step.status_code == 200
    assert '<dd id="org"><strong class="pv-wrap">Consumer</strong> (310838128)</dd>' in step.text
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
        assert "<title>Feil: Tilganger til" in resp.text
    assert not ada.recorder.api_calls("PUT", "/scopes/access")


def test_revoking_asks_first(ada: Stack) -> None:
    ask = ada.browser.get(f"{ACCESS}/revoke", params={"scope": READ_SCOPE, "orgno": VENDOR})
    assert ask.status_code == 200 and '<strong class="pv-wrap">Vendor AS</strong> (314330897)' in ask.text
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


# --- delegation schemes: change and remove (docs/protocol.md §4.1 step 2) ------------------------------------------


@pytest.fixture
def scheme(ada: Stack) -> str:
    """A scheme of the provider naming the delegable scope, with texts in nb, nn and en; a second delegable scope."""
    now = ada.runtime.clock.now()
    with ada.store.begin() as uow:
        uc.put_scope(uow, Scope("brreg", "test/second", PROVIDER, "Test second", now, now, delegation_source=ISSUER),
                     OP, now, create=True)
        made = create_scheme(uow, PROVIDER, [DELEGABLE_SCOPE], {"nb": "Gammelt navn", "nn": "Gamalt namn",
                                                                "en": "Old name"}, {"nb": "Gammel tekst"}, OP, now)
    return made.scheme_id


def edited(**changes: object) -> dict[str, object]:
    """The edit form as the fixture's scheme is now, with `changes`."""
    return {"title_nb": "Gammelt navn", "title_en": "Old name", "description_nb": "Gammel tekst",
            "description_en": "", "scopes": [DELEGABLE_SCOPE], **changes}


def test_the_scheme_list_links_to_change_and_remove(ada: Stack, scheme: str) -> None:
    page = ada.browser.get("/portal/scopes").text
    assert f'href="/portal/scopes/schemes/{scheme}/edit"' in page and 'aria-label="Endre «Gammelt navn»"' in page
    assert f'href="/portal/scopes/schemes/{scheme}/remove"' in page and 'aria-label="Fjern «Gammelt navn»"' in page
    assert "delegeringsordning" not in page.lower() and "gjennom API-et" not in page
    assert ada.recorder.api_calls("GET", "/delegationSchemes")[-1].url.params["inactive"] == "true"


def test_changing_a_scheme_shows_the_changes_first_then_puts_them(ada: Stack, scheme: str) -> None:
    form = ada.browser.get(f"/portal/scopes/schemes/{scheme}/edit")
    assert form.status_code == 200
    assert 'value="Gammelt navn"' in form.text and ">Gammel tekst</textarea>" in form.text
    assert f'value="{DELEGABLE_SCOPE}" checked' in form.text and f'value="{SECOND_SCOPE}"' in form.text
    assert f'value="{OPEN_SCOPE}"' not in form.text, "only scopes open for delegation are offered"
    assert "Høyst 200 tegn." in form.text, "the limit is stated under the label"
    new = edited(title_nb="Nytt navn", scopes=[DELEGABLE_SCOPE, SECOND_SCOPE])
    step = ada.post(f"/portal/scopes/schemes/{scheme}/edit", new)
    assert step.status_code == 200 and "Bekreft endringene" in step.text
    assert "Gammelt navn Nytt navn" in visible(step.text)
    assert f"{DELEGABLE_SCOPE} {DELEGABLE_SCOPE}, {SECOND_SCOPE}" in visible(step.text)
    assert not ada.recorder.api_calls("PUT", "/delegationSchemes"), "nothing changes before the confirmation"
    done = ada.post(f"/portal/scopes/schemes/{scheme}/edit/confirm", new, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/portal/scopes?changed={scheme}"
    put = ada.recorder.api_calls("PUT", f"/maskinporten-api/delegationSchemes/{scheme}")
    assert len(put) == 1 and acting_headers(put[0]) == (PROVIDER, ADA)
    assert json.loads(put[0].content) == {"scopes": [DELEGABLE_SCOPE, SECOND_SCOPE],
                                          "title": {"nb": "Nytt navn", "en": "Old name", "nn": "Gamalt namn"},
                                          "description": {"nb": "Gammel tekst"}}, "nn is kept as it was"
    with ada.store.read() as uow:
        after = uow.get_scheme(scheme)
    assert after is not None and after.scopes == (DELEGABLE_SCOPE, SECOND_SCOPE) and after.title["nb"] == "Nytt navn"
    assert "«Nytt navn» er endret." in ada.browser.get(done.headers["location"]).text


def test_a_delegation_follows_the_changed_scheme(ada: Stack, scheme: str) -> None:
    add_delegation(ada, scheme)
    ada.post(f"/portal/scopes/schemes/{scheme}/edit/confirm", edited(scopes=[SECOND_SCOPE]))
    with ada.store.read() as uow:
        found = uow.get_scheme(scheme)
    assert found is not None and found.scopes == (SECOND_SCOPE,)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"title_nb": " "}, "title_nb", "Skriv inn et navn på bokmål."),
    ({"title_nb": "x" * 201}, "title_nb", "Navnet kan være høyst 200 tegn."),
    ({"title_en": "x" * 201}, "title_en", "Navnet kan være høyst 200 tegn."),
    ({"description_nb": "", "description_en": "Only English"}, "description_nb", "Skriv beskrivelsen på bokmål"),
    ({"description_nb": "x" * 4001}, "description_nb", "Beskrivelsen kan være høyst 4000 tegn."),
    ({"scopes": []}, "scopes", "Velg minst ett scope."),
    ({"scopes": [OPEN_SCOPE]}, "scopes", "Velg bare scopes fra lista."),
    ({"scopes": ["someone:else/scope"]}, "scopes", "Velg bare scopes fra lista."),
])
def test_a_bad_scheme_form_is_tied_to_its_field(ada: Stack, scheme: str, changes: dict[str, object], field: str,
                                                message: str) -> None:
    for path in (f"/portal/scopes/schemes/{scheme}/edit", f"/portal/scopes/schemes/{scheme}/edit/confirm"):
        resp = ada.post(path, edited(**changes))
        assert resp.status_code == 400
        assert "<title>Feil: Endre «Gammelt navn»" in resp.text
        assert f'href="#{field}"' in resp.text and f'id="{field}-error"' in resp.text and message in resp.text
    assert not ada.recorder.api_calls("PUT", "/delegationSchemes")


def test_an_unchanged_scheme_is_not_sent(ada: Stack, scheme: str) -> None:
    resp = ada.post(f"/portal/scopes/schemes/{scheme}/edit", edited())
    assert resp.status_code == 200 and "Du har ikke endret noe." in resp.text and "Bekreft endringene" not in resp.text


def test_a_refused_change_is_shown_on_the_form(ada: Stack, scheme: str) -> None:
    problem = {"title": "Invalid", "status": 400, "detail": "brreg:test/second is not an active scope"}
    fail_when(ada, lambda r: httpx.Response(400, json=problem) if r.method == "PUT" else None)
    resp = ada.post(f"/portal/scopes/schemes/{scheme}/edit/confirm", edited(scopes=[SECOND_SCOPE]))
    assert resp.status_code == 400 and resp.text.count('role="alert"') == 1
    assert "Tjenesten avviste forespørselen: brreg:test/second is not an active scope" in resp.text
    assert "<title>Feil: " in resp.text


def test_removing_a_scheme_asks_first_then_deactivates_it(ada: Stack, scheme: str) -> None:
    removed = f"/portal/scopes?removed={scheme}"
    confirm_then_delete(ada, f"/portal/scopes/schemes/{scheme}/remove", says=("Gammelt navn", "slutter å gjelde"),
                        deletes=f"/maskinporten-api/delegationSchemes/{scheme}", then=removed, acting=(PROVIDER, ADA))
    with ada.store.read() as uow:
        after = uow.get_scheme(scheme)
    assert after is not None and not after.active
    page = ada.browser.get(removed).text
    assert "«Gammelt navn» er fjernet." in page and "Fjernet" in page
    assert f"/portal/scopes/schemes/{scheme}/edit" not in page, "a removed scheme is history, not editable"
    assert ada.browser.get(f"/portal/scopes/schemes/{scheme}/edit").status_code == 404


def test_another_organisations_scheme_is_not_found(ada: Stack) -> None:
    now = ada.runtime.clock.now()
    with ada.store.begin() as uow:
        uc.assign_prefix(uow, "other", OTHER, OP, now)
        uc.put_scope(uow, Scope("other", "x", OTHER, "Other", now, now, delegation_source=ISSUER), OP, now,
                     create=True)
        theirs = create_scheme(uow, OTHER, ["other:x"], {"nb": "Deres"}, {}, OP, now).scheme_id
    for scheme_id in (theirs, "no-such-scheme", "x" * 300):
        for path in (f"/portal/scopes/schemes/{scheme_id}/edit", f"/portal/scopes/schemes/{scheme_id}/remove"):
            assert ada.browser.get(path).status_code == 404
            assert ada.post(path, edited()).status_code == 404
    assert not ada.recorder.api_calls("PUT", "/delegationSchemes")
    assert not ada.recorder.api_calls("DELETE", "/delegationSchemes")


def test_scheme_pages_need_the_api_admin_role(stack: Stack) -> None:
    scheme_id = add_scheme(stack, {"nb": "Noe"})
    stack.login()
    assert stack.browser.get(f"/portal/scopes/schemes/{scheme_id}/edit").status_code == 403
    assert stack.post(f"/portal/scopes/schemes/{scheme_id}/remove", {}).status_code == 403
    assert not stack.recorder.api_calls("DELETE", "/delegationSchemes")
