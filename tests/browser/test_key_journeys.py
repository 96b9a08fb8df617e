"""In Chromium at 1280 and 390 px: every state of the three key pages, each audited (no sideways scroll at 390 px,
0 axe-core violations, a screenshot): paste (empty, a private key refused by the page's own script with nothing
sent, an unreadable key refused by the server, success), the browser key pair (before, the checkbox's error, done,
and its private JWK getting a token with the shown command), the PKCS#12 (form, success, a resubmit that makes
nothing, a double click that makes one key).

One Chromium and one server for this module (the fixtures are module-scoped)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from playwright.sync_api import expect

from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.clock import SystemClock
from portvakt.domain.models import IntegrationType
from portvakt.domain.ports import Store
from portvakt.jose import PrivateKeyHandle
from portvakt.wiring import open_store

from .flows import OPEN_SCOPE, SYSTEM_URL, VENDOR_PERSON, run_shown_command
from .server import LiveServer
from .support import Shots, audit, fits, needs_chromium

#: Under pytest-xdist the browser modules run on one worker, one after another: one Chromium at a time.
pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("browser")]
VENDOR = "314330897"
MOBILE = "+4790000001"
#: The PKCS#12 success page (the page stays while the file's download, which it starts, runs: no "load" to wait for).
MADE_URL = re.compile(r".*/keys/pkcs12/[A-Za-z0-9_-]+$")


@pytest.fixture(scope="module")
def store(live: LiveServer) -> Store:
    """The live server's database: the systems these tests add keys to are made here, not through the pages."""
    return open_store(live.settings, migrate=False)


def new_system(store: Store, name: str) -> str:
    """A virksomhetssystem of the demo vendor with the open scope and no key; its client_id."""
    now = SystemClock().now()
    with store.begin() as uow:
        made = uc.new_client(uow, client_name=name, client_orgno=VENDOR,
                             integration_type=IntegrationType.ALTINN_VIRKSYS, scopes=[OPEN_SCOPE],
                             actor=Actor.operator("browser-test"), now=now)
    return made.client_id


def origins(store: Store, client_id: str) -> list[object]:
    with store.read() as uow:
        found = uow.get_client(client_id)
    assert found is not None
    return [k.origin for k in found.keys]


def log_in(page: Any, live: LiveServer, then: str) -> None:
    """Log in on the way to `then` (the login page sends the person back to it)."""
    page.goto(then)
    page.get_by_label("Brukernavn").fill(VENDOR_PERSON)
    page.get_by_label("Passord").fill(live.people[VENDOR_PERSON])
    page.get_by_label("Passord").press("Enter")
    page.wait_for_url("**" + then)


def record_requests(page: Any) -> list[Any]:
    """Every request the page makes from now on."""
    sent: list[Any] = []
    page.on("request", lambda request: sent.append(request))
    return sent


def carried(requests: list[Any]) -> str:
    """Everything the requests carried: URLs and bodies (form bodies decoded)."""
    return "\n".join(f"{r.url}\n{r.post_data or ''}\n{unquote_plus(r.post_data or '')}" for r in requests)


