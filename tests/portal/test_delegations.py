"""The access manager's pages (decision P1, docs/protocol.md §4.1 step 5): delegate a scheme to a vendor after seeing
its
name, list the delegations (history on request, and those made to the org), revoke after a confirmation."""

from __future__ import annotations

import html
import json
import re

import pytest

from portvakt.domain.delegations import revoke_delegation

from .orgstack import (
    BAD_CHECKSUM,
    ESCAPED,
    SCRIPT,
    TOR,
    UNKNOWN_ORGNO,
    VERA,
    acting_headers,
    add_delegation,
    add_org,
    add_people,
    add_scheme,
    confirm_then_delete,
    log_in,
)
from .stack import CONSUMER, DELEGABLE_SCOPE, OP, OTHER, VENDOR, Stack

TITLE = {"nb": "Reelle rettighetshavere", "en": "Beneficial owners"}


def visible(page: str) -> str:
    """The text of a page as a person reads it: no tags, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split()).replace(" )", ")").replace("( ", "(")


@pytest.fixture
def tor(stack: Stack) -> Stack:
    """Tor, the consumer's access manager, logged in; the provider has one scheme (id in extra)."""
    add_people(stack)
    stack.extra["scheme"] = add_scheme(stack, TITLE, {"nb": "Rapportere for dere"})
    return log_in(stack, TOR)


def test_the_list_names_the_vendor_and_who_delegated(tor: Stack) -> None:
    add_delegation(tor, tor.extra["scheme"])
    page = tor.browser.get("/portal/delegations")
    assert page.status_code == 200
    assert "Reelle rettighetshavere" in page.text and "Vendor AS (314330897)" in visible(page.text)
    assert f'<code class="pv-ident">{DELEGABLE_SCOPE}</code>' in page.text
    assert "av Portvakt-operatøren" in visible(page.text) and "operator:test" not in page.text, "a readable actor"
    assert 'data-label="Leverandør"' in page.text, "each cell names its column for the narrow layout"
    listing = tor.recorder.api_calls("GET", "/accessmanagement/api/v1/delegations")
    assert {r.url.params["role"] for r in listing} == {"consumer", "supplier"}
    assert all(acting_headers(r) == (CONSUMER, TOR) for r in listing)
    assert 'href="/portal/delegations" aria-current="page">Delegeringer</a>' in page.text
    assert 'href="/portal/systems"' not in page.text, "the menu shows only the person's pages"


def test_revoked_delegations_show_as_history_on_request(tor: Stack) -> None:
    found = add_delegation(tor, tor.extra["scheme"])
    with tor.store.begin() as uow:
        revoke_delegation(uow, found, CONSUMER, OP, tor.runtime.clock.now())
    page = tor.browser.get("/portal/delegations").text
    assert "Consumer har ingen delegeringer som gjelder nå." in page and 'id="revoked"' not in page
    history = tor.browser.get("/portal/delegations?history=1").text
    assert 'id="revoked"' in history and visible(history).count("av Portvakt-operatøren") == 2
    assert tor.recorder.api_calls("GET", "/delegations")[-2].url.params["include_revoked"] == "true"


