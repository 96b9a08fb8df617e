"""Editing a system (PATCH /api/v1/clients), deactivating it (DELETE) and removing a key (PUT /jwks), each with
If-Match the ETag the page was made from (RFC 9110 §13.1.1): a change made meanwhile is a 412 the page explains,
and nothing is lost."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from portvakt.domain import usecases as uc
from portvakt.domain.clients import change_client, fields_of, replace_client_keys
from portvakt.domain.models import AccessState, Client
from portvakt.jose import PrivateKeyHandle
from portvakt.portal.backend import Backend

from .stack import DELEGABLE_SCOPE, OP, OPEN_SCOPE, READ_SCOPE, VENDOR, Stack
from .test_systems_status import add_system

ETAG = re.compile(r'name="etag" value="([^"]*)"')
TITLE = re.compile(r"<title>([^<]*)</title>")


def etag_on(page: str) -> str:
    """The ETag a page's form carries (hidden field `etag`)."""
    found = ETAG.search(page)
    assert found, page[:500]
    return found.group(1).replace("&#34;", '"')


def title(page: str) -> str:
    """The page's <title>."""
    found = TITLE.search(page)
    assert found
    return found.group(1)


def rename_behind_the_back(stack: Stack, client_id: str, name: str) -> None:
    """Someone else changes the system (the API's use-case), after the page was shown."""
    with stack.store.begin() as uow:
        current = uow.get_client(client_id)
        assert current is not None
        change_client(uow, current, replace(fields_of(current), client_name=name), OP, stack.runtime.clock.now())


def stored(stack: Stack, client_id: str) -> Client:
    """The system as the store holds it now."""
    with stack.store.read() as uow:
        found = uow.get_client(client_id)
    assert found is not None
    return found


# --- edit ---------------------------------------------------------------------------------------------------------

def test_the_edit_form_shows_the_system_and_states_the_limits(ida: Stack) -> None:
    client_id = ida.create_system("Turbo", "Gammel tekst", (OPEN_SCOPE, DELEGABLE_SCOPE))
    page = ida.browser.get(f"/portal/systems/{client_id}/edit").text
    assert 'value="Turbo"' in page and "Gammel tekst</textarea>" in page
    assert f'value="{OPEN_SCOPE}" checked' in page and f'value="{READ_SCOPE}">' in page
    assert "Høyst 200 tegn." in page and "Høyst 2000 tegn." in page
    got = ida.recorder.api_calls("GET", f"/api/v1/clients/{client_id}")
    assert etag_on(page) and got, "the form carries the ETag the API gave"
    assert title(page).startswith("Endre Turbo")


def test_saving_patches_name_description_and_scopes_with_if_match(ida: Stack) -> None:
    client_id = ida.create_system("Turbo", "", (OPEN_SCOPE,))
    form = ida.browser.get(f"/portal/systems/{client_id}/edit").text
    resp = ida.post(f"/portal/systems/{client_id}/edit",
                    {"client_name": "  Turbo  2 ", "description": "Ny", "scopes": [READ_SCOPE, OPEN_SCOPE],
                     "etag": etag_on(form)}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].endswith(f"/systems/{client_id}?edited=1")
    sent = ida.recorder.api_calls("PATCH", f"/api/v1/clients/{client_id}")
    assert len(sent) == 1 and sent[0].headers["if-match"] == etag_on(form)
    assert json.loads(sent[0].content) == {"client_name": "Turbo 2", "description": "Ny",
                                           "scopes": [READ_SCOPE, OPEN_SCOPE]}
    made = stored(ida, client_id)
    assert (made.client_name, made.description, made.scopes) == ("Turbo 2", "Ny", (READ_SCOPE, OPEN_SCOPE))
    page = ida.browser.get(resp.headers["location"]).text
    assert "Endringene er lagret." in page and "System: Turbo 2" in page


