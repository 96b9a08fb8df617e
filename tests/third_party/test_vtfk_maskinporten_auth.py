"""A real third-party Maskinporten client gets a token from a real `portvakt serve` with an enterprise certificate.

@vtfk/maskinporten-auth (npm, pinned in package-lock.json; `make third-party-deps` installs it) signs an x5c grant
from a PKCS#12 with only the leaf certificate in x5c; the server completes the chain from its trust folder
(docs/protocol.md §5).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jwt
import pytest

from tests.api.test_serve import Server, cli

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent
PACKAGE = HERE / "node_modules" / "@vtfk" / "maskinporten-auth"
PROVIDER = "974760673"
VENDOR = "314330897"
SCOPE = "brreg:test/read"


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary; the test is skipped only when there is none."""
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed, so the npm client @vtfk/maskinporten-auth cannot run")
    assert PACKAGE.is_dir(), f"{PACKAGE} is missing: run `make third-party-deps` (npm ci in {HERE})"
    return found


def test_vtfk_maskinporten_auth_gets_a_certificate_token(node: str, tmp_path: Path) -> None:
    data, ca, certs = tmp_path / "var", tmp_path / "dev-ca", tmp_path / "certs"
    cli(data, "init")
    cli(data, "org", "add", PROVIDER, "--name", "Provider")
    cli(data, "org", "add", VENDOR, "--name", "Vendor")
    cli(data, "scope", "add", SCOPE, "--owner", PROVIDER)
    cli(data, "access", "grant", SCOPE, VENDOR)
    client_id = json.loads(cli(data, "client", "add", "--org", VENDOR, "--name", "Certificate system",
                                "--scope", SCOPE))["client_id"]
    cli(data, "dev-ca", "init", "--out", str(ca))
    files = json.loads(cli(data, "dev-ca", "issue", "--orgno", VENDOR, "--name", "Vendor AS", "--out", str(certs),
                           "--ca", str(ca)))["files"]
    server = Server(data, env={"PORTVAKT_CERTIFICATES__TRUST_DIR": str(ca / "trust")})
    try:
        env = {**os.environ, "TOKEN_URL": f"{server.url}token", "AUDIENCE": server.url, "CLIENT_ID": client_id,
               "SCOPE": SCOPE, "PFX_FILE": files["pkcs12"], "PFX_PASSWORD_FILE": files["password_file"]}
        done = subprocess.run([node, str(HERE / "vtfk_token.js")], env=env, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, f"{done.stderr}\nserver log:\n{server.log.read_text()[-3000:]}"
        body = json.loads(done.stdout)
        assert body["token_type"] == "Bearer" and body["scope"] == SCOPE
        signing_key = jwt.PyJWKClient(f"{server.url}jwk").get_signing_key_from_jwt(body["access_token"])
        claims = jwt.decode(body["access_token"], signing_key.key, algorithms=["RS256"], issuer=server.url,
                            audience="unspecified")
    finally:
        server.stop()
    assert claims["client_amr"] == "virksomhetssertifikat"
    assert claims["client_id"] == client_id and claims["client_orgno"] == VENDOR
    assert claims["consumer"] == {"authority": "iso6523-actorid-upis", "ID": f"0192:{VENDOR}"}
    assert "supplier" not in claims
