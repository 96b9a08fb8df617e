"""PrivateKeyHandle.from_jwk: a one-prime RSA private JWK with all its members (RFC 7518 §6.3.2) becomes the same
key the jose room made; anything else is a KeyFormatError that names the problem and never its key material."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from joserfc.util import int_to_base64

from portvakt.jose import KeyFormatError, PrivateKeyHandle, Signer, Verifier, parse_public_key, peek

from .conftest import Keys, assert_no_echo

MEMBERS = ("n", "e", "d", "p", "q", "dp", "dq", "qi")
SECRET = ("d", "p", "q", "dp", "dq", "qi")


def webcrypto(handle: PrivateKeyHandle) -> dict[str, Any]:
    """The members WebCrypto's exportKey("jwk") gives (the portal's browser key pair), without kid."""
    jwk = handle.to_private_jwk()
    return {"kty": "RSA", **{m: jwk[m] for m in MEMBERS}, "alg": "RS256", "ext": True, "key_ops": ["sign"]}


def test_a_jwk_the_jose_room_made_loads_as_the_same_key(keys: Keys) -> None:
    loaded = PrivateKeyHandle.from_jwk(keys.handle.to_private_jwk())
    assert loaded.kid == keys.handle.kid and loaded.bits == 2048
    assert loaded.public_jwk == keys.handle.public_jwk
    assert loaded.to_private_jwk() == keys.handle.to_private_jwk()
    token = Signer(loaded, kid=loaded.kid).sign({"iss": "x"})
    Verifier(parse_public_key(keys.handle.public_jwk)).verify(peek(token))


def test_the_webcrypto_members_load_and_the_kid_is_the_thumbprint(keys: Keys) -> None:
    assert PrivateKeyHandle.from_jwk(webcrypto(keys.handle)).kid == keys.handle.kid
    own_kid = PrivateKeyHandle.from_jwk(webcrypto(keys.handle) | {"kid": "my-key-2025", "use": "sig"})
    assert own_kid.kid == keys.handle.kid, "the handle's kid is always the RFC 7638 thumbprint"
    for alg in ("RS384", "RS512"):
        assert PrivateKeyHandle.from_jwk(webcrypto(keys.handle) | {"alg": alg}).kid == keys.handle.kid


def _without(member: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda jwk: {k: v for k, v in jwk.items() if k != member}


def _swap_primes(jwk: dict[str, Any]) -> dict[str, Any]:
    """p and q swapped, dp/dq and qi left as they were: the CRT members no longer fit."""
    return jwk | {"p": jwk["q"], "q": jwk["p"]}


REFUSED: list[tuple[Callable[[dict[str, Any]], Any], str]] = [
    *((_without(m), f'"{m}" is missing') for m in MEMBERS),
    (lambda j: j | {"qi": ""}, '"qi" is missing'),
    (lambda j: j | {"p": 12345}, '"p" must be a base64url string'),
    (lambda j: j | {"kty": "EC"}, r'only RSA private JWKs are accepted \("kty": "RSA"\)'),
    (_without("kty"), "only RSA private JWKs"),
    (lambda j: j | {"oth": [{"r": j["p"], "d": j["dp"], "t": j["qi"]}]}, r'multi-prime RSA key \("oth"'),
    (lambda j: j | {"dp": "!!not base64!!"}, '"dp" is not base64url'),
    (lambda j: j | {"dq": j["dq"] + "=="}, '"dq" is not base64url without padding'),
    (lambda j: j | {"d": j["d"].replace("-", "+").replace("_", "/") + "+/"}, '"d" is not base64url'),
    (lambda j: j | {"q": "A" * 1401}, '"q" is too long'),
    (lambda j: j | {"d": j["dp"]}, "not a valid RSA private key"),
    (_swap_primes, "not a valid RSA private key"),
    (lambda j: j | {"alg": "ES256"}, '"alg" must be RS256, RS384 or RS512'),
    (lambda j: j | {"use": "enc"}, '"use" must be "sig"'),
    (lambda j: j | {"kid": 7}, '"kid" must be a non-empty string'),
    (lambda j: j | {"kid": ""}, '"kid" must be a non-empty string'),
    (lambda j: {"keys": [j]}, "is a JWK Set"),
    (lambda j: [j], "must be a JSON object"),
]


@pytest.mark.parametrize(("change", "message"), REFUSED)
def test_a_bad_jwk_is_refused_readably_without_its_material(keys: Keys, change: Callable[[dict[str, Any]], Any],
                                                            message: str) -> None:
    jwk = webcrypto(keys.handle)
    with pytest.raises(KeyFormatError, match=message) as refused:
        PrivateKeyHandle.from_jwk(change(jwk))
    said = str(refused.value)
    assert_no_echo(said, "\n".join(jwk[m] for m in MEMBERS))
    assert all(jwk[m][:12] not in said for m in SECRET)


def test_a_key_outside_2048_to_8192_bits_is_refused(keys: Keys) -> None:
    numbers = keys.small_rsa.private_numbers()
    values = (numbers.public_numbers.n, numbers.public_numbers.e, numbers.d, numbers.p, numbers.q, numbers.dmp1,
              numbers.dmq1, numbers.iqmp)
    small = {"kty": "RSA", **{m: int_to_base64(v) for m, v in zip(MEMBERS, values, strict=True)}}
    with pytest.raises(KeyFormatError, match="2048 to 8192 bits"):
        PrivateKeyHandle.from_jwk(small)


def test_a_public_jwk_is_not_a_private_key(keys: Keys) -> None:
    with pytest.raises(KeyFormatError, match='"d" is missing'):
        PrivateKeyHandle.from_jwk(keys.handle.public_jwk)
