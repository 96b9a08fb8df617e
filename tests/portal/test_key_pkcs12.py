"""Way 3 (decision P8): a server-made AES-256 PKCS#12; the password goes by SMS to the person's mobile, the file is
released only if the SMS went out and the key was registered; no secret in a log. The form is one-shot: one key and
one SMS per form shown, however often it is sent; the file is offered once, on a page that says where the password
went (masked)."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from datetime import timedelta

import httpx
import pytest

from portvakt.jose.pkcs12 import load_pkcs12

from .keyhelp import stored_kids, token
from .stack import PORTAL_URL, Stack

MOBILE = "+4790000001"
ONCE = re.compile(r'name="once" value="([^"]+)"')


def form_once(stack: Stack, client_id: str) -> str:
    """The single-use id of a freshly shown PKCS#12 form."""
    page = stack.browser.get(f"/portal/systems/{client_id}/keys/pkcs12").text
    found = ONCE.search(page)
    assert found, page
    return found.group(1)


def send(stack: Stack, client_id: str, once: str) -> httpx.Response:
    return stack.post(f"/portal/systems/{client_id}/keys/pkcs12", {"once": once}, follow_redirects=False)


def make(stack: Stack, client_id: str) -> tuple[str, bytes, str]:
    """Show the form, send it, download the file: (the success page's path, the file, the SMS's password)."""
    resp = send(stack, client_id, form_once(stack, client_id))
    assert resp.status_code == 303, resp.text
    made = resp.headers["location"]
    file = stack.browser.get(made + "/file")
    assert file.status_code == 200
    password = stack.outbox.messages(MOBILE)[0].text.splitlines()[-1]
    return made, file.content, password


def kinds_of(stack: Stack, client_id: str) -> list[object]:
    with stack.store.read() as uow:
        client = uow.get_client(client_id)
    assert client is not None
    return [k.origin for k in client.keys]


def test_the_page_tells_where_the_password_goes(ida: Stack) -> None:
    client_id = ida.create_system()
    page = ida.browser.get(f"/portal/systems/{client_id}/keys/pkcs12").text
    assert "+47 …01" in page and MOBILE not in page
    assert "Verken den private nøkkelen eller passordet lagres hos oss" in page
    assert ONCE.search(page), "a single-use form id"


