"""Whether a system can get a token now, and why not (no key, expired keys, revoked access, no scopes, no
delegation, deactivated), on the list and the system page; the list sorted by name; the vendor's Maskinporten
clients (the demo's Turboskatt) listed with a plain type name, never the wire's "altinn_virksys"."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from portvakt.domain import usecases as uc
from portvakt.domain.clients import deactivate_client, replace_client_keys
from portvakt.domain.clock import FixedClock
from portvakt.domain.delegations import create_scheme, delegate
from portvakt.domain.models import AccessState, IntegrationType
from portvakt.jose import PrivateKeyHandle

from .stack import CONSUMER, DELEGABLE_SCOPE, OP, OPEN_SCOPE, PROVIDER, READ_SCOPE, VENDOR, Stack

TOKEN_CELL = re.compile(r'data-label="Kan hente token nå\?"><span class="ds-tag" data-color="[a-z]+">([^<]+)</span>')


def add_system(stack: Stack, name: str, scopes: Sequence[str], key: PrivateKeyHandle | None = None, *,
               integration_type: IntegrationType = IntegrationType.ALTINN_VIRKSYS, days_ago: int = 0) -> str:
    """A system of the vendor made through the use-cases (as the API would), with `key` under a kid of its own,
    registered `days_ago`."""
    now = stack.runtime.clock.now() - timedelta(days=days_ago)
    with stack.store.begin() as uow:
        made = uc.new_client(uow, client_name=name, client_orgno=VENDOR, scopes=list(scopes), actor=OP, now=now,
                             integration_type=integration_type)
        if key is not None:
            kid = f"{name[:20]}-key"
            replace_client_keys(uow, made.client_id, [(kid, {**key.public_jwk, "kid": kid})], OP, now)
    return made.client_id


def states(stack: Stack) -> dict[str, str]:
    """System name -> the token state the list shows."""
    page = stack.browser.get("/portal/systems").text
    names = re.findall(r'class="ds-link pv-wrap" href="/portal/systems/[^"]+">([^<]+)</a>', page)
    return dict(zip(names, TOKEN_CELL.findall(page), strict=True))


def delegate_scope(stack: Stack, consumer: str = CONSUMER, *, with_access: bool = True) -> None:
    """The provider's scheme of DELEGABLE_SCOPE, delegated by `consumer` to the vendor (and the consumer's own
    access to the scope, without which the token service refuses it, MP-250)."""
    now = stack.runtime.clock.now()
    with stack.store.begin() as uow:
        scheme = create_scheme(uow, PROVIDER, [DELEGABLE_SCOPE], {"nb": "Delegerbar"}, {"nb": "Test"}, OP, now)
        delegate(uow, consumer, VENDOR, scheme.scheme_id, OP, now)
        if with_access:
            uc.set_access(uow, DELEGABLE_SCOPE, consumer, AccessState.APPROVED, OP, now)


@pytest.fixture
def clocked(make_stack: Callable[..., Stack]) -> tuple[Stack, FixedClock]:
    """A stack on a clock the test moves, with Ida logged in."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    stack = make_stack(clock=clock)
    assert stack.login().status_code == 303
    return stack, clock


