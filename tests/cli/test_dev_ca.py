"""`portvakt dev-ca init` and `issue`: the files, their modes, the certificates' contents, and readable refusals."""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from portvakt.cli import app
from portvakt.client import load_certificate, load_chain, load_private_key
from portvakt.jose import x5c_of_pem
from tests.conftest import VENDOR

runner = CliRunner()
QC_STATEMENTS = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CA location from the environment; wide lines, so paths in messages are not wrapped."""
    monkeypatch.delenv("PORTVAKT_DEV_CA", raising=False)
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dev CA for the module (it makes two RSA keys)."""
    folder = tmp_path_factory.mktemp("ca") / "dev-ca"
    result = runner.invoke(app, ["dev-ca", "init", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@dataclass(frozen=True)
class Issued:
    """What `dev-ca issue` printed on stdout, and the certificate it wrote."""

    summary: dict[str, object]
    stderr: str
    cert: x509.Certificate

    def file(self, name: str) -> Path:
        files = self.summary["files"]
        assert isinstance(files, dict)
        return Path(files[name])


def issue(ca: Path, out: Path, *extra: str, orgno: str = VENDOR) -> Issued:
    code, stdout, stderr = invoke("dev-ca", "issue", "--orgno", orgno, "--out", str(out), "--ca", str(ca), *extra)
    assert code == 0, stderr
    summary = json.loads(stdout)
    cert = x509.load_pem_x509_certificate(Path(summary["files"]["certificate"]).read_bytes())
    return Issued(summary, stderr, cert)


def test_init_makes_the_layout_with_private_keys_kept_private(ca: Path) -> None:
    trust, private = ca / "trust", ca / "ca"
    assert sorted(p.name for p in trust.iterdir()) == ["intermediate.crl", "intermediate.pem", "root.crl", "root.pem"]
    assert mode(private) == 0o700
    assert mode(private / "root-key.pem") == mode(private / "intermediate-key.pem") == 0o600
    assert json.loads((private / "revoked.json").read_text()) == []
    root = x509.load_pem_x509_certificate((trust / "root.pem").read_bytes())
    intermediate = x509.load_pem_x509_certificate((trust / "intermediate.pem").read_bytes())
    assert root.subject == root.issuer and intermediate.issuer == root.subject
    assert intermediate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for name, issuer in (("root.crl", root), ("intermediate.crl", intermediate)):
        crl = x509.load_pem_x509_crl((trust / name).read_bytes())
        assert crl.issuer == issuer.subject and len(crl) == 0
        assert crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]


def test_init_prints_the_trust_dir_line(tmp_path: Path) -> None:
    code, _, stderr = invoke("dev-ca", "init", "--out", str(tmp_path / "ca"))
    assert code == 0
    assert f"export PORTVAKT_CERTIFICATES__TRUST_DIR={(tmp_path / 'ca' / 'trust').resolve()}" in stderr
    assert "development only" in stderr


def test_init_refuses_to_replace_a_ca_without_force(tmp_path: Path) -> None:
    folder = tmp_path / "ca"
    assert invoke("dev-ca", "init", "--out", str(folder))[0] == 0
    root = (folder / "trust" / "root.pem").read_bytes()
    code, _, stderr = invoke("dev-ca", "init", "--out", str(folder))
    assert code == 2 and "already holds a dev CA; use --force" in stderr and "Traceback" not in stderr
    assert (folder / "trust" / "root.pem").read_bytes() == root
    assert invoke("dev-ca", "init", "--out", str(folder), "--force")[0] == 0
    assert (folder / "trust" / "root.pem").read_bytes() != root


def test_issue_writes_key_certificate_chain_and_pkcs12(ca: Path, tmp_path: Path) -> None:
    issued = issue(ca, tmp_path / "certs", "--name", "Vendor AS")
    names = sorted(p.name for p in (tmp_path / "certs").iterdir())
    assert names == [f"{VENDOR}-cert.pem", f"{VENDOR}-chain.pem", f"{VENDOR}-key.pem", f"{VENDOR}.p12",
                     f"{VENDOR}.p12.password"]
    for secret in ("key", "pkcs12", "password_file"):
        assert mode(issued.file(secret)) == 0o600, secret
    subject = issued.cert.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == f"NTRNO-{VENDOR}"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Vendor AS"
    assert issued.summary["serial"] == issued.cert.serial_number
    password = issued.file("password_file").read_text().strip()
    key, x5c = load_certificate(issued.file("pkcs12"), password)
    intermediate = (ca / "trust" / "intermediate.pem").read_bytes()
    assert x5c == load_chain(issued.file("chain")) and len(x5c) == 2
    assert load_chain(issued.file("certificate")) == x5c[:1]
    assert x5c[1:] == x5c_of_pem(intermediate)
    assert key.kid == load_private_key(issued.file("key")).kid
    assert password not in issued.stderr and password not in json.dumps(issued.summary)
    assert f"--cert {issued.file('pkcs12')} --password-file {issued.file('password_file')}" in issued.stderr


def test_issue_uses_the_ca_from_the_environment(ca: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTVAKT_DEV_CA", str(ca))
    code, stdout, stderr = invoke("dev-ca", "issue", "--orgno", VENDOR, "--out", str(tmp_path))
    assert code == 0, stderr
    assert json.loads(stdout)["orgno"] == VENDOR


def test_revoked_adds_the_serial_and_rewrites_the_intermediate_crl(ca: Path, tmp_path: Path) -> None:
    issued = issue(ca, tmp_path, "--revoked")
    revoked = json.loads((ca / "ca" / "revoked.json").read_text())
    assert issued.cert.serial_number in [entry["serial"] for entry in revoked]
    intermediate = x509.load_pem_x509_certificate((ca / "trust" / "intermediate.pem").read_bytes())
    crl = x509.load_pem_x509_crl((ca / "trust" / "intermediate.crl").read_bytes())
    assert crl.is_signature_valid(intermediate.public_key())  # type: ignore[arg-type]
    assert crl.get_revoked_certificate_by_serial_number(issued.cert.serial_number) is not None
    assert "(revoked)" in issued.stderr
    again = issue(ca, tmp_path / "second", "--revoked")
    crl = x509.load_pem_x509_crl((ca / "trust" / "intermediate.crl").read_bytes())
    assert {r.serial_number for r in crl} >= {issued.cert.serial_number, again.cert.serial_number}


def test_validity_flags(ca: Path, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    expired = issue(ca, tmp_path / "expired", "--expired").cert
    assert expired.not_valid_after_utc < now
    future = issue(ca, tmp_path / "future", "--not-yet-valid").cert
    assert future.not_valid_before_utc > now
    current = issue(ca, tmp_path / "current").cert
    assert current.not_valid_before_utc < now < current.not_valid_after_utc


def test_serial_number_eseal_and_key_usage_flags(ca: Path, tmp_path: Path) -> None:
    cert = issue(ca, tmp_path, "--serial-number", "--eseal", "qualified", "--no-digital-signature").cert
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == VENDOR
    assert not cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    assert cert.extensions.get_extension_for_oid(QC_STATEMENTS) is not None
    assert not cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    plain = issue(ca, tmp_path / "plain").cert
    assert plain.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    with pytest.raises(x509.ExtensionNotFound):
        plain.extensions.get_extension_for_oid(QC_STATEMENTS)


@pytest.mark.parametrize(("args", "message"), [
    (["--orgno", "314330898"], "is not a 9-digit organisation number with a valid mod-11 check digit"),
    (["--orgno", "12345"], "is not a 9-digit organisation number"),
    (["--orgno", VENDOR, "--expired", "--not-yet-valid"], "--expired and --not-yet-valid exclude each other"),
    (["--orgno", VENDOR, "--eseal", "maybe"], "Invalid value for '--eseal'"),
])
def test_usage_errors_exit_2(ca: Path, tmp_path: Path, args: list[str], message: str) -> None:
    code, _, stderr = invoke("dev-ca", "issue", "--out", str(tmp_path / "out"), "--ca", str(ca), *args)
    assert code == 2 and message in stderr, stderr
    assert not (tmp_path / "out").exists()


def test_issue_without_a_ca_names_the_init_command(tmp_path: Path) -> None:
    code, _, stderr = invoke("dev-ca", "issue", "--orgno", VENDOR, "--out", str(tmp_path / "out"), "--ca",
                             str(tmp_path / "nothing"))
    assert code == 2 and f"portvakt dev-ca init --out {tmp_path / 'nothing'}" in stderr