def test_the_file_the_sms_the_key_and_the_success_page(ida: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client_id = ida.create_system("Filsystem")
    resp = send(ida, client_id, form_once(ida, client_id))
    assert resp.status_code == 303
    made = resp.headers["location"]
    assert made.startswith(f"/portal/systems/{client_id}/keys/pkcs12/")
    page = ida.browser.get(made)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    [sms] = ida.outbox.messages(MOBILE)
    assert "Filsystem" in sms.text
    password = sms.text.splitlines()[-1]
    assert len(password) >= 20
    [kid] = stored_kids(ida, client_id)
    html = page.text
    assert "<title>Fila er laget" in html and 'role="status"' in html
    assert f"Nøkkelen {kid} er registrert på systemet" in html and "sendt på SMS til +47 …01" in html
    assert MOBILE not in html and password not in html
    assert f'href="{made}/file" data-autostart' in html and "/static/keycheck.js" in html
    assert f'href="/portal/systems/{client_id}">Til systemsiden</a>' in html
    file = ida.browser.get(made + "/file")
    assert file.headers["content-type"] == "application/x-pkcs12"
    assert file.headers["content-disposition"] == f'attachment; filename="portvakt-{kid[:12]}.p12"'
    assert file.headers["cache-control"] == "no-store"
    key = load_pkcs12(file.content, password.encode())
    assert key.kid == kid and kinds_of(ida, client_id) == ["pkcs12"]
    assert token(ida, client_id, key).status_code == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert password not in logged and key.to_private_jwk()["d"] not in logged
    assert base64.b64encode(file.content[:48]).decode() not in logged
    assert password.encode() not in ida.recorder.bodies()


def test_the_file_is_offered_once(ida: Stack) -> None:
    client_id = ida.create_system()
    made, _, _ = make(ida, client_id)
    again = ida.browser.get(made + "/file")
    assert again.status_code == 410 and "content-disposition" not in again.headers
    assert "Fila er allerede lastet ned" in again.text
    page = ida.browser.get(made).text
    assert "er lastet ned. Vi har ikke fila lenger" in page and "data-autostart" not in page
    assert "keycheck.js" not in page, "nothing to start"


def test_the_file_is_dropped_after_five_minutes(ida: Stack) -> None:
    client_id = ida.create_system()
    resp = send(ida, client_id, form_once(ida, client_id))
    made = resp.headers["location"]
    desk = ida.portal.state.pkcs12_desk
    [record] = desk._made.values()
    record.at -= timedelta(minutes=5, seconds=1)
    page = ida.browser.get(made).text
    assert "ble ikke lastet ned innen fem minutter" in page and "data-autostart" not in page
    assert record.data is None
    assert ida.browser.get(made + "/file").status_code == 410


def test_two_submits_of_the_same_form_make_one_key_and_one_sms(ida: Stack) -> None:
    """Back and submit again, or a replayed POST: the same form id makes nothing more and leads to the same page."""
    client_id = ida.create_system()
    once = form_once(ida, client_id)
    first, second = send(ida, client_id, once), send(ida, client_id, once)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    assert len(ida.outbox.messages()) == 1 and len(stored_kids(ida, client_id)) == 1
    assert len(ida.recorder.api_calls("PUT", "/jwks")) == 1
    ida.browser.get(first.headers["location"] + "/file")
    third = send(ida, client_id, once)
    assert third.headers["location"] == first.headers["location"], "after the download too"
    assert len(ida.outbox.messages()) == 1 and len(stored_kids(ida, client_id)) == 1


def test_a_double_click_makes_one_key_and_one_sms(ida: Stack) -> None:
    """Two submits of one form at the same time (a double click): one makes the key; the other waits for it."""
    client_id = ida.create_system()
    once = form_once(ida, client_id)
    csrf = ida.csrf("/portal/")

    async def both() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ida.browser.app), base_url=PORTAL_URL,
                                     cookies=dict(ida.browser.cookies)) as http:
            path = f"/portal/systems/{client_id}/keys/pkcs12"
            return list(await asyncio.gather(*(http.post(path, data={"once": once, "csrf_token": csrf})
                                               for _ in range(2))))

    responses = asyncio.run(both())
    assert [r.status_code for r in responses] == [303, 303]
    assert responses[0].headers["location"] == responses[1].headers["location"]
    assert len(ida.outbox.messages()) == 1 and len(stored_kids(ida, client_id)) == 1


@pytest.mark.parametrize("once", ["", "not-a-form-id"])
def test_a_form_without_a_known_id_makes_nothing(ida: Stack, once: str) -> None:
    client_id = ida.create_system()
    resp = send(ida, client_id, once)
    assert resp.status_code == 409
    assert "Dette skjemaet er allerede sendt, eller det er for gammelt" in resp.text
    assert 'id="key-condition"' in resp.text and "<title>Feil: " in resp.text
    assert ONCE.search(resp.text), "with a fresh form"
    assert ida.outbox.messages() == [] and stored_kids(ida, client_id) == []


def test_a_form_is_this_sessions_and_this_systems_only(ida: Stack, make_stack: object) -> None:
    client_id = ida.create_system()
    other_system = ida.create_system("Annet system")
    once = form_once(ida, client_id)
    assert send(ida, other_system, once).status_code == 409
    assert ida.login().status_code == 303, "a new session (logging in again renews it)"
    assert send(ida, client_id, once).status_code == 409
    assert ida.outbox.messages() == [] and stored_kids(ida, client_id) == []


