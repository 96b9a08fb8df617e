"""Reading `Authorization: Bearer` and the WWW-Authenticate challenges, without a framework (RFC 6750 §2.1, §3)."""

from __future__ import annotations

import pytest

from portvakt.jose import PrivateKeyHandle
from portvakt.resource import (
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    MissingToken,
    TokenValidator,
    authenticate,
    bearer_token,
)
from portvakt.resource.errors import header_safe

from .conftest import VENDOR, sign


@pytest.mark.parametrize("value", [None, "", "   ", "Basic dXNlcjpwdw==", "Bearer-ish x", "DPoP abc"])
def test_missing_or_other_scheme(value: str | None) -> None:
    with pytest.raises(MissingToken) as info:
        bearer_token(value)
    assert info.value.status == 401 and info.value.error is None
    assert info.value.challenge("api") == 'Bearer realm="api"'


@pytest.mark.parametrize("value", ["Bearer", "Bearer   ", "Bearer a b", "Bearer a,b", 'Bearer "abc"', "Bearer a\tb"])
def test_malformed_bearer_header(value: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        bearer_token(value)
    assert info.value.status == 400
    assert info.value.challenge("api").startswith('Bearer realm="api", error="invalid_request", error_description="')


@pytest.mark.parametrize(("value", "token"), [
    ("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer abc", "abc"), ("BEARER  abc", "abc"), ("Bearer a+/~=", "a+/~="),
])
def test_bearer_token_accepted(value: str, token: str) -> None:
    assert bearer_token(value) == token


def test_challenges_exactly_as_rfc6750() -> None:
    assert InvalidToken("The access token expired").challenge("example") == (
        'Bearer realm="example", error="invalid_token", error_description="The access token expired"')
    assert InsufficientScope("the access token lacks the scope b", scope="a b").challenge("example") == (
        'Bearer realm="example", error="insufficient_scope", '
        'error_description="the access token lacks the scope b", scope="a b"')


def test_header_values_are_made_safe() -> None:
    assert header_safe('a "quoted" \\ ø\r\n') == "a ?quoted? ? ???"
    assert InvalidToken('bad "x"').challenge('r"') == (
        'Bearer realm="r?", error="invalid_token", error_description="bad ?x?"')


def test_authenticate(validator: TokenValidator, issuer_key: PrivateKeyHandle) -> None:
    token = sign(issuer_key)
    assert authenticate(validator, f"Bearer {token}", "brreg:test/read").consumer == VENDOR
    with pytest.raises(InsufficientScope):
        authenticate(validator, f"Bearer {token}", "brreg:test/write")
    with pytest.raises(InvalidToken):
        authenticate(validator, f"Bearer {token}x")
    with pytest.raises(MissingToken):
        authenticate(validator, None, "brreg:test/read")


@pytest.mark.parametrize("scope", ["a b", 'a"', "", "a\\b", "ø"])
def test_required_scopes_must_be_scope_tokens(validator: TokenValidator, scope: str) -> None:
    with pytest.raises(ValueError, match="scope-token"):
        authenticate(validator, "Bearer abc", scope)
