"""Way 3 (decision P8): a server-made AES-256 PKCS#12; the password goes by SMS to the person's mobile,
the file is released only if the SMS went out and the key was registered; no secret in a log."""

from __future__ import annotations

import logging

import pytest

from portvakt.jose.pkcs12 import load_pkcs12

from .keyhelp import stored_kids, token
from .stack import Stack

MOBILE = "+4790000001"


def test_the_page_tells_where_the_password_goes(ida: Stack) -> None:
    client_id = ida.create_system()
    page = ida.browser.get(f"/portal/systems/{client_id}/keys/pkcs12").text
    assert "+47…01" in page and MOBILE not in page
    assert "Verken den private nøkkelen eller passordet lagres hos oss" in page


def test_the_file_the_sms_and_the_key(ida: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client_id = ida.create_system("Filsystem")
    resp = ida.post(f"/portal/systems/{client_id}/keys/pkcs12", {})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/x-pkcs12"
    assert resp.headers["content-disposition"].startswith('attachment; filename="portvakt-')
    assert resp.headers["content-disposition"].endswith('.p12"')
    assert resp.headers["cache-control"] == "no-store"
    [sms] = ida.outbox.messages(MOBILE)
    assert "Filsystem" in sms.text
    password = sms.text.splitlines()[-1]
    assert len(password) >= 20
    key = load_pkcs12(resp.content, password.encode())
    assert stored_kids(ida, client_id) == [key.kid]
    assert token(ida, client_id, key).status_code == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert password not in logged and key.to_private_jwk()["d"] not in logged
    assert password.encode() not in ida.recorder.bodies()


def test_a_failed_sms_releases_nothing_and_registers_nothing(ida: Stack) -> None:
    client_id = ida.create_system()
    ida.outbox.fail_next("the SMS provider is down")
    resp = ida.post(f"/portal/systems/{client_id}/keys/pkcs12", {})
    assert resp.status_code == 502
    assert resp.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in resp.headers
    assert "SMS-en med passordet kunne ikke sendes (the SMS provider is down)" in resp.text
    assert "Ingen fil er utlevert og ingen nøkkel er registrert" in resp.text
    assert not ida.recorder.api_calls("PUT", "/jwks")
    assert stored_kids(ida, client_id) == []
    assert ida.outbox.messages() == []


def test_a_full_key_set_is_refused_before_any_sms(ida: Stack) -> None:
    client_id = ida.create_system()
    for _ in range(5):
        assert ida.post(f"/portal/systems/{client_id}/keys/pkcs12", {}).status_code == 200
    resp = ida.post(f"/portal/systems/{client_id}/keys/pkcs12", {})
    assert resp.status_code == 400
    assert "allerede 5 nøkler" in resp.text
    assert len(ida.outbox.messages()) == 5


def test_the_sms_is_in_the_persons_language(ida: Stack) -> None:
    ida.browser.get("/portal/language?lang=en&next=/portal/")
    client_id = ida.create_system("English system")
    assert ida.post(f"/portal/systems/{client_id}/keys/pkcs12", {}).status_code == 200
    assert ida.outbox.messages()[0].text.startswith("Portvakt: The password of the PKCS#12 file for “English system”")