def expect_field_error(page: Any, field: str, says: str) -> None:
    """A ValidationMessage tied to the field, an ErrorSummary that has focus and links to it, "Feil: " in the title."""
    message = page.locator(f"#{field}-error")
    expect(message).to_have_text(says)
    expect(message).to_have_class(re.compile("ds-validation-message"))
    target = page.locator(f"#{field}")
    expect(target).to_have_attribute("aria-invalid", "true")
    assert f"{field}-error" in (target.get_attribute("aria-describedby") or "")
    summary = page.locator(".ds-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=says)).to_have_attribute("href", f"#{field}")
    assert page.title().startswith("Feil: ")


@pytest.fixture(scope="module")
def handle() -> PrivateKeyHandle:
    return PrivateKeyHandle.generate(2048)


def public_pem(handle: PrivateKeyHandle) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

    key = load_pem_private_key(handle.to_pem(), None)
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def test_paste(page: Any, live: LiveServer, shots: Shots, store: Store, width: int) -> None:
    """Empty; a private key refused by the page's own script (nothing sent); an unreadable key; success."""
    handle = PrivateKeyHandle.generate(2048)
    client_id = new_system(store, f"Limsystem {width}")
    log_in(page, live, f"/portal/systems/{client_id}/keys/paste")
    field = page.get_by_label("Offentlig nøkkel (PEM eller JWK)")
    expect(page.get_by_text("Høyst 10\u00a0000 tegn.")).to_be_visible()
    assert field.get_attribute("maxlength") == "10000"
    audit(page, shots, "paste-empty")

    sent = record_requests(page)
    field.fill(handle.to_pem().decode())
    page.get_by_role("button", name="Registrer nøkkelen").click()
    expect_field_error(page, "public_key", page.locator("#paste-form").get_attribute("data-private") or "?")
    expect(page.locator("#public_key-error")).to_contain_text("Dette er en privat nøkkel. Den ble ikke sendt")
    expect(field).to_have_value("")
    audit(page, shots, "paste-private-refused")
    assert not [r for r in sent if r.method == "POST"], "the form was not sent"
    assert "PRIVATE KEY" not in carried(sent) and handle.to_private_jwk()["d"] not in carried(sent)

    field.fill("dette er ingen nøkkel")
    page.get_by_role("button", name="Registrer nøkkelen").click()
    expect(page.locator("#public_key-error")).to_contain_text("Dette er ikke en offentlig nøkkel vi kan lese")
    expect(page.locator(".ds-error-summary")).to_be_focused()
    assert page.title().startswith("Feil: Lim inn offentlig nøkkel")
    audit(page, shots, "paste-invalid")

    page.get_by_label("Offentlig nøkkel (PEM eller JWK)").fill(public_pem(handle))
    page.get_by_role("button", name="Registrer nøkkelen").click()
    page.wait_for_url(SYSTEM_URL)
    expect(page.get_by_role("status").first).to_contain_text("er registrert")
    audit(page, shots, "paste-success")
    assert origins(store, client_id) == ["paste"]


@pytest.mark.parametrize("width", [1280], indirect=True)
def test_every_kind_of_private_key_stays_in_the_browser(page: Any, live: LiveServer, store: Store) -> None:
    """PEM PRIVATE KEY of each kind, a JWK with "d" or "k" (also with an escaped member name): never sent."""
    handle = PrivateKeyHandle.generate(2048)
    pem = handle.to_pem().decode()
    private = handle.to_private_jwk()
    texts = {
        "pkcs8": pem,
        "rsa": pem.replace("PRIVATE KEY", "RSA PRIVATE KEY"),
        "ec": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIAbc\n-----END EC PRIVATE KEY-----\n",
        "encrypted": handle.to_pem(b"a-password").decode(),
        "jwk": json.dumps(private),
        "jwk-set": json.dumps({"keys": [private]}),
        "escaped": json.dumps(private).replace('"d"', '"\\u0064"'),
        "symmetric": json.dumps({"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"}),
    }
    client_id = new_system(store, "Privatnøkkeltest")
    log_in(page, live, f"/portal/systems/{client_id}/keys/paste")
    sent = record_requests(page)
    for name, text in texts.items():
        page.get_by_label("Offentlig nøkkel (PEM eller JWK)").fill(text)
        page.get_by_role("button", name="Registrer nøkkelen").click()
        expect(page.locator("#public_key-error")).to_contain_text("Dette er en privat nøkkel", timeout=5_000)
        expect(page.get_by_label("Offentlig nøkkel (PEM eller JWK)")).to_have_value("")
        assert not [r for r in sent if r.method == "POST"], name
    body = carried(sent)
    assert "PRIVATE KEY" not in body and private["d"] not in body and private["p"] not in body
    assert origins(store, client_id) == []


def test_browser_key_pair(page: Any, live: LiveServer, shots: Shots, store: Store, tmp_path: Path,
                          width: int) -> None:
    """Before; registering without the checkbox (its own error, nothing sent); done; the private JWK the browser
    offered gets a token with the command the system page shows."""
    client_id = new_system(store, f"Nettlesersystem {width}")
    log_in(page, live, f"/portal/systems/{client_id}/keys/browser")
    expect(page.locator("#private-stays")).to_contain_text("forlater aldri nettleseren")
    audit(page, shots, "keygen-before")

    sent = record_requests(page)
    page.get_by_role("button", name="Lag nøkkelpar").click()
    expect(page.get_by_role("status").first).to_contain_text("Nøkkelparet er laget")
    with page.expect_download() as pem_download:
        page.get_by_role("link", name="Last ned privat nøkkel (PKCS#8 PEM)").click()
    with page.expect_download() as jwk_download:
        page.get_by_role("link", name="Last ned privat nøkkel (JWK)").click()
    page.get_by_role("button", name="Registrer den offentlige nøkkelen").click()
    expect_field_error(page, "saved", "Bekreft at du har tatt vare på den private nøkkelen.")
    audit(page, shots, "keygen-checkbox-error")
    assert not [r for r in sent if r.method == "POST"], "nothing was sent"
    page.get_by_label("Jeg har lastet ned og tatt vare på den private nøkkelen").check()
    expect(page.locator("#saved-error")).to_have_count(0)
    assert not page.title().startswith("Feil: ")
    page.get_by_role("button", name="Registrer den offentlige nøkkelen").click()
    page.wait_for_url(SYSTEM_URL)
    expect(page.get_by_role("status").first).to_contain_text("er registrert")
    audit(page, shots, "keygen-done")

    pem_file = tmp_path / pem_download.value.suggested_filename
    jwk_file = tmp_path / jwk_download.value.suggested_filename
    pem_download.value.save_as(pem_file)
    jwk_download.value.save_as(jwk_file)
    private = json.loads(jwk_file.read_text())
    body = carried(sent)
    assert private["n"] in body, "the public JWK was posted"
    for secret in ("d", "p", "q", "dp", "dq", "qi"):
        assert private[secret] not in body
    assert "PRIVATE KEY" not in body
    said = page.locator("#usage-file").inner_text()
    assert pem_file.name in said and jwk_file.name in said, "the page names the files the browser offered"
    assert origins(store, client_id) == ["browser"]
    assert run_shown_command(page, "#usage-cli-pem", jwk_file)["token_type"] == "Bearer", "the JWK, as the page says"
    assert run_shown_command(page, "#usage-cli-pem", pem_file)["token_type"] == "Bearer"


def _resubmit(page: Any, form: dict[str, str]) -> None:
    """Send the PKCS#12 form again as it was (what the browser's resubmission or a replayed POST does)."""
    page.evaluate("""(fields) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = fields.action;
      for (const [name, value] of Object.entries(fields)) {
        if (name === 'action') continue;
        const input = document.createElement('input');
        input.type = 'hidden'; input.name = name; input.value = value;
        form.appendChild(input);
      }
      document.body.appendChild(form);
      form.submit();
    }""", form)


def test_pkcs12(page: Any, live: LiveServer, shots: Shots, store: Store, tmp_path: Path, width: int) -> None:
    """The form; the success state (file downloaded, password sent to +47 …01); the same form sent again (nothing
    made, the same page); the file gets a token with the shown command."""
    client_id = new_system(store, f"PKCS12-system {width}")
    log_in(page, live, f"/portal/systems/{client_id}/keys/pkcs12")
    expect(page.get_by_text("+47 …01").first).to_be_visible()
    audit(page, shots, "pkcs12-form")
    form = {"action": page.locator("#pkcs12-form").get_attribute("action") or "",
            "once": page.locator("input[name=once]").get_attribute("value") or "",
            "csrf_token": page.locator("#pkcs12-form input[name=csrf_token]").get_attribute("value") or ""}
    before = len(live.outbox.messages(MOBILE))
    with page.expect_download() as download:
        page.get_by_role("button", name="Lag fil og send passord").click()
    expect(page).to_have_url(MADE_URL)
    made_url = page.url
    p12 = tmp_path / download.value.suggested_filename
    download.value.save_as(p12)
    assert p12.suffix == ".p12"
    status = page.get_by_role("status").first
    expect(status).to_contain_text("er registrert på systemet")
    expect(status).to_contain_text("sendt på SMS til +47 …01")
    expect(page.get_by_role("link", name="Til systemsiden")).to_be_visible()
    audit(page, shots, "pkcs12-success")
    assert len(live.outbox.messages(MOBILE)) == before + 1
    password = live.outbox.messages(MOBILE)[0].text.splitlines()[-1]

    _resubmit(page, form)
    page.wait_for_url(made_url)
    expect(page.locator("#pkcs12-taken")).to_contain_text("er lastet ned")
    audit(page, shots, "pkcs12-resubmit")
    assert len(live.outbox.messages(MOBILE)) == before + 1, "no second SMS"
    assert origins(store, client_id) == ["pkcs12"], "no second key"

    page.get_by_role("link", name="Til systemsiden").click()
    page.wait_for_url(SYSTEM_URL)
    assert p12.name in page.locator("#usage-file").inner_text()
    body = run_shown_command(page, "#usage-cli-p12", p12, env={"PORTVAKT_KEY_PASSWORD": password})
    assert body["token_type"] == "Bearer"


@pytest.mark.parametrize("width", [1280], indirect=True)
def test_a_double_click_makes_one_key_and_one_sms(page: Any, live: LiveServer, store: Store) -> None:
    client_id = new_system(store, "Dobbeltklikk")
    log_in(page, live, f"/portal/systems/{client_id}/keys/pkcs12")
    before = len(live.outbox.messages(MOBILE))
    with page.expect_download():
        page.get_by_role("button", name="Lag fil og send passord").dblclick()
    expect(page).to_have_url(MADE_URL)
    expect(page.get_by_role("status").first).to_contain_text("er registrert på systemet")
    assert len(live.outbox.messages(MOBILE)) == before + 1
    assert origins(store, client_id) == ["pkcs12"]


@pytest.mark.parametrize("width", [1280, 390], indirect=True)
def test_a_long_system_name_widens_no_key_page(page: Any, live: LiveServer, store: Store) -> None:
    """A 200-character unbroken name wraps on every key page (WCAG 1.4.10), at 1280 px too."""
    client_id = new_system(store, "Langnavn" * 25)
    log_in(page, live, f"/portal/systems/{client_id}/keys/paste")
    fits(page)
    for way in ("browser", "pkcs12"):
        page.goto(f"/portal/systems/{client_id}/keys/{way}")
        fits(page)
