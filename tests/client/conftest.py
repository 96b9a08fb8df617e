"""A server-made PKCS#12 registered on an altinn_virksys client of the test world (decisions P8, P12)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portvakt.domain import usecases as uc
from portvakt.domain.models import IntegrationType
from portvakt.jose import Pkcs12Bundle, make_pkcs12
from tests.conftest import OP, VENDOR, World

PASSWORD_ENV = "PORTVAKT_KEY_PASSWORD"


@pytest.fixture(scope="session")
def bundle() -> Pkcs12Bundle:
    """One server-made PKCS#12 per session (RSA key generation is slow)."""
    return make_pkcs12("Turboskatt", organisation="Vendor AS", orgno=VENDOR, clock_now=datetime.now(UTC))


@dataclass(frozen=True)
class System:
    """An altinn_virksys client whose only key is the bundle's public JWK, and the .p12 on disk."""

    client_id: str
    p12: Path
    bundle: Pkcs12Bundle


@pytest.fixture
def system(world: World, bundle: Pkcs12Bundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> System:
    """Register the bundle's public key the way the portal does: only the public JWK is stored."""
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    now = world.clock.now()
    with world.change() as uow:
        client = uc.new_client(uow, client_name="Turboskatt", client_orgno=VENDOR,
                               integration_type=IntegrationType.ALTINN_VIRKSYS, scopes=["brreg:test/read"],
                               actor=OP, now=now)
        uc.replace_client_keys(uow, client.client_id, [(bundle.kid, bundle.public_jwk)], OP, now)
    p12 = tmp_path / "turboskatt.p12"
    p12.write_bytes(bundle.data)
    return System(client.client_id, p12, bundle)
