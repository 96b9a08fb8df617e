"""The ready `portvakt token` command and portvakt.client snippet on a system page (decision P12)."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

from portvakt.portal.usage import key_file_names, usage_snippets
from portvakt.wire.clients import ClientOut, JwkOut

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SYSTEM = ClientOut(client_id="c-1", client_name="S", client_orgno="314330897", supplier_orgno=None, description="",
                   client_uri=None, integration_type="altinn_virksys", application_type="web",
                   token_endpoint_auth_method="private_key_jwt",
                   grant_types=["urn:ietf:params:oauth:grant-type:jwt-bearer"],
                   scopes=["a:b", "c:d/e"], access_token_lifetime=None, active=True, created=NOW, last_updated=NOW)
KEY = JwkOut(kty="RSA", kid="kid_ABC-123456789", n="n", e="AQAB", exp=2_000_000_000)


def test_the_command_has_everything_filled_in() -> None:
    s = usage_snippets("http://127.0.0.1:8080/", SYSTEM, KEY)
    args = shlex.split(s.cli_pem)
    assert args[:2] == ["portvakt", "token"]
    options = dict(zip(args[2::2], args[3::2], strict=True))
    assert options == {"--issuer": "http://127.0.0.1:8080/", "--client-id": "c-1", "--kid": "kid_ABC-123456789",
                       "--key": "portvakt-kid_ABC-1234-private.pem", "--scope": "a:b c:d/e"}
    assert shlex.split(s.cli_p12)[shlex.split(s.cli_p12).index("--key") + 1] == "portvakt-kid_ABC-1234.p12"
    assert s.token_endpoint == "http://127.0.0.1:8080/token"


def test_the_python_snippets_are_valid_python() -> None:
    s = usage_snippets("http://127.0.0.1:8080/", SYSTEM, KEY)
    for code in (s.python_pem, s.python_p12):
        compile(code, "<snippet>", "exec")
        assert 'client_id="c-1"' in code and 'kid="kid_ABC-123456789"' in code
    assert "getpass" in s.python_p12


def test_file_names_are_safe() -> None:
    assert key_file_names("../../etc/x") == ("portvakt-etcx-private.pem", "portvakt-etcx-private.jwk.json",
                                              "portvakt-etcx.p12")
