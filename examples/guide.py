"""Plays the whole guide for system vendors (guide-systemleverandorer.md) against a running portvakt.

    portvakt serve                                   # a fresh data dir, in one terminal
    python examples/guide.py --issuer http://127.0.0.1:8080/

The operator's steps (organisations, the `brreg` prefix, admin access) use the `portvakt` CLI on the
server's database, so run this with the same PORTVAKT_DATA_DIR / PORTVAKT_DATABASE_URL as the server.
Every other step is an HTTP call made by the actor who makes it in the guide:

1. Brreg (API provider) creates brreg:reelle/offentlig and brreg:reelle/rapporteringspliktig with the
   Altinn delegation source, grants the accounting firm access, and creates a delegation scheme.
2. The system vendor registers its client (its own key) with the provider's scope.
3. The accounting firm (consumer) delegates the scheme to the vendor in Altinn.
4. The vendor gets a token with consumer_org = the accounting firm and calls the API, which sees the
   consumer and the supplier.

With `--altinn URL` the Altinn side is a separate process (`portvakt serve --only altinn`).
Without `--api URL` the script starts examples/reelle_api.py itself on a free port.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from portvakt.client import GrantSigner, TokenError, fetch_token
from portvakt.jose import PrivateKeyHandle

PROVIDER = ("974760673", "Brønnøysundregistrene")
VENDOR = ("314330897", "Visma-aktig Systemleverandør AS")
CONSUMER = ("310838128", "Øvre Toten Regnskapstjenester AS")
OFFENTLIG = "brreg:reelle/offentlig"
RAPPORTERINGSPLIKTIG = "brreg:reelle/rapporteringspliktig"
SCOPES_WRITE = "idporten:scopes.write"
DCR_WRITE = "idporten:dcr.write"
SCHEMES_WRITE = "altinn:maskinporten/delegationSchemes.write"
DELEGATIONS_WRITE = "altinn:maskinporten/delegations.write"


class GuideError(Exception):
    """A step of the guide failed; the message says which and what the server answered."""


@dataclass
class Actor:
    """An organisation with an admin client (registered by the operator) and its key."""

    orgno: str
    name: str
    scopes: list[str]
    key: PrivateKeyHandle = field(default_factory=lambda: PrivateKeyHandle.generate(2048))
    client_id: str = ""


@dataclass
class Guide:
    """The URLs of one portvakt setup and the CLI that reaches its database."""

    issuer: str
    altinn: str
    portvakt: str = "portvakt"
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=15))
    log: list[str] = field(default_factory=list)

    def say(self, text: str) -> None:
        """One line of the story, printed and kept."""
        self.log.append(text)
        print(text, flush=True)

    def operator(self, *args: str) -> str:
        """Run one `portvakt` admin command as the operator."""
        done = subprocess.run([self.portvakt, *args], env=self.env, capture_output=True, text=True, check=False,  # noqa: S603
                              timeout=120)
        if done.returncode != 0:
            raise GuideError(f"portvakt {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
        return done.stdout

    def token(self, actor: Actor, scope: str, consumer_org: str | None = None) -> str:
        """An access token for the actor's client (docs/protocol.md §1.4 JWT grant)."""
        signer = GrantSigner(actor.client_id, actor.key, actor.key.kid, self.issuer)
        body = fetch_token(signer, scope, token_endpoint=self.issuer + "token", consumer_org=consumer_org,
                           client=self.http)
        return str(body["access_token"])

    def call(self, actor: Actor, method: str, url: str, scope: str, expect: int, **kwargs: Any) -> Any:
        """One HTTP call made by the actor with its own token; anything but `expect` is a GuideError."""
        headers = {"authorization": f"Bearer {self.token(actor, scope)}"}
        resp = self.http.request(method, url, headers=headers, **kwargs)
        if resp.status_code != expect:
            raise GuideError(f"{method} {url} answered {resp.status_code}: {resp.text[:500]}")
        return resp.json() if resp.content else None


