"""The access manager's pages in Chromium: the demo customer's access manager revokes the demo delegation and
delegates again
(seeing the vendor's name before confirming), proven on the wire with the vendor's demo client; the demo API
provider admin grants an organisation access to a scope and revokes it. A screenshot of every page.

One Chromium and one server for this module (the fixtures are module-scoped)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from portvakt.client import GrantSigner, TokenError, fetch_token, load_private_key

from .flows import log_in
from .server import LiveServer
from .support import Shots, needs_chromium

#: Under pytest-xdist the browser modules run on one worker, one after another: one Chromium at a time.
pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("browser")]
ACCESS_MANAGER, API_ADMIN = "tor@toten.demo", "ada@brreg.demo"
CONSUMER, VENDOR = "310838128", "314330897"
VENDOR_NAME = "Turbo Systemleverandør AS"
SCHEME = "Reelle rettighetshavere"
DELEGATED_SCOPE, LISTED_SCOPE = "brreg:reelle/rapporteringspliktig", "brreg:reelle/offentlig"


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


def delegated_to_vendor(live: LiveServer) -> dict[str, Any]:
    """A token on behalf of the customer, through the delegation (docs/protocol.md §4.2)."""
    claims = vendor_token(live, DELEGATED_SCOPE, CONSUMER)
    assert claims["consumer"]["ID"] == f"0192:{CONSUMER}" and claims["supplier"]["ID"] == f"0192:{VENDOR}"
    assert claims["scope"] == DELEGATED_SCOPE
    return claims


def revoke_the_demo_delegation(page: Any, shots: Shots) -> None:
    """The list -> the revoke confirmation -> revoked, with the vendor named at each step."""
    page.get_by_role("navigation").get_by_role("link", name="Delegeringer").click()
    page.wait_for_url("**/portal/delegations")
    expect(page.locator("#delegations")).to_contain_text(f"{VENDOR_NAME} ({VENDOR})")
    expect(page.locator("#delegations")).to_contain_text(SCHEME)
    shots.take(page, "delegations")
    page.get_by_role("link", name=f"Trekk tilbake «{SCHEME}» fra {VENDOR_NAME}").click()
    expect(page.get_by_role("heading", name="Trekk tilbake delegeringen")).to_be_visible()
    shots.take(page, "revoke-confirm")
    page.get_by_role("button", name="Trekk tilbake delegeringen").click()
    expect(page.get_by_role("status")).to_contain_text("er trukket tilbake")
    expect(page.locator("#delegations")).to_have_count(0)
    shots.take(page, "revoked")
    page.get_by_role("link", name="Vis tilbaketrukne delegeringer (historikk)").click()
    expect(page.locator("#revoked")).to_contain_text(f"av {ACCESS_MANAGER}")
    shots.take(page, "history")


def delegate_again(page: Any, shots: Shots) -> None:
    """Search the schemes, a refused own orgno tied to the field, then the vendor's name at the confirm step."""
    page.get_by_role("link", name="Deleger et API").click()
    page.get_by_label("Søk i delegeringsordningene").fill("reelle")
    page.get_by_role("button", name="Søk").click()
    page.wait_for_url("**/portal/delegations/new?q=reelle")
    shots.take(page, "delegate-form")
    page.get_by_label(SCHEME).check()
    orgno = page.get_by_label("Leverandørens organisasjonsnummer")
    orgno.fill(CONSUMER)
    page.get_by_role("button", name="Neste: kontroller").click()
    expect(page.locator(".ds-error-summary")).to_be_focused()
    expect(orgno).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#supplier_org-error")).to_contain_text("kan ikke delegere til seg selv")
    shots.take(page, "delegate-own-org-refused")
    orgno.fill("314 330 897")
    page.get_by_role("button", name="Neste: kontroller").click()
    expect(page.locator("#supplier")).to_have_text(f"{VENDOR_NAME} ({VENDOR})")
    expect(page.locator("#confirm")).to_contain_text(DELEGATED_SCOPE)
    shots.take(page, "delegate-confirm")
    page.get_by_role("button", name="Bekreft delegering").click()
    expect(page.get_by_role("status")).to_contain_text(f"«{SCHEME}» er delegert til {VENDOR_NAME} ({VENDOR})")
    expect(page.locator("#delegations")).to_contain_text(f"av {ACCESS_MANAGER}")
    shots.take(page, "delegated")


def test_the_access_manager_revokes_and_delegates_again(page: Any, live: LiveServer, shots: Shots) -> None:
    """Revoked: the vendor gets MP-251 on the customer's behalf; delegated again: a token with the consumer."""
    delegated_to_vendor(live)
    log_in(page, live, shots, ACCESS_MANAGER)
    revoke_the_demo_delegation(page, shots)
    assert refused_with(live, DELEGATED_SCOPE, CONSUMER) == "MP-251"
    delegate_again(page, shots)
    assert delegated_to_vendor(live)["client_id"] == json.loads(
        (Path(live.data_dir) / "demo" / "demo.json").read_text())["client_id"]


def test_the_api_admin_grants_and_revokes_access(page: Any, live: LiveServer, shots: Shots) -> None:
    """Grant the vendor access to a scope (its name shown first), see it listed, revoke it; /token follows."""
    assert refused_with(live, LISTED_SCOPE) == "MP-250"
    log_in(page, live, shots, API_ADMIN)
    page.get_by_role("navigation").get_by_role("link", name="API-tilganger").click()
    expect(page.locator("#scopes")).to_contain_text(LISTED_SCOPE)
    expect(page.locator("#schemes")).to_contain_text(SCHEME)
    shots.take(page, "scopes")
    page.get_by_role("link", name=f"Se og endre tilgangene til {LISTED_SCOPE}").click()
    expect(page.get_by_role("heading", name=f"Tilganger til {LISTED_SCOPE}")).to_be_visible()
    shots.take(page, "access-list")
    page.get_by_label("Organisasjonsnummer").fill(VENDOR)
    page.get_by_role("button", name="Neste: kontroller").click()
    expect(page.locator("#org")).to_have_text(f"{VENDOR_NAME} ({VENDOR})")
    shots.take(page, "grant-confirm")
    page.get_by_role("button", name="Gi tilgang").click()
    expect(page.get_by_role("status")).to_contain_text(f"{VENDOR_NAME} ({VENDOR}) har nå tilgang til {LISTED_SCOPE}")
    expect(page.locator("#access")).to_contain_text("Godkjent")
    shots.take(page, "granted")
    assert vendor_token(live, LISTED_SCOPE)["scope"] == LISTED_SCOPE
    page.get_by_role("link", name=f"Trekk tilbake tilgangen til {VENDOR_NAME}").click()
    expect(page.locator("#org")).to_have_text(f"{VENDOR_NAME} ({VENDOR})")
    shots.take(page, "revoke-confirm")
    page.get_by_role("button", name="Trekk tilbake tilgangen").click()
    expect(page.get_by_role("status")).to_contain_text("er trukket tilbake")
    expect(page.locator("#access")).to_contain_text("Avslått eller trukket tilbake")
    shots.take(page, "revoked")
    assert refused_with(live, LISTED_SCOPE) == "MP-250"
