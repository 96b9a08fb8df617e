"""The system-user pages in Chromium at 1280 and 390 px, every page state audited (no sideways scroll at 390 px,
0 axe-core violations, a screenshot): a vendor asks for a system user on the wire and gets a confirmUrl; the
customer's access manager opens it, logs in, lands on the request, approves and is sent back to the vendor's
redirectUrl; the system user is in the list and is deleted after a confirmation. A request without a redirectUrl,
rejected, stays in the portal with what was done. The agent journey: the accounting firm approves an agent request,
adds a client and removes it.

One Chromium and one server for this module (the fixtures are module-scoped)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from portvakt.client import GrantSigner, fetch_token
from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.clientroles import register_client_relationship
from portvakt.domain.clock import SystemClock
from portvakt.domain.models import AccessState, ClientRole, IntegrationType, SystemRight
from portvakt.domain.orgno import is_valid_orgno
from portvakt.domain.ports import Store
from portvakt.domain.systemregister import REQUEST_WRITE, SystemSpec, Writer, register_system
from portvakt.jose import PrivateKeyHandle
from portvakt.wiring import open_store

from .server import LiveServer
from .support import NARROW, Shots, audit, fits, needs_chromium, polled

#: Under pytest-xdist the browser modules run on one worker, one after another: one Chromium at a time.
pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("browser")]
#: The demo customer (an accounting firm) and its access manager; the demo vendor.
FIRM, FIRM_NAME, ACCESS_MANAGER = "310838128", "Øvre Toten Regnskapstjenester AS", "tor@toten.demo"
VENDOR, VENDOR_NAME = "314330897", "Turbo Systemleverandør AS"
CLIENT_ORGNO = next(str(n) for n in range(311000000, 311000999) if is_valid_orgno(str(n)))
CLIENT_NAME = "Bakeriet på Toten AS"
SYSTEM_ID = f"{VENDOR}_regnskap"
SYSTEM_NAME = "Turbo Regnskap"
RESOURCE = "ske_skattemelding"
OWN_PACKAGE = "urn:altinn:accesspackage:skattnaering"
CLIENT_PACKAGE = "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"
REDIRECT = "https://vendor.example/systemtilgang/ferdig"
ACTOR = Actor.operator("browser-test")
REQUESTS = "authentication/api/v1/systemuser/request/vendor"


@dataclass(frozen=True)
class Vendor:
    """The demo vendor's own client for the request API, and its key."""

    client_id: str
    key: PrivateKeyHandle

    def token(self, live: LiveServer) -> str:
        """An access token with the request scope, from /token (docs/protocol.md §1)."""
        signer = GrantSigner(client_id=self.client_id, key=self.key, kid=self.key.kid, audience=live.url)
        body = fetch_token(signer, REQUEST_WRITE, token_endpoint=live.url + "token")
        return str(body["access_token"])

    def ask(self, live: LiveServer, title: str, *, agent: bool = False, redirect: str | None = REDIRECT) -> str:
        """POST a request for the firm (standard: the right and the own package; agent: the client package), as
        a vendor does; its confirmUrl."""
        body: dict[str, Any] = {"systemId": SYSTEM_ID, "partyOrgNo": FIRM, "integrationTitle": title,
                                "externalRef": f"ref-{uuid.uuid4()}"}
        if redirect:
            body["redirectUrl"] = redirect
        if agent:
            body["accessPackages"] = [{"urn": CLIENT_PACKAGE}]
        else:
            body["rights"] = [{"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}], "action": "write"}]
            body["accessPackages"] = [{"urn": OWN_PACKAGE}]
        resp = httpx.post(live.url + REQUESTS + ("/agent" if agent else ""), json=body, timeout=10,
                          headers={"authorization": f"Bearer {self.token(live)}"})
        assert resp.status_code == 201, resp.text
        confirm = str(resp.json()["confirmUrl"])
        assert confirm.startswith(live.url + "portal/systemuser/" + ("agentrequest" if agent else "request") + "?id=")
        return confirm


@pytest.fixture(scope="module")
def store(live: LiveServer) -> Iterator[Store]:
    """The live server's database, for what the demo lacks."""
    opened = open_store(live.settings, migrate=False)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def vendor(store: Store) -> Vendor:
    """What the demo lacks: the vendor's client with the request scope, its system in the register (not visible, so
    it may hold packages for clients) and an organisation that has the firm as its accountant (a client relationship),
    so the firm can take it on as a client."""
    key = PrivateKeyHandle.generate(2048)
    now = SystemClock().now()
    with store.begin() as uow:
        uc.add_org(uow, CLIENT_ORGNO, CLIENT_NAME, ACTOR, now)
        register_client_relationship(uow, CLIENT_ORGNO, FIRM, ClientRole.REGNSKAPSFORER, ACTOR, now)
        uc.set_access(uow, REQUEST_WRITE, VENDOR, AccessState.APPROVED, ACTOR, now)
        client = uc.new_client(uow, client_name="Turbo Regnskap-klient", client_orgno=VENDOR, scopes=[REQUEST_WRITE],
                               actor=ACTOR, now=now, integration_type=IntegrationType.MASKINPORTEN)
        uc.replace_client_keys(uow, client.client_id, [(key.kid, key.public_jwk)], ACTOR, now)
        register_system(uow, SystemSpec(
            system_id=SYSTEM_ID, vendor_id=f"0192:{VENDOR}", name={"nb": SYSTEM_NAME, "en": "Turbo Books"},
            description={"nb": "Fører regnskapet og leverer skattemeldingen for dere.",
                         "en": "Keeps your books and files your tax return."},
            rights=(SystemRight((("urn:altinn:resource", RESOURCE),), "write"),),
            access_packages=(OWN_PACKAGE, CLIENT_PACKAGE), client_ids=(client.client_id,),
            allowed_redirect_urls=(REDIRECT,), is_visible=False), Writer(VENDOR), ACTOR, now)
    return Vendor(client.client_id, key)


@pytest.fixture
def vendor_site(page: Any) -> list[str]:
    """The vendor's own site, answered by the test: the addresses the browser was sent to."""
    visited: list[str] = []

    def answer(route: Any) -> None:
        visited.append(route.request.url)
        route.fulfill(status=200, content_type="text/html; charset=utf-8",
                      body="<!doctype html><html lang='nb'><title>Turbo</title><main><h1>Tilbake hos Turbo</h1>"
                           "</main></html>")

    page.route("https://vendor.example/**", answer)
    return visited


def log_in_from_the_link(page: Any, live: LiveServer, shots: Shots, confirm_url: str) -> None:
    """Open the confirmUrl while logged out: the login page, then back to the request."""
    page.goto(confirm_url)
    page.wait_for_url("**/portal/login?next=*")
    audit(page, shots, "login-from-the-link")
    page.get_by_label("Brukernavn").fill(ACCESS_MANAGER)
    page.get_by_label("Passord").fill(live.people[ACCESS_MANAGER])
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(re.compile(re.escape(confirm_url.removeprefix(live.url.rstrip("/"))) + "$"))


def test_approve_a_request_then_delete_the_system_user(page: Any, live: LiveServer, shots: Shots, vendor: Vendor,
                                                       vendor_site: list[str], width: int) -> None:
    """confirmUrl -> login -> the request -> approve -> the vendor's redirectUrl; the list; delete."""
    title = f"Regnskap ({width} px)"
    confirm_url = vendor.ask(live, title)
    log_in_from_the_link(page, live, shots, confirm_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Forespørsel om systemtilgang")
    expect(page.locator("#vendor")).to_have_text(f"{VENDOR_NAME} ({VENDOR})")
    expect(page.locator("#system")).to_contain_text(SYSTEM_NAME)
    expect(page.locator("#rights")).to_contain_text(f"{RESOURCE} (handling: write)")
    expect(page.locator("#packages")).to_contain_text(OWN_PACKAGE)
    fits(page)
    audit(page, shots, "request")
    page.get_by_role("button", name="Godkjenn").click()
    page.wait_for_url(REDIRECT)
    expect(page.get_by_role("heading", name="Tilbake hos Turbo")).to_be_visible()
    assert vendor_site == [REDIRECT]
    page.go_back()
    page.wait_for_url(re.compile(r".*/portal/systemuser/request\?id="))
    expect(page.locator("#status")).to_have_text("Godkjent")
    expect(page.get_by_role("button", name="Godkjenn")).to_have_count(0)
    audit(page, shots, "request-approved")
    page.get_by_role("link", name="Til systemtilgangene").click()
    page.wait_for_url("**/portal/systemusers")
    row = page.locator("#systemusers tr", has_text=title)
    expect(row).to_contain_text(f"{VENDOR_NAME} ({VENDOR})")
    expect(row).to_contain_text(RESOURCE)
    fits(page)
    audit(page, shots, "list")
    page.get_by_role("link", name=f"Slett systemtilgangen «{title}» (Egen virksomhet) fra {VENDOR_NAME}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Slett «{title}»")
    audit(page, shots, "delete-confirm")
    page.get_by_role("button", name="Slett systemtilgangen").click()
    expect(page.get_by_role("status")).to_contain_text("Systemtilgangen er slettet")
    expect(page.locator("#systemusers tr", has_text=title)).to_have_count(0)
    audit(page, shots, "deleted")


def test_reject_a_request_without_a_redirect_url(page: Any, live: LiveServer, shots: Shots, vendor: Vendor,
                                                 width: int) -> None:
    """No redirectUrl: after the answer the portal says what was done and stays."""
    confirm_url = vendor.ask(live, f"Avvist ({width} px)", redirect=None)
    log_in_from_the_link(page, live, shots, confirm_url)
    page.get_by_role("button", name="Avvis").click()
    page.wait_for_url("**/portal/systemuser/request/decided?id=*")
    expect(page.get_by_role("heading", level=1)).to_have_text("Forespørselen er avvist")
    expect(page.locator("#no-redirect")).to_be_visible()
    audit(page, shots, "rejected")


def test_the_firm_approves_an_agent_request_and_adds_a_client(page: Any, live: LiveServer, shots: Shots,
                                                              vendor: Vendor, vendor_site: list[str],
                                                              width: int) -> None:
    """The agent request -> approve -> back to the vendor; the system user's page; add a client; remove it."""
    title = f"Klienter ({width} px)"
    confirm_url = vendor.ask(live, title, agent=True)
    log_in_from_the_link(page, live, shots, confirm_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Forespørsel om systemtilgang for kunder")
    expect(page.locator("#packages")).to_contain_text(CLIENT_PACKAGE)
    audit(page, shots, "agent-request")
    page.get_by_role("button", name="Godkjenn").click()
    page.wait_for_url(REDIRECT)
    page.goto("/portal/systemusers")
    page.get_by_role("link", name=title, exact=True).click()
    expect(page.locator("#no-clients")).to_be_visible()
    audit(page, shots, "agent-without-clients")
    page.get_by_label("Kunde", exact=True).select_option(CLIENT_ORGNO)
    page.get_by_role("button", name="Legg til kunden").click()
    expect(page.get_by_role("status")).to_contain_text(f"{CLIENT_NAME} ({CLIENT_ORGNO}) er lagt til som kunde.")
    expect(page.locator("#client-list")).to_contain_text(CLIENT_NAME)
    fits(page)
    audit(page, shots, "client-added")
    page.get_by_role("button", name=f"Fjern kunden {CLIENT_NAME}").click()
    expect(page.get_by_role("status")).to_contain_text(f"{CLIENT_NAME} ({CLIENT_ORGNO}) er fjernet som kunde.")
    expect(page.locator("#client-list")).to_have_count(0)
    audit(page, shots, "client-removed")
    page.get_by_role("link", name=f"Slett «{title}»").click()
    page.get_by_role("button", name="Slett systemtilgangen").click()
    expect(page.get_by_role("status")).to_contain_text("Systemtilgangen er slettet")


def test_a_command_box_never_wraps_and_is_reachable_by_keyboard(page: Any, live: LiveServer, shots: Shots,
                                                                width: int) -> None:
    """portal.js and portal.css (decision P36): a .pv-command keeps each line whole (it scrolls instead), and every
    box, also one added after the page loaded, is focusable and named."""
    command = "portvakt token --scope altinn:authentication/systemuser.request.write --systemuser-org 310838128"
    page.goto("/portal/login")
    page.evaluate("""(command) => {
      const heading = document.createElement('h2');
      heading.className = 'ds-heading';
      heading.textContent = 'Kommandolinje';
      const box = document.createElement('pre');
      box.className = 'pv-command';
      box.id = 'late';
      box.innerHTML = '<code></code>';
      box.firstChild.textContent = command;
      document.querySelector('main').append(heading, box);
    }""", command)
    box = page.locator("#late")
    expect(box).to_have_attribute("tabindex", "0")
    expect(box).to_have_attribute("role", "group")
    expect(box).to_have_attribute("aria-label", "Kommandolinje")
    line_height = float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('#late code')).lineHeight)"))
    assert box.locator("code").bounding_box()["height"] < 1.5 * line_height, "the command is one line"
    if width <= NARROW:
        assert box.evaluate("(el) => el.scrollWidth > el.clientWidth"), "too long for the box: it scrolls"
        box.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        scrolled = polled(page, lambda: float(box.evaluate("(el) => el.scrollLeft")), every_ms=100)
        assert scrolled > 0, "arrow keys scroll the focused box"
    fits(page)
    audit(page, shots, "late-command")
