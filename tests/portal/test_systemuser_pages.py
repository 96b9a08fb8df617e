"""The system-user pages (docs/protocol.md §6): the confirm page of a vendor's request (login first, then back), the
access manager's approval or rejection and the way back to the vendor, the organisation's system users, deleting
one, and an agent system user's clients."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.clientroles import register_client_relationship
from portvakt.domain.models import ClientRole, IntegrationType, RequestStatus, SystemRight, SystemUserType
from portvakt.domain.systemregister import SystemSpec, Writer, register_system
from portvakt.domain.systemuser_requests import RequestSpec, create_request
from portvakt.domain.systemusers import reject_request
from portvakt.portal.routes.systemuser_requests import followable

from .orgstack import ESCAPED, SCRIPT, acting_headers, confirm_then_delete, fail_when
from .stack import CONSUMER, OP, OPEN_SCOPE, OTHER, PROVIDER, VENDOR, Stack

TOR = "tor@consumer.test"
SYSTEM = f"{VENDOR}_turbo"
RESOURCE = "app_ttd_demo"
OWN_PACKAGE = "urn:altinn:accesspackage:skattnaering"
CLIENT_PACKAGE = "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"
REDIRECT = "https://vendor.example/systemuser/done"
VENDOR_ACTOR = Actor(VENDOR, "turbo")


def visible(page: str) -> str:
    """The text of a page as a person reads it: no tags (a line-break chance is no space), whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.replace("<wbr>", ""))).split())


def add_system(stack: Stack, *, description: str = "Fører regnskapet ditt") -> None:
    """The vendor's client and its system in the register (not visible, so it may hold packages for clients): one
    right, one package of each kind, the redirect URL."""
    now = stack.runtime.clock.now()
    with stack.store.begin() as uow:
        client = uc.new_client(uow, client_name="Turbo", client_orgno=VENDOR, scopes=[OPEN_SCOPE], actor=OP, now=now,
                               integration_type=IntegrationType.MASKINPORTEN)
        spec = SystemSpec(system_id=SYSTEM, vendor_id=f"0192:{VENDOR}",
                          name={"nb": "Turbo Regnskap", "en": "Turbo Books"},
                          description={"nb": description, "en": "Keeps your books"},
                          rights=(SystemRight((("urn:altinn:resource", RESOURCE),), "read"),),
                          access_packages=(OWN_PACKAGE, CLIENT_PACKAGE), client_ids=(client.client_id,),
                          allowed_redirect_urls=(REDIRECT,), is_visible=False)
        register_system(uow, spec, Writer(VENDOR), VENDOR_ACTOR, now)


def add_request(stack: Stack, *, agent: bool = False, redirect: str | None = REDIRECT, ref: str = "") -> str:
    """A vendor's request for the consumer (standard: the right and the own package; agent: the client package)."""
    spec = RequestSpec(system_id=SYSTEM, party_orgno=CONSUMER, external_ref=ref or None, redirect_url=redirect,
                       rights=None if agent else (SystemRight((("urn:altinn:resource", RESOURCE),), "read"),),
                       access_packages=(CLIENT_PACKAGE,) if agent else (OWN_PACKAGE,))
    kind = SystemUserType.AGENT if agent else SystemUserType.STANDARD
    with stack.store.begin() as uow:
        made = create_request(uow, spec, kind, VENDOR, VENDOR_ACTOR, stack.runtime.clock.now())
    return made.request.request_id


@pytest.fixture
def tor(stack: Stack) -> Stack:
    """Tor, the consumer's access manager, logged in; the vendor has its system."""
    add_system(stack)
    assert stack.login(TOR).status_code == 303
    return stack


def decide(stack: Stack, request_id: str, decision: str, *, agent: bool = False) -> str:
    """Post the confirm page's form; the decided page it sends the browser to (303)."""
    page = "agentrequest" if agent else "request"
    done = stack.post(f"/portal/systemuser/{page}/decide", {"id": request_id, "decision": decision},
                      follow_redirects=False)
    assert done.status_code == 303, done.text
    location = done.headers["location"]
    assert location == f"/portal/systemuser/{page}/decided?id={request_id}"
    return location


