"""In Chromium at 1280 and 390 px: logging in (with an error, and back to the page asked for), the overview, the
organisation chooser, the SMS outbox, the copy button and the /errors/ pages in both languages; every page state
audited (no sideways scroll at 390 px, 0 axe-core violations, a screenshot).

One Chromium and one server for this module (the fixtures are module-scoped)."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

import pytest
from playwright.sync_api import expect

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.domain.audit import Actor
from portvakt.domain.clock import SystemClock
from portvakt.domain.models import PersonRole, PortalRole
from portvakt.domain.people import add_person
from portvakt.domain.ports import Store
from portvakt.wiring import open_store

from .server import LiveServer
from .support import Shots, audit, fits, needs_chromium

#: Under pytest-xdist the browser modules run on one worker, one after another: one Chromium at a time.
pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("browser")]
VENDOR_PERSON, ACCESS_MANAGER = "ida@turbo.demo", "tor@toten.demo"
VENDOR, CONSUMER = "314330897", "310838128"
TWO_ORGS, TWO_ORGS_PASSWORD = "mia@begge.demo", "mia-demo-passord"


@pytest.fixture(scope="module")
def store(live: LiveServer) -> Store:
    """The live server's database, for what the demo lacks (a person with two organisations)."""
    opened = open_store(live.settings, migrate=False)
    with opened.begin() as uow:
        if uow.get_person(TWO_ORGS) is None:
            add_person(uow, Argon2PasswordHasher(), username=TWO_ORGS, name="Mia Mange", mobile="+4790000009",
                       password=TWO_ORGS_PASSWORD,
                       roles=(PersonRole(VENDOR, PortalRole.INTEGRATION_RESPONSIBLE),
                              PersonRole(CONSUMER, PortalRole.ACCESS_MANAGER)),
                       actor=Actor.operator("browser-test"), now=SystemClock().now())
    return opened


def fill_login(page: Any, username: str, password: str) -> None:
    """Type the username and password and press Enter."""
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(password)
    page.get_by_label("Passord").press("Enter")


def test_login_with_an_error_then_back_to_the_page_asked_for(page: Any, live: LiveServer, shots: Shots) -> None:
    """A page asked for without login -> the login page -> a wrong password -> the page asked for."""
    page.goto("/portal/delegations?history=1")
    page.wait_for_url(re.compile(r".*/portal/login\?next=%2Fportal%2Fdelegations%3Fhistory%3D1$"))
    expect(page.get_by_role("heading", name="Logg inn")).to_be_visible()
    audit(page, shots, "login-asked-for")
    fill_login(page, ACCESS_MANAGER, "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Feil brukernavn eller passord")
    assert page.title().startswith("Feil: Logg inn")
    audit(page, shots, "login-error")
    fill_login(page, ACCESS_MANAGER, live.people[ACCESS_MANAGER])
    page.wait_for_url("**/portal/delegations?history=1")
    expect(page.get_by_role("heading", name="Historikk: tilbaketrukne delegeringer")).to_be_visible()
    audit(page, shots, "returned-to-delegations")


def test_an_address_off_the_portal_is_never_followed(page: Any, live: LiveServer, shots: Shots) -> None:
    """?next= naming another site ends on the overview."""
    page.goto("/portal/login?next=https%3A%2F%2Fevil.example%2F")
    fill_login(page, VENDOR_PERSON, live.people[VENDOR_PERSON])
    page.wait_for_url("**/portal/")
    expect(page.get_by_role("heading", name="Oversikt", exact=True)).to_be_visible()
    audit(page, shots, "overview")


