"""x5c grants from the vendor side (docs/protocol.md §5): GrantSigner with a certificate chain, from_pkcs12,
MaskinportenAuth, and `portvakt token --cert` / `--key --chain`, against an in-process server trusting a dev CA."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from portvakt.cli import app
from portvakt.cli.dev_ca import CaLayout, IssuedFiles, init_ca, issue
from portvakt.client import GrantSigner, MaskinportenAuth, fetch_token, load_certificate
from portvakt.domain import usecases as uc
from portvakt.domain.clock import SystemClock
from portvakt.domain.models import IntegrationType
from portvakt.jose import KeyFormatError, PrivateKeyHandle, peek
from portvakt.resource import TokenValidator
from portvakt.settings import CertificateSettings, Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.client.conftest import PASSWORD_ENV
from tests.conftest import ISSUER, OP, OTHER, VENDOR, seed

NOW = datetime.now(UTC).replace(microsecond=0)
SCOPE = "brreg:test/read"
runner = CliRunner()


@pytest.fixture(scope="module")
def dev_ca(tmp_path_factory: pytest.TempPathFactory) -> CaLayout:
    """A dev CA as `portvakt dev-ca init` makes it, once per module (two RSA keys)."""
    return init_ca(tmp_path_factory.mktemp("dev-ca"), NOW)


@pytest.fixture(scope="module")
def vendor(dev_ca: CaLayout, tmp_path_factory: pytest.TempPathFactory) -> IssuedFiles:
    """The vendor's enterprise certificate, as `portvakt dev-ca issue --orgno VENDOR` writes it."""
    return issue(dev_ca, tmp_path_factory.mktemp("vendor"), orgno=VENDOR, organisation="Vendor AS", now=NOW)


def password(files: IssuedFiles) -> str:
    return files.password_file.read_text().strip()


@dataclass
class CertWorld:
    """A token service that trusts the dev CA, with a keyless maskinporten client of the vendor."""

    http: TestClient
    keyless: str
    keyed: str

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        token = TokenValidator(ISSUER, http=self.http).validate(body["access_token"], required_scopes=[SCOPE])
        return token.claims


@pytest.fixture
def world(dev_ca: CaLayout, rsa_keys: list[PrivateKeyHandle], monkeypatch: pytest.MonkeyPatch) -> Iterator[CertWorld]:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    store = MemoryStore()
    keyed = seed(store, rsa_keys[0], NOW)
    with store.begin() as uow:
        keyless = uc.new_client(uow, client_name="Certificate system", client_orgno=VENDOR,
                                integration_type=IntegrationType.MASKINPORTEN, scopes=[SCOPE], actor=OP, now=NOW)
    certificates = CertificateSettings(trust_dir=dev_ca.trust, recheck_seconds=0)
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent", certificates=certificates)
    # the real clock: the grants' iat is time.time() at signing, later than this module's NOW
    asgi = assemble(settings, ("token",), Overrides(store=store, clock=SystemClock(), kek=b"test-kek"))
    with TestClient(asgi, base_url="http://portvakt.test") as http:
        yield CertWorld(http, keyless.client_id, keyed)