def test_delegating_shows_the_vendor_name_before_anything_is_delegated(tor: Stack) -> None:
    scheme = tor.extra["scheme"]
    step = tor.post("/portal/delegations/new", {"scheme_id": scheme, "supplier_org": "314 330 897"})
    assert step.status_code == 200
    assert '<dd id="supplier"><strong class="pv-wrap">Vendor AS</strong> (314330897)</dd>' in step.text
    assert "Bekreft delegering" in step.text
    assert not tor.recorder.api_calls("POST", "/delegations"), "nothing is delegated before the confirmation"
    done = tor.post("/portal/delegations/confirm", {"scheme_id": scheme, "supplier_org": VENDOR},
                    follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/portal/delegations?made=")
    sent = tor.recorder.api_calls("POST", "/accessmanagement/api/v1/delegations")
    assert len(sent) == 1 and json.loads(sent[0].content) == {"scheme_id": scheme, "supplier_org": VENDOR}
    assert acting_headers(sent[0]) == (CONSUMER, TOR)
    with tor.store.read() as uow:
        made = uow.list_delegations(consumer_orgno=CONSUMER)
    assert [(d.supplier_orgno, d.created_by) for d in made] == [(VENDOR, TOR)], "the person is named"
    page = tor.browser.get(done.headers["location"]).text
    assert "«Reelle rettighetshavere» er delegert til Vendor AS (314330897)." in page
    assert "av deg (Tor Tilgang)" in visible(page), "the signed-in person sees themselves named"


def test_the_schemes_can_be_searched_and_show_in_the_page_language(tor: Stack) -> None:
    add_scheme(tor, {"nb": "Bare bokmål"})
    page = tor.browser.get("/portal/delegations/new", params={"q": "reelle"}).text
    assert "Reelle rettighetshavere" in page and "Bare bokmål" not in page
    assert tor.recorder.api_calls("GET", "/maskinporten/schemes")[-1].url.params["q"] == "reelle"
    assert "Ingen delegerbar tilgang passer søket «zzz»." in tor.browser.get("/portal/delegations/new?q=zzz").text
    tor.browser.get("/portal/language?lang=en&next=/portal/")
    english = tor.browser.get("/portal/delegations/new").text
    assert "Beneficial owners" in english and "Bare bokmål" in english, "Bokmål when there is no English"
    assert "API owner: Provider" in english


@pytest.mark.parametrize(("typed", "message"), [
    ("", "Skriv inn et organisasjonsnummer."),
    ("12345", "Et organisasjonsnummer har 9 siffer"),
    (BAD_CHECKSUM, f"{BAD_CHECKSUM} er ikke et gyldig organisasjonsnummer"),
    (UNKNOWN_ORGNO, f"Fant ingen organisasjon med organisasjonsnummer {UNKNOWN_ORGNO}."),
    (CONSUMER, "Consumer kan ikke delegere til seg selv."),
])
def test_a_bad_vendor_orgno_is_tied_to_its_field(tor: Stack, typed: str, message: str) -> None:
    for path in ("/portal/delegations/new", "/portal/delegations/confirm"):
        resp = tor.post(path, {"scheme_id": tor.extra["scheme"], "supplier_org": typed})
        assert resp.status_code == 400
        assert 'aria-describedby="supplier_org-hint supplier_org-error" aria-invalid="true"' in resp.text
        assert '<p class="ds-validation-message" id="supplier_org-error" data-color="danger">' + message in resp.text
        assert 'href="#supplier_org"' in resp.text, "the error summary links to the field"
        assert f'value="{tor.extra["scheme"]}" checked' in resp.text, "the chosen scheme is kept"
    assert not tor.recorder.api_calls("POST", "/delegations")


def test_a_scheme_must_be_chosen(tor: Stack) -> None:
    for scheme in ("", "no-such-scheme"):
        resp = tor.post("/portal/delegations/new", {"scheme_id": scheme, "supplier_org": VENDOR})
        assert resp.status_code == 400
        assert resp.text.count("<title>Feil: ") == 1, "the title says the form has errors"
        assert 'id="scheme_id-error"' in resp.text and "Velg en delegerbar tilgang fra lista." in resp.text
        assert 'aria-describedby="scheme_id-hint scheme_id-error"' in resp.text
        assert 'value="314330897"' in resp.text, "the typed orgno is kept"


def test_change_goes_back_to_the_form_as_it_was(tor: Stack) -> None:
    step = tor.post("/portal/delegations/new", {"scheme_id": tor.extra["scheme"], "supplier_org": VENDOR, "q": "reel"})
    change = re.search(r'href="(/portal/delegations/new\?[^"]+)">Endre</a>', step.text)
    assert change, step.text
    form = tor.browser.get(html.unescape(change.group(1))).text
    assert f'value="{tor.extra["scheme"]}" checked' in form
    assert 'value="314330897"' in form and 'value="reel"' in form


def test_revoking_asks_first_and_names_the_person(tor: Stack) -> None:
    found = add_delegation(tor, tor.extra["scheme"])
    revoked = f"/portal/delegations?revoked={found}"
    confirm_then_delete(tor, f"/portal/delegations/{found}/revoke", says=("Vendor AS (314330897) mister retten",),
                        deletes=f"/accessmanagement/api/v1/delegations/{found}", then=revoked, acting=(CONSUMER, TOR))
    with tor.store.read() as uow:
        after = uow.get_delegation(found)
    assert after is not None and not after.active and after.revoked_by == TOR
    assert "er trukket tilbake" in tor.browser.get(revoked).text


@pytest.mark.parametrize("delegation_id", ["no-such-id", "x" * 300, "%2e%2e"])
def test_revoking_an_unknown_delegation_is_not_found(tor: Stack, delegation_id: str) -> None:
    assert tor.browser.get(f"/portal/delegations/{delegation_id}/revoke").status_code == 404
    resp = tor.post(f"/portal/delegations/{delegation_id}/revoke", {})
    assert resp.status_code == 404 and "Fant ikke siden" in resp.text


def test_another_consumers_delegation_cannot_be_revoked(tor: Stack) -> None:
    theirs = add_delegation(tor, tor.extra["scheme"], consumer=OTHER, supplier=VENDOR)
    assert tor.browser.get(f"/portal/delegations/{theirs}/revoke").status_code == 404
    assert tor.post(f"/portal/delegations/{theirs}/revoke", {}).status_code == 404
    with tor.store.read() as uow:
        still = uow.get_delegation(theirs)
    assert still is not None and still.active


def test_the_vendor_sees_what_was_delegated_to_it_read_only(stack: Stack) -> None:
    add_people(stack)
    add_delegation(stack, add_scheme(stack, TITLE))
    log_in(stack, VERA)
    page = stack.browser.get("/portal/delegations").text
    assert 'id="delegated-to-us"' in page and "Consumer (310838128)" in visible(page)
    assert "/revoke" not in page, "only the customer revokes"


def test_names_and_titles_are_escaped(tor: Stack) -> None:
    add_org(tor, UNKNOWN_ORGNO, SCRIPT)
    evil = add_scheme(tor, {"nb": SCRIPT}, {"nb": '"><img src=x onerror=alert(1)>'})
    add_delegation(tor, evil, supplier=UNKNOWN_ORGNO)
    pages = [tor.browser.get("/portal/delegations"), tor.browser.get("/portal/delegations/new"),
             tor.post("/portal/delegations/new", {"scheme_id": evil, "supplier_org": UNKNOWN_ORGNO})]
    for resp in pages:
        assert SCRIPT not in resp.text and "<img src=x" not in resp.text, resp.url
        assert ESCAPED in resp.text, resp.url
    assert f'<strong class="pv-wrap">{ESCAPED}</strong> ({UNKNOWN_ORGNO})' in pages[2].text