def setup_by_operator(g: Guide, actors: list[Actor], folder: Path) -> None:
    """The operator registers the organisations, Brreg's prefix, and each actor's admin client."""
    for a in actors:
        g.operator("org", "add", a.orgno, "--name", a.name)
    g.operator("prefix", "assign", "brreg", PROVIDER[0])
    for a in actors:
        jwk = folder / f"{a.orgno}.jwk.json"
        jwk.write_text(json.dumps(a.key.public_jwk))
        for scope in a.scopes:
            g.operator("access", "grant", scope, a.orgno)
        args = [arg for scope in a.scopes for arg in ("--scope", scope)]
        out = g.operator("client", "add", "--org", a.orgno, "--name", f"{a.name} admin", "--public-key", str(jwk),
                         *args)
        a.client_id = json.loads(out)["client_id"]
    g.say(f"operator: registered {', '.join(a.name for a in actors)} and gave Brreg the prefix 'brreg'")


def provider_publishes(g: Guide, brreg: Actor) -> str:
    """Guide step 1: scopes with the Altinn delegation source, access for the consumer, a delegation scheme."""
    sources = g.call(brreg, "GET", g.issuer + "api/v1/delegationsources", SCOPES_WRITE, 200)
    source = next(s["issuer"] for s in sources if s["name"] == "altinn")
    for scope, text in ((OFFENTLIG, "Offentlig myndighet"), (RAPPORTERINGSPLIKTIG, "Rapporteringspliktig")):
        prefix, sub = scope.split(":")
        g.call(brreg, "POST", g.issuer + "api/v1/scopes", SCOPES_WRITE, 201, json={
            "prefix": prefix, "subscope": sub, "description": f"Reelle rettighetshavere - {text}",
            "delegation_source": source, "allowed_integration_types": ["maskinporten"]})
    g.call(brreg, "PUT", g.issuer + f"api/v1/scopes/access/{CONSUMER[0]}", SCOPES_WRITE, 200,
           params={"scope": RAPPORTERINGSPLIKTIG})
    scheme = g.call(brreg, "POST", g.altinn + "maskinporten-api/delegationSchemes", SCHEMES_WRITE, 201, json={
        "scopes": [RAPPORTERINGSPLIKTIG],
        "title": [{"code": "nb_NO", "value": "Reelle rettighetshavere - rapportering"}],
        "description": [{"code": "nb_NO", "value": "Gir systemleverandøren rett til å rapportere for dere"}]})
    g.say(f"Brreg: published {OFFENTLIG} and {RAPPORTERINGSPLIKTIG} (delegation source {source}), "
          f"gave {CONSUMER[1]} access, created the scheme {scheme['scheme_id']}")
    return str(scheme["scheme_id"])


def vendor_registers(g: Guide, vendor: Actor, system_key: PrivateKeyHandle) -> str:
    """Guide step 2: the vendor's own client, with the provider's scope and its own key (docs/protocol.md §3.2)."""
    client = g.call(vendor, "POST", g.issuer + "api/v1/clients", DCR_WRITE, 201, json={
        "client_name": "Regnskapssystemet", "description": "The vendor's system for accounting firms",
        "integration_type": "maskinporten", "application_type": "web", "scopes": [RAPPORTERINGSPLIKTIG],
        "token_endpoint_auth_method": "private_key_jwt",
        "grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"]})
    g.call(vendor, "POST", g.issuer + f"api/v1/clients/{client['client_id']}/jwks", DCR_WRITE, 200,
           json={"keys": [system_key.public_jwk]})
    g.say(f"{VENDOR[1]}: registered the client {client['client_id']} with key {system_key.kid}")
    return str(client["client_id"])