@pytest.fixture
def borrowed_http(world: CertWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI's and MaskinportenAuth's httpx.Client at the in-process server (borrowed, never closed)."""

    @contextmanager
    def borrowed(**_: Any) -> Iterator[TestClient]:
        yield world.http

    monkeypatch.setattr("portvakt.cli.token.httpx", SimpleNamespace(Client=borrowed))
    monkeypatch.setattr("portvakt.client.auth.httpx", SimpleNamespace(Client=borrowed))


def test_from_pkcs12_signs_a_grant_with_x5c_and_no_kid(vendor: IssuedFiles) -> None:
    signer = GrantSigner.from_pkcs12(vendor.pkcs12, password(vendor), client_id="c", audience=ISSUER)
    key, chain = load_certificate(vendor.pkcs12, password(vendor))
    grant = peek(signer.grant(SCOPE, now=1_700_000_000))
    assert grant.header == {"alg": "RS256", "x5c": chain} and len(chain) == 2
    assert grant.claims["iss"] == "c" and grant.claims["aud"] == ISSUER
    assert grant.claims["exp"] - grant.claims["iat"] == 120
    assert signer.key.kid == key.kid and signer.kid is None and signer.x5c == tuple(chain)


def test_signer_with_a_kid_is_unchanged(rsa_keys: list[PrivateKeyHandle]) -> None:
    signer = GrantSigner("c", rsa_keys[0], rsa_keys[0].kid, ISSUER)
    assert peek(signer.grant(SCOPE)).header == {"kid": rsa_keys[0].kid, "alg": "RS256"}


def test_signer_needs_exactly_one_of_kid_and_x5c(vendor: IssuedFiles, rsa_keys: list[PrivateKeyHandle]) -> None:
    key, chain = load_certificate(vendor.pkcs12, password(vendor))
    with pytest.raises(ValueError, match="exactly one of kid"):
        GrantSigner(client_id="c", key=key, kid="k", audience=ISSUER, x5c=chain)
    with pytest.raises(ValueError, match="exactly one of kid"):
        GrantSigner(client_id="c", key=key, audience=ISSUER)
    with pytest.raises(ValueError, match="needs the audience"):
        GrantSigner(client_id="c", key=key, x5c=chain)


@pytest.mark.parametrize(("chain", "message"), [
    ([], "non-empty list"),
    ("MIIB", "non-empty list"),
    (["not base64!"], "is not base64 in the standard alphabet"),
])
def test_signer_refuses_a_malformed_chain(vendor: IssuedFiles, chain: Any, message: str) -> None:
    key, _ = load_certificate(vendor.pkcs12, password(vendor))
    with pytest.raises(KeyFormatError, match=message):
        GrantSigner(client_id="c", key=key, audience=ISSUER, x5c=chain)


def test_signer_refuses_a_chain_of_another_key(vendor: IssuedFiles, rsa_keys: list[PrivateKeyHandle]) -> None:
    _, chain = load_certificate(vendor.pkcs12, password(vendor))
    with pytest.raises(KeyFormatError, match="does not belong to the chain's first certificate"):
        GrantSigner(client_id="c", key=rsa_keys[1], audience=ISSUER, x5c=chain)


def test_from_pkcs12_wrong_password_and_wrong_file(vendor: IssuedFiles) -> None:
    with pytest.raises(KeyFormatError, match="password is wrong") as caught:
        GrantSigner.from_pkcs12(vendor.pkcs12, "NotThePassword", client_id="c", audience=ISSUER)
    assert "NotThePassword" not in str(caught.value)
    with pytest.raises(KeyFormatError, match="is not a PKCS#12"):
        GrantSigner.from_pkcs12(vendor.chain, password(vendor), client_id="c", audience=ISSUER)


def assert_certificate_token(world: CertWorld, body: dict[str, Any], client_id: str) -> None:
    claims = world.validate(body)
    assert claims["client_amr"] == "virksomhetssertifikat"
    assert claims["client_id"] == client_id and claims["client_orgno"] == VENDOR
    assert claims["consumer"] == {"authority": "iso6523-actorid-upis", "ID": f"0192:{VENDOR}"}


def test_library_gets_a_token_with_the_certificate(world: CertWorld, vendor: IssuedFiles) -> None:
    signer = GrantSigner.from_pkcs12(vendor.pkcs12, password(vendor), client_id=world.keyless, audience=ISSUER)
    body = fetch_token(signer, SCOPE, token_endpoint=f"{ISSUER}token", client=world.http)
    assert_certificate_token(world, body, world.keyless)


def test_maskinporten_auth_works_with_a_certificate_signer(world: CertWorld, vendor: IssuedFiles,
                                                           borrowed_http: None) -> None:
    signer = GrantSigner.from_pkcs12(vendor.pkcs12, password(vendor), client_id=world.keyless, audience=ISSUER)
    seen: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={})

    with httpx.Client(auth=MaskinportenAuth(signer, SCOPE), transport=httpx.MockTransport(api)) as client:
        client.get("https://api.example/one")
        client.get("https://api.example/two")
    assert len(seen) == 2 and seen[0] == seen[1] and seen[0].startswith("Bearer ")
    assert_certificate_token(world, {"access_token": seen[0].removeprefix("Bearer ")}, world.keyless)


def token_args(world: CertWorld, *extra: str) -> list[str]:
    return ["token", "--issuer", ISSUER, "--client-id", world.keyless, "--scope", SCOPE, *extra]


def test_cli_cert_with_password_file(world: CertWorld, vendor: IssuedFiles, borrowed_http: None) -> None:
    result = runner.invoke(app, token_args(world, "--cert", str(vendor.pkcs12), "--password-file",
                                           str(vendor.password_file)))
    assert result.exit_code == 0, result.output
    assert_certificate_token(world, json.loads(result.stdout), world.keyless)
    assert password(vendor) not in result.output


def test_cli_cert_with_password_from_the_environment(world: CertWorld, vendor: IssuedFiles, borrowed_http: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, password(vendor))
    result = runner.invoke(app, token_args(world, "--cert", str(vendor.pkcs12)))
    assert result.exit_code == 0, result.output
    assert_certificate_token(world, json.loads(result.stdout), world.keyless)


def test_cli_key_and_chain(world: CertWorld, vendor: IssuedFiles, borrowed_http: None) -> None:
    result = runner.invoke(app, token_args(world, "--key", str(vendor.key), "--chain", str(vendor.chain)))
    assert result.exit_code == 0, result.output
    assert_certificate_token(world, json.loads(result.stdout), world.keyless)


def test_cli_key_and_the_leaf_alone_is_completed_from_the_trust_folder(world: CertWorld, vendor: IssuedFiles,
                                                                       borrowed_http: None) -> None:
    result = runner.invoke(app, token_args(world, "--key", str(vendor.key), "--chain", str(vendor.certificate)))
    assert result.exit_code == 0, result.output
    assert_certificate_token(world, json.loads(result.stdout), world.keyless)


def test_cli_certificate_of_another_organisation_is_refused(world: CertWorld, dev_ca: CaLayout, tmp_path: Path,
                                                            borrowed_http: None) -> None:
    other = issue(dev_ca, tmp_path, orgno=OTHER, organisation="Other AS", now=NOW)
    result = runner.invoke(app, token_args(world, "--cert", str(other.pkcs12), "--password-file",
                                           str(other.password_file)))
    assert result.exit_code == 1, result.output
    assert "token refused: invalid_grant" in result.output and "MP-122" in result.output


def test_cli_revoked_certificate_is_refused(world: CertWorld, dev_ca: CaLayout, tmp_path: Path,
                                            borrowed_http: None) -> None:
    revoked = issue(dev_ca, tmp_path, orgno=VENDOR, organisation="Vendor AS", now=NOW, revoked=True)
    result = runner.invoke(app, token_args(world, "--cert", str(revoked.pkcs12), "--password-file",
                                           str(revoked.password_file)))
    assert result.exit_code == 1, result.output
    assert "MP-120" in result.output and "revoked" in result.output


def test_cli_expired_certificate_is_refused(world: CertWorld, dev_ca: CaLayout, tmp_path: Path,
                                            borrowed_http: None) -> None:
    expired = issue(dev_ca, tmp_path, orgno=VENDOR, organisation="Vendor AS", now=NOW, expired=True)
    result = runner.invoke(app, token_args(world, "--cert", str(expired.pkcs12), "--password-file",
                                           str(expired.password_file)))
    assert result.exit_code == 1, result.output
    assert "MP-124" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--cert", "{p12}", "--key", "{key}"], "--cert and --key are two ways to give the key"),
    (["--chain", "{chain}"], "--chain goes with --key"),
    (["--cert", "{p12}", "--chain", "{chain}"], "--chain goes with --key"),
    (["--cert", "{p12}", "--kid", "abc"], "--kid names a registered key"),
    (["--key", "{key}", "--chain", "{chain}", "--kid", "abc"], "--kid names a registered key"),
    ([], "give --key (your registered key) or --cert"),
    (["--cert", "{chain}"], "--cert takes a PKCS#12 file"),
])
def test_cli_wrong_combinations_exit_2(vendor: IssuedFiles, args: list[str], message: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    files = {"p12": str(vendor.pkcs12), "key": str(vendor.key), "chain": str(vendor.chain)}
    argv = ["token", "--issuer", ISSUER, "--client-id", "c", "--scope", SCOPE, *(a.format(**files) for a in args)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output


def test_cli_chain_of_another_key_exits_2(vendor: IssuedFiles, tmp_path: Path,
                                          rsa_keys: list[PrivateKeyHandle]) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(rsa_keys[2].to_pem())
    result = runner.invoke(app, ["token", "--issuer", ISSUER, "--client-id", "c", "--scope", SCOPE, "--key",
                                 str(other), "--chain", str(vendor.chain)])
    assert result.exit_code == 2, result.output
    assert "does not belong to the chain's first certificate" in " ".join(result.output.split())
