"""The access manager's and the API provider admin's pages in Chromium, at 1280 and 390 px, every page state
audited (no sideways scroll at 390 px, 0 axe-core violations, a screenshot): the demo customer's access manager
revokes the demo delegation, sees it in the history and delegates again (seeing the vendor's name before
confirming), proven on the wire with the vendor's demo client; the demo API provider admin grants an organisation
access to a scope and revokes it, changes the demo delegation scheme (the vendor's token follows) and removes
another; and 200-character unbroken names widen nothing.

One Chromium and one server for this module (the fixtures are module-scoped)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from portvakt.client import GrantSigner, TokenError, fetch_token, load_private_key
from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.clock import SystemClock
from portvakt.domain.delegations import create_scheme, delegate
from portvakt.domain.models import AccessState
from portvakt.domain.orgno import is_valid_orgno
from portvakt.domain.ports import Store
from portvakt.wiring import open_store

from .server import LiveServer
from .support import Shots, audit, fits, needs_chromium

#: Under pytest-xdist the browser modules run on one worker, one after another: one Chromium at a time.
pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("browser")]
ACCESS_MANAGER, API_ADMIN = "tor@toten.demo", "ada@brreg.demo"
CONSUMER, VENDOR, PROVIDER = "310838128", "314330897", "974760673"
VENDOR_NAME = "Turbo Systemleverandør AS"
SCHEME = "Reelle rettighetshavere"
DELEGATED_SCOPE, LISTED_SCOPE = "brreg:reelle/rapporteringspliktig", "brreg:reelle/offentlig"
#: A 200-character name without a space: it must wrap, never widen a table (WCAG 1.4.10).
LONG = ("Langnavn" * 25)[:200]
LONG_ORGNO = next(str(n) for n in range(987654300, 987654399) if is_valid_orgno(str(n)))
TESTER = Actor.operator("browser-test")


def vendor_token(live: LiveServer, scope: str, consumer_org: str | None = None) -> dict[str, Any]:
    """The claims of a token the vendor's demo client (data_dir/demo) gets from /token; TokenError if refused."""
    demo = json.loads((live.data_dir / "demo" / "demo.json").read_text())
    signer = GrantSigner(client_id=demo["client_id"], key=load_private_key(live.data_dir / "demo" / "vendor.pem"),
                         kid=demo["kid"], audience=live.url)
    body = fetch_token(signer, scope, token_endpoint=live.url + "token", consumer_org=consumer_org)
    payload = body["access_token"].split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def refused_with(live: LiveServer, scope: str, consumer_org: str | None = None) -> str:
    """The MP code /token answers the vendor's demo client with."""
    with pytest.raises(TokenError) as refused:
        vendor_token(live, scope, consumer_org)
    return str(refused.value.body["error_uri"]).rsplit("/", 1)[-1]


def eventually_refused_with(live: LiveServer, scope: str, consumer_org: str | None = None) -> str:
    """The MP code, once /token refuses (a change reaches every node within about a quarter of a second)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            vendor_token(live, scope, consumer_org)
        except TokenError as refused:
            return str(refused.body["error_uri"]).rsplit("/", 1)[-1]
        time.sleep(0.1)
    raise AssertionError(f"{scope} was still issued")


def delegated_to_vendor(live: LiveServer) -> dict[str, Any]:
    """A token on behalf of the customer, through the delegation (docs/protocol.md §4.2)."""
    deadline = time.monotonic() + 5
    while True:
        try:
            claims = vendor_token(live, DELEGATED_SCOPE, CONSUMER)
            break
        except TokenError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert claims["consumer"]["ID"] == f"0192:{CONSUMER}" and claims["supplier"]["ID"] == f"0192:{VENDOR}"
    assert claims["scope"] == DELEGATED_SCOPE
    return claims


@pytest.fixture(scope="module")
def store(live: LiveServer) -> Store:
    """The live server's database, for what the demo lacks."""
    return open_store(live.settings, migrate=False)


def log_in(page: Any, live: LiveServer, shots: Shots, username: str) -> None:
    """Log in from the login page; on to the overview."""
    page.goto("/portal/login")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(live.people[username])
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url("**/portal/")
    audit(page, shots, "overview")


