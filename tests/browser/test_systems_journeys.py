"""In Chromium at 1280 and 390 px: every state of the system pages, each audited (no sideways scroll at 390 px,
0 axe-core violations, a screenshot): the list (with the demo's Turboskatt and a 200-character unbroken name that
widens nothing), a system page with its commands, the edit form (as shown, with errors, saved), removing a key
(the confirmation, the state after a change made meanwhile, done), deactivating (the confirmation, the deactivated
system).

One Chromium and one server for this module (the fixtures are module-scoped)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from playwright.sync_api import expect

from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.clients import replace_client_keys
from portvakt.domain.clock import SystemClock
from portvakt.domain.models import IntegrationType, KeyOrigin
from portvakt.domain.ports import Store
from portvakt.jose import PrivateKeyHandle
from portvakt.wiring import open_store

from .server import LiveServer
from .support import Shots, audit, fits, needs_chromium

#: Under pytest-xdist the browser modules run on one worker, one after another: one Chromium at a time.
pytestmark = [needs_chromium, pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("browser")]
VENDOR_PERSON, VENDOR = "ida@turbo.demo", "314330897"
OPEN_SCOPE = "brreg:enhetsregisteret/oppslag"
ACTOR = Actor.operator("browser-test")
LONG_NAME = "Langtnavn" + "x" * 191


@pytest.fixture(scope="module")
def store(live: LiveServer) -> Iterator[Store]:
    """The live server's database: the systems these tests change are made here, not through the pages."""
    opened = open_store(live.settings, migrate=False)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def handles() -> list[PrivateKeyHandle]:
    """Key pairs for the systems' keys (each system registers them under kids of its own)."""
    return [PrivateKeyHandle.generate(2048) for _ in range(3)]


def new_system(store: Store, name: str, handles: Sequence[PrivateKeyHandle] = (), *kids: str) -> str:
    """A virksomhetssystem of the demo vendor with the open scope and the keys `kids` (pasted); its client_id."""
    now = SystemClock().now()
    with store.begin() as uow:
        made = uc.new_client(uow, client_name=name, client_orgno=VENDOR, scopes=[OPEN_SCOPE], actor=ACTOR, now=now,
                             integration_type=IntegrationType.ALTINN_VIRKSYS)
        if kids:
            replace_client_keys(uow, made.client_id, [(kid, {**handles[i].public_jwk, "kid": kid})
                                                      for i, kid in enumerate(kids)], ACTOR, now,
                                dict.fromkeys(kids, KeyOrigin.PASTE))
    return made.client_id


def log_in(page: Any, live: LiveServer) -> None:
    """Log in with the keyboard."""
    page.goto("/portal/login")
    page.get_by_label("Brukernavn").fill(VENDOR_PERSON)
    page.get_by_label("Passord").fill(live.people[VENDOR_PERSON])
    page.get_by_label("Passord").press("Enter")
    page.wait_for_url(re.compile(r".*/portal/(\?.*)?$"))


def test_the_list_and_a_system_page(page: Any, live: LiveServer, shots: Shots, store: Store, width: int,
                                    handles: list[PrivateKeyHandle]) -> None:
    long_id = new_system(store, f"{LONG_NAME[:196]}{width}", handles, f"long-{width}")
    log_in(page, live)
    page.get_by_role("navigation").get_by_role("link", name="Systemer").click()
    page.wait_for_url("**/portal/systems")
    expect(page.locator("#systems")).to_contain_text("Turboskatt")
    expect(page.locator("#systems")).to_contain_text("Maskinporten-klient")
    audit(page, shots, "list")
    fits(page)
    page.get_by_role("link", name="Turboskatt", exact=True).click()
    expect(page.locator("#usage-customers")).to_be_visible()
    expect(page.locator("#token-state")).to_contain_text("Ja")
    audit(page, shots, "system-with-commands")
    fits(page)
    page.goto(f"/portal/systems/{long_id}")
    expect(page.locator("#usage-cli-pem")).to_contain_text(f"long-{width}")
    audit(page, shots, "system-long-name")
    fits(page)


