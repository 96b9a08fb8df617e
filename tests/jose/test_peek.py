"""peek: a compact JWS is decoded (not verified), and any malformed str raises only MalformedJWT."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portvakt.jose import MalformedJWT, Signer, UnverifiedJWT, peek

from .conftest import Keys


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seg(value: Any) -> str:
    return b64(json.dumps(value).encode())


HEADER = seg({"alg": "RS256", "kid": "k"})
CLAIMS = seg({"iss": "client", "aud": "https://as.example/"})
SIG = b64(b"\x01" * 256)


def tok(header: str, claims: str = CLAIMS, signature: str = SIG) -> str:
    return f"{header}.{claims}.{signature}"


def test_peek_decodes_without_verifying() -> None:
    jwt = peek(f"{HEADER}.{CLAIMS}.{SIG}")
    assert jwt.header == {"alg": "RS256", "kid": "k"}
    assert jwt.claims == {"iss": "client", "aud": "https://as.example/"}
    assert isinstance(jwt, UnverifiedJWT)


def test_repr_shows_no_signature() -> None:
    jwt = peek(f"{HEADER}.{CLAIMS}.{SIG}")
    assert SIG not in repr(jwt)
    assert "_signature" not in repr(jwt)


def test_peek_allows_empty_signature_for_verify_to_refuse() -> None:
    assert peek(f"{seg({'alg': 'none'})}.{CLAIMS}.").header == {"alg": "none"}


def test_peek_accepts_whitespace_in_json() -> None:
    assert peek(tok(b64(b' { "alg" : "RS256" } '))).header == {"alg": "RS256"}


def test_duplicate_members_last_wins() -> None:
    """RFC 7515 §5.2 / RFC 7519 §4 allow keeping the lexically last duplicate member."""
    assert peek(tok(b64(b'{"alg":"none","alg":"RS256"}'))).header == {"alg": "RS256"}


@pytest.mark.parametrize(
    ("token", "match"),
    [
        (f"{HEADER}.{CLAIMS}", "three base64url segments"),
        (f"{HEADER}.{CLAIMS}.{SIG}.x.y", "three base64url segments"),
        (f"{HEADER}..{SIG}", "claims"),
        (f".{CLAIMS}.{SIG}", "header"),
        (f"{HEADER}=.{CLAIMS}.{SIG}", "base64url"),
        (f"{HEADER}.{CLAIMS}.{SIG.replace('A', '+', 1)}", "base64url"),
        (f"{HEADER}.{CLAIMS} .{SIG}", "claims"),
        (f"{HEADER}.{CLAIMS}.{SIG}\n", "signature"),
        (f"{HEADER}.{CLAIMS}.æ", "base64url"),
        (f"{HEADER}.{CLAIMS}.A", "signature"),
        (f"{HEADER}.{CLAIMS}.AB", "canonical"),
        (f"{seg([1])}.{CLAIMS}.{SIG}", "header"),
        (f"{HEADER}.{seg('text')}.{SIG}", "claims"),
        (tok(b64(b'{"alg":NaN}')), "header"),
        (tok(b64(b"\xff\xfe")), "header"),
        (tok(b64('{"alg":"RS256"}'.encode("utf-16"))), "header"),
        (f"{seg({'kid': 'k'})}.{CLAIMS}.{SIG}", '"alg"'),
        (f"{seg({'alg': ''})}.{CLAIMS}.{SIG}", '"alg"'),
        (f"{seg({'alg': ['RS256']})}.{CLAIMS}.{SIG}", '"alg"'),
        (f"{seg({'alg': 'RS256', 'kid': 1})}.{CLAIMS}.{SIG}", '"kid"'),
        (f"{seg({'alg': 'RS256', 'crit': ['exp']})}.{CLAIMS}.{SIG}", '"crit"'),
        (f"{seg({'alg': 'RS256', 'b64': False})}.{CLAIMS}.{SIG}", '"b64"'),
        (tok(HEADER, b64(b"[" * 5000 + b"]" * 5000)), "claims"),
        (tok(HEADER, b64(b'{"n":' + b"9" * 5000 + b"}")), "claims"),
        ("", "three"),
    ],
)
def test_malformed(token: str, match: str) -> None:
    with pytest.raises(MalformedJWT, match=match) as err:
        peek(token)
    assert err.value.__cause__ is None
    assert SIG not in str(err.value)


@pytest.mark.parametrize("token", [None, b"a.b.c", 1, ["a", "b", "c"]])
def test_non_str_refused(token: Any) -> None:
    with pytest.raises(MalformedJWT, match="string"):
        peek(token)


def test_max_length() -> None:
    token = f"{HEADER}.{CLAIMS}.{SIG}"
    assert peek(token, max_length=len(token)).header["alg"] == "RS256"
    with pytest.raises(MalformedJWT, match="longer than"):
        peek(token, max_length=len(token) - 1)
    with pytest.raises(MalformedJWT, match="longer than 16384"):
        peek(f"{HEADER}.{seg({'x': 'y' * 20000})}.{SIG}")


@given(st.text(max_size=300))
def test_any_text_raises_only_malformed(token: str) -> None:
    with contextlib.suppress(MalformedJWT):
        peek(token)


@given(st.from_regex(r"[A-Za-z0-9_=+/.-]{0,40}\.[A-Za-z0-9_=+/-]{0,80}\.[A-Za-z0-9_=+/-]{0,40}", fullmatch=True))
def test_token_shaped_text_raises_only_malformed(token: str) -> None:
    with contextlib.suppress(MalformedJWT):
        peek(token)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@given(header=st.dictionaries(st.text(max_size=6), JSON, max_size=4), claims=JSON)
def test_json_segments_raise_only_malformed(header: dict[str, Any], claims: Any) -> None:
    try:
        jwt = peek(f"{seg(header)}.{seg(claims)}.{SIG}")
    except MalformedJWT:
        return
    assert jwt.header == header
    assert isinstance(header["alg"], str)
    assert "crit" not in header
    assert jwt.claims == claims


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.integers(0, 10_000), st.characters()),
        min_size=1,
        max_size=5,
    )
)
def test_mutated_valid_tokens_raise_only_malformed(keys: Keys, edits: list[tuple[str, int, str]]) -> None:
    token = list(Signer(keys.handle).sign({"iss": "c", "aud": "a", "jti": "j"}))
    for op, pos, char in edits:
        i = pos % (len(token) + 1)
        if op == "insert":
            token.insert(i, char)
        elif token and i < len(token):
            if op == "replace":
                token[i] = char
            else:
                del token[i]
    with contextlib.suppress(MalformedJWT):
        peek("".join(token))
