"""In Chromium, at 1280 and 390 px: each of the three key ways walked end to end as a person would, then a
real token from /token with the resulting private key; no secret in a log or a database row; and the portal
used from the keyboard and in English. The pages' states are audited (no sideways scroll at 390 px, 0 axe-core
violations, a screenshot).

All browser tests live in this one module: one Chromium and one server for all of them (Playwright's sync
API keeps an asyncio loop running in the test thread while it is open, which later tests must not meet)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
from playwright.sync_api import expect

from portvakt.client import GrantSigner, fetch_token, load_private_key

from .flows import OPEN_SCOPE, VENDOR_PERSON, create_system, database_text, log_in, registered, run_shown_command
from .server import LiveServer
from .support import LogCapture, Shots, audit, needs_chromium

#: Under pytest-xdist the browser modules run on one worker, one after another: one Chromium at a time.
pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("browser")]


def token_with(live: LiveServer, client_id: str, kid: str, key_file: Path, password: str | None = None) -> str:
    """An access token from /token, signed with the private key in `key_file` (portvakt.client)."""
    signer = GrantSigner(client_id=client_id, key=load_private_key(key_file, password), kid=kid, audience=live.url)
    body = fetch_token(signer, OPEN_SCOPE, token_endpoint=live.url + "token")
    assert body["token_type"] == "Bearer"
    return str(body["access_token"])


def assert_nowhere(live: LiveServer, log: LogCapture, *secrets: str) -> None:
    """None of the secrets is in the server's log output or in any database row."""
    logged, stored = log.text(), database_text(live)
    for secret in secrets:
        assert secret and secret not in logged, "a secret reached the log"
        assert secret not in stored, "a secret reached the database"


def pem_body(pem: bytes) -> str:
    """The base64 of a PEM, without header lines, as one string (a chunk of it is what a leak would show)."""
    return "".join(line for line in pem.decode().splitlines() if not line.startswith("-----"))


def test_paste_public_key(page: Any, live: LiveServer, shots: Shots, server_log: LogCapture, tmp_path: Path) -> None:
    """Way 1: the person pastes the public half of a key pair they made; the shown command gets a token."""
    from portvakt.jose import PrivateKeyHandle

    handle = PrivateKeyHandle.generate(2048)
    key_file = tmp_path / "vendor.pem"
    key_file.write_bytes(handle.to_pem())
    public_pem = load_pem_private_key(handle.to_pem(), None).public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    log_in(page, live, shots)
    client_id = create_system(page, shots, "Limsystem")
    page.get_by_role("link", name="Lim inn en offentlig nøkkel").click()
    audit(page, shots, "paste-form")
    page.get_by_label("Offentlig nøkkel (PEM eller JWK)").fill(public_pem)
    page.get_by_role("button", name="Registrer nøkkelen").click()
    kid = registered(page, shots)
    assert kid == handle.kid
    assert run_shown_command(page, "#usage-cli-pem", key_file)["token_type"] == "Bearer"
    assert token_with(live, client_id, kid, key_file)
    assert_nowhere(live, server_log, pem_body(handle.to_pem())[100:160], handle.to_private_jwk()["d"])


def test_browser_made_key(page: Any, live: LiveServer, shots: Shots, server_log: LogCapture, tmp_path: Path,
                          monkeypatch: Any, capsys: Any) -> None:
    """Way 2: WebCrypto makes the pair; the PEM is downloaded; no request ever carries the private key."""
    sent: list[Any] = []
    page.on("request", lambda request: sent.append(request))
    log_in(page, live, shots)
    client_id = create_system(page, shots, "Nettlesersystem")
    page.get_by_role("link", name="Lag nøkkelpar i nettleseren").click()
    expect(page.locator("#private-stays")).to_contain_text("forlater aldri nettleseren")
    audit(page, shots, "browser-form")
    page.get_by_label("Nøkkelstørrelse").select_option("2048")
    page.get_by_role("button", name="Lag nøkkelpar").click()
    expect(page.get_by_role("status").first).to_contain_text("Nøkkelparet er laget")
    audit(page, shots, "browser-key-made")
    with page.expect_download() as pem_download:
        page.get_by_role("link", name="Last ned privat nøkkel (PKCS#8 PEM)").click()
    with page.expect_download() as jwk_download:
        page.get_by_role("link", name="Last ned privat nøkkel (JWK)").click()
    pem_file = tmp_path / pem_download.value.suggested_filename
    pem_download.value.save_as(pem_file)
    private_jwk = json.loads(Path(jwk_download.value.path()).read_text())
    page.get_by_label("Jeg har lastet ned og tatt vare på den private nøkkelen").check()
    page.get_by_role("button", name="Registrer den offentlige nøkkelen").click()
    kid = registered(page, shots)
    assert private_jwk["kid"] == kid and load_private_key(pem_file).kid == kid
    bodies = [unquote_plus(r.post_data or "") for r in sent]
    assert any('"kid"' in b and private_jwk["n"] in b for b in bodies), "the public JWK was posted"
    for body in bodies:
        assert "PRIVATE KEY" not in body and '"d"' not in body
        assert private_jwk["d"] not in body and private_jwk["p"] not in body
    monkeypatch.chdir(tmp_path)
    exec(page.locator("#usage-python-pem").inner_text(), {})  # noqa: S102 (the snippet the page shows)
    assert capsys.readouterr().out.count(".") == 2, "the snippet printed a JWT"
    assert token_with(live, client_id, kid, pem_file)
    assert_nowhere(live, server_log, pem_body(pem_file.read_bytes())[100:160], private_jwk["d"])


