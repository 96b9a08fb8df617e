"""`portvakt client add --public-key cert.pem`: a certificate locks the client, so it is checked like /api/v1 checks it
(docs/protocol.md §3.3, §5.2 rule 6)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from portvakt.cli import app
from tests.conftest import OTHER, PROVIDER, VENDOR

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite registry and a dev CA whose trust folder the CLI reads."""
    monkeypatch.setenv("PORTVAKT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PORTVAKT_DATABASE_URL", raising=False)
    monkeypatch.delenv("PORTVAKT_DEV_CA", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    assert run("dev-ca", "init", "--out", str(tmp_path / "ca")).exit_code == 0
    monkeypatch.setenv("PORTVAKT_CERTIFICATES__TRUST_DIR", str(tmp_path / "ca" / "trust"))
    for args in (("org", "add", PROVIDER, "--name", "Provider"), ("org", "add", VENDOR, "--name", "Vendor"),
                 ("scope", "add", "brreg:test/read", "--owner", PROVIDER),
                 ("access", "grant", "brreg:test/read", VENDOR)):
        assert run(*args).exit_code == 0
    return tmp_path


def certificate(registry: Path, orgno: str) -> Path:
    done = run("dev-ca", "issue", "--ca", str(registry / "ca"), "--orgno", orgno, "--out", str(registry / "certs"))
    assert done.exit_code == 0, done.output
    return registry / "certs" / f"{orgno}-cert.pem"


def add(key: Path) -> Any:
    return run("client", "add", "--org", VENDOR, "--name", "locked", "--scope", "brreg:test/read",
               "--public-key", str(key))


def test_an_own_certificate_locks_the_new_client(registry: Path) -> None:
    done = add(certificate(registry, VENDOR))
    assert done.exit_code == 0, done.output
    [key] = json.loads(done.stdout)["keys"]
    assert key["jwk"]["use"] == "sig" and len(key["jwk"]["x5c"]) == 1


def test_another_orgs_certificate_is_refused_and_nothing_is_made(registry: Path) -> None:
    done = add(certificate(registry, OTHER))
    said = " ".join(done.output.split())
    assert done.exit_code == 1 and f"the certificate is for organisation {OTHER}" in said and "Traceback" not in said
    assert "client.create" not in run("audit", "--org", VENDOR, "--json").stdout
