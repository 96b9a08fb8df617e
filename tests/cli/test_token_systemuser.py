"""`portvakt token --systemuser-org ORGNO [--external-ref REF]` (docs/protocol.md §6): the grant carries the system
user's `authorization_details`; a bad orgno, or options that exclude each other, are a usage error (exit 2) before
any key is opened or anything is sent."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from typer.testing import CliRunner

from portvakt.cli import app
from portvakt.jose import PrivateKeyHandle, peek

ISSUER = "http://portvakt.test/"
OWNER = "310838128"
runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


class FakeServer:
    """The metadata and a token endpoint that keeps each grant it is sent."""

    def __init__(self) -> None:
        self.grants: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/oauth-authorization-server":
            return httpx.Response(200, json={"issuer": ISSUER, "token_endpoint": f"{ISSUER}token"})
        self.grants.append(peek(parse_qs(request.content.decode())["assertion"][0]).claims)
        return httpx.Response(200, json={"access_token": "a.b.c", "token_type": "Bearer", "expires_in": 120,
                                         "scope": "a:b"})


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> FakeServer:
    fake = FakeServer()
    real = httpx.Client
    monkeypatch.setattr("portvakt.cli.token.httpx",
                        SimpleNamespace(Client=lambda **_: real(transport=httpx.MockTransport(fake))))
    return fake


@pytest.fixture
def key_file(tmp_path: Path, rsa_keys: list[PrivateKeyHandle]) -> Path:
    path = tmp_path / "vendor.pem"
    path.write_bytes(rsa_keys[0].to_pem())
    return path


def args(key_file: Path, *extra: str) -> list[str]:
    return ["token", "--issuer", ISSUER, "--client-id", "client-1", "--key", str(key_file), "--kid", "k1",
            "--scope", "a:b", *extra]


def test_help_names_the_options() -> None:
    result = runner.invoke(app, ["token", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--systemuser-org ORGNO" in text and "--external-ref REF" in text
    assert "the orgno of the customer who owns the system user" in text


def test_the_grant_names_the_system_user(key_file: Path, server: FakeServer) -> None:
    result = runner.invoke(app, args(key_file, "--systemuser-org", OWNER, "--external-ref", "kunde-1"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["access_token"] == "a.b.c"
    assert server.grants[0]["authorization_details"] == [{
        "type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"0192:{OWNER}"},
        "externalRef": "kunde-1"}]
    assert "consumer_org" not in server.grants[0]


def test_without_the_option_the_grant_has_no_details(key_file: Path, server: FakeServer) -> None:
    result = runner.invoke(app, args(key_file))
    assert result.exit_code == 0, result.output
    assert "authorization_details" not in server.grants[0]


@pytest.mark.parametrize(("extra", "says"), [
    (["--systemuser-org", "310838129"], "--systemuser-org '310838129' is not an organisation number: it must be 9 "
                                        "digits with a valid mod-11 check digit"),
    (["--systemuser-org", "0192:310838128"], "give the 9 digits without the 0192: prefix"),
    (["--external-ref", "x"], "--external-ref goes with --systemuser-org"),
    (["--systemuser-org", OWNER, "--consumer-org", "910753614"], "--systemuser-org and --consumer-org exclude each "
                                                                 "other"),
    (["--systemuser-org", OWNER, "--external-ref", " x "], "without leading or trailing spaces"),
])
def test_bad_options_are_a_usage_error_before_anything_is_sent(key_file: Path, server: FakeServer,
                                                               extra: list[str], says: str) -> None:
    result = runner.invoke(app, args(key_file, *extra))
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split())
    assert server.grants == []
