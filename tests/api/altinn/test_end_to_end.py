"""The whole delegation flow on the wire (docs/protocol.md §4.1 steps 2-5, §4.2): provider, consumer, vendor, token.

Once with LocalDelegationLookup (one process, one database) and once with HttpDelegationLookup against
the Altinn side running as its own app (RemoteTokenCheck against the token service's issuer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from portvakt.altinn import HttpDelegationLookup, LocalDelegationLookup
from portvakt.domain.delegations import DELEGATIONS_ADMIN
from portvakt.jose import peek
from portvakt.settings import AltinnSettings, Settings
from portvakt.wiring import Overrides, assemble
from tests.api.altinn.conftest import DELEGABLE, DW, Altinn
from tests.api.test_token_rejections import refused
from tests.conftest import CONSUMER, ISSUER, OTHER, VENDOR, World

DELEGATIONS = "/accessmanagement/api/v1/delegations"


class Monotonic:
    """The HTTP lookup's cache clock, moved by the test."""

    t = 0.0

    def __call__(self) -> float:
        return self.t


def vendor_token(world: World) -> Any:
    """The vendor asks for a token on behalf of the consumer (docs/protocol.md §4.2: consumer_org in the grant)."""
    return world.post(world.grant(scope=DELEGABLE, consumer_org=CONSUMER))


def delegate(altinn: Altinn, scheme: dict[str, Any]) -> str:
    r = altinn("POST", DELEGATIONS, CONSUMER, DW, json={"scheme_id": scheme["scheme_id"], "supplier_org": VENDOR})
    assert r.status_code == 201, r.text
    return str(r.json()["delegation_id"])


def revoke(altinn: Altinn, delegation_id: str) -> None:
    assert altinn("DELETE", f"{DELEGATIONS}/{delegation_id}", CONSUMER, DW).status_code == 200


@contextmanager
def separate_altinn_side(world: World, token_for: Callable[..., str]) -> Iterator[TestClient]:
    """The Altinn side as its own app, its key cache filled first.

    (The test server runs /token on its event loop; a key fetch from inside a lookup would call back
    into that same loop, which the separate processes of a real deployment never do.)
    """
    settings = Settings(data_dir="/nonexistent", altinn=AltinnSettings(token_issuer=ISSUER))  # type: ignore[arg-type]
    app = assemble(settings, ("altinn",), Overrides(store=world.store, clock=world.clock, token_http=world.http))
    with TestClient(app, base_url="http://altinn.test") as remote:
        warm = remote.get(DELEGATIONS, headers={"authorization": f"Bearer {token_for(OTHER)}"})
        assert warm.status_code not in (401, 503), warm.text  # the token was judged: the issuer's keys are cached
        yield remote


def assert_delegated_token(resp: Any) -> None:
    """docs/protocol.md §4.2 step 5: consumer = consumer_org, supplier = the client's org, delegation_source set."""
    assert resp.status_code == 200, resp.text
    claims = peek(resp.json()["access_token"]).claims
    assert claims["consumer"]["ID"] == f"0192:{CONSUMER}" and claims["supplier"]["ID"] == f"0192:{VENDOR}"
    assert claims["delegation_source"] == "https://altinn.test/"


def test_local_lookup_revocation_is_immediate(world: World, altinn: Altinn, scheme: dict[str, Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(world.runtime.tokens, "_delegations", LocalDelegationLookup(world.store))
    refused(vendor_token(world), 403, "forbidden", "MP-251")
    delegation_id = delegate(altinn, scheme)
    assert_delegated_token(vendor_token(world))
    revoke(altinn, delegation_id)
    refused(vendor_token(world), 403, "forbidden", "MP-251")


def test_http_lookup_against_a_separate_altinn_side(world: World, altinn: Altinn, scheme: dict[str, Any],
                                                     token_for: Callable[..., str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Monotonic()
    with separate_altinn_side(world, token_for) as remote:
        lookup = HttpDelegationLookup("http://altinn.test/", lambda: token_for(OTHER, DELEGATIONS_ADMIN),
                                      http=remote, clock=clock)
        monkeypatch.setattr(world.runtime.tokens, "_delegations", lookup)
        refused(vendor_token(world), 403, "forbidden", "MP-251")
        clock.t += 3.1  # past the negative TTL
        delegation_id = delegate(altinn, scheme)
        assert_delegated_token(vendor_token(world))
        revoke(altinn, delegation_id)
        assert_delegated_token(vendor_token(world))  # the positive answer is cached ...
        clock.t += 30.1
        refused(vendor_token(world), 403, "forbidden", "MP-251")  # ... for at most positive_ttl


def test_http_lookup_with_a_token_lacking_the_admin_scope_is_mp290(world: World, altinn: Altinn,
                                                                    scheme: dict[str, Any],
                                                                    token_for: Callable[..., str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A misconfigured lookup token (403 from the Altinn side) is temporarily_unavailable, never MP-251."""
    delegate(altinn, scheme)
    with separate_altinn_side(world, token_for) as remote:
        lookup = HttpDelegationLookup("http://altinn.test/", lambda: token_for(OTHER, *DW), http=remote)
        monkeypatch.setattr(world.runtime.tokens, "_delegations", lookup)
        refused(vendor_token(world), 503, "temporarily_unavailable", "MP-290")


def test_http_lookup_down_is_mp290(world: World, altinn: Altinn, scheme: dict[str, Any],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    delegate(altinn, scheme)
    lookup = HttpDelegationLookup("http://altinn.test/", lambda: "t",
                                  http=httpx.Client(transport=httpx.MockTransport(down)))
    monkeypatch.setattr(world.runtime.tokens, "_delegations", lookup)
    refused(vendor_token(world), 503, "temporarily_unavailable", "MP-290")
