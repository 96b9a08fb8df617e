"""A server-made PKCS#12 gets a real token (decisions P8, P12): library and CLI against the in-process server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from portvakt.cli import app
from portvakt.client import GrantSigner, fetch_token, load_private_key
from portvakt.resource import TokenValidator
from tests.client.conftest import PASSWORD_ENV, System
from tests.conftest import ISSUER, VENDOR, World

runner = CliRunner()


@pytest.fixture
def cli_http(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI's httpx.Client at the in-process server (borrowed, so the CLI cannot close it)."""

    @contextmanager
    def borrowed(**_: Any) -> Iterator[TestClient]:
        yield world.http

    monkeypatch.setattr("portvakt.cli.token.httpx", SimpleNamespace(Client=borrowed))


def token_args(system: System, *extra: str) -> list[str]:
    return ["token", "--issuer", ISSUER, "--client-id", system.client_id, "--key", str(system.p12),
            "--scope", "brreg:test/read", *extra]


def assert_token_for(world: World, system: System, stdout: str) -> None:
    body = json.loads(stdout)
    result = TokenValidator(ISSUER, http=world.http).validate(body["access_token"], required_scopes=["brreg:test/read"])
    assert result.client_id == system.client_id and result.consumer == VENDOR


def test_library_gets_a_token_with_the_pkcs12(world: World, system: System) -> None:
    handle = load_private_key(system.p12, system.bundle.password)
    signer = GrantSigner(client_id=system.client_id, key=handle, kid=handle.kid, audience=ISSUER)
    body = fetch_token(signer, "brreg:test/read", token_endpoint=f"{ISSUER}token", client=world.http)
    assert body["scope"] == "brreg:test/read"
    assert_token_for(world, system, json.dumps(body))


def test_cli_with_password_file_and_default_kid(world: World, system: System, cli_http: None,
                                                tmp_path: Path) -> None:
    password_file = tmp_path / "password.txt"
    password_file.write_text(system.bundle.password + "\n")
    result = runner.invoke(app, token_args(system, "--password-file", str(password_file)))
    assert result.exit_code == 0, result.output
    assert_token_for(world, system, result.stdout)
    assert system.bundle.password not in result.output


def test_cli_with_password_from_the_environment(world: World, system: System, cli_http: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, system.bundle.password)
    result = runner.invoke(app, token_args(system, "--kid", system.bundle.kid))
    assert result.exit_code == 0, result.output
    assert_token_for(world, system, result.stdout)


def test_cli_with_hidden_prompt(world: World, system: System, cli_http: None) -> None:
    result = runner.invoke(app, token_args(system), input=system.bundle.password + "\n")
    assert result.exit_code == 0, result.output
    assert "Password for turboskatt.p12" in result.output
    assert system.bundle.password not in result.output
    assert_token_for(world, system, result.stdout[result.stdout.index("{"):])


def test_cli_wrong_password_exits_2_without_traceback(system: System, cli_http: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "WrongPasswordWrongPassword")
    result = runner.invoke(app, token_args(system))
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "password is wrong" in result.output
    assert "Traceback" not in result.output and "WrongPassword" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_cli_refuses_a_password_on_the_command_line(system: System) -> None:
    result = runner.invoke(app, token_args(system, "--password", system.bundle.password))
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_cli_empty_password_file(system: System, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    result = runner.invoke(app, token_args(system, "--password-file", str(empty)))
    # the message names the path, which rich wraps at 80 columns (an xdist worker's tmp_path is longer)
    assert result.exit_code == 2 and "is empty" in " ".join(result.output.split())


def test_cli_pem_key_still_needs_kid(world: World, tmp_path: Path, cli_http: None) -> None:
    pem = tmp_path / "key.pem"
    pem.write_bytes(world.key.to_pem())
    args = ["token", "--issuer", ISSUER, "--client-id", world.client_id, "--key", str(pem), "--scope",
            "brreg:test/read"]
    missing = runner.invoke(app, args)
    assert missing.exit_code == 2 and "--kid is required with a PEM key" in missing.output
    ok = runner.invoke(app, [*args, "--kid", world.key.kid])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["token_type"] == "Bearer"


def test_cli_token_refused_exits_1(system: System, cli_http: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, system.bundle.password)
    result = runner.invoke(app, token_args(system, "--kid", "not-the-registered-kid"))
    assert result.exit_code == 1, result.output
    assert "token refused: invalid_grant" in result.output and "MP-126" in result.output
