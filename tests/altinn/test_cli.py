"""`portvakt scheme ...` and `portvakt delegation ...` on a SQLite database seeded through the CLI itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from portvakt.cli import app
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR

runner = CliRunner()
SOURCE = "https://altinn.test/"


def run(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fails(*args: str, text: str) -> None:
    """Exit code 1 with a one-line error naming the problem, never a traceback."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    assert "error:" in result.output and text in result.output and "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A provider with a delegable and a plain scope, a vendor and a consumer."""
    monkeypatch.setenv("PORTVAKT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PORTVAKT_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    for orgno, name in ((PROVIDER, "Provider"), (VENDOR, "Vendor"), (CONSUMER, "Consumer"), (OTHER, "Other")):
        run("org", "add", orgno, "--name", name)
    run("scope", "add", "brreg:reelle/offentlig", "--owner", PROVIDER, "--delegation-source", SOURCE)
    run("scope", "add", "brreg:plain", "--owner", PROVIDER)
    return tmp_path


def add_scheme() -> dict[str, Any]:
    made: dict[str, Any] = run("scheme", "add", "--owner", PROVIDER, "--scope", "brreg:reelle/offentlig",
                               "--title-nb", "Reelle rettighetshavere - Offentlig myndighet - På vegne av",
                               "--title-en", "Beneficial owners", "--description-nb", "Beskrivelse")
    return made


def test_scheme_add_and_list(seeded: Path) -> None:
    made = add_scheme()
    assert made["owner_orgno"] == PROVIDER and made["scopes"] == ["brreg:reelle/offentlig"] and made["active"]
    assert made["title"] == {"nb": "Reelle rettighetshavere - Offentlig myndighet - På vegne av",
                             "en": "Beneficial owners"}
    assert run("scheme", "list") == [made]
    assert run("scheme", "list", "--owner", PROVIDER) == [made]
    assert run("scheme", "list", "--owner", OTHER) == []


def test_delegation_add_list_revoke(seeded: Path) -> None:
    scheme = add_scheme()["scheme_id"]
    made = run("delegation", "add", "--consumer", CONSUMER, "--supplier", VENDOR, "--scheme", scheme)
    assert (made["consumer_orgno"], made["supplier_orgno"], made["created_by"]) == (CONSUMER, VENDOR, "operator:cli")
    again = runner.invoke(app, ["delegation", "add", "--consumer", CONSUMER, "--supplier", VENDOR,
                                "--scheme", scheme])
    assert again.exit_code == 0 and json.loads(again.stdout) == made and "existed already" in again.output
    assert run("delegation", "list") == [made]
    assert run("delegation", "list", "--consumer", CONSUMER) == [made]
    assert run("delegation", "list", "--supplier", VENDOR) == [made]
    assert run("delegation", "list", "--supplier", OTHER) == []
    fails("delegation", "revoke", made["delegation_id"], "--consumer", VENDOR, text="no delegation")
    done = run("delegation", "revoke", made["delegation_id"], "--consumer", CONSUMER)
    assert done["revoked"] is not None and done["revoked_by"] == "operator:cli"
    assert run("delegation", "list") == []
    assert run("delegation", "list", "--revoked") == [done]


def test_readable_errors(seeded: Path) -> None:
    fails("scheme", "add", "--owner", PROVIDER, "--scope", "brreg:plain", "--title-nb", "T",
          text="delegation_source")
    fails("scheme", "add", "--owner", OTHER, "--scope", "brreg:reelle/offentlig", "--title-nb", "T",
          text="brreg:reelle/offentlig")
    fails("scheme", "add", "--owner", PROVIDER, "--scope", "brreg:reelle/offentlig", "--title-nb", " ",
          text="nb")
    fails("scheme", "list", "--owner", "123", text="9-digit")
    scheme = add_scheme()["scheme_id"]
    fails("delegation", "add", "--consumer", CONSUMER, "--supplier", CONSUMER, "--scheme", scheme, text="itself")
    fails("delegation", "add", "--consumer", CONSUMER, "--supplier", "123456785", "--scheme", scheme,
          text="not a registered")
    fails("delegation", "add", "--consumer", CONSUMER, "--supplier", VENDOR, "--scheme", "nope", text="no active")
    fails("delegation", "revoke", "nope", "--consumer", CONSUMER, text="no delegation")
    fails("delegation", "revoke", "nope", "--consumer", "12", text="9-digit")
    fails("delegation", "list", "--supplier", "x", text="9-digit")