def consumer_delegates(g: Guide, consumer: Actor) -> str:
    """Guide step 3: the accounting firm finds the scheme and delegates it to the vendor (docs/protocol.md §4.1 step
    5)."""
    found = g.call(consumer, "GET", g.altinn + "accessmanagement/api/v1/maskinporten/schemes", DELEGATIONS_WRITE,
                   200, params={"q": "reelle"})
    scheme = next(s for s in found if RAPPORTERINGSPLIKTIG in s["scopes"])
    made = g.call(consumer, "POST", g.altinn + "accessmanagement/api/v1/delegations", DELEGATIONS_WRITE, 201,
                  json={"scheme_id": scheme["scheme_id"], "supplier_org": VENDOR[0]})
    g.say(f"{CONSUMER[1]}: delegated '{scheme['title']['nb']}' to {VENDOR[1]}")
    return str(made["delegation_id"])


def vendor_calls_api(g: Guide, system: Actor, api: str) -> dict[str, Any]:
    """Guide step 4: a token on behalf of the consumer (docs/protocol.md §4.2), then the API call with it."""
    token = g.token(system, RAPPORTERINGSPLIKTIG, consumer_org=CONSUMER[0])
    resp = g.http.get(f"{api}/reelle/rapporteringspliktig/{CONSUMER[0]}", headers={"authorization": f"Bearer {token}"})
    if resp.status_code != 200:
        raise GuideError(f"the API answered {resp.status_code}: {resp.text[:300]}")
    seen: dict[str, Any] = resp.json()
    g.say(f"the API saw consumer {seen['consumer']} and supplier {seen['supplier']}")
    return seen


def consumer_revokes(g: Guide, consumer: Actor, delegation_id: str) -> None:
    """Not in the guide's happy path: the consumer takes the delegation back (kept as history)."""
    g.call(consumer, "DELETE", g.altinn + f"accessmanagement/api/v1/delegations/{delegation_id}", DELEGATIONS_WRITE,
           200)
    g.say(f"{CONSUMER[1]}: revoked the delegation to {VENDOR[1]}")


@dataclass
class Outcome:
    """What the guide produced, for whoever plays it (a test, or a person reading the output)."""

    brreg: Actor
    vendor: Actor
    consumer: Actor
    system: Actor
    delegation_id: str
    seen: dict[str, Any]


def play(g: Guide, api: str) -> Outcome:
    """The guide from start to end; raises GuideError at the first step that fails."""
    brreg = Actor(*PROVIDER, [SCOPES_WRITE, SCHEMES_WRITE])
    vendor = Actor(*VENDOR, [DCR_WRITE])
    consumer = Actor(*CONSUMER, [DELEGATIONS_WRITE])
    with tempfile.TemporaryDirectory() as folder:
        setup_by_operator(g, [brreg, vendor, consumer], Path(folder))
    provider_publishes(g, brreg)
    system = Actor(*VENDOR, [])
    system.client_id = vendor_registers(g, vendor, system.key)
    delegation_id = consumer_delegates(g, consumer)
    return Outcome(brreg, vendor, consumer, system, delegation_id, vendor_calls_api(g, system, api))


@contextmanager
def reelle_api(issuer: str) -> Iterator[str]:
    """examples/reelle_api.py on a free port of 127.0.0.1, for as long as the block runs."""
    import uvicorn

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reelle_api import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(issuer), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def main() -> int:
    """Command line: the issuer (and optionally a separate Altinn side and API) to play the guide against."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", default="http://127.0.0.1:8080/", help="the token service's issuer URL")
    parser.add_argument("--altinn", help="the Altinn side's URL (default: the issuer)")
    parser.add_argument("--api", help="the reelle API's URL (default: start examples/reelle_api.py here)")
    parser.add_argument("--portvakt", default=shutil.which("portvakt") or "portvakt", help="the portvakt command")
    args = parser.parse_args()
    issuer = args.issuer.rstrip("/") + "/"
    g = Guide(issuer, (args.altinn or issuer).rstrip("/") + "/", args.portvakt)
    try:
        if args.api:
            play(g, args.api.rstrip("/"))
        else:
            with reelle_api(issuer) as api:
                play(g, api)
    except (GuideError, TokenError, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
