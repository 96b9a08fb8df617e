"""How to use a registered key: a ready `portvakt token` command and a portvakt.client snippet (decision P12)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from portvakt.wire.clients import ClientOut, JwkOut


@dataclass(frozen=True)
class Snippets:
    """The command and the Python code for a PEM key and for a PKCS#12 file."""

    cli_pem: str
    cli_p12: str
    python_pem: str
    python_p12: str
    token_endpoint: str


def key_file_names(kid: str) -> tuple[str, str, str]:
    """The file names the portal offers for a key: private PEM, private JWK, PKCS#12."""
    stem = "portvakt-" + "".join(ch for ch in kid[:12] if ch.isalnum() or ch in "-_")
    return f"{stem}-private.pem", f"{stem}-private.jwk.json", f"{stem}.p12"


def _command(api_url: str, system: ClientOut, kid: str, key_file: str, scope: str) -> str:
    args = ["portvakt", "token", "--issuer", api_url, "--client-id", system.client_id, "--kid", kid,
            "--key", key_file, "--scope", scope]
    return shlex.join(args)


def _python(api_url: str, system: ClientOut, kid: str, key_expr: str, scope: str, preamble: str = "") -> str:
    q = json.dumps
    return (f"{preamble}from portvakt.client import GrantSigner, fetch_token, load_private_key\n\n"
            f"signer = GrantSigner(client_id={q(system.client_id)}, kid={q(kid)},\n"
            f"                     key={key_expr}, audience={q(api_url)})\n"
            f"token = fetch_token(signer, {q(scope)}, token_endpoint={q(api_url + 'token')})\n"
            'print(token["access_token"])\n')


def usage_snippets(api_url: str, system: ClientOut, key: JwkOut) -> Snippets:
    """The snippets for one key of a system, with client_id, kid and the system's scopes filled in."""
    scope = " ".join(system.scopes) or "SCOPE"
    pem, _, p12 = key_file_names(key.kid)
    q = json.dumps
    python_pem = _python(api_url, system, key.kid, f"load_private_key({q(pem)})", scope)
    python_p12 = _python(api_url, system, key.kid, f'load_private_key({q(p12)}, getpass.getpass("Password: "))',
                         scope, preamble="import getpass\n\n")
    return Snippets(cli_pem=_command(api_url, system, key.kid, pem, scope),
                    cli_p12=_command(api_url, system, key.kid, p12, scope),
                    python_pem=python_pem, python_p12=python_p12, token_endpoint=api_url + "token")