def test_the_organisation_chooser_then_the_page_asked_for(page: Any, live: LiveServer, shots: Shots,
                                                           store: Store) -> None:
    """Two organisations: the chooser comes between login and the page asked for."""
    page.goto("/portal/systems")
    fill_login(page, TWO_ORGS, TWO_ORGS_PASSWORD)
    page.wait_for_url("**/portal/org?next=%2Fportal%2Fsystems")
    expect(page.get_by_role("group", name="Hvilken organisasjon vil du handle for?")).to_be_visible()
    audit(page, shots, "org-chooser")
    page.get_by_label("Turbo Systemleverandør AS (314330897)").check()
    page.get_by_role("button", name="Fortsett").click()
    page.wait_for_url("**/portal/systems")
    expect(page.get_by_text("Du handler for Turbo Systemleverandør AS (314330897)")).to_be_visible()
    audit(page, shots, "systems-after-choosing")
    page.get_by_role("link", name="Bytt organisasjon").click()
    page.get_by_label("Øvre Toten Regnskapstjenester AS (310838128)").check()
    page.get_by_role("button", name="Fortsett").click()
    page.wait_for_url("**/portal/")
    expect(page.get_by_role("heading", name="Tilgangsstyrer")).to_be_visible()
    audit(page, shots, "overview-other-org")


def test_the_sms_outbox(page: Any, live: LiveServer, shots: Shots) -> None:
    """The outbox (empty on the first run), then with a long message: it wraps, it never widens the page."""
    page.goto("/portal/dev/sms")
    fill_login(page, VENDOR_PERSON, live.people[VENDOR_PERSON])
    page.wait_for_url("**/portal/dev/sms")
    audit(page, shots, "outbox")
    # Playwright's sync API keeps an event loop in this thread: send from another one.
    sender = threading.Thread(target=asyncio.run, args=(live.outbox.send("+4790000001", "Passord: " + "x" * 120),))
    sender.start()
    sender.join()
    page.reload()
    expect(page.locator(".pv-sms-text").first).to_contain_text("Passord: xxx")
    fits(page)
    audit(page, shots, "outbox-with-message")


def test_the_copy_button_copies_the_command(page: Any, live: LiveServer, shots: Shots) -> None:
    """portal.js: a [data-copy] button copies its .pv-command and says so in a live region."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/portal/login")
    page.evaluate("""() => {
      const box = document.createElement('div');
      box.innerHTML = '<pre class="pv-command"><code>portvakt token --scope a:b --consumer-org 310838128</code></pre>'
        + '<div class="pv-copy"><button type="button" class="ds-button" data-variant="secondary" data-copy>'
        + 'Kopier</button></div>';
      document.querySelector('main').appendChild(box);
    }""")
    page.get_by_role("button", name="Kopier").click()
    expect(page.get_by_role("status")).to_have_text("Kopiert")
    assert page.evaluate("navigator.clipboard.readText()") == "portvakt token --scope a:b --consumer-org 310838128"
    audit(page, shots, "copied")


@pytest.mark.parametrize("code", ["MP-250", "MP-126"])
def test_an_error_page_in_both_languages_with_a_way_back(page: Any, live: LiveServer, shots: Shots,
                                                          code: str) -> None:
    """/errors/<code>: Bokmål, the switch to English, the index, an unknown code, and back to the portal."""
    page.goto(f"/errors/{code}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(code)
    assert page.evaluate("document.documentElement.lang") == "nb"
    audit(page, shots, f"{code}-nb")
    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"**/errors/{code}?lang=en")
    assert page.evaluate("document.documentElement.lang") == "en"
    audit(page, shots, f"{code}-en")
    page.get_by_role("link", name="All error codes").click()
    expect(page.get_by_role("heading", name="Token endpoint error codes")).to_be_visible()
    audit(page, shots, "index-en")
    page.goto("/errors/MP-999")
    expect(page.get_by_role("heading", name="Ukjent feilkode MP-999")).to_be_visible()
    audit(page, shots, "unknown-nb")
    page.get_by_role("link", name="Til portalen").click()
    page.wait_for_url("**/portal/login")


def test_the_portals_language_reaches_the_error_pages(page: Any, live: LiveServer, shots: Shots) -> None:
    """Choosing English in the portal makes the error pages English too (the language cookie)."""
    page.goto("/portal/login")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto("/errors/MP-251")
    expect(page.get_by_role("heading", level=1)).to_have_text("MP-251: No delegation")
    audit(page, shots, "MP-251-from-the-portal-in-english")