def revoke_the_demo_delegation(page: Any, shots: Shots) -> None:
    """The list -> the revoke confirmation -> revoked, with the vendor named at each step -> the history."""
    page.get_by_role("navigation").get_by_role("link", name="Delegeringer").click()
    page.wait_for_url("**/portal/delegations")
    expect(page.locator("#delegations")).to_contain_text(f"{VENDOR_NAME} ({VENDOR})")
    expect(page.locator("#delegations")).to_contain_text(SCHEME)
    audit(page, shots, "delegations")
    page.get_by_role("link", name=f"Trekk tilbake «{SCHEME}» fra {VENDOR_NAME}").click()
    expect(page.get_by_role("heading", name="Trekk tilbake delegeringen")).to_be_visible()
    audit(page, shots, "revoke-confirm")
    page.get_by_role("button", name="Trekk tilbake delegeringen").click()
    expect(page.get_by_role("status")).to_contain_text("er trukket tilbake")
    expect(page.locator("#delegations tr", has_text=f"{VENDOR_NAME} ({VENDOR})")).to_have_count(0)
    audit(page, shots, "revoked")
    page.get_by_role("link", name="Vis tilbaketrukne delegeringer (historikk)").click()
    expect(page.locator("#revoked")).to_contain_text("av deg (Tor Tilgangsstyrer)")
    expect(page.locator("#revoked")).not_to_contain_text("operator:")
    audit(page, shots, "history")


def delegate_again(page: Any, shots: Shots) -> None:
    """Search the schemes, a refused own orgno tied to the field, then the vendor's name at the confirm step."""
    page.get_by_role("link", name="Deleger et API").click()
    page.get_by_label("Søk i de delegerbare tilgangene").fill("reelle")
    page.get_by_role("button", name="Søk").click()
    page.wait_for_url("**/portal/delegations/new?q=reelle")
    audit(page, shots, "delegate-form")
    page.get_by_label(SCHEME).check()
    orgno = page.get_by_label("Leverandørens organisasjonsnummer")
    orgno.fill(CONSUMER)
    page.get_by_role("button", name="Neste: kontroller").click()
    expect(page.locator(".ds-error-summary")).to_be_focused()
    expect(orgno).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#supplier_org-error")).to_contain_text("kan ikke delegere til seg selv")
    assert page.title().startswith("Feil: ")
    audit(page, shots, "delegate-own-org-refused")
    orgno.fill("314 330 897")
    page.get_by_role("button", name="Neste: kontroller").click()
    expect(page.locator("#supplier")).to_have_text(f"{VENDOR_NAME} ({VENDOR})")
    expect(page.locator("#confirm")).to_contain_text(DELEGATED_SCOPE)
    audit(page, shots, "delegate-confirm")
    page.get_by_role("button", name="Bekreft delegering").click()
    expect(page.get_by_role("status")).to_contain_text(f"«{SCHEME}» er delegert til {VENDOR_NAME} ({VENDOR})")
    expect(page.locator("#delegations")).to_contain_text("av deg (Tor Tilgangsstyrer)")
    audit(page, shots, "delegated")


def test_the_access_manager_revokes_and_delegates_again(page: Any, live: LiveServer, shots: Shots) -> None:
    """Revoked: the vendor gets MP-251 on the customer's behalf; delegated again: a token with the consumer."""
    delegated_to_vendor(live)
    log_in(page, live, shots, ACCESS_MANAGER)
    revoke_the_demo_delegation(page, shots)
    assert eventually_refused_with(live, DELEGATED_SCOPE, CONSUMER) == "MP-251"
    delegate_again(page, shots)
    assert delegated_to_vendor(live)["client_id"] == json.loads(
        (Path(live.data_dir) / "demo" / "demo.json").read_text())["client_id"]


