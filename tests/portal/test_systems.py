"""The integration responsible's systems (docs/protocol.md §4.4): list, scopes on offer,
create exactly as the note says, the system page, and XSS in names and descriptions."""

from __future__ import annotations

import json

from portvakt.domain import usecases as uc
from portvakt.domain.models import IntegrationType

from .stack import DELEGABLE_SCOPE, OP, OPEN_SCOPE, OPERATOR, OTHER, READ_SCOPE, VENDOR, Stack

SCRIPT_NAME = "<script>alert(1)</script>"
IMG_DESCRIPTION = '"><img src=x onerror=alert(1)>'


def test_the_list_and_the_scopes_on_offer(ida: Stack) -> None:
    page = ida.browser.get("/portal/systems").text
    assert "Vendor AS har ingen systemer ennå" in page
    for scope in (OPEN_SCOPE, READ_SCOPE, DELEGABLE_SCOPE):
        assert f">{scope}</code>" in page
    assert ida.recorder.api_calls("GET", "/api/v1/scopes/access/for_consumer")[0].url.params["consumer_org"] == VENDOR
    listing = ida.recorder.api_calls("GET", "/api/v1/clients")[0].url.params
    assert listing["client_orgno"] == VENDOR and listing["inactive"] == "true" and listing["include"] == "jwks"
    assert "integration_type" not in listing, "the vendor's Maskinporten clients are its systems too"


def test_create_calls_post_clients_exactly_as_the_design_note(ida: Stack) -> None:
    client_id = ida.create_system("Turboskatt for Øvre Toten", "Lengre tekst", (OPEN_SCOPE, DELEGABLE_SCOPE))
    sent = json.loads(ida.recorder.api_calls("POST", "/api/v1/clients")[0].content)
    assert sent == {"client_name": "Turboskatt for Øvre Toten", "description": "Lengre tekst",
                    "scopes": [OPEN_SCOPE, DELEGABLE_SCOPE], "client_orgno": VENDOR,
                    "integration_type": "altinn_virksys", "application_type": "web",
                    "token_endpoint_auth_method": "private_key_jwt",
                    "grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"]}
    with ida.store.read() as uow:
        made = uow.get_client(client_id)
    assert made is not None
    assert made.integration_type is IntegrationType.ALTINN_VIRKSYS
    assert (made.client_orgno, made.supplier_orgno) == (VENDOR, None), "the vendor's own, the portal acts for it"
    assert made.keys == ()


def test_the_new_system_says_plainly_it_cannot_get_tokens(ida: Stack) -> None:
    client_id = ida.create_system()
    page = ida.browser.get(f"/portal/systems/{client_id}").text
    assert client_id in page
    assert "Systemet kan ikke hente tokens ennå" in page
    for way in ("keys/paste", "keys/browser", "keys/pkcs12"):
        assert f"/portal/systems/{client_id}/{way}" in page
    assert "usage-cli" not in page
    listing = ida.browser.get("/portal/systems").text
    assert "Nei – ingen nøkkel" in listing


def test_a_missing_name_is_tied_to_its_field_and_nothing_is_sent(ida: Stack) -> None:
    resp = ida.post("/portal/systems/new", {"client_name": "   ", "description": "x", "scopes": [OPEN_SCOPE]})
    assert resp.status_code == 400
    html = resp.text
    assert 'aria-describedby="client_name-hint client_name-error" aria-invalid="true"' in html
    assert '<p class="ds-validation-message" id="client_name-error" data-color="danger">Skriv inn et navn.</p>' in html
    assert 'class="ds-error-summary"' in html and 'href="#client_name"' in html
    assert f'value="{OPEN_SCOPE}" checked' in html, "the form keeps what was chosen"
    assert not ida.recorder.api_calls("POST", "/api/v1/clients")


def test_too_long_texts_and_unknown_scopes_are_refused_by_field(ida: Stack) -> None:
    resp = ida.post("/portal/systems/new", {"client_name": "n" * 201, "description": "d" * 2001,
                                            "scopes": ["someone:elses/scope"]})
    assert resp.status_code == 400
    for name, text in (("client_name", "høyst 200 tegn"), ("description", "høyst 2000 tegn"),
                       ("scopes", "Velg bare scopes fra lista")):
        assert f'id="{name}-error"' in resp.text and text in resp.text
    assert not ida.recorder.api_calls("POST", "/api/v1/clients")


def test_names_and_descriptions_are_escaped(ida: Stack) -> None:
    client_id = ida.create_system(SCRIPT_NAME, IMG_DESCRIPTION)
    for path in ("/portal/systems", f"/portal/systems/{client_id}", f"/portal/systems/{client_id}/keys/paste"):
        html = ida.browser.get(path).text
        assert SCRIPT_NAME not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in ida.browser.get(f"/portal/systems/{client_id}").text


def test_escaping_also_holds_in_the_form_after_an_error(ida: Stack) -> None:
    resp = ida.post("/portal/systems/new", {"client_name": SCRIPT_NAME, "description": IMG_DESCRIPTION,
                                            "scopes": ["bad:scope"]})
    assert resp.status_code == 400
    assert SCRIPT_NAME not in resp.text and "<img src=x" not in resp.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in resp.text


def test_another_organisations_system_is_not_found(ida: Stack) -> None:
    with ida.store.begin() as uow:
        theirs = uc.new_client(uow, client_name="Theirs", client_orgno=OTHER,
                               integration_type=IntegrationType.ALTINN_VIRKSYS, scopes=[], actor=OP,
                               now=ida.runtime.clock.now(), supplier_orgno=OPERATOR)
        supplied = uc.new_client(uow, client_name="Supplied", client_orgno=OTHER,
                                 integration_type=IntegrationType.MASKINPORTEN, scopes=[], actor=OP,
                                 now=ida.runtime.clock.now(), supplier_orgno=VENDOR)
    for client_id in (theirs.client_id, supplied.client_id, "no-such-client", "x" * 300):
        resp = ida.browser.get(f"/portal/systems/{client_id}")
        assert resp.status_code == 404, client_id
        assert "Fant ikke siden" in resp.text
        assert ida.browser.get(f"/portal/systems/{client_id}/keys/paste").status_code == 404
    listing = ida.browser.get("/portal/systems").text
    assert "Theirs" not in listing and "Supplied" not in listing, "only the vendor's own systems"
    for client_id in (theirs.client_id, supplied.client_id):
        for path in ("edit", "deactivate", f"remove-key?kid={client_id}"):
            assert ida.browser.get(f"/portal/systems/{client_id}/{path}").status_code == 404, path


def test_an_api_refusal_is_shown_by_its_field(ida: Stack) -> None:
    resp = ida.post("/portal/systems/new", {"client_name": "Nul\x00name", "scopes": [OPEN_SCOPE]})
    assert resp.status_code == 400
    assert ida.recorder.api_calls("POST", "/api/v1/clients"), "the API judged it"
    assert 'id="client_name-error"' in resp.text
    assert "Tjenesten avviste forespørselen" in resp.text and "NUL" in resp.text