def test_a_system_without_scopes_is_refused_with_a_readable_error(ida: Stack) -> None:
    client_id = ida.create_system()
    form = ida.browser.get(f"/portal/systems/{client_id}/edit").text
    resp = ida.post(f"/portal/systems/{client_id}/edit", {"client_name": "Turbo", "etag": etag_on(form)})
    assert resp.status_code == 400
    assert 'id="scopes-error"' in resp.text and "Velg minst ett scope" in resp.text
    assert title(resp.text).startswith("Feil: ")
    assert not ida.recorder.api_calls("PATCH", "/api/v1/clients")
    created = len(ida.recorder.api_calls("POST", "/api/v1/clients"))
    resp = ida.post("/portal/systems/new", {"client_name": "Uten scopes", "description": ""})
    assert resp.status_code == 400 and "Velg minst ett scope" in resp.text
    assert title(resp.text).startswith("Feil: ")
    assert len(ida.recorder.api_calls("POST", "/api/v1/clients")) == created, "nothing was sent"


def test_field_errors_keep_what_was_typed(ida: Stack) -> None:
    client_id = ida.create_system()
    form = ida.browser.get(f"/portal/systems/{client_id}/edit").text
    resp = ida.post(f"/portal/systems/{client_id}/edit", {"client_name": "n" * 201, "description": "d" * 2001,
                                                          "scopes": [OPEN_SCOPE], "etag": etag_on(form)})
    assert resp.status_code == 400
    for name, text in (("client_name", "høyst 200 tegn"), ("description", "høyst 2000 tegn")):
        assert f'id="{name}-error"' in resp.text and text in resp.text
    assert 'class="ds-error-summary"' in resp.text and f'value="{OPEN_SCOPE}" checked' in resp.text
    assert stored(ida, client_id).client_name == "Turboskatt"


def test_a_change_made_meanwhile_is_explained_and_nothing_is_lost(ida: Stack) -> None:
    client_id = ida.create_system("Turbo", "", (OPEN_SCOPE,))
    form = ida.browser.get(f"/portal/systems/{client_id}/edit").text
    rename_behind_the_back(ida, client_id, "Renamed by a colleague")
    resp = ida.post(f"/portal/systems/{client_id}/edit",
                    {"client_name": "Mine", "description": "typed", "scopes": [OPEN_SCOPE], "etag": etag_on(form)})
    assert resp.status_code == 409
    assert 'id="changed"' in resp.text and "ble endret av noen andre" in resp.text
    assert 'value="Mine"' in resp.text and "typed</textarea>" in resp.text, "what was typed stays"
    assert stored(ida, client_id).client_name == "Renamed by a colleague", "nothing was written"
    patched = ida.recorder.api_calls("PATCH", f"/api/v1/clients/{client_id}")
    assert [r.headers["if-match"] for r in patched] == [etag_on(form)]
    fresh = etag_on(resp.text)
    assert fresh != etag_on(form)
    again = ida.post(f"/portal/systems/{client_id}/edit", {"client_name": "Mine", "description": "typed",
                                                           "scopes": [OPEN_SCOPE], "etag": fresh},
                     follow_redirects=False)
    assert again.status_code == 303 and stored(ida, client_id).client_name == "Mine"


def test_a_scope_whose_access_was_revoked_can_be_removed(ida: Stack) -> None:
    client_id = ida.create_system("Turbo", "", (OPEN_SCOPE, READ_SCOPE))
    with ida.store.begin() as uow:
        uc.set_access(uow, READ_SCOPE, VENDOR, AccessState.DENIED, OP, ida.runtime.clock.now())
    form = ida.browser.get(f"/portal/systems/{client_id}/edit").text
    assert f'value="{READ_SCOPE}" checked' in form and "kan ikke brukes nå" in form
    resp = ida.post(f"/portal/systems/{client_id}/edit", {"client_name": "Turbo", "scopes": [OPEN_SCOPE],
                                                          "etag": etag_on(form)}, follow_redirects=False)
    assert resp.status_code == 303 and stored(ida, client_id).scopes == (OPEN_SCOPE,)


