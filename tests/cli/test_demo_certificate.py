"""`portvakt serve --demo` and enterprise certificates: the demo's dev CA, the vendor's certificate, a keyless
client, and a printed `--cert` command that gets a token (docs/protocol.md §5)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from portvakt.cli import app, demo
from portvakt.domain.clock import SystemClock
from portvakt.settings import CertificateSettings, Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble

ISSUER = "http://portvakt.test/"


def demo_settings(data: Path, trust: Path | None) -> Settings:
    return Settings(issuer=ISSUER, data_dir=data, demo=True,
                    certificates=CertificateSettings(trust_dir=trust, recheck_seconds=0))


def cert_command(stderr: str) -> list[str]:
    lines = [ln.strip() for ln in stderr.splitlines() if " token --issuer " in ln and " --cert " in ln]
    assert len(lines) == 1, stderr
    return shlex.split(lines[0])


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> tuple[MemoryStore, Settings, str]:
    """A demo seeded twice into one store (a restart), with the trust folder `serve --demo` sets."""
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "var"
    trust = demo.demo_trust_dir(data)
    settings = demo_settings(data, trust)
    store = MemoryStore()
    demo.seed_demo(store, settings)
    capsys.readouterr()
    demo.seed_demo(store, settings)
    return store, settings, capsys.readouterr().err


def test_dev_ca_is_made_once_and_reused(tmp_path: Path) -> None:
    trust = demo.demo_trust_dir(tmp_path)
    assert trust == (tmp_path / "dev-ca" / "trust").resolve()
    root = (trust / "root.pem").read_bytes()
    assert sorted(p.name for p in trust.iterdir()) == ["intermediate.crl", "intermediate.pem", "root.crl", "root.pem"]
    assert demo.demo_trust_dir(tmp_path) == trust and (trust / "root.pem").read_bytes() == root


def test_the_vendor_gets_a_certificate_and_a_keyless_client_once(seeded: tuple[MemoryStore, Settings, str]) -> None:
    store, settings, _ = seeded
    certs = Path(settings.data_dir) / "dev-ca" / "certs"
    assert {f"{demo.VENDOR[0]}.p12", f"{demo.VENDOR[0]}.p12.password"} <= {p.name for p in certs.iterdir()}
    marker = json.loads((Path(settings.data_dir) / "demo" / "demo.json").read_text())
    with store.read() as uow:
        clients = uow.list_clients(client_orgno=demo.VENDOR[0])
    keyless = [c for c in clients if c.client_name == demo.CERT_CLIENT_NAME]
    assert len(keyless) == 1, "seeded twice, made once"
    assert keyless[0].client_id == marker["certificate_client_id"] and keyless[0].keys == ()
    assert keyless[0].integration_type.value == "maskinporten" and demo.OPEN_SCOPE in keyless[0].scopes


def test_the_printed_command_names_the_files_and_gets_a_token(seeded: tuple[MemoryStore, Settings, str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    store, settings, stderr = seeded
    argv = cert_command(stderr)
    marker = json.loads((Path(settings.data_dir) / "demo" / "demo.json").read_text())
    assert argv[1:] == ["token", "--issuer", ISSUER, "--client-id", marker["certificate_client_id"], "--cert",
                        f"var/dev-ca/certs/{demo.VENDOR[0]}.p12", "--password-file",
                        f"var/dev-ca/certs/{demo.VENDOR[0]}.p12.password", "--scope", demo.OPEN_SCOPE]
    asgi = assemble(settings, ("token",), Overrides(store=store, clock=SystemClock(), kek=b"test-kek"))
    with TestClient(asgi, base_url="http://portvakt.test") as http:

        @contextmanager
        def borrowed(**_: Any) -> Iterator[TestClient]:
            yield http

        monkeypatch.setattr("portvakt.cli.token.httpx", SimpleNamespace(Client=borrowed))
        result = CliRunner().invoke(app, argv[1:])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scope"] == demo.OPEN_SCOPE


def test_no_certificate_when_the_operator_chose_a_trust_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    own = tmp_path / "trust"
    own.mkdir()
    store = MemoryStore()
    demo.seed_demo(store, demo_settings(tmp_path / "var", own))
    assert " --cert " not in capsys.readouterr().err
    assert not (tmp_path / "var" / "dev-ca").exists()
    with store.read() as uow:
        assert all(c.client_name != demo.CERT_CLIENT_NAME for c in uow.list_clients())