def test_edit_a_system(page: Any, live: LiveServer, shots: Shots, store: Store, width: int) -> None:
    client_id = new_system(store, f"Redigeres {width}")
    log_in(page, live)
    page.goto(f"/portal/systems/{client_id}")
    audit(page, shots, "system-without-key")
    page.get_by_role("link", name="Endre systemet").click()
    expect(page.get_by_label("Navn")).to_have_value(f"Redigeres {width}")
    audit(page, shots, "edit")
    page.get_by_label(OPEN_SCOPE).uncheck()
    page.get_by_role("button", name="Lagre endringene").click()
    expect(page.locator(".ds-error-summary")).to_be_focused()
    expect(page.locator("#scopes-error")).to_contain_text("Velg minst ett scope")
    assert page.title().startswith("Feil: ")
    audit(page, shots, "edit-error")
    page.get_by_label(OPEN_SCOPE).check()
    page.get_by_label("Navn").fill(f"Redigert {width}")
    page.get_by_role("button", name="Lagre endringene").click()
    expect(page.get_by_role("status").first).to_contain_text("Endringene er lagret")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Redigert {width}")
    audit(page, shots, "edited")


def test_remove_a_key_also_after_a_change_made_meanwhile(page: Any, live: LiveServer, shots: Shots, store: Store,
                                                         width: int, handles: list[PrivateKeyHandle]) -> None:
    client_id = new_system(store, f"Nøkkelbytte {width}", handles, f"old-{width}", f"new-{width}")
    log_in(page, live)
    page.goto(f"/portal/systems/{client_id}")
    audit(page, shots, "system-two-keys")
    page.get_by_role("link", name=f"Fjern nøkkelen old-{width}").click()
    expect(page.locator("#remove-key")).to_contain_text(f"old-{width}")
    audit(page, shots, "remove-confirm")
    with store.begin() as uow:  # a colleague adds a key while the confirmation is open
        current = uow.get_client(client_id)
        assert current is not None
        keys = [(k.kid, k.jwk) for k in current.keys] + [(f"third-{width}", {**handles[2].public_jwk,
                                                                               "kid": f"third-{width}"})]
        replace_client_keys(uow, client_id, keys, ACTOR, SystemClock().now())
    page.get_by_role("button", name="Fjern nøkkelen").click()
    expect(page.locator("#changed")).to_contain_text("Ingenting er fjernet")
    expect(page.locator("#keys")).to_contain_text(f"third-{width}")
    audit(page, shots, "remove-changed")
    page.get_by_role("button", name="Fjern nøkkelen").click()
    expect(page.get_by_role("status").first).to_contain_text(f"old-{width} er fjernet")
    expect(page.locator("#keys")).not_to_contain_text(f"old-{width}")
    expect(page.locator("#keys")).to_contain_text(f"third-{width}")
    audit(page, shots, "removed")


def test_deactivate_a_system(page: Any, live: LiveServer, shots: Shots, store: Store, width: int,
                             handles: list[PrivateKeyHandle]) -> None:
    client_id = new_system(store, f"Avvikles {width}", handles, f"gone-{width}")
    log_in(page, live)
    page.goto(f"/portal/systems/{client_id}")
    page.get_by_role("link", name="Deaktiver systemet").click()
    expect(page.locator("#deactivate-warning")).to_contain_text("kan ikke endres eller aktiveres")
    audit(page, shots, "deactivate-confirm")
    page.get_by_role("button", name="Deaktiver systemet").click()
    expect(page.locator("#deactivated")).to_be_visible()
    expect(page.locator("#token-state")).to_contain_text("Nei – deaktivert")
    expect(page.locator("#system-actions")).to_have_count(0)
    audit(page, shots, "deactivated")
    page.goto("/portal/systems")
    expect(page.locator("#systems")).to_contain_text("Nei – deaktivert")