def test_the_confirm_link_asks_for_a_login_then_comes_back(stack: Stack) -> None:
    add_system(stack)
    request_id = add_request(stack)
    asked = f"/portal/systemuser/request?id={request_id}&DONTCHOOSEREPORTEE=true"
    first = stack.browser.get(asked, follow_redirects=False)
    assert first.status_code == 303
    login = urlsplit(first.headers["location"])
    assert login.path == "/portal/login" and parse_qs(login.query)["next"] == [asked]
    form = stack.browser.get(first.headers["location"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token and f'value="{html.escape(asked)}"' in form.text, "the login form carries the page to return to"
    back = stack.browser.post("/portal/login", data={"username": TOR, "password": "tor-password-1", "next": asked,
                                                     "csrf_token": token.group(1)}, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == asked
    assert "Forespørsel om systemtilgang" in stack.browser.get(asked).text


def test_the_confirm_page_shows_who_asks_for_what(tor: Stack) -> None:
    request_id = add_request(tor)
    page = tor.browser.get(f"/portal/systemuser/request?id={request_id}")
    assert page.status_code == 200
    text = visible(page.text)
    assert "Vendor AS (314330897) ber om at systemet «Turbo Regnskap» får handle på vegne av Consumer" in text
    assert "Fører regnskapet ditt" in text and SYSTEM in text
    assert f"<code class=\"pv-ident\">{RESOURCE}</code> (handling: read)" in page.text
    assert OWN_PACKAGE in visible(page.text) and CLIENT_PACKAGE not in visible(page.text)
    assert 'name="decision" value="approve"' in page.text and 'name="decision" value="reject"' in page.text
    read = tor.recorder.api_calls("GET", f"/authentication/api/v1/systemuser/request/confirm/{request_id}")
    assert len(read) == 1 and acting_headers(read[0]) == (None, None), "the confirm read needs no acting-for"
    english = tor.browser.get("/portal/language?lang=en&next=/portal/", follow_redirects=False)
    assert english.status_code == 303
    assert "Turbo Books" in tor.browser.get(f"/portal/systemuser/request?id={request_id}").text


def test_approving_makes_the_system_user_and_goes_back_to_the_vendor(tor: Stack) -> None:
    request_id = add_request(tor)
    decided = tor.browser.get(decide(tor, request_id, "approve"))
    assert decided.status_code == 200
    assert "Systemtilgangen er opprettet" in decided.text
    assert f'href="{REDIRECT}" data-follow' in decided.text, "portal.js follows it; without script it is a link"
    assert "vendor.example" in visible(decided.text)
    approved = tor.recorder.api_calls("POST", f"/systemuser/request/{CONSUMER}/{request_id}/approve")
    assert len(approved) == 1 and acting_headers(approved[0]) == (CONSUMER, TOR)
    with tor.store.begin() as uow:
        request = uow.get_request(request_id)
        users = uow.list_system_users(owner_orgno=CONSUMER)
    assert request is not None and request.status is RequestStatus.ACCEPTED
    assert [(u.system_id, u.created_by, u.system_user_id) for u in users] == [(SYSTEM, TOR, request.system_user_id)]


def test_a_second_submit_of_the_form_changes_nothing(tor: Stack) -> None:
    request_id = add_request(tor)
    decide(tor, request_id, "approve")
    again = decide(tor, request_id, "approve")
    assert tor.browser.get(again).status_code == 200
    assert len(tor.recorder.api_calls("POST", "/approve")) == 1, "the second submit did not ask again"
    other = tor.post("/portal/systemuser/request/decide", {"id": request_id, "decision": "reject"})
    assert other.status_code == 409 and "allerede besvart" in other.text and 'value="reject"' not in other.text
    with tor.store.begin() as uow:
        assert len(uow.list_system_users(owner_orgno=CONSUMER)) == 1


def test_an_answer_made_meanwhile_is_the_409_of_the_api(tor: Stack) -> None:
    request_id = add_request(tor, redirect=None)
    page = tor.browser.get(f"/portal/systemuser/request?id={request_id}")
    assert 'value="approve"' in page.text
    with tor.store.begin() as uow:
        reject_request(uow, request_id, CONSUMER, SystemUserType.STANDARD, Actor.operator("test"),
                       tor.runtime.clock.now())
    answered = tor.post("/portal/systemuser/request/decide", {"id": request_id, "decision": "approve"})
    assert answered.status_code == 409 and "Avvist" in answered.text


def test_rejecting_without_a_redirect_url_says_so_and_stays(tor: Stack) -> None:
    request_id = add_request(tor, redirect=None)
    decided = tor.browser.get(decide(tor, request_id, "reject"))
    assert "Forespørselen er avvist" in decided.text and "data-follow" not in decided.text
    assert "har ikke oppgitt noen side" in decided.text
    with tor.store.begin() as uow:
        assert uow.list_system_users(owner_orgno=CONSUMER) == []
    closed = tor.browser.get(f"/portal/systemuser/request?id={request_id}")
    assert closed.status_code == 200 and "Denne forespørselen er avvist" in closed.text
    assert 'name="decision"' not in closed.text, "a request no longer New has no buttons"


def test_someone_who_is_not_the_partys_access_manager_is_refused(stack: Stack) -> None:
    add_system(stack)
    request_id = add_request(stack)
    assert stack.login().status_code == 303  # Ida: integration responsible of the vendor
    page = stack.browser.get(f"/portal/systemuser/request?id={request_id}")
    assert page.status_code == 403 and "Bare en tilgangsstyrer" in page.text and CONSUMER in page.text
    assert "Turbo Regnskap" not in page.text and RESOURCE not in page.text, "nothing of the request is shown"
    refused = stack.post("/portal/systemuser/request/decide", {"id": request_id, "decision": "approve"})
    assert refused.status_code == 403 and not stack.recorder.api_calls("POST", "/approve")


def test_an_unknown_or_malformed_id_is_a_readable_404(tor: Stack) -> None:
    unknown = tor.browser.get("/portal/systemuser/request?id=00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404 and "Fant ikke forespørselen" in unknown.text
    before = len(tor.recorder.requests)
    for bad in ("", "../../x", "<script>", "a" * 65):
        page = tor.browser.get("/portal/systemuser/request", params={"id": bad})
        assert page.status_code == 404 and "<script>" not in page.text
    assert len(tor.recorder.requests) == before, "an id that cannot exist is never sent"


def test_the_decision_needs_the_csrf_token(tor: Stack) -> None:
    request_id = add_request(tor)
    refused = tor.browser.post("/portal/systemuser/request/decide", data={"id": request_id, "decision": "approve"})
    assert refused.status_code == 403 and not tor.recorder.api_calls("POST", "/approve")
    bad = tor.post("/portal/systemuser/request/decide", {"id": request_id, "decision": "maybe"})
    assert bad.status_code == 400


def test_an_agent_request_has_its_own_page(tor: Stack) -> None:
    request_id = add_request(tor, agent=True)
    moved = tor.browser.get(f"/portal/systemuser/request?id={request_id}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/portal/systemuser/agentrequest?id={request_id}"
    page = tor.browser.get(moved.headers["location"])
    assert "Forespørsel om systemtilgang for kunder" in page.text and CLIENT_PACKAGE in visible(page.text)
    assert 'id="rights"' not in page.text
    decide(tor, request_id, "approve", agent=True)
    assert tor.recorder.api_calls("POST", f"/systemuser/request/agent/{CONSUMER}/{request_id}/approve")


@pytest.mark.parametrize(("url", "kept"), [
    (REDIRECT, True), ("https://vendor.example:8443/a?b=c", True), ("http://127.0.0.1:8080/back", True),
    ("http://localhost/back", True), ("http://vendor.example/back", False), ("javascript:alert(1)", False),
    ("data:text/html,hi", False), ("https://user:pw@vendor.example/", False), ("https:///nohost", False),
    ("https://vendor.example/a b", False), ("//vendor.example/x", False), (None, False), ("https://x:99999/", False),
])
def test_only_a_web_address_is_followed(url: str | None, kept: bool) -> None:
    assert followable(url) == (url if kept else None)


def approved_user(stack: Stack, *, agent: bool = False, ref: str = "") -> str:
    """A request approved through the portal; the new system user's id."""
    request_id = add_request(stack, agent=agent, ref=ref)
    decide(stack, request_id, "approve", agent=agent)
    with stack.store.begin() as uow:
        found = uow.get_request(request_id)
    assert found is not None and found.system_user_id
    return found.system_user_id


def test_the_list_shows_the_organisations_system_users(tor: Stack) -> None:
    user_id = approved_user(tor)
    page = tor.browser.get("/portal/systemusers")
    assert page.status_code == 200
    assert 'href="/portal/systemusers" aria-current="page">Systemtilganger</a>' in page.text
    text = visible(page.text)
    assert "Turbo Regnskap" in text and "Vendor AS (314330897)" in text and "Egen virksomhet" in text
    assert RESOURCE in text and OWN_PACKAGE in text
    assert f'href="/portal/systemusers/{user_id}/delete"' in page.text
    listed = tor.recorder.api_calls("GET", f"/authentication/api/v1/systemuser/{CONSUMER}")
    assert listed and all(acting_headers(r) == (CONSUMER, TOR) for r in listed)
    one = tor.browser.get(f"/portal/systemusers/{user_id}")
    assert one.status_code == 200 and user_id in one.text and 'id="clients"' not in one.text


def test_deleting_asks_first_then_deletes(tor: Stack) -> None:
    user_id = approved_user(tor)
    confirm_then_delete(tor, f"/portal/systemusers/{user_id}/delete", says=("Slett «Turbo Regnskap»", "Vendor AS"),
                        deletes=f"/systemuser/{CONSUMER}/{user_id}", then="/portal/systemusers?deleted=1",
                        acting=(CONSUMER, TOR))
    page = tor.browser.get("/portal/systemusers?deleted=1")
    assert "Systemtilgangen er slettet" in page.text and "Consumer har ingen systemtilganger" in page.text
    assert tor.browser.get(f"/portal/systemusers/{user_id}").status_code == 404
    assert tor.post(f"/portal/systemusers/{user_id}/delete", {}).status_code == 404


def add_clients_of(stack: Stack, facilitator: str, *clients: str) -> None:
    """The clients have registered the facilitator as their accountant (a client relationship)."""
    with stack.store.begin() as uow:
        for client in clients:
            register_client_relationship(uow, client, facilitator, ClientRole.REGNSKAPSFORER, OP,
                                         stack.runtime.clock.now())


def test_an_agent_system_user_gets_and_loses_clients(tor: Stack) -> None:
    add_clients_of(tor, CONSUMER, OTHER, PROVIDER)
    user_id = approved_user(tor, agent=True)
    page = tor.browser.get(f"/portal/systemusers/{user_id}")
    assert "Ingen kunder er lagt til ennå" in page.text and "Kunder (klientforhold)" in page.text
    options = re.findall(r'<option value="(\d{9})">', page.text)
    assert options == [OTHER, PROVIDER], "the firm's own clients (never the firm itself), by name"
    added = tor.post(f"/portal/systemusers/{user_id}/clients", {"client": OTHER}, follow_redirects=False)
    assert added.status_code == 303
    assert added.headers["location"] == f"/portal/systemusers/{user_id}?added={OTHER}#clients"
    posted = tor.recorder.api_calls("POST", "/enduser/systemuser/clients")
    assert posted[-1].url.params["agent"] == user_id and posted[-1].url.params["client"] == OTHER
    assert acting_headers(posted[-1]) == (CONSUMER, TOR)
    shown = tor.browser.get(added.headers["location"])
    assert "Other vendor (910753614) er lagt til som kunde." in visible(shown.text)
    assert f'<option value="{OTHER}">' not in shown.text and 'aria-label="Fjern kunden Other vendor"' in shown.text
    with tor.store.begin() as uow:
        assert uow.has_agent_client(user_id, OTHER)
    kept = tor.post(f"/portal/systemusers/{user_id}/delete", {})
    assert kept.status_code == 400 and "Fjern kundene først" in kept.text
    removed = tor.post(f"/portal/systemusers/{user_id}/clients/remove", {"client": OTHER}, follow_redirects=False)
    assert removed.status_code == 303
    assert "er fjernet som kunde" in tor.browser.get(removed.headers["location"]).text
    with tor.store.begin() as uow:
        assert not uow.has_agent_client(user_id, OTHER)


def test_a_bad_client_choice_is_a_readable_refusal(tor: Stack) -> None:
    agent_id = approved_user(tor, agent=True)
    page = tor.browser.get(f"/portal/systemusers/{agent_id}")
    assert "Det er ingen flere virksomheter å legge til." in page.text, "no client relationship, nothing to add"
    missing = tor.post(f"/portal/systemusers/{agent_id}/clients", {"client": ""})
    assert missing.status_code == 400 and "Velg en kunde." in missing.text
    for orgno in ("123456785", OTHER):  # not registered; registered, but no client of the firm
        unknown = tor.post(f"/portal/systemusers/{agent_id}/clients", {"client": orgno})
        assert unknown.status_code == 400 and "Kunden ble ikke endret" in unknown.text
    standard_id = approved_user(tor, ref="own-books")
    refused = tor.post(f"/portal/systemusers/{standard_id}/clients", {"client": OTHER})
    assert refused.status_code == 400 and "Bare en systemtilgang for kunder" in refused.text


def test_the_pages_are_for_access_managers_only(stack: Stack) -> None:
    assert stack.login().status_code == 303  # Ida: integration responsible
    home = stack.browser.get("/portal/")
    assert 'href="/portal/systemusers"' not in home.text
    assert stack.browser.get("/portal/systemusers").status_code == 403
    assert stack.browser.get("/portal/systemusers/00000000-0000-4000-8000-000000000000").status_code == 403
    assert not stack.recorder.api_calls("GET", "/authentication/")


def test_names_are_escaped(stack: Stack) -> None:
    add_system(stack, description=SCRIPT)
    request_id = add_request(stack)
    assert stack.login(TOR).status_code == 303
    page = stack.browser.get(f"/portal/systemuser/request?id={request_id}")
    assert ESCAPED in page.text and SCRIPT not in page.text


def test_an_unknown_system_user_is_the_404_page(tor: Stack) -> None:
    assert tor.browser.get("/portal/systemusers/00000000-0000-4000-8000-000000000000").status_code == 404
    assert tor.browser.get("/portal/systemusers/not%20an%20id").status_code == 404


def test_the_api_refusing_an_approval_is_shown(tor: Stack) -> None:
    request_id = add_request(tor)
    problem = {"type": "about:blank", "title": "The system was deleted.", "status": 400, "code": "AUTH-00011",
               "traceId": "t-1"}
    fail_when(tor, lambda r: httpx.Response(400, json=problem) if r.url.path.endswith("/approve") else None)
    refused = tor.post("/portal/systemuser/request/decide", {"id": request_id, "decision": "approve"})
    assert refused.status_code == 400 and "The system was deleted." in refused.text
    assert 'name="decision" value="approve"' in refused.text, "still New: the buttons stay"
    fail_when(tor, lambda r: httpx.Response(503) if "/confirm/" in r.url.path else None)
    down = tor.browser.get(f"/portal/systemuser/request?id={request_id}")
    assert down.status_code == 503 and "Traceback" not in down.text
