"""portvakt.resource.testing: an API provider's validator pointed at the test issuer refuses real tokens for the
real reasons (RFC 6750 §3.1, RFC 7519 §4.1): expired, another scope, another audience."""

from __future__ import annotations

import pytest

from portvakt.resource import InsufficientScope, InvalidToken, TokenValidator
from portvakt.resource.testing import ManualClock, expire, expiry, parse_challenge, pointed_at, validator_for
from portvakt.testing import Client, Maskinporten

API = "https://api.kit.example/"


@pytest.fixture(scope="module")
def client(mp: Maskinporten) -> Client:
    """A client with two scopes."""
    vendor = mp.org()
    for name in ("kitres:read", "kitres:write"):
        mp.grant_access(mp.scope(name), vendor)
    return mp.client(vendor, ["kitres:read", "kitres:write"])


def test_validator_for_accepts_the_servers_tokens(mp: Maskinporten, client: Client) -> None:
    token = mp.token(client, "kitres:read")
    seen = validator_for(mp).validate(str(token), required_scopes=["kitres:read"])
    assert seen.consumer == client.org
    assert seen.client_id == client.client_id


def test_another_scope_is_insufficient_scope(mp: Maskinporten, client: Client) -> None:
    token = mp.token(client, "kitres:read")
    with pytest.raises(InsufficientScope) as refused:
        validator_for(mp).validate(str(token), required_scopes=["kitres:write"])
    assert refused.value.status == 403
    assert parse_challenge(refused.value.challenge("kit")) == {
        "scheme": "Bearer", "realm": "kit", "error": "insufficient_scope",
        "error_description": "the access token lacks the scope kitres:write", "scope": "kitres:write"}


def test_an_audience_is_checked_with_the_grants_resource(mp: Maskinporten, client: Client) -> None:
    validator = validator_for(mp, audience=API)
    assert validator.validate(str(mp.token(client, "kitres:read", resource=API))).consumer == client.org
    with pytest.raises(InvalidToken, match="another audience"):
        validator.validate(str(mp.token(client, "kitres:read")))  # aud "unspecified"
    with pytest.raises(InvalidToken, match="another audience"):
        validator.validate(str(mp.token(client, "kitres:read", resource="https://other.example/")))


def test_expire_moves_the_clock_past_exp_and_leeway(mp: Maskinporten, client: Client) -> None:
    clock = ManualClock()
    validator = validator_for(mp, clock=clock)
    token = mp.token(client, "kitres:read")
    assert validator.validate(str(token))
    expire(clock, token)
    assert clock() > expiry(token) + 10
    with pytest.raises(InvalidToken, match="expired"):
        validator.validate(str(token))
    clock.reset()
    assert validator.validate(str(token))
    clock.advance(token.expires_in + 5)  # within the leeway
    assert validator.validate(str(token))


def test_pointed_at_retargets_an_existing_validator_and_restores_it(mp: Maskinporten, client: Client) -> None:
    production = TokenValidator("https://maskinporten.no/")
    token = mp.token(client, "kitres:read")
    with pointed_at(production, mp) as clock:
        assert production.issuer == mp.issuer
        assert production.validate(str(token)).consumer == client.org
        expire(clock, token.claims)
        with pytest.raises(InvalidToken, match="expired"):
            production.validate(str(token))
    assert production.issuer == "https://maskinporten.no/"
    with pytest.raises(InvalidToken, match="another issuer"):
        production._check_claims(token.claims)


def test_a_token_from_another_server_does_not_verify(mp: Maskinporten, client: Client) -> None:
    with Maskinporten() as other:
        vendor = other.org()
        api = other.scope("kitres:read", owner=vendor)
        foreign = other.token(other.client(vendor, [api], key=client.key), [api])
    with pytest.raises(InvalidToken, match="another issuer"):
        validator_for(mp).validate(str(foreign))


def test_expiry_reads_strings_claims_and_tokens(mp: Maskinporten, client: Client) -> None:
    token = mp.token(client, "kitres:read")
    assert expiry(str(token)) == expiry(token) == expiry(token.claims) == token.claims["exp"]
    with pytest.raises(ValueError, match="no numeric"):
        expiry({"exp": "soon"})


def test_parse_challenge_reads_quoted_and_bare_values() -> None:
    assert parse_challenge('Bearer realm="api", error="invalid_token", error_description="a, b"') == {
        "scheme": "Bearer", "realm": "api", "error": "invalid_token", "error_description": "a, b"}
    assert parse_challenge("Bearer realm=api") == {"scheme": "Bearer", "realm": "api"}


def test_a_rotated_key_is_fetched_by_the_cache_at_once(client: Client) -> None:
    with Maskinporten() as server:
        vendor = server.org()
        api = server.scope("kitrotate:read", owner=vendor)
        rotating = server.client(vendor, [api], key=client.key)
        validator = validator_for(server)
        before = server.token(rotating, [api])
        assert validator.validate(str(before))
        kid = server.rotate_keys()
        after = server.token(rotating, [api])
        assert after.header["kid"] == kid != before.header["kid"]
        assert validator.validate(str(after))
        assert validator.validate(str(before))  # the old key stays published
