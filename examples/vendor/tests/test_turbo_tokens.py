"""Turbo's token client against a local Maskinporten: real tokens, real refusals, and the failures it must survive
(the plugin's `maskinporten.failing(...)`)."""

from __future__ import annotations

import pytest
from turbo_tokens import Refused, TokenSource, Unavailable

from portvakt.testing import Maskinporten

SCOPE = "brreg:reelle/offentlig"


class Waits(list[float]):
    """Records the sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def parties(maskinporten: Maskinporten) -> dict[str, str]:
    """Brreg's delegable API, Turbo (the vendor, with access) and a customer that delegated the API to Turbo."""
    turbo, customer = maskinporten.org(name="Turbo Systemleverandør AS"), maskinporten.org(name="Kunde AS")
    api = maskinporten.scope(SCOPE, delegable=True)
    for org in (turbo, customer):
        maskinporten.grant_access(api, org)
    maskinporten.delegate(api, customer, turbo)
    return {"turbo": turbo.orgno, "customer": customer.orgno}


@pytest.fixture
def source(maskinporten: Maskinporten, parties: dict[str, str], waits: Waits) -> TokenSource:
    client = maskinporten.client(parties["turbo"], [SCOPE])
    return TokenSource(client.signer(), maskinporten.token_endpoint, timeout=0.5, sleep=waits)


def claims_of(token: str) -> dict[str, object]:
    from portvakt.jose import peek

    return peek(token).claims


def test_a_token_for_turbo_itself(source: TokenSource, parties: dict[str, str], waits: Waits) -> None:
    claims = claims_of(source.token(SCOPE))
    assert claims["consumer"] == {"authority": "iso6523-actorid-upis", "ID": f"0192:{parties['turbo']}"}
    assert waits == []


def test_a_token_on_behalf_of_a_customer(source: TokenSource, parties: dict[str, str]) -> None:
    claims = claims_of(source.token(SCOPE, consumer_org=parties["customer"]))
    assert claims["consumer"] == {"authority": "iso6523-actorid-upis", "ID": f"0192:{parties['customer']}"}
    assert claims["supplier"] == {"authority": "iso6523-actorid-upis", "ID": f"0192:{parties['turbo']}"}


def test_an_outage_is_waited_out_as_retry_after_says(maskinporten: Maskinporten, source: TokenSource,
                                                     waits: Waits) -> None:
    with maskinporten.failing("outage", times=2, retry_after=3) as outage:
        assert source.token(SCOPE)
    assert outage.hits == 2
    assert waits == [3.0, 3.0]


def test_retry_after_is_capped(maskinporten: Maskinporten, source: TokenSource, waits: Waits) -> None:
    source.max_wait = 1.0
    with maskinporten.failing("MP-429", times=1, retry_after=60):
        assert source.token(SCOPE)
    assert waits == [1.0]


def test_a_long_outage_gives_up_after_three_attempts(maskinporten: Maskinporten, source: TokenSource,
                                                     waits: Waits) -> None:
    with maskinporten.failing("outage") as outage, pytest.raises(Unavailable, match="503 temporarily_unavailable"):
        source.token(SCOPE)
    assert outage.hits == 3
    assert len(waits) == 2


def test_a_slow_answer_times_out_and_is_tried_again(maskinporten: Maskinporten, source: TokenSource,
                                                    waits: Waits) -> None:
    with maskinporten.failing(delay=3, times=1):
        assert source.token(SCOPE)
    assert waits == [0.5]


def test_a_dropped_connection_is_tried_again(maskinporten: Maskinporten, source: TokenSource, waits: Waits) -> None:
    with maskinporten.failing("drop", times=1):
        assert source.token(SCOPE)
    assert waits == [0.5]


def test_a_refusal_is_not_retried(maskinporten: Maskinporten, source: TokenSource, waits: Waits) -> None:
    with maskinporten.failing("MP-250", suffix=SCOPE) as refusal, pytest.raises(Refused) as refused:
        source.token(SCOPE)
    assert (refused.value.status, refused.value.code, refusal.hits) == (403, "MP-250", 1)
    assert waits == []


def test_a_revoked_delegation_is_refused_mp251(maskinporten: Maskinporten, source: TokenSource,
                                               parties: dict[str, str]) -> None:
    maskinporten.revoke(SCOPE, parties["customer"], parties["turbo"])
    with pytest.raises(Refused) as refused:
        source.token(SCOPE, consumer_org=parties["customer"])
    assert (refused.value.status, refused.value.code) == (403, "MP-251")
