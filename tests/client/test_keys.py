"""portvakt.client.load_private_key: PEM or PKCS#12, decided by content (decision P12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portvakt.client import key_file_kind, load_private_key
from portvakt.jose import KeyFormatError, Pkcs12Bundle, PrivateKeyHandle


@pytest.fixture(scope="module")
def pem_key() -> PrivateKeyHandle:
    return PrivateKeyHandle.generate(2048)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["key.p12", "key.PFX", "key.pem", "key"])
def test_pkcs12_is_detected_by_content(tmp_path: Path, bundle: Pkcs12Bundle, name: str) -> None:
    path = write(tmp_path, name, bundle.data)
    assert key_file_kind(path) == "pkcs12"
    handle = load_private_key(path, bundle.password)
    assert handle.kid == bundle.kid and handle.public_jwk == bundle.public_jwk
    assert load_private_key(str(path), bundle.password.encode()).kid == bundle.kid


def test_pkcs12_without_password(tmp_path: Path, bundle: Pkcs12Bundle) -> None:
    with pytest.raises(KeyFormatError, match="needs its password"):
        load_private_key(write(tmp_path, "k.p12", bundle.data))


def test_pkcs12_with_wrong_password(tmp_path: Path, bundle: Pkcs12Bundle) -> None:
    with pytest.raises(KeyFormatError, match="password is wrong") as caught:
        load_private_key(write(tmp_path, "k.p12", bundle.data), "not-the-password")
    assert "not-the-password" not in str(caught.value)


def test_p12_extension_with_other_content(tmp_path: Path, pem_key: PrivateKeyHandle) -> None:
    path = write(tmp_path, "k.p12", pem_key.to_pem())
    assert key_file_kind(path) == "pkcs12"
    with pytest.raises(KeyFormatError, match="not a PKCS#12"):
        load_private_key(path, "x")


def test_plain_pem_keeps_working(tmp_path: Path, pem_key: PrivateKeyHandle) -> None:
    path = write(tmp_path, "k.pem", pem_key.to_pem())
    assert key_file_kind(path) == "pem"
    assert load_private_key(path).kid == pem_key.kid


def test_encrypted_pem(tmp_path: Path, pem_key: PrivateKeyHandle) -> None:
    path = write(tmp_path, "k.pem", pem_key.to_pem(b"pem password"))
    assert key_file_kind(path) == "encrypted-pem"
    assert load_private_key(path, "pem password").kid == pem_key.kid
    with pytest.raises(KeyFormatError, match="no password was given"):
        load_private_key(path)


def test_missing_file_is_a_key_format_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFormatError, match="cannot read the key file"):
        load_private_key(tmp_path / "absent.p12", "x")
    with pytest.raises(KeyFormatError, match="cannot read the key file"):
        key_file_kind(tmp_path)


def test_garbage_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFormatError):
        load_private_key(write(tmp_path, "k.bin", b"\x30\x03\x02\x01\x03" + b"\x00" * 40))
