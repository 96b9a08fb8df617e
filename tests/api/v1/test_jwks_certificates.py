"""Registering a key with x5c (docs/protocol.md §3.3, §5.2 rule 6): it locks the client to that certificate, so
the certificate must be a valid enterprise certificate of the client's organisation that holds the key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from portvakt.domain.clock import FixedClock
from portvakt.jose import PrivateKeyHandle
from portvakt.jose.dev_ca import IssuedCertificate, issue_enterprise_certificate, make_intermediate, make_root
from portvakt.settings import CertificateSettings, Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.conftest import ISSUER, OTHER, VENDOR, World, seed

NOW = datetime.now(UTC).replace(microsecond=0)
Api = Callable[..., Any]


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PrivateKeyHandle, bytes]:
    root_key, root_pem = make_root("registration root", NOW)
    key, pem = make_intermediate(root_key, root_pem, "registration issuing CA", NOW)
    folder = tmp_path_factory.mktemp("trust")
    (folder / "root.pem").write_bytes(root_pem)
    (folder / "issuing.pem").write_bytes(pem)
    return folder, key, pem


def issue(ca: tuple[Path, PrivateKeyHandle, bytes], orgno: str = VENDOR) -> IssuedCertificate:
    _, key, pem = ca
    return issue_enterprise_certificate(key, pem, orgno=orgno, organisation="Vendor AS", now=NOW)


@pytest.fixture
def world(ca: tuple[Path, PrivateKeyHandle, bytes], rsa_keys: list[PrivateKeyHandle]) -> Iterator[World]:
    """The shared world, trusting the registration CA."""
    store = MemoryStore()
    clock = FixedClock(NOW)
    client_id = seed(store, rsa_keys[0], NOW)
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent",
                        certificates=CertificateSettings(trust_dir=ca[0], recheck_seconds=0))
    app = assemble(settings, ("token",), Overrides(store=store, clock=clock, kek=b"test-kek"))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield World(store, clock, http, rsa_keys[0], client_id, app.runtime)


def jwk_of(cert: IssuedCertificate) -> dict[str, Any]:
    return {**cert.key.public_jwk, "use": "sig", "x5c": cert.x5c}


def test_an_own_enterprise_certificate_locks_the_key(api: Api, world: World,
                                                     ca: tuple[Path, PrivateKeyHandle, bytes]) -> None:
    cert = issue(ca)
    r = api("POST", f"/clients/{world.client_id}/jwks", VENDOR, json={"keys": [jwk_of(cert)]})
    assert r.status_code == 200, r.text
    assert r.json()["keys"][0]["x5c"] == cert.x5c


def test_a_pem_certificate_is_checked_too(api: Api, world: World, ca: tuple[Path, PrivateKeyHandle, bytes]) -> None:
    cert = issue(ca)
    r = api("POST", f"/clients/{world.client_id}/jwks", VENDOR, content=cert.certificate_pem,
            headers={"content-type": "application/x-pem-file"})
    assert r.status_code == 200, r.text
    other = issue(ca, OTHER)
    r = api("POST", f"/clients/{world.client_id}/jwks", VENDOR, content=other.certificate_pem,
            headers={"content-type": "application/x-pem-file"})
    assert r.status_code == 400 and f"organisation {OTHER}" in r.json()["detail"]


def test_a_certificate_of_another_org_is_refused(api: Api, world: World,
                                                 ca: tuple[Path, PrivateKeyHandle, bytes]) -> None:
    r = api("POST", f"/clients/{world.client_id}/jwks", VENDOR, json={"keys": [jwk_of(issue(ca, OTHER))]})
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("keys[0]: the certificate is for organisation")


def test_an_untrusted_certificate_is_refused(api: Api, world: World) -> None:
    root_key, root_pem = make_root("stranger", NOW)
    cert = issue_enterprise_certificate(root_key, root_pem, orgno=VENDOR, organisation="Vendor AS", now=NOW)
    r = api("POST", f"/clients/{world.client_id}/jwks", VENDOR, json={"keys": [jwk_of(cert)]})
    assert r.status_code == 400, r.text
    assert "locks the client to that certificate" in r.json()["detail"]


def test_the_key_must_be_the_certificates(api: Api, world: World, ca: tuple[Path, PrivateKeyHandle, bytes],
                                          rsa_keys: list[PrivateKeyHandle]) -> None:
    cert = issue(ca)
    jwk = {**rsa_keys[2].public_jwk, "use": "sig", "x5c": cert.x5c}
    r = api("POST", f"/clients/{world.client_id}/jwks", VENDOR, json={"keys": [jwk]})
    assert r.status_code == 400, r.text
    assert "not the first certificate's public key" in r.json()["detail"]
    with world.store.begin() as uow:
        client = uow.get_client(world.client_id)
    assert client is not None and [k.kid for k in client.keys] == [world.key.kid]  # nothing was written
