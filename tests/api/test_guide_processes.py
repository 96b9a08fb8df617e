"""The guide's scenario on real `portvakt serve` processes: one process, and the token service and
the Altinn side as two processes talking over HTTP on 127.0.0.1 (docs/protocol.md §4.2 lookup, RFC 7517 /jwk).

Each refusal of docs/protocol.md §4.2 is checked on the wire here too: own org as consumer_org, no access, a revoked
delegation (at once with the local registry, within the cache time with the remote one) and, with two
processes, the Altinn side down while tokens without consumer_org keep working.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portvakt.client import GrantSigner, TokenError, fetch_token
from tests.api.test_serve import BIN, Server, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import guide

pytestmark = pytest.mark.slow
POSITIVE_CACHE = 1.5
NEGATIVE_CACHE = 0.5


@dataclass
class Setup:
    """The processes of one setup: where tokens come from, where the Altinn side is."""

    token: Server
    altinn: Server | None

    @property
    def altinn_url(self) -> str:
        return (self.altinn or self.token).url


@pytest.fixture(params=["one-process", "two-processes"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    data = tmp_path / "var"
    if request.param == "one-process":
        servers = [Server(data)]
        yield Setup(servers[0], None)
    else:
        altinn_port = free_port()
        token = Server(data, "--only", "token", "--altinn-url", f"http://127.0.0.1:{altinn_port}/",
                       env={"PORTVAKT_ALTINN__POSITIVE_CACHE_SECONDS": str(POSITIVE_CACHE),
                            "PORTVAKT_ALTINN__NEGATIVE_CACHE_SECONDS": str(NEGATIVE_CACHE)})
        altinn = Server(data, "--only", "altinn", "--token-issuer", token.url, port=altinn_port, ready="healthz")
        servers = [token, altinn]
        yield Setup(token, altinn)
    for server in servers:
        if server.proc.poll() is None:
            server.stop()


def token_for(g: guide.Guide, actor: guide.Actor, scope: str, consumer: str | None) -> dict[str, object]:
    signer = GrantSigner(actor.client_id, actor.key, actor.key.kid, g.issuer)
    return fetch_token(signer, scope, token_endpoint=g.issuer + "token", consumer_org=consumer, client=g.http)


def refusal(g: guide.Guide, system: guide.Actor, scope: str = guide.RAPPORTERINGSPLIKTIG,
            consumer: str = guide.CONSUMER[0]) -> dict[str, str]:
    """The error body of a refused delegated request, with its status under "status"."""
    with pytest.raises(TokenError) as caught:
        token_for(g, system, scope, consumer)
    assert caught.value.body is not None, caught.value
    return {**caught.value.body, "status": str(caught.value.status)}


def mp_code(body: dict[str, str]) -> str:
    return body["error_uri"].rsplit("/", 1)[-1]


def test_the_guide_then_every_refusal_on_the_wire(setup: Setup) -> None:
    g = guide.Guide(setup.token.url, setup.altinn_url, str(BIN), env=setup.token.env)
    with guide.reelle_api(setup.token.url) as api:
        outcome = guide.play(g, api)
    assert outcome.seen["consumer"] == guide.CONSUMER[0] and outcome.seen["supplier"] == guide.VENDOR[0]
    assert outcome.seen["client_id"] == outcome.system.client_id
    assert outcome.seen["delegation_source"] == setup.altinn_url

    own = refusal(g, outcome.system, consumer=guide.VENDOR[0])
    assert (own["status"], own["error"], mp_code(own)) == ("400", "invalid_request", "MP-260")
    assert own["error_description"].startswith("Validation of JWT claim failed: The combination consumer_org in "
                                               "claim and delegation scope on client is invalid")
    # offentlig has a delegation source, but Brreg gave the consumer no access to it.
    g.call(outcome.vendor, "PATCH", g.issuer + f"api/v1/clients/{outcome.system.client_id}", guide.DCR_WRITE,
           200, json={"scopes": [guide.RAPPORTERINGSPLIKTIG, guide.OFFENTLIG]})
    no_access = refusal(g, outcome.system, scope=guide.OFFENTLIG)
    assert (no_access["status"], no_access["error"], mp_code(no_access)) == ("403", "forbidden", "MP-250")

    guide.consumer_revokes(g, outcome.consumer, outcome.delegation_id)
    assert_refused_within(0 if setup.altinn is None else POSITIVE_CACHE + 1, g, outcome)
    if setup.altinn is not None:
        assert_altinn_down_fails_closed(setup.altinn, g, outcome)


def assert_refused_within(seconds: float, g: guide.Guide, outcome: guide.Outcome) -> None:
    """docs/protocol.md §4.2 step 4: a revoked delegation stops new tokens at once, or within the cache
    time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and still_delegated(g, outcome):
        time.sleep(0.2)
    refused = refusal(g, outcome.system)
    assert (refused["status"], mp_code(refused)) == ("403", "MP-251")
    assert refused["error_description"].startswith(
        f"Consumer {guide.CONSUMER[0]} has not delegated access to the scope {guide.RAPPORTERINGSPLIKTIG} "
        f"to supplier {guide.VENDOR[0]}")


def still_delegated(g: guide.Guide, outcome: guide.Outcome) -> bool:
    try:
        token_for(g, outcome.system, guide.RAPPORTERINGSPLIKTIG, guide.CONSUMER[0])
    except TokenError:
        return False
    return True


def assert_altinn_down_fails_closed(altinn: Server, g: guide.Guide, outcome: guide.Outcome) -> None:
    """docs/protocol.md §4.2 / decision A: unreachable Altinn side → 503 temporarily_unavailable (MP-290), no token;
    a request without consumer_org is not affected."""
    altinn.stop()
    time.sleep(NEGATIVE_CACHE + 0.2)
    down = refusal(g, outcome.system)
    assert (down["status"], down["error"], mp_code(down)) == ("503", "temporarily_unavailable", "MP-290")
    assert "access_token" not in down
    plain = token_for(g, outcome.vendor, guide.DCR_WRITE, None)
    assert str(plain["token_type"]) == "Bearer"
