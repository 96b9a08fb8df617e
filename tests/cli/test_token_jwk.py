"""`portvakt token --key FILE.json`: a private JWK, as the portal's browser key pair offers it (keygen.js: RSA members,
kid = RFC 7638 thumbprint, alg RS256, use sig), gets a token; the kid defaults to the JWK's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from portvakt.cli import app
from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.clock import SystemClock
from portvakt.domain.models import IntegrationType, Scope
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import Settings
from portvakt.wiring import Overrides, assemble, prepare
from tests.browser.server import listening_socket, serve

PORTVAKT = Path(sys.executable).parent / "portvakt"
PROVIDER, VENDOR = "974760673", "314330897"
SCOPE = "brreg:test/open"
OP = Actor.operator("test")
runner = CliRunner()


def keygen_jwk(handle: PrivateKeyHandle, **changes: Any) -> str:
    """The private JWK file keygen.js offers: JSON.stringify(privateJwk, null, 2) + "\\n"."""
    jwk = handle.to_private_jwk()
    doc = {"kty": "RSA", **{m: jwk[m] for m in ("n", "e", "d", "p", "q", "dp", "dq", "qi")},
           "kid": handle.kid, "alg": "RS256", "use": "sig"} | changes
    return json.dumps({k: v for k, v in doc.items() if v is not None}, indent=2) + "\n"


@dataclass
class Live:
    """A real server on 127.0.0.1 with one altinn_virksys system whose keys are `keys`."""

    url: str
    client_id: str
    keys: list[PrivateKeyHandle]


@pytest.fixture(scope="module")
def keys() -> list[PrivateKeyHandle]:
    return [PrivateKeyHandle.generate(2048) for _ in range(2)]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, keys: list[PrivateKeyHandle]) -> Iterator[Live]:
    """uvicorn in a thread (SQLite), the system registered with the keys' public JWKs, one with its own kid."""
    sock = listening_socket()
    port = int(sock.getsockname()[1])
    settings = Settings(data_dir=tmp_path_factory.mktemp("jwk") / "var", host="127.0.0.1", port=port)
    store = prepare(settings)
    now = SystemClock().now()
    with store.begin() as uow:
        for orgno, name in ((PROVIDER, "Provider"), (VENDOR, "Vendor AS")):
            uc.add_org(uow, orgno, name, OP, now)
        uc.assign_prefix(uow, "brreg", PROVIDER, OP, now)
        uc.put_scope(uow, Scope("brreg", "test/open", PROVIDER, "Open", now, now, accessible_for_all=True), OP, now,
                     create=True)
        client = uc.new_client(uow, client_name="Nettlesersystem", client_orgno=VENDOR,
                               integration_type=IntegrationType.ALTINN_VIRKSYS, scopes=[SCOPE], actor=OP, now=now)
        jwks = [(keys[0].kid, keys[0].public_jwk), ("own-kid-1", {**keys[1].public_jwk, "kid": "own-kid-1"})]
        uc.replace_client_keys(uow, client.client_id, jwks, OP, now)
    server, thread, url = serve(assemble(settings, overrides=Overrides(store=store)), sock, log_level="warning")
    yield Live(url, client.client_id, keys)
    server.should_exit = True
    thread.join(timeout=20)


def args(live: Live, key_file: Path, *extra: str) -> list[str]:
    return ["token", "--issuer", live.url, "--client-id", live.client_id, "--key", str(key_file), "--scope", SCOPE,
            *extra]


@pytest.mark.slow
def test_the_browser_jwk_gets_a_token_as_the_shown_command(live: Live, tmp_path: Path) -> None:
    """The command the system page shows for a browser-made key, run as a process against the live server."""
    key_file = tmp_path / "portvakt-abcdefghijkl-private.jwk.json"
    key_file.write_text(keygen_jwk(live.keys[0]))
    done = subprocess.run([str(PORTVAKT), *args(live, key_file, "--kid", live.keys[0].kid)], capture_output=True,
                          text=True, timeout=60, check=False, env={**os.environ})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["token_type"] == "Bearer"


@pytest.mark.slow
@pytest.mark.parametrize(("changes", "key", "kid"), [
    ({}, 0, None),  # the JWK's kid: the thumbprint keygen.js put there
    ({"kid": None, "alg": None, "use": None}, 0, None),  # no kid in the file: the thumbprint
    ({"kid": "own-kid-1"}, 1, None),  # a kid of its own
    ({"kid": "stale"}, 1, "own-kid-1"),  # --kid wins over the file's
])
def test_the_kid_defaults_to_the_jwks_own_else_the_thumbprint(live: Live, tmp_path: Path,
                                                             changes: dict[str, Any], key: int,
                                                             kid: str | None) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text(keygen_jwk(live.keys[key], **changes))
    result = runner.invoke(app, args(live, key_file, *(("--kid", kid) if kid else ())))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["token_type"] == "Bearer"


@pytest.mark.parametrize(("broken", "said"), [
    (lambda h: keygen_jwk(h, qi=None), '"qi" is missing'),
    (lambda h: keygen_jwk(h, kty="EC"), "only RSA private JWKs"),
    (lambda h: '{"kty": "RSA", "d": ', "is not valid JSON"),
])
def test_a_broken_jwk_exits_2_readably_without_material(tmp_path: Path, keys: list[PrivateKeyHandle],
                                                        broken: Callable[[PrivateKeyHandle], str], said: str) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text(broken(keys[0]))
    result = runner.invoke(app, ["token", "--issuer", "http://127.0.0.1:9/", "--client-id", "c", "--key",
                                 str(key_file), "--scope", SCOPE])
    assert result.exit_code == 2, result.output
    assert said in " ".join(result.output.split()) and "Traceback" not in result.output
    private = keys[0].to_private_jwk()
    assert all(private[m][:16] not in result.output for m in ("d", "p", "q", "dp", "dq", "qi"))


def test_no_password_is_asked_for_a_jwk(tmp_path: Path, keys: list[PrivateKeyHandle]) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text(keygen_jwk(keys[0]))
    result = runner.invoke(app, ["token", "--issuer", "http://127.0.0.1:9/", "--client-id", "c", "--key",
                                 str(key_file), "--scope", SCOPE], input="")
    assert "Password" not in result.output
    assert result.exit_code == 1, "the key loaded; only the unreachable issuer failed"
