"""x5c grants on the wire (docs/protocol.md §5): a client without keys signs with its organisation's enterprise
certificate; every refusal has its exact error, MP code and description (decision T16)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from starlette.testclient import TestClient

from portvakt.domain import usecases as uc
from portvakt.domain.clock import FixedClock
from portvakt.domain.models import IntegrationType
from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.jose.dev_ca import IssuedCertificate, issue_enterprise_certificate, make_crl, make_intermediate, make_root
from portvakt.settings import CertificateSettings, Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.api.test_token_rejections import refused
from tests.conftest import ISSUER, OP, OTHER, VENDOR, seed

NOW = datetime.now(UTC).replace(microsecond=0)
AUTH = "Invalid assertion. Client authentication failed."


@dataclass
class Ca:
    """A root and an intermediate, as `portvakt dev-ca init` makes them."""

    root_key: PrivateKeyHandle
    root_pem: bytes
    key: PrivateKeyHandle
    pem: bytes

    def issue(self, orgno: str = VENDOR, **kw: Any) -> IssuedCertificate:
        return issue_enterprise_certificate(self.key, self.pem, orgno=orgno, organisation="Vendor AS", now=NOW, **kw)


def new_ca(name: str) -> Ca:
    root_key, root_pem = make_root(f"{name} root", NOW)
    key, pem = make_intermediate(root_key, root_pem, f"{name} issuing CA", NOW)
    return Ca(root_key, root_pem, key, pem)


@pytest.fixture(scope="module")
def ca() -> Ca:
    return new_ca("portvakt test")


@pytest.fixture(scope="module")
def eu_ca() -> Ca:
    return new_ca("EU trust-list TSP")


@pytest.fixture(scope="module")
def good(ca: Ca) -> IssuedCertificate:
    return ca.issue()


@dataclass
class CertWorld:
    """A token service trusting `ca` (and `eu_ca` as an EU anchor), with clients of every kind."""

    http: TestClient
    trust: Path
    ca: Ca
    keyless: str
    keyed: str
    virksys: str
    store: MemoryStore
    runtime: Any

    def grant(self, cert: IssuedCertificate, *, client_id: str | None = None, x5c: list[str] | None = None,
              key: PrivateKeyHandle | None = None, **claims: Any) -> str:
        now = int(NOW.timestamp())
        body = {"aud": ISSUER, "iss": client_id or self.keyless, "scope": "brreg:test/read", "iat": now,
                "exp": now + 60, "jti": str(uuid.uuid4()), **claims}
        return Signer(key or cert.key, x5c=cert.x5c if x5c is None else x5c).sign(body)

    def post(self, assertion: str) -> Any:
        return self.http.post("/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                              "assertion": assertion})

    def revoke(self, *certs: IssuedCertificate, made: datetime = NOW,
               next_update: timedelta = timedelta(days=7)) -> None:
        crl = make_crl(self.ca.key, self.ca.pem, [(c.serial, made - timedelta(minutes=5)) for c in certs], made,
                       next_update=made + next_update)
        (self.trust / "issuing.crl").write_bytes(crl)

    def refresh(self) -> None:
        self.runtime.registry.refresh()


def build(tmp_path: Path, ca: Ca, eu_ca: Ca, rsa_keys: list[PrivateKeyHandle], *,
          trust: bool = True) -> Iterator[CertWorld]:
    folder = tmp_path / "trust"
    (folder / "eu").mkdir(parents=True)
    (folder / "root.pem").write_bytes(ca.root_pem)
    (folder / "issuing.pem").write_bytes(ca.pem)
    (folder / "eu" / "tsp-root.pem").write_bytes(eu_ca.root_pem)
    (folder / "eu" / "tsp-issuing.pem").write_bytes(eu_ca.pem)
    store = MemoryStore()
    clock = FixedClock(NOW)
    keyed = seed(store, rsa_keys[0], NOW)
    with store.begin() as uow:
        keyless = uc.new_client(uow, client_name="Certificate client", client_orgno=VENDOR,
                                integration_type=IntegrationType.MASKINPORTEN,
                                scopes=["brreg:test/read", "brreg:test/open"], actor=OP, now=NOW)
        virksys = uc.new_client(uow, client_name="System", client_orgno=VENDOR,
                                integration_type=IntegrationType.ALTINN_VIRKSYS, scopes=["brreg:test/open"],
                                actor=OP, now=NOW)
        uc.replace_client_keys(uow, virksys.client_id, [(rsa_keys[1].kid, rsa_keys[1].public_jwk)], OP, NOW)
    certificates = CertificateSettings(trust_dir=folder if trust else None, recheck_seconds=0)
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent", certificates=certificates)
    app = assemble(settings, ("token",), Overrides(store=store, clock=clock, kek=b"test-kek"))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield CertWorld(http, folder, ca, keyless.client_id, keyed, virksys.client_id, store, app.runtime)


@pytest.fixture
def world(tmp_path: Path, ca: Ca, eu_ca: Ca, rsa_keys: list[PrivateKeyHandle]) -> Iterator[CertWorld]:
    yield from build(tmp_path, ca, eu_ca, rsa_keys)


def token_claims(resp: Any, http: TestClient) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    jwks = http.get("/jwk").json()
    token = resp.json()["access_token"]
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = pyjwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
    # the server's clock stands still at NOW, which may be minutes ago by the time this test runs
    claims: dict[str, Any] = pyjwt.decode(token, key, algorithms=["RS256"],
                                          options={"verify_aud": False, "verify_exp": False, "verify_iat": False})
    return claims


def test_a_valid_enterprise_certificate_gets_a_token(world: CertWorld, good: IssuedCertificate) -> None:
    claims = token_claims(world.post(world.grant(good)), world.http)
    assert claims["client_amr"] == "virksomhetssertifikat"
    assert claims["client_id"] == world.keyless and claims["client_orgno"] == VENDOR
    assert claims["consumer"] == {"authority": "iso6523-actorid-upis", "ID": f"0192:{VENDOR}"}


def test_the_leaf_alone_is_completed_from_the_trust_folder(world: CertWorld, good: IssuedCertificate) -> None:
    claims = token_claims(world.post(world.grant(good, x5c=good.x5c[:1])), world.http)
    assert claims["client_amr"] == "virksomhetssertifikat"


def test_orgno_in_serial_number(world: CertWorld, ca: Ca) -> None:
    cert = ca.issue(orgno_in="serialNumber")
    assert token_claims(world.post(world.grant(cert)), world.http)["client_orgno"] == VENDOR


def test_expired(world: CertWorld, ca: Ca) -> None:
    cert = ca.issue(not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1))
    body = refused(world.post(world.grant(cert)), 400, "invalid_grant", "MP-124", f"{AUTH} Invalid JWT signature.")
    assert "expired" in body["error_description"]


def test_not_yet_valid(world: CertWorld, ca: Ca) -> None:
    cert = ca.issue(not_before=NOW + timedelta(days=1), not_after=NOW + timedelta(days=400))
    body = refused(world.post(world.grant(cert)), 400, "invalid_grant", "MP-124", f"{AUTH} Invalid JWT signature.")
    assert "not valid before" in body["error_description"] or "not yet valid" in body["error_description"]


def test_revoked_after_the_crl_is_dropped_in(world: CertWorld, ca: Ca) -> None:
    cert = ca.issue()
    assert world.post(world.grant(cert)).status_code == 200
    world.revoke(cert)
    body = refused(world.post(world.grant(cert)), 400, "invalid_grant", "MP-120",
                   f"{AUTH} The JWT is signed with an invalid certificate.")
    assert "revoked" in body["error_description"]


def test_a_stale_crl_fails_closed_with_503(world: CertWorld, ca: Ca) -> None:
    world.revoke(made=NOW - timedelta(days=2), next_update=timedelta(days=1))
    resp = world.post(world.grant(ca.issue()))
    refused(resp, 503, "temporarily_unavailable", "MP-291")
    assert int(resp.headers["retry-after"]) > 0


def test_wrong_organisation(world: CertWorld, ca: Ca) -> None:
    body = refused(world.post(world.grant(ca.issue(orgno=OTHER))), 400, "invalid_grant", "MP-122",
                   "Invalid JWT. Invalid organization number for client. Does not match certificate orgno")
    assert OTHER in body["error_description"]


def test_unknown_ca(world: CertWorld) -> None:
    stranger = new_ca("unknown")
    body = refused(world.post(world.grant(stranger.issue())), 400, "invalid_grant", "MP-120")
    assert "trust" in body["error_description"] or "unknown" in body["error_description"]


def test_broken_chain(world: CertWorld, ca: Ca) -> None:
    impostor_key, _ = make_root("portvakt test issuing CA", NOW)  # the issuing CA's name, another key
    forged = issue_enterprise_certificate(impostor_key, ca.pem, orgno=VENDOR, organisation="Vendor AS", now=NOW)
    body = refused(world.post(world.grant(forged)), 400, "invalid_grant", "MP-120")
    assert "chain" in body["error_description"]


def test_without_digital_signature(world: CertWorld, ca: Ca) -> None:
    body = refused(world.post(world.grant(ca.issue(digital_signature=False))), 400, "invalid_grant", "MP-120")
    assert "digitalSignature" in body["error_description"]


def test_signed_with_another_key_than_the_certificates(world: CertWorld, good: IssuedCertificate,
                                                       rsa_keys: list[PrivateKeyHandle]) -> None:
    refused(world.post(world.grant(good, key=rsa_keys[2])), 400, "invalid_grant", "MP-124")


def test_malformed_x5c(world: CertWorld, good: IssuedCertificate) -> None:
    refused(world.post(world.grant(good, x5c=["not base64 DER!"])), 400, "invalid_grant", "MP-123",
            "Invalid JWT header x5c")


def test_a_client_with_keys_requires_kid(world: CertWorld, good: IssuedCertificate) -> None:
    refused(world.post(world.grant(good, client_id=world.keyed)), 400, "invalid_grant", "MP-127",
            f"{AUTH} Invalid JWT. The client requires pre-registered jwk and no key identifier (kid) provided")


def test_an_altinn_virksys_system_refuses_the_certificate(world: CertWorld, good: IssuedCertificate) -> None:
    refused(world.post(world.grant(good, client_id=world.virksys, scope="brreg:test/open")), 400,
            "invalid_grant", "MP-129", f"{AUTH} An altinn_virksys system never authenticates with an enterprise")


def test_qualified_and_non_qualified_eseals(world: CertWorld, eu_ca: Ca) -> None:
    for kind, amr in (("qualified", "QCForESeal"), ("non-qualified", "CForESeal")):
        cert = eu_ca.issue(eseal=kind)
        assert token_claims(world.post(world.grant(cert)), world.http)["client_amr"] == amr


def test_an_eu_anchor_needs_an_eseal(world: CertWorld, eu_ca: Ca) -> None:
    refused(world.post(world.grant(eu_ca.issue())), 400, "invalid_grant", "MP-120")


def test_a_national_qualified_certificate_stays_a_virksomhetssertifikat(world: CertWorld, ca: Ca) -> None:
    cert = ca.issue(eseal="qualified")
    assert token_claims(world.post(world.grant(cert)), world.http)["client_amr"] == "virksomhetssertifikat"


def test_without_a_trust_folder_every_certificate_is_refused(tmp_path: Path, ca: Ca, eu_ca: Ca,
                                                            good: IssuedCertificate,
                                                            rsa_keys: list[PrivateKeyHandle]) -> None:
    for w in build(tmp_path, ca, eu_ca, rsa_keys, trust=False):
        body = refused(w.post(w.grant(good)), 400, "invalid_grant", "MP-120")
        assert "trusts no certificate authority" in body["error_description"]


def test_a_ca_removed_from_the_folder_is_no_longer_trusted(world: CertWorld, good: IssuedCertificate) -> None:
    assert world.post(world.grant(good)).status_code == 200
    (world.trust / "root.pem").unlink()
    refused(world.post(world.grant(good)), 400, "invalid_grant", "MP-120")


class TestLockedKey:
    """docs/protocol.md §5.2 rule 6: a key registered with x5c binds the client to that certificate."""

    @pytest.fixture
    def locked(self, world: CertWorld, ca: Ca) -> tuple[str, IssuedCertificate]:
        cert = ca.issue()
        jwk = {**cert.key.public_jwk, "use": "sig", "x5c": cert.x5c}
        with world.store.begin() as uow:
            client = uc.new_client(uow, client_name="Locked", client_orgno=VENDOR,
                                   integration_type=IntegrationType.MASKINPORTEN, scopes=["brreg:test/read"],
                                   actor=OP, now=NOW)
            uc.replace_client_keys(uow, client.client_id, [(cert.key.kid, jwk)], OP, NOW)
        world.refresh()
        return client.client_id, cert

    def kid_grant(self, world: CertWorld, client_id: str, cert: IssuedCertificate,
                  x5c: list[str] | None = None) -> str:
        now = int(NOW.timestamp())
        body = {"aud": ISSUER, "iss": client_id, "scope": "brreg:test/read", "iat": now, "exp": now + 60,
                "jti": str(uuid.uuid4())}
        return Signer(cert.key, kid=cert.key.kid).sign(body, header={"x5c": x5c} if x5c else None)

    def test_the_locked_certificate_works_with_kid(self, world: CertWorld,
                                                    locked: tuple[str, IssuedCertificate]) -> None:
        client_id, cert = locked
        claims = token_claims(world.post(self.kid_grant(world, client_id, cert)), world.http)
        assert claims["client_amr"] == "private_key_jwt"

    def test_another_certificate_in_x5c_is_refused(self, world: CertWorld, ca: Ca,
                                                    locked: tuple[str, IssuedCertificate]) -> None:
        client_id, cert = locked
        other = ca.issue(key=cert.key)  # the same key, another certificate
        body = refused(world.post(self.kid_grant(world, client_id, cert, x5c=other.x5c)), 400, "invalid_grant",
                       "MP-120")
        assert "locked to" in body["error_description"]

    def test_revoking_the_locked_certificate_stops_the_key(self, world: CertWorld,
                                                            locked: tuple[str, IssuedCertificate]) -> None:
        client_id, cert = locked
        world.revoke(cert)
        body = refused(world.post(self.kid_grant(world, client_id, cert)), 400, "invalid_grant", "MP-120")
        assert "locked to a certificate" in body["error_description"] and "revoked" in body["error_description"]

    def test_x5c_without_kid_on_a_locked_client_needs_kid(self, world: CertWorld,
                                                           locked: tuple[str, IssuedCertificate]) -> None:
        client_id, cert = locked
        refused(world.post(world.grant(cert, client_id=client_id)), 400, "invalid_grant", "MP-127")