def test_a_failed_sms_releases_nothing_and_registers_nothing(ida: Stack) -> None:
    client_id = ida.create_system()
    ida.outbox.fail_next("the SMS provider is down")
    once = form_once(ida, client_id)
    resp = send(ida, client_id, once)
    assert resp.status_code == 502
    assert resp.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in resp.headers
    assert "SMS-en med passordet kunne ikke sendes (the SMS provider is down)" in resp.text
    assert "Ingen fil er utlevert og ingen nøkkel er registrert" in resp.text
    assert 'id="make-p12-error"' in resp.text and "<title>Feil: " in resp.text
    assert not ida.recorder.api_calls("PUT", "/jwks")
    assert stored_kids(ida, client_id) == []
    assert ida.outbox.messages() == []
    fresh = ONCE.search(resp.text)
    assert fresh and fresh.group(1) != once, "a new form to try again"
    assert send(ida, client_id, once).status_code == 502, "the failed form again: the same answer, nothing sent"
    assert ida.outbox.messages() == []
    assert send(ida, client_id, fresh.group(1)).status_code == 303
    assert len(ida.outbox.messages()) == 1


def test_a_full_key_set_is_refused_before_any_sms(ida: Stack) -> None:
    client_id = ida.create_system()
    onces = [form_once(ida, client_id) for _ in range(6)]
    for once in onces[:5]:
        assert send(ida, client_id, once).status_code == 303
    resp = send(ida, client_id, onces[5])
    assert resp.status_code == 400
    assert "allerede 5 nøkler" in resp.text and 'id="key-condition"' in resp.text
    assert len(ida.outbox.messages()) == 5


def test_the_sms_is_in_the_persons_language(ida: Stack) -> None:
    ida.browser.get("/portal/language?lang=en&next=/portal/")
    client_id = ida.create_system("English system")
    resp = send(ida, client_id, form_once(ida, client_id))
    assert resp.status_code == 303
    assert ida.outbox.messages()[0].text.startswith("Portvakt: The password of the PKCS#12 file for “English system”")
    page = ida.browser.get(resp.headers["location"]).text
    assert "password was sent by SMS to +47 …01" in page


def test_another_persons_success_page_is_not_found(ida: Stack) -> None:
    client_id = ida.create_system()
    resp = send(ida, client_id, form_once(ida, client_id))
    made = resp.headers["location"]
    ida.login()
    assert ida.browser.get(made).status_code == 404
    assert ida.browser.get(made + "/file").status_code == 404


def test_the_work_goes_on_when_the_first_submit_is_dropped() -> None:
    """The browser cancels the first request of a double click: its work still ends, and the second submit gets it."""
    from datetime import UTC, datetime

    from portvakt.portal.routes.keys import Outcome, Pkcs12Desk

    async def scenario() -> tuple[Outcome, Outcome]:
        desk, now = Pkcs12Desk(), datetime.now(UTC)
        once = desk.issue("session", "system", now)
        first = desk.claim(once, "session", "system", now)
        assert first is not None and first.first
        release = asyncio.Event()

        async def work() -> Outcome:
            await release.wait()
            return Outcome(made="made-1")

        dropped = asyncio.ensure_future(asyncio.shield(first.run(work())))
        await asyncio.sleep(0)
        dropped.cancel()
        second = desk.claim(once, "session", "system", now)
        assert second is not None and not second.first
        assert desk.claim(once, "another session", "system", now) is None
        assert desk.claim(once, "session", "another system", now) is None
        waiting = asyncio.ensure_future(second.outcome())
        release.set()
        later = desk.claim(once, "session", "system", now)
        assert later is not None
        return await waiting, await later.outcome()

    got, again = asyncio.run(scenario())
    assert got.made == again.made == "made-1"


def test_forms_are_bounded_per_session_and_forgotten_after_an_hour() -> None:
    from datetime import UTC, datetime

    from portvakt.portal.routes.keys import FORM_LIFETIME, MAX_FORMS_PER_SESSION, Pkcs12Desk

    async def scenario() -> None:
        desk, now = Pkcs12Desk(), datetime.now(UTC)
        onces = [desk.issue("s", "c", now) for _ in range(MAX_FORMS_PER_SESSION + 1)]
        assert desk.claim(onces[0], "s", "c", now) is None, "the oldest went"
        assert desk.claim(onces[-1], "s", "c", now) is not None
        late = now + FORM_LIFETIME + timedelta(seconds=1)
        assert desk.claim(onces[1], "s", "c", late) is None

    asyncio.run(scenario())
