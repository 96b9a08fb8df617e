"""The systems list: every system's keys come with the list (include=jwks, docs/decisions.md A14), so the API
calls do not grow with the systems; and the token states shown follow the clock the portal is given (decision P13)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from portvakt.domain import usecases as uc
from portvakt.domain.clients import replace_client_keys
from portvakt.domain.clock import FixedClock
from portvakt.domain.models import IntegrationType
from portvakt.jose import PrivateKeyHandle

from .stack import OP, OPEN_SCOPE, VENDOR, Stack

VALID, EXPIRING = ">Ja</span>", ">Ja, men nøkkelen utløper snart</span>"
DAY = 24 * 3600


def add_systems(stack: Stack, count: int, key: PrivateKeyHandle) -> None:
    """`count` systems of the vendor, each with `key` registered (as the API would, a year from now) under a kid of
    its own (kids are unique across clients)."""
    now = stack.runtime.clock.now()
    with stack.store.begin() as uow:
        for i in range(count):
            made = uc.new_client(uow, client_name=f"System {i}", client_orgno=VENDOR, scopes=[OPEN_SCOPE], actor=OP,
                                 now=now, integration_type=IntegrationType.ALTINN_VIRKSYS)
            kid = f"system-{i}"
            replace_client_keys(uow, made.client_id, [(kid, {**key.public_jwk, "kid": kid})], OP, now)


def list_page(stack: Stack) -> tuple[str, list[httpx.Request]]:
    """GET /portal/systems: the page, and the API calls the portal made for it."""
    before = len(stack.recorder.requests)
    page = stack.browser.get("/portal/systems")
    assert page.status_code == 200
    return page.text, stack.recorder.requests[before:]


def test_the_list_makes_the_same_calls_for_one_system_as_for_seven(make_stack: Callable[..., Stack],
                                                                    rsa_keys: list[PrivateKeyHandle]) -> None:
    calls: dict[int, list[tuple[str, str]]] = {}
    for count in (1, 7):
        stack = make_stack()
        assert stack.login().status_code == 303
        add_systems(stack, count, rsa_keys[0])
        page, made = list_page(stack)
        assert page.count(VALID) == count
        assert not [r for r in made if r.url.path.endswith("/jwks")], "no call per system"
        listing = [r for r in made if r.url.path == "/api/v1/clients"]
        assert len(listing) == 1 and listing[0].url.params["include"] == "jwks"
        calls[count] = sorted((r.method, r.url.path) for r in made)
    assert calls[1] == calls[7]
    assert sorted(path for _, path in calls[7]) == [
        "/accessmanagement/api/v1/delegations", "/api/v1/clients", "/api/v1/scopes/access/for_consumer",
        "/api/v1/scopes/all"], "the systems, the scopes on offer and the delegations made to the vendor"


def test_key_states_follow_the_portals_clock(make_stack: Callable[..., Stack],
                                             rsa_keys: list[PrivateKeyHandle]) -> None:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    stack = make_stack(clock=clock)
    assert stack.login().status_code == 303
    add_systems(stack, 1, rsa_keys[0])
    assert VALID in list_page(stack)[0]
    clock.advance(340 * DAY)
    page, _ = list_page(stack)
    assert EXPIRING in page and VALID not in page, "the portal's own token was renewed on the same clock, too"
