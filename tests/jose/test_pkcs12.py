"""Server-made PKCS#12 (decision P8): AES-256 really used, password rules, loading and its errors."""

from __future__ import annotations

import builtins
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, NoEncryption, pkcs12
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from portvakt.jose import (
    JoseError,
    KeyFormatError,
    Pkcs12Bundle,
    Signer,
    Verifier,
    is_pkcs12,
    load_pkcs12,
    make_pkcs12,
    parse_public_key,
    peek,
    thumbprint,
)
from portvakt.jose.pkcs12 import PASSWORD_ALPHABET, make_password
from tests.jose.conftest import Keys

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
#: DER of the OIDs PBES2 (1.2.840.113549.1.5.13), PBKDF2 (…1.5.12), hmacWithSHA256 (…2.9), AES-256-CBC
#: (2.16.840.1.101.3.4.1.42) and SHA-256 (2.16.840.1.101.3.4.2.1, the MAC digest).
PBES2 = bytes.fromhex("06092a864886f70d01050d")
PBKDF2 = bytes.fromhex("06092a864886f70d01050c")
HMAC_SHA256 = bytes.fromhex("06082a864886f70d0209")
AES_256_CBC = bytes.fromhex("060960864801650304012a")
SHA256_OID = bytes.fromhex("0609608648016503040201")
#: Legacy PKCS#12 PBE schemes (1.2.840.113549.1.12.1.x: RC2/RC4/3DES) share this prefix.
LEGACY_PBE_PREFIX = bytes.fromhex("060a2a864886f70d010c01")


@pytest.fixture(scope="module")
def bundle() -> Pkcs12Bundle:
    """One bundle per module (RSA key generation is slow)."""
    return make_pkcs12("Turboskatt nøkkel", organisation="Visma AS", orgno="314330897", clock_now=NOW)


def test_round_trip_gives_the_registered_key(bundle: Pkcs12Bundle) -> None:
    handle = load_pkcs12(bundle.data, bundle.password.encode())
    assert handle.kid == bundle.kid == bundle.public_jwk["kid"] == thumbprint(bundle.public_jwk)
    assert handle.public_jwk == bundle.public_jwk
    assert bundle.public_jwk["alg"] == "RS256" and bundle.public_jwk["use"] == "sig"
    assert set(bundle.public_jwk) == {"kty", "n", "e", "kid", "alg", "use"}
    assert handle.bits == 2048
    assert bundle.not_after == NOW + timedelta(days=365)


def test_the_key_signs_a_grant_that_verifies_with_public_jwk(bundle: Pkcs12Bundle) -> None:
    handle = load_pkcs12(bundle.data, bundle.password.encode())
    token = Signer(handle).sign({"iss": "client", "scope": "brreg:test/read"})
    jwt = peek(token)
    assert jwt.header["kid"] == bundle.kid
    Verifier(parse_public_key(bundle.public_jwk)).verify(jwt)


def test_certificate_names_and_validity(bundle: Pkcs12Bundle) -> None:
    loaded = pkcs12.load_pkcs12(bundle.data, bundle.password.encode())
    assert loaded.cert is not None and loaded.cert.friendly_name == bundle.kid.encode()
    cert = loaded.cert.certificate
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Turboskatt nøkkel"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Visma AS"
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "314330897"
    assert cert.not_valid_before_utc == NOW and cert.not_valid_after_utc == bundle.not_after
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature is True


def test_aes_256_cbc_with_pbkdf2_hmac_sha256_is_used(bundle: Pkcs12Bundle) -> None:
    for oid in (PBES2, PBKDF2, HMAC_SHA256, AES_256_CBC, SHA256_OID):
        assert oid in bundle.data
    assert LEGACY_PBE_PREFIX not in bundle.data


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_openssl_reports_aes_256(bundle: Pkcs12Bundle, tmp_path: Path) -> None:
    path = tmp_path / "key.p12"
    path.write_bytes(bundle.data)
    env = {**os.environ, "P12_PASSWORD": bundle.password}
    info = subprocess.run(["openssl", "pkcs12", "-info", "-noout", "-in", str(path), "-passin", "env:P12_PASSWORD"],
                          capture_output=True, text=True, env=env, check=True, timeout=30)
    report = info.stdout + info.stderr
    assert "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC" in report
    assert "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC" in report
    assert "MAC: sha256" in report