def test_the_api_admin_grants_and_revokes_access(page: Any, live: LiveServer, shots: Shots) -> None:
    """Grant the vendor access to a scope (its name shown first), see it listed, revoke it; /token follows."""
    assert eventually_refused_with(live, LISTED_SCOPE) == "MP-250"
    log_in(page, live, shots, API_ADMIN)
    page.get_by_role("navigation").get_by_role("link", name="API-tilganger").click()
    expect(page.locator("#scopes")).to_contain_text(LISTED_SCOPE)
    expect(page.locator("#schemes")).to_contain_text(SCHEME)
    audit(page, shots, "scopes")
    page.get_by_role("link", name=f"Se og endre tilgangene til {LISTED_SCOPE}").click()
    expect(page.get_by_role("heading", name=f"Tilganger til {LISTED_SCOPE}")).to_be_visible()
    audit(page, shots, "access-list")
    page.get_by_label("Organisasjonsnummer").fill("12345")
    page.get_by_role("button", name="Neste: kontroller").click()
    expect(page.locator("#orgno-error")).to_contain_text("9 siffer")
    assert page.title().startswith("Feil: ")
    audit(page, shots, "grant-refused")
    page.get_by_label("Organisasjonsnummer").fill(VENDOR)
    page.get_by_role("button", name="Neste: kontroller").click()
    expect(page.locator("#org")).to_have_text(f"{VENDOR_NAME} ({VENDOR})")
    audit(page, shots, "grant-confirm")
    page.get_by_role("button", name="Gi tilgang").click()
    expect(page.get_by_role("status")).to_contain_text(f"{VENDOR_NAME} ({VENDOR}) har nå tilgang til {LISTED_SCOPE}")
    expect(page.locator("#access")).to_contain_text("Godkjent")
    audit(page, shots, "granted")
    assert vendor_token(live, LISTED_SCOPE)["scope"] == LISTED_SCOPE
    page.get_by_role("link", name=f"Trekk tilbake tilgangen til {VENDOR_NAME}").click()
    expect(page.locator("#org")).to_have_text(f"{VENDOR_NAME} ({VENDOR})")
    audit(page, shots, "revoke-confirm")
    page.get_by_role("button", name="Trekk tilbake tilgangen").click()
    expect(page.get_by_role("status")).to_contain_text("er trukket tilbake")
    expect(page.locator("#access")).to_contain_text("Avslått eller trukket tilbake")
    audit(page, shots, "revoked")
    assert eventually_refused_with(live, LISTED_SCOPE) == "MP-250"


def edit_the_demo_scheme(page: Any, shots: Shots, *, keep: list[str], step: str) -> None:
    """Scopes page -> "Change" -> only the scopes in `keep` -> the confirmation -> saved."""
    page.get_by_role("navigation").get_by_role("link", name="API-tilganger").click()
    page.get_by_role("link", name=f"Endre «{SCHEME}»").click()
    expect(page.get_by_label("Navn (bokmål)")).to_have_value(SCHEME)
    audit(page, shots, f"{step}-scheme-form")
    for scope in (DELEGATED_SCOPE, LISTED_SCOPE):
        page.get_by_label(scope).set_checked(scope in keep)
    page.get_by_role("button", name="Neste: kontroller").click()
    expect(page.get_by_role("heading", name="Bekreft endringene")).to_be_visible()
    expect(page.locator("#changes")).to_contain_text("Scopes")
    audit(page, shots, f"{step}-scheme-confirm")
    page.get_by_role("button", name="Lagre endringene").click()
    expect(page.get_by_role("status")).to_contain_text(f"«{SCHEME}» er endret.")
    audit(page, shots, f"{step}-scheme-changed")


def test_the_api_admin_changes_a_scheme_and_the_token_follows(page: Any, live: LiveServer, shots: Shots) -> None:
    """Take a scope out of the demo scheme: the vendor's delegated token for it is refused; put it back: issued."""
    delegated_to_vendor(live)
    log_in(page, live, shots, API_ADMIN)
    page.get_by_role("navigation").get_by_role("link", name="API-tilganger").click()
    page.get_by_role("link", name=f"Endre «{SCHEME}»").click()
    for scope in (DELEGATED_SCOPE, LISTED_SCOPE):
        page.get_by_label(scope).uncheck()
    page.get_by_label("Navn (bokmål)").fill("")
    page.get_by_role("button", name="Neste: kontroller").click()
    expect(page.locator(".ds-error-summary")).to_be_focused()
    expect(page.locator("#scopes-error")).to_have_text("Velg minst ett scope.")
    expect(page.get_by_label("Navn (bokmål)")).to_have_attribute("aria-invalid", "true")
    assert page.title().startswith("Feil: ")
    audit(page, shots, "scheme-form-errors")
    edit_the_demo_scheme(page, shots, keep=[LISTED_SCOPE], step="narrowed")
    assert eventually_refused_with(live, DELEGATED_SCOPE, CONSUMER) == "MP-251"
    edit_the_demo_scheme(page, shots, keep=[DELEGATED_SCOPE, LISTED_SCOPE], step="restored")
    delegated_to_vendor(live)