def test_an_api_refusal_is_tied_to_its_field(ida: Stack) -> None:
    client_id = ida.create_system()
    form = ida.browser.get(f"/portal/systems/{client_id}/edit").text
    resp = ida.post(f"/portal/systems/{client_id}/edit", {"client_name": "Nul\x00", "scopes": [OPEN_SCOPE],
                                                          "etag": etag_on(form)})
    assert resp.status_code == 400 and 'id="client_name-error"' in resp.text and "NUL" in resp.text


# --- deactivate ---------------------------------------------------------------------------------------------------

def test_deactivating_asks_first_then_deletes_with_if_match(ida: Stack) -> None:
    client_id = ida.create_system("Turbo")
    page = ida.browser.get(f"/portal/systems/{client_id}/deactivate").text
    assert "Deaktivere Turbo?" in page and "kan ikke endres eller aktiveres" in page
    resp = ida.post(f"/portal/systems/{client_id}/deactivate", {"etag": etag_on(page)}, follow_redirects=False)
    assert resp.status_code == 303
    deleted = ida.recorder.api_calls("DELETE", f"/api/v1/clients/{client_id}")
    assert [r.headers["if-match"] for r in deleted] == [etag_on(page)]
    assert stored(ida, client_id).active is False
    shown = ida.browser.get(resp.headers["location"]).text
    assert 'id="deactivated"' in shown and "Nei – deaktivert" in shown
    for path in ("edit", "deactivate", "remove-key?kid=x"):
        again = ida.browser.get(f"/portal/systems/{client_id}/{path}", follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"].endswith(f"/systems/{client_id}"), path
    assert "Nei – deaktivert" in ida.browser.get("/portal/systems").text, "kept in the list, for history"


def test_a_system_changed_before_deactivation_is_shown_again(ida: Stack) -> None:
    client_id = ida.create_system("Turbo")
    page = ida.browser.get(f"/portal/systems/{client_id}/deactivate").text
    rename_behind_the_back(ida, client_id, "Turbo renamed")
    resp = ida.post(f"/portal/systems/{client_id}/deactivate", {"etag": etag_on(page)})
    assert resp.status_code == 409 and 'id="changed"' in resp.text and "Deaktivere Turbo renamed?" in resp.text
    assert stored(ida, client_id).active is True


# --- remove a key -------------------------------------------------------------------------------------------------

def _with_keys(stack: Stack, rsa_keys: list[PrivateKeyHandle], *kids: str) -> str:
    client_id = add_system(stack, "Keyed", [OPEN_SCOPE])
    with stack.store.begin() as uow:
        replace_client_keys(uow, client_id, [(kid, {**rsa_keys[i].public_jwk, "kid": kid})
                                             for i, kid in enumerate(kids)], OP, stack.runtime.clock.now())
    return client_id


def test_removing_a_key_names_it_and_its_expiry_then_puts_the_rest(ida: Stack,
                                                                    rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = _with_keys(ida, rsa_keys, "old-key", "new-key")
    page = ida.browser.get(f"/portal/systems/{client_id}/remove-key?kid=old-key").text
    expiry = stored(ida, client_id).keys[0].expires.strftime("%d.%m.%Y")
    assert "Fjerne nøkkelen?" in page and ">old-key</code>" in page and expiry in page
    assert 'id="last-key"' not in page
    resp = ida.post(f"/portal/systems/{client_id}/remove-key", {"kid": "old-key", "etag": etag_on(page)},
                    follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].endswith("?removed=old-key")
    put = ida.recorder.api_calls("PUT", f"/api/v1/clients/{client_id}/jwks")
    assert len(put) == 1 and put[0].headers["if-match"] == etag_on(page)
    assert [k["kid"] for k in json.loads(put[0].content)["keys"]] == ["new-key"]
    assert [k.kid for k in stored(ida, client_id).keys] == ["new-key"]
    assert "Nøkkelen old-key er fjernet." in ida.browser.get(resp.headers["location"]).text


def test_removing_the_only_key_warns_first(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = _with_keys(ida, rsa_keys, "only-key")
    page = ida.browser.get(f"/portal/systems/{client_id}/remove-key?kid=only-key").text
    assert 'id="last-key"' in page and "eneste gyldige nøkkel" in page
    assert ida.post(f"/portal/systems/{client_id}/remove-key", {"kid": "only-key", "etag": etag_on(page)},
                    follow_redirects=False).status_code == 303
    assert stored(ida, client_id).keys == ()
    assert "Nei – ingen nøkkel" in ida.browser.get(f"/portal/systems/{client_id}").text


def test_a_key_set_changed_meanwhile_is_shown_again_and_nothing_is_removed(
        ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = _with_keys(ida, rsa_keys, "old-key", "new-key")
    page = ida.browser.get(f"/portal/systems/{client_id}/remove-key?kid=old-key").text
    with ida.store.begin() as uow:
        current = uow.get_client(client_id)
        assert current is not None
        keys = [(k.kid, k.jwk) for k in current.keys] + [("third-key", {**rsa_keys[2].public_jwk,
                                                                          "kid": "third-key"})]
        replace_client_keys(uow, client_id, keys, OP, ida.runtime.clock.now())
    resp = ida.post(f"/portal/systems/{client_id}/remove-key", {"kid": "old-key", "etag": etag_on(page)})
    assert resp.status_code == 409
    assert 'id="changed"' in resp.text and "Ingenting er fjernet" in resp.text
    assert all(f">{kid}</code>" in resp.text for kid in ("old-key", "new-key", "third-key")), "the set as it is now"
    assert sorted(k.kid for k in stored(ida, client_id).keys) == ["new-key", "old-key", "third-key"]
    fresh = etag_on(resp.text)
    assert fresh != etag_on(page)
    again = ida.post(f"/portal/systems/{client_id}/remove-key", {"kid": "old-key", "etag": fresh},
                     follow_redirects=False)
    assert again.status_code == 303
    assert sorted(k.kid for k in stored(ida, client_id).keys) == ["new-key", "third-key"], "no key lost"


def test_a_key_removed_meanwhile_is_said_to_be_gone(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = _with_keys(ida, rsa_keys, "old-key", "new-key")
    page = ida.browser.get(f"/portal/systems/{client_id}/remove-key?kid=old-key").text
    with ida.store.begin() as uow:
        current = uow.get_client(client_id)
        assert current is not None
        replace_client_keys(uow, client_id, [(k.kid, k.jwk) for k in current.keys[1:]], OP,
                            ida.runtime.clock.now())
    resp = ida.post(f"/portal/systems/{client_id}/remove-key", {"kid": "old-key", "etag": etag_on(page)})
    assert resp.status_code == 409 and 'id="gone"' in resp.text and "old-key er ikke lenger registrert" in resp.text


def test_an_unknown_kid_is_not_found(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = _with_keys(ida, rsa_keys, "old-key")
    assert ida.browser.get(f"/portal/systems/{client_id}/remove-key?kid=nope").status_code == 404
    assert ida.browser.get(f"/portal/systems/{client_id}/remove-key").status_code == 404


def test_without_scopes_on_offer_the_create_page_says_so(ida: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    async def none(*args: object, **kwargs: object) -> list[object]:
        return []

    monkeypatch.setattr(Backend, "usable_scopes", none)
    monkeypatch.setattr(Backend, "delegable_scopes", none)
    page = ida.browser.get("/portal/systems/new").text
    assert 'id="no-scopes"' in page and "trenger minst ett scope" in page and "<form method=\"post\" action" \
        "=\"/portal/systems/new\"" not in page
