"""Keys for the jose tests, made once per session (RSA key generation is slow)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID

from portvakt.jose import PrivateKeyHandle

#: The RSA public key of RFC 7638 §3.1 and its published SHA-256 thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_E = "AQAB"
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@dataclass(frozen=True)
class Keys:
    """Raw cryptography keys and handles shared by the jose tests."""

    rsa: RSAPrivateKey
    other_rsa: RSAPrivateKey
    small_rsa: RSAPrivateKey
    ec: EllipticCurvePrivateKey
    handle: PrivateKeyHandle
    other_handle: PrivateKeyHandle
    cert: x509.Certificate
    ec_cert: x509.Certificate


def _self_signed(key: RSAPrivateKey | EllipticCurvePrivateKey, cn: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(scope="session")
def keys() -> Keys:
    """All test keys, generated once per session."""
    main = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    return Keys(
        rsa=main,
        other_rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        small_rsa=rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 (refused)
        ec=ec_key,
        handle=PrivateKeyHandle(main),
        other_handle=PrivateKeyHandle.generate(2048),
        cert=_self_signed(main, "portvakt test"),
        ec_cert=_self_signed(ec_key, "portvakt ec test"),
    )


def assert_no_echo(message: str, data: str | bytes, window: int = 16) -> None:
    """Assert no `window`-long run of the error message appears in the input it is about."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    for i in range(max(0, len(message) - window + 1)):
        assert message[i : i + window] not in text, "the error message echoes its input"
