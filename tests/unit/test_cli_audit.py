"""`portvakt audit` and `portvakt prefix list` on a SQLite database seeded through the CLI itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portvakt.cli import app
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A provider with a scope, a consumer with access to it, and a bystander."""
    monkeypatch.setenv("PORTVAKT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PORTVAKT_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    for orgno, name in ((PROVIDER, "Provider"), (VENDOR, "Vendor"), (CONSUMER, "Bystander"), (OTHER, "Other")):
        run("org", "add", orgno, "--name", name)
    run("prefix", "assign", "brreg", PROVIDER)
    run("prefix", "assign", "skatt", OTHER)
    run("scope", "add", "brreg:test/read", "--owner", PROVIDER, "--description", "Read")
    run("access", "grant", "brreg:test/read", VENDOR)
    return tmp_path


def lines(*args: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in run("audit", *args, "--json").splitlines()]


def test_table_shows_who_did_what(seeded: Path) -> None:
    out = run("audit", "--org", VENDOR)
    assert "access.put" in out and "operator:cli" in out and "brreg:test/read" in out
    assert "scope.create" not in out, "the provider's own scope events are not the vendor's"


def test_json_lines(seeded: Path) -> None:
    provider = lines("--org", PROVIDER)
    assert [e["action"] for e in provider] == ["access.put", "scope.create", "prefix.assign", "org.put"]
    access = provider[0]
    assert access["entity_key"] == f"brreg:test/read|{VENDOR}" and access["actor_client_id"] == "operator:cli"
    assert access["after"]["state"] == "APPROVED" and access["org_scope"] == [VENDOR, PROVIDER]  # type: ignore[index]


def test_filters(seeded: Path) -> None:
    assert [e["action"] for e in lines("--org", PROVIDER, "--kind", "scope")] == ["scope.create"]
    assert [e["action"] for e in lines("--org", PROVIDER, "--key", "brreg")] == ["prefix.assign"]
    assert len(lines("--org", PROVIDER, "--limit", "2")) == 2
    assert lines("--org", PROVIDER, "--since", "2999-01-01T00:00:00") == []
    assert len(lines("--org", PROVIDER, "--since", "2000-01-01T00:00:00+01:00")) == 4


def test_never_another_orgs_events(seeded: Path) -> None:
    assert [e["action"] for e in lines("--org", CONSUMER)] == ["org.put"]


@pytest.mark.parametrize("args", [("--org", "123"), ("--org", PROVIDER, "--since", "yesterday"),
                                  ("--org", PROVIDER, "--since", "0001-01-01T00:00:00+05:00"),
                                  ("--org", PROVIDER, "--limit", "0"), ("--org", PROVIDER, "--limit", "1001"), ()])
def test_bad_input_is_a_message_not_a_traceback(seeded: Path, args: tuple[str, ...]) -> None:
    result = runner.invoke(app, ["audit", *args])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_prefix_list(seeded: Path) -> None:
    everything = json.loads(run("prefix", "list"))
    assert {"prefix": "brreg", "owner_orgno": PROVIDER} in everything
    assert {"prefix": "skatt", "owner_orgno": OTHER} in everything
    assert json.loads(run("prefix", "list", "--org", OTHER)) == [{"prefix": "skatt", "owner_orgno": OTHER}]