def test_repr_hides_the_file_and_the_password(bundle: Pkcs12Bundle) -> None:
    text = repr(bundle) + str(bundle)
    assert bundle.password not in text
    assert bundle.data[:32].hex() not in text and "b'" not in text
    assert bundle.kid in text


def test_password_of_the_bundle(bundle: Pkcs12Bundle) -> None:
    assert len(bundle.password) == 24 and set(bundle.password) <= set(PASSWORD_ALPHABET)


@settings(max_examples=300)
@given(st.integers(min_value=20, max_value=64))
def test_passwords_are_long_and_unambiguous(length: int) -> None:
    password = make_password(length)
    assert len(password) == length
    assert set(password) <= set(PASSWORD_ALPHABET)
    assert not set(password) & set("0Oo1lI")


def test_password_alphabet_is_used_evenly_enough() -> None:
    seen = "".join(make_password() for _ in range(400))
    assert set(seen) == set(PASSWORD_ALPHABET)
    assert len({make_password() for _ in range(400)}) == 400
    assert len(PASSWORD_ALPHABET) == len(set(PASSWORD_ALPHABET)) == 56


def test_short_password_refused() -> None:
    with pytest.raises(JoseError, match="at least 20"):
        make_password(19)


def test_wrong_password_is_a_clear_error(bundle: Pkcs12Bundle) -> None:
    wrong = bundle.password[::-1].encode()
    with pytest.raises(KeyFormatError, match="password is wrong") as caught:
        load_pkcs12(bundle.data, wrong)
    assert bundle.password not in str(caught.value) and wrong.decode() not in str(caught.value)


def test_not_a_pkcs12(keys: Keys) -> None:
    pem = keys.handle.to_pem()
    assert not is_pkcs12(pem)
    with pytest.raises(KeyFormatError, match="not a PKCS#12"):
        load_pkcs12(pem, b"x")


def test_pkcs12_without_a_private_key(keys: Keys) -> None:
    data = pkcs12.serialize_key_and_certificates(b"cert", None, None, [keys.cert], BestAvailableEncryption(b"pw"))
    assert is_pkcs12(data)
    with pytest.raises(KeyFormatError, match="no private key"):
        load_pkcs12(data, b"pw")


def test_pkcs12_with_an_ec_key_is_refused(keys: Keys) -> None:
    data = pkcs12.serialize_key_and_certificates(b"ec", keys.ec, keys.ec_cert, None, NoEncryption())
    with pytest.raises(KeyFormatError, match="only RSA"):
        load_pkcs12(data, b"")


def test_pkcs12_made_elsewhere_loads(keys: Keys) -> None:
    data = pkcs12.serialize_key_and_certificates(b"x", keys.rsa, keys.cert, None, BestAvailableEncryption(b"pw"))
    assert load_pkcs12(data, b"pw").kid == keys.handle.kid


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_random_bytes_give_only_key_format_errors(data: bytes) -> None:
    try:
        load_pkcs12(data, b"password")
    except KeyFormatError:
        return
    raise AssertionError("random bytes loaded as a PKCS#12")


def test_truncated_file_is_refused(bundle: Pkcs12Bundle) -> None:
    with pytest.raises(KeyFormatError):
        load_pkcs12(bundle.data[: len(bundle.data) // 2], bundle.password.encode())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bits": 1024}, "2048 or 3072"),
        ({"valid_days": 0}, "valid_days"),
        ({"valid_days": 5000}, "valid_days"),
        ({"clock_now": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"common_name": ""}, "common_name"),
        ({"common_name": "x" * 65}, "common_name"),
        ({"organisation": "line\nbreak"}, "organisation"),
        ({"orgno": ""}, "orgno"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"common_name": "ok", "clock_now": NOW, **kwargs}
    with pytest.raises(JoseError, match=message):
        make_pkcs12(**args)  # type: ignore[arg-type]


def test_nothing_is_written_to_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("make_pkcs12 opened a file")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(os, "open", refuse)
    made = make_pkcs12("disk", clock_now=NOW)
    assert is_pkcs12(made.data)
