"""System users end to end with a person in Chromium (docs/protocol.md §6): the vendor registers a system and asks on
the wire; the customer's access manager opens the confirmUrl, logs in and approves in the portal; the system user's
token reads from the example API (examples/provider/systemuser_api.py), whose decision point permits the right it
holds and refuses another; the person deletes it in the portal, and the next token is MP-303. The agent flow: the
accounting firm approves an agent request, adds a client in the portal (the decision point now permits the agent's
package for it) and removes it (refused again).

The server is the browser tests' one process with the demo data (tests/browser/server.py); the demo customer,
Øvre Toten Regnskapstjenester AS, is also the accounting firm, and the demo's Toten Trelast AS has it as its
accountant. The layout of these pages is audited in test_systemuser_journeys.py; here it is the flow.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from portvakt.cli import demo
from portvakt.jose import PrivateKeyHandle
from portvakt.portal import portal_config
from portvakt.wiring import open_store
from tests.api.test_systemuser_end_to_end import (
    CUSTOMER,
    FIRM_CLIENT,
    Wire,
    ask,
    check_agent_flow,
    check_standard_flow,
    example_api,
    register_system,
    seed,
)

from .server import LiveServer
from .support import Shots, needs_chromium

pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("browser")]
ACCESS_MANAGER = "tor@toten.demo"
assert (demo.CONSUMER[0], demo.ACCOUNTING_CLIENT[0]) == (CUSTOMER, FIRM_CLIENT)


@dataclass
class Flow:
    """The wire to the live server, and the vendor's system registered on it."""

    wire: Wire
    system_id: str


@pytest.fixture(scope="module")
def flow(live: LiveServer, rsa_keys: list[PrivateKeyHandle]) -> Flow:
    """What the demo lacks, set up as the operator would (the example API's scope, the vendor's access to the
    register and the requests, the provider's to the decision point, a client each), then the system on the wire."""
    store = open_store(live.settings, migrate=False)
    try:
        registry = seed(store, rsa_keys, scope_owner=demo.PROVIDER[0], orgs={})
    finally:
        store.close()
    portal_key = PrivateKeyHandle.from_pem(portal_config(live.settings).key_file.read_bytes())
    wire = Wire(live.url, live.url, registry, portal_key)
    return Flow(wire, register_system(wire, "flyt"))


def approve_in_the_browser(page: Any, live: LiveServer, shots: Shots, confirm_url: str) -> None:
    """Open the confirmUrl logged out, log in as the customer's access manager, land on the request, approve."""
    page.goto(confirm_url)
    page.wait_for_url("**/portal/login?next=*")
    page.get_by_label("Brukernavn").fill(ACCESS_MANAGER)
    page.get_by_label("Passord").fill(live.people[ACCESS_MANAGER])
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url(re.compile(re.escape(confirm_url.removeprefix(live.url.rstrip("/"))) + "$"))
    shots.take(page, "request")
    page.get_by_role("button", name="Godkjenn").click()
    page.wait_for_url(re.compile(r".*/portal/systemuser/(agent)?request/decided\?id=[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Systemtilgangen er opprettet")
    shots.take(page, "approved")


def open_system_user(page: Any, title: str) -> None:
    """The portal's list of system users, then the one named `title`."""
    page.goto("/portal/systemusers")
    page.get_by_role("link", name=title, exact=True).click()


@pytest.mark.parametrize("width", [1280], indirect=True)
def test_approve_in_the_browser_use_the_token_delete_in_the_browser(page: Any, live: LiveServer, shots: Shots,
                                                                   flow: Flow) -> None:
    wire, ref = flow.wire, f"flyt-{uuid.uuid4()}"
    title = f"Rapport {ref[-6:]}"
    request = ask(wire, flow.system_id, CUSTOMER, external_ref=ref, title=title)
    approve_in_the_browser(page, live, shots, request["confirmUrl"])
    assert wire.vendor("GET", f"authentication/api/v1/systemuser/request/vendor/{request['id']}").json()[
        "status"] == "Accepted"

    def delete_in_the_browser(system_user_id: str) -> None:
        page.goto("/portal/systemusers")
        row = page.locator("#systemusers tr", has_text=title)
        expect(row).to_contain_text(demo.VENDOR[1])
        row.locator(f'a[href$="/systemusers/{system_user_id}/delete"]').click()
        page.get_by_role("button", name="Slett systemtilgangen").click()
        expect(page.get_by_role("status")).to_contain_text("Systemtilgangen er slettet")
        shots.take(page, "deleted")

    token = wire.system_user_token(CUSTOMER, ref)
    with example_api(wire, live.data_dir.parent) as api:
        check_standard_flow(wire, token, flow.system_id, api, delete_in_the_browser, external_ref=ref)


@pytest.mark.parametrize("width", [1280], indirect=True)
def test_the_firm_adds_and_removes_a_client_in_the_browser(page: Any, live: LiveServer, shots: Shots,
                                                           flow: Flow) -> None:
    wire, ref = flow.wire, f"klienter-{uuid.uuid4()}"
    title = f"Klienter {ref[-6:]}"
    request = ask(wire, flow.system_id, CUSTOMER, agent=True, external_ref=ref, title=title)
    assert "systemuser/agentrequest?id=" in request["confirmUrl"]
    approve_in_the_browser(page, live, shots, request["confirmUrl"])
    found = wire.claim(wire.system_user_token(CUSTOMER, ref))
    client_name = demo.ACCOUNTING_CLIENT[1]

    def add() -> None:
        open_system_user(page, title)
        page.get_by_label("Kunde", exact=True).select_option(FIRM_CLIENT)
        page.get_by_role("button", name="Legg til kunden").click()
        expect(page.get_by_role("status")).to_contain_text(f"{client_name} ({FIRM_CLIENT}) er lagt til som kunde.")
        shots.take(page, "client-added")

    def remove() -> None:
        page.get_by_role("button", name=f"Fjern kunden {client_name}").click()
        expect(page.get_by_role("status")).to_contain_text(f"{client_name} ({FIRM_CLIENT}) er fjernet som kunde.")
        shots.take(page, "client-removed")

    check_agent_flow(wire, found, add, remove)