def test_each_reason_a_system_cannot_get_a_token(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    key = rsa_keys[0]
    add_system(ida, "Ready", [OPEN_SCOPE, READ_SCOPE], key)
    add_system(ida, "Keyless", [OPEN_SCOPE])
    add_system(ida, "Scopeless", [], key)
    add_system(ida, "Delegable only", [DELEGABLE_SCOPE], key)
    revoked = add_system(ida, "Revoked", [READ_SCOPE], key)
    gone = add_system(ida, "Gone", [OPEN_SCOPE], key)
    with ida.store.begin() as uow:
        uc.set_access(uow, READ_SCOPE, VENDOR, AccessState.DENIED, OP, ida.runtime.clock.now())
        client = uow.get_client(gone)
        assert client is not None
        deactivate_client(uow, client, OP, ida.runtime.clock.now())
    assert states(ida) == {
        "Delegable only": "Nei – ingen kunde har delegert tilgang ennå", "Gone": "Nei – deaktivert",
        "Keyless": "Nei – ingen nøkkel", "Ready": "Ja", "Revoked": "Nei – tilgangen er trukket tilbake",
        "Scopeless": "Nei – ingen scopes"}, "sorted by name, each with its reason"
    page = ida.browser.get(f"/portal/systems/{revoked}").text
    assert 'id="no-token"' in page and "tilgangen er trukket tilbake" in page
    assert f">{READ_SCOPE}</code> – kan ikke brukes nå (tilgangen er trukket tilbake)" in page
    assert "usage-cli" not in page and "usage-own-none" in page, "no command that would be refused"
    page = ida.browser.get(f"/portal/systems/{gone}").text
    assert 'id="deactivated"' in page and "kan ikke endres" in page
    assert "system-actions" not in page and "/remove-key" not in page and "usage-cli" not in page
    assert "keys/paste" not in page, "a deactivated system gets no new key"


def test_a_delegation_from_a_customer_with_access_makes_it_ready(ida: Stack,
                                                                 rsa_keys: list[PrivateKeyHandle]) -> None:
    add_system(ida, "Delegated", [DELEGABLE_SCOPE], rsa_keys[0])
    delegate_scope(ida, with_access=False)
    assert states(ida) == {"Delegated": "Nei – ingen kunde har delegert tilgang ennå"}, \
        "a customer without access of its own cannot lend it"
    with ida.store.begin() as uow:
        uc.set_access(uow, DELEGABLE_SCOPE, CONSUMER, AccessState.APPROVED, OP, ida.runtime.clock.now())
    assert states(ida) == {"Delegated": "Ja"}


def test_expired_and_expiring_keys_follow_the_clock(clocked: tuple[Stack, FixedClock],
                                                    rsa_keys: list[PrivateKeyHandle]) -> None:
    stack, clock = clocked
    client_id = add_system(stack, "Aging", [OPEN_SCOPE], rsa_keys[0], days_ago=30)
    clock.advance(310 * 24 * 3600)
    assert states(stack) == {"Aging": "Ja, men nøkkelen utløper snart"}
    clock.advance(30 * 24 * 3600)  # before the portal's own key expires
    assert states(stack) == {"Aging": "Nei – alle nøklene er utløpt"}
    page = stack.browser.get(f"/portal/systems/{client_id}").text
    assert 'id="no-key"' in page and "Alle nøklene til systemet er utløpt" in page and "keys/paste" in page


def test_the_vendors_maskinporten_client_is_listed_in_plain_words(ida: Stack,
                                                                 rsa_keys: list[PrivateKeyHandle]) -> None:
    add_system(ida, "Turboskatt", [OPEN_SCOPE], rsa_keys[0], integration_type=IntegrationType.MASKINPORTEN)
    certificate = add_system(ida, "Turboskatt (virksomhetssertifikat)", [OPEN_SCOPE],
                             integration_type=IntegrationType.MASKINPORTEN)
    add_system(ida, "altinn-system", [OPEN_SCOPE], rsa_keys[0])
    assert states(ida) == {"altinn-system": "Ja", "Turboskatt": "Ja",
                           "Turboskatt (virksomhetssertifikat)": "Ja, med virksomhetssertifikat"}
    page = ida.browser.get("/portal/systems").text
    assert page.count(">Maskinporten-klient</td>") == 2 and page.count(">Virksomhetssystem (Altinn)</td>") == 1
    assert "altinn_virksys" not in page and "maskinporten</td>" not in page
    page = ida.browser.get(f"/portal/systems/{certificate}").text
    assert 'id="certificate"' in page and "virksomhetssertifikatet til Vendor AS" in page
    assert 'id="no-key"' not in page


def test_names_sort_without_regard_to_case(ida: Stack) -> None:
    for name in ("beta", "Alfa", "gamma", "Øst"):
        add_system(ida, name, [OPEN_SCOPE])
    assert list(states(ida)) == ["Alfa", "beta", "gamma", "Øst"]


def test_a_full_key_set_is_an_alert_not_a_field_error(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = add_system(ida, "Full", [OPEN_SCOPE])
    now = ida.runtime.clock.now()
    with ida.store.begin() as uow:
        replace_client_keys(uow, client_id, [(f"full-{i}", {**rsa_keys[0].public_jwk, "kid": f"full-{i}"})
                                             for i in range(5)], OP, now)
    page = ida.browser.get(f"/portal/systems/{client_id}").text
    assert re.search(r'<div class="ds-alert" data-color="warning" id="keys-full">', page)
    assert "ds-validation-message" not in page and "keys/paste" not in page


def test_the_system_page_names_the_type_and_the_state(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = add_system(ida, "Facts", [OPEN_SCOPE], rsa_keys[0])
    page = ida.browser.get(f"/portal/systems/{client_id}").text
    assert "<dd>Virksomhetssystem (Altinn)</dd>" in page
    assert re.search(r'<dd id="token-state"><span class="ds-tag" data-color="success">Ja</span>', page)
    assert "Registrert gjennom API-et" in page, "the key's origin names its type"
    assert f'/portal/systems/{client_id}/edit"' in page and f'/portal/systems/{client_id}/deactivate"' in page
    assert f'/portal/systems/{client_id}/remove-key?kid=Facts-key"' in page
    assert 'aria-label="Fjern nøkkelen Facts-key"' in page


def test_the_list_still_answers_when_a_customer_delegated(ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    """One call per delegating customer for its access, none per system."""
    for i in range(3):
        add_system(ida, f"Delegated {i}", [DELEGABLE_SCOPE], rsa_keys[0])
    delegate_scope(ida)
    before = len(ida.recorder.requests)
    assert set(states(ida).values()) == {"Ja"}
    made = ida.recorder.requests[before:]
    access = [r for r in made if r.url.path.endswith("/for_consumer")]
    assert sorted(r.url.params["consumer_org"] for r in access) == sorted([VENDOR, CONSUMER])


def test_an_expired_key_is_no_longer_shown_in_the_commands(clocked: tuple[Stack, FixedClock],
                                                          rsa_keys: list[PrivateKeyHandle]) -> None:
    stack, clock = clocked
    client_id = add_system(stack, "Two keys", [OPEN_SCOPE], rsa_keys[0])
    clock.advance(200 * 24 * 3600)
    with stack.store.begin() as uow:
        client = uow.get_client(client_id)
        assert client is not None
        old = client.keys[0]
        newer = {**rsa_keys[1].public_jwk, "kid": "newer"}
        replace_client_keys(uow, client_id, [(old.kid, old.jwk), ("newer", newer)], OP,
                            clock.now() - timedelta(days=200))
    page = stack.browser.get(f"/portal/systems/{client_id}").text
    assert "--kid newer" in page


def test_a_keyless_maskinporten_client_can_still_get_a_key(ida: Stack) -> None:
    client_id = add_system(ida, "Sertifikat", [OPEN_SCOPE], integration_type=IntegrationType.MASKINPORTEN)
    page = ida.browser.get(f"/portal/systems/{client_id}").text
    assert 'id="certificate"' in page and f"/portal/systems/{client_id}/keys/paste" in page


@pytest.mark.parametrize("language", ["nb", "en"])
def test_every_system_page_renders_in_both_languages(ida: Stack, rsa_keys: list[PrivateKeyHandle],
                                                     language: str) -> None:
    """Every text of these pages exists in the language, with its placeholders filled in."""
    ida.browser.get(f"/portal/language?lang={language}&next=/portal/")
    ready = add_system(ida, "Ready", [OPEN_SCOPE, DELEGABLE_SCOPE], rsa_keys[0])
    delegate_scope(ida)
    add_system(ida, "Keyless", [OPEN_SCOPE], integration_type=IntegrationType.MASKINPORTEN)
    for path in ("/portal/systems", f"/portal/systems/{ready}", f"/portal/systems/{ready}/edit",
                 f"/portal/systems/{ready}/deactivate", f"/portal/systems/{ready}/remove-key?kid=Ready-key",
                 "/portal/systems/new"):
        resp = ida.browser.get(path)
        assert resp.status_code == 200, path
        assert f'<html lang="{language}"' in resp.text
        assert not re.search(r"\b(system|systems|new|usage)\.[a-z_]+\.[a-z_.]+\b", resp.text.split("<main")[1]), \
            f"a catalogue key shown as text on {path}"
    english = ida.browser.get(f"/portal/systems/{ready}").text
    expected = "On behalf of customers" if language == "en" else "På vegne av kunder"
    assert expected in english
