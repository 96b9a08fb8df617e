"""System users end to end with a person in Chromium (docs/protocol.md §6): the vendor registers a system and asks on
the wire; the customer's access manager opens the confirmUrl, logs in and approves in the portal; the system user's
token reads from the example API (examples/provider/systemuser_api.py), whose decision point permits the right it
holds and refuses another; the person deletes it in the portal, and the next token is MP-303. The agent flow: the
accounting firm approves an agent request, adds a client in the portal (the decision point now permits the agent's
package for it) and removes it (refused again).

Each test runs in both setups of tests/browser/split_server.py, with the demo data: the browser tests' one process,
and the token service with the portal in one `portvakt serve` process and the Altinn side alone in another, where the
token service asks the Altinn side for the system user over HTTP (docs/protocol.md §6.5; seen in the Altinn process's
access log) and trusts its answer for a while. The demo customer, Øvre Toten Regnskapstjenester AS, is also the
accounting firm, and the demo's Toten Trelast AS has it as its accountant. The layout of these pages is audited in
test_systemuser_journeys.py; here it is the flow.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
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

from .split_server import SETUPS, Site, site
from .support import CHROMIUM, Shots, needs_chromium

pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("browser")]
ACCESS_MANAGER = "tor@toten.demo"
assert (demo.CONSUMER[0], demo.ACCOUNTING_CLIENT[0]) == (CUSTOMER, FIRM_CLIENT)


@dataclass
class Flow:
    """The wire to the live server, and the vendor's system registered on it."""

    wire: Wire
    system_id: str


@pytest.fixture(scope="module", params=SETUPS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """This module's server, in each setup in turn (the conftest's `page` opens it): stopped before the next."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (`make test` installs Debian's chromium)")
    running = site(str(request.param), tmp_path_factory.mktemp(str(request.param)) / "var")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def flow(live: Site, rsa_keys: list[PrivateKeyHandle]) -> Flow:
    """What the demo lacks, set up as the operator would (the example API's scope, the vendor's access to the
    register and the requests, the provider's to the decision point, a client each), then the system on the wire."""
    store = open_store(live.settings, migrate=False)
    try:
        registry = seed(store, rsa_keys, scope_owner=demo.PROVIDER[0], orgs={})
    finally:
        store.close()
    portal_key = PrivateKeyHandle.from_pem(portal_config(live.settings).key_file.read_bytes())
    wire = Wire(live.url, live.altinn_url, registry, portal_key)
    return Flow(wire, register_system(wire, "flyt"))


def approve_in_the_browser(page: Any, live: Site, shots: Shots, confirm_url: str) -> None:
    """Open the confirmUrl logged out, log in as the customer's access manager, land on the request, approve."""
    assert confirm_url.startswith(f"{live.url}portal/systemuser/"), confirm_url  # the portal's process
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


def assert_served_by_the_altinn_side(live: Site, *parts: str) -> None:
    """In the split setup, the Altinn process answered a request holding `parts` with 200: the portal's or the token
    service's call over HTTP (docs/protocol.md §6.3, §6.5)."""
    if live.altinn_log is not None:
        served = live.served(*parts)
        assert any(" 200 " in line for line in served), served or live.altinn_log.read_text()[-2000:]


def assert_asked_over_http(live: Site, external_ref: str) -> None:
    """The token service found the system user by asking the Altinn side's byExternalId (docs/protocol.md §6.5)."""
    assert_served_by_the_altinn_side(live, '"GET /authentication/api/v1/systemuser/byExternalId?',
                                     f"&externalRef={external_ref} ")


def open_system_user(page: Any, title: str) -> None:
    """The portal's list of system users, then the one named `title`."""
    page.goto("/portal/systemusers")
    page.get_by_role("link", name=title, exact=True).click()


@pytest.mark.parametrize("width", [1280], indirect=True)
def test_approve_in_the_browser_use_the_token_delete_in_the_browser(page: Any, live: Site, shots: Shots,
                                                                   flow: Flow) -> None:
    wire, ref = flow.wire, f"flyt-{uuid.uuid4()}"
    title = f"Rapport {ref[-6:]}"
    request = ask(wire, flow.system_id, CUSTOMER, external_ref=ref, title=title)
    approve_in_the_browser(page, live, shots, request["confirmUrl"])
    assert_served_by_the_altinn_side(live, f'"POST /authentication/api/v1/systemuser/request/{CUSTOMER}/'
                                           f'{request["id"]}/approve ')
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

    token = wire.first_token(CUSTOMER, ref, within=live.negative_cache)
    assert_asked_over_http(live, ref)
    with example_api(wire, live.data_dir.parent) as api:
        check_standard_flow(wire, token, flow.system_id, api, delete_in_the_browser, external_ref=ref,
                            positive_cache=live.positive_cache)


@pytest.mark.parametrize("width", [1280], indirect=True)
def test_the_firm_adds_and_removes_a_client_in_the_browser(page: Any, live: Site, shots: Shots,
                                                           flow: Flow) -> None:
    wire, ref = flow.wire, f"klienter-{uuid.uuid4()}"
    title = f"Klienter {ref[-6:]}"
    request = ask(wire, flow.system_id, CUSTOMER, agent=True, external_ref=ref, title=title)
    assert "systemuser/agentrequest?id=" in request["confirmUrl"]
    approve_in_the_browser(page, live, shots, request["confirmUrl"])
    assert_served_by_the_altinn_side(live, f'"POST /authentication/api/v1/systemuser/request/agent/{CUSTOMER}/'
                                           f'{request["id"]}/approve ')
    found = wire.claim(wire.first_token(CUSTOMER, ref, within=live.negative_cache))
    assert (found.owner_orgno, found.external_ref) == (CUSTOMER, ref)
    assert_asked_over_http(live, ref)
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