def test_the_api_admin_removes_a_scheme(page: Any, live: LiveServer, shots: Shots, store: Store,
                                        width: int) -> None:
    """Remove a scheme after a confirmation that says what happens to the customers' delegations; it stays as
    history, "Fjernet", with nothing to change."""
    title = f"Testtilgang {width}"
    with store.begin() as uow:
        create_scheme(uow, PROVIDER, [DELEGATED_SCOPE], {"nb": title}, {}, TESTER, SystemClock().now())
    log_in(page, live, shots, API_ADMIN)
    page.get_by_role("navigation").get_by_role("link", name="API-tilganger").click()
    page.get_by_role("link", name=f"Fjern «{title}»").click()
    expect(page.get_by_role("heading", name="Fjern den delegerbare tilgangen")).to_be_visible()
    expect(page.locator("#scheme")).to_contain_text(title)
    audit(page, shots, "scheme-remove-confirm")
    page.get_by_role("button", name="Fjern tilgangen").click()
    expect(page.get_by_role("status")).to_contain_text(f"«{title}» er fjernet.")
    row = page.locator("#schemes tr", has_text=title)
    expect(row).to_contain_text("Fjernet")
    expect(row.get_by_role("link")).to_have_count(0)
    audit(page, shots, "scheme-removed")


def long_names(store: Store) -> None:
    """An organisation and a scheme with 200-character unbroken names, the one delegated to the other (once)."""
    now = SystemClock().now()
    with store.begin() as uow:
        if uow.get_org(LONG_ORGNO) is not None:
            return
        uc.add_org(uow, LONG_ORGNO, LONG, TESTER, now)
        scheme = create_scheme(uow, PROVIDER, [DELEGATED_SCOPE], {"nb": LONG}, {"nb": LONG}, TESTER, now)
        delegate(uow, CONSUMER, LONG_ORGNO, scheme.scheme_id, TESTER, now)
        uc.set_access(uow, LISTED_SCOPE, LONG_ORGNO, AccessState.APPROVED, TESTER, now)


def test_long_names_widen_nothing(page: Any, live: LiveServer, shots: Shots, store: Store) -> None:
    """200-character unbroken names on the delegations, delegate, revoke, scopes and access list pages: they wrap."""
    long_names(store)
    log_in(page, live, shots, ACCESS_MANAGER)
    page.goto("/portal/delegations?history=1")
    expect(page.locator("#delegations")).to_contain_text(LONG)
    fits(page)
    audit(page, shots, "delegations-long-names")
    page.goto("/portal/delegations/new")
    expect(page.get_by_label(LONG)).to_be_visible()
    fits(page)
    audit(page, shots, "delegate-form-long-names")
    page.goto("/portal/delegations")
    page.get_by_role("link", name=f"Trekk tilbake «{LONG}» fra {LONG}").click()
    expect(page.get_by_role("heading", name="Trekk tilbake delegeringen")).to_be_visible()
    fits(page)
    audit(page, shots, "revoke-confirm-long-names")
    page.get_by_role("button", name="Logg ut").click()
    log_in(page, live, shots, API_ADMIN)
    page.goto("/portal/scopes")
    expect(page.locator("#schemes")).to_contain_text(LONG)
    fits(page)
    audit(page, shots, "scopes-long-names")
    page.goto(f"/portal/scopes/access?scope={LISTED_SCOPE}")
    expect(page.locator("#access")).to_contain_text(LONG)
    fits(page)
    audit(page, shots, "access-list-long-names")