def test_server_made_pkcs12(page: Any, live: LiveServer, shots: Shots, server_log: LogCapture,
                            tmp_path: Path) -> None:
    """Way 3: the server makes a PKCS#12, the password goes by SMS; the file opens with it and gets a token."""
    log_in(page, live, shots)
    client_id = create_system(page, shots, "PKCS12-system")
    page.get_by_role("link", name="Få en passordbeskyttet PKCS#12-fil").click()
    expect(page.get_by_text(re.compile(r"\+47\s?…01")).first).to_be_visible()
    audit(page, shots, "pkcs12-form")
    with page.expect_download() as download:
        page.get_by_role("button", name="Lag fil og send passord").click()
    p12 = tmp_path / download.value.suggested_filename
    download.value.save_as(p12)
    assert p12.suffix == ".p12"
    page.get_by_role("link", name="SMS-utboks (utvikling)").click()
    audit(page, shots, "sms-outbox")
    text = page.locator(".pv-sms-text").first.inner_text()
    password = text.strip().splitlines()[-1]
    assert len(password) >= 20
    page.goto(f"/portal/systems/{client_id}")
    kid = str(page.locator("#keys .pv-kid").last.inner_text())
    key = load_private_key(p12, password)
    assert key.kid == kid
    expect(page.locator("#usage-cli-p12")).to_contain_text(kid)
    audit(page, shots, "usage-pkcs12")
    body = run_shown_command(page, "#usage-cli-p12", p12, env={"PORTVAKT_KEY_PASSWORD": password})
    assert body["token_type"] == "Bearer"
    assert token_with(live, client_id, kid, p12, password)
    d = key.to_private_jwk()["d"]
    assert_nowhere(live, server_log, password, d, pem_body(key.to_pem())[100:160],
                   base64.b64encode(p12.read_bytes()[:64]).decode())


def test_skip_link_then_the_form_by_keyboard_only(page: Any, live: LiveServer, shots: Shots) -> None:
    page.goto("/portal/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Hopp til hovedinnhold")
    expect(skip).to_be_focused()
    shots.take(page, "skip-link-focused")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))  # waits: the fragment is set after the key event
    page.keyboard.press("Tab")
    expect(page.get_by_label("Brukernavn")).to_be_focused()
    page.keyboard.type(VENDOR_PERSON)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Passord")).to_be_focused()
    page.keyboard.type("wrong-password")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Logg inn")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Feil brukernavn eller passord")
    expect(page.get_by_label("Brukernavn")).to_have_attribute("aria-invalid", "true")
    audit(page, shots, "login-failed")


def test_english_and_a_form_error_tied_to_its_field(page: Any, live: LiveServer, shots: Shots) -> None:
    page.goto("/portal/login")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    audit(page, shots, "login-english")
    page.get_by_label("Username").fill(VENDOR_PERSON)
    page.get_by_label("Password").fill(live.people[VENDOR_PERSON])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation").get_by_role("link", name="Systems").click()
    page.get_by_role("link", name="Create system").click()
    page.get_by_role("button", name="Create system").click()
    summary = page.locator(".ds-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter a name.")
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_attribute("aria-describedby", "client_name-hint client_name-error")
    audit(page, shots, "new-system-error-english")
    summary.get_by_role("link", name="Enter a name.").click()
    expect(name).to_be_focused()
