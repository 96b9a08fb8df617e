"""The ready `portvakt token` commands and portvakt.client snippets on a system page (decision P12): one for the
scopes the vendor may use itself, then per delegated scope one per customer with --consumer-org; the key file named
as the person has it; whether a token can be had now. The commands a real server's system page shows are run, and
each gives a token."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from portvakt.cli.demo import CONSUMER, DELEGATED_SCOPE, DELEGATED_SCOPES, OPEN_SCOPE, PROVIDER, VENDOR
from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.clients import replace_client_keys
from portvakt.domain.clock import SystemClock
from portvakt.domain.delegations import delegate
from portvakt.domain.models import AccessState, IntegrationType, KeyOrigin
from portvakt.jose import PrivateKeyHandle
from portvakt.portal.usage import (
    KeyFile,
    TokenFacts,
    TokenState,
    command,
    key_file_names,
    key_files,
    token_state,
    usage_for,
)
from portvakt.settings import Settings
from portvakt.sms import DevOutbox
from portvakt.wire.clients import ClientOut, JwkOut
from portvakt.wiring import Overrides, assemble
from tests.browser.server import listening_socket, provision

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SYSTEM = ClientOut(client_id="c-1", client_name="S", client_orgno="314330897", supplier_orgno=None, description="",
                   client_uri=None, integration_type="altinn_virksys", application_type="web",
                   token_endpoint_auth_method="private_key_jwt",
                   grant_types=["urn:ietf:params:oauth:grant-type:jwt-bearer"],
                   scopes=["a:b", "c:d/e", "x:deleg"], access_token_lifetime=None, active=True, created=NOW,
                   last_updated=NOW)
KEY = JwkOut(kty="RSA", kid="kid_ABC-123456789", n="n", e="AQAB", exp=int((NOW + timedelta(days=300)).timestamp()))
API = "http://127.0.0.1:8080/"
FACTS = TokenFacts(own=frozenset({"a:b", "c:d/e"}), delegable=frozenset({"x:deleg"}),
                   delegated_by={"x:deleg": ("910753614", "310838128")},
                   customer_access={"310838128": frozenset({"x:deleg"}), "910753614": frozenset()},
                   names={"310838128": "Øvre Toten", "910753614": "Andre AS"})
PORTVAKT = Path(sys.executable).parent / "portvakt"
OTHER_CUSTOMER = ("910753614", "Andre Kunde AS")


def options(cli: str) -> dict[str, str]:
    """The --name value pairs of a `portvakt token` command line."""
    args = shlex.split(cli)
    assert args[:2] == ["portvakt", "token"]
    return dict(zip(args[2::2], args[3::2], strict=True))


# --- the pieces ---------------------------------------------------------------------------------------------------

def test_the_own_command_has_only_the_scopes_the_vendor_may_use_itself() -> None:
    usage = usage_for(API, SYSTEM, KEY, FACTS)
    assert usage.own is not None
    assert options(usage.own.cli) == {"--issuer": API, "--client-id": "c-1", "--kid": "kid_ABC-123456789",
                                      "--key": "portvakt-kid_ABC-1234-private.pem", "--scope": "a:b c:d/e"}
    assert usage.token_endpoint == API + "token"


def test_each_customer_gets_its_own_command_with_consumer_org() -> None:
    usage = usage_for(API, SYSTEM, KEY, FACTS)
    assert [d.scope for d in usage.delegated] == ["x:deleg"]
    customers = usage.delegated[0].customers
    assert [(c.orgno, c.name) for c in customers] == [("910753614", "Andre AS"), ("310838128", "Øvre Toten")], \
        "by name"
    assert customers[0].command is None, "a customer without access of its own would get MP-250"
    shown = customers[1].command
    assert shown is not None and options(shown.cli)["--consumer-org"] == "310838128"
    assert options(shown.cli)["--scope"] == "x:deleg"
    assert 'consumer_org="310838128"' in shown.python


def test_no_own_command_when_every_scope_is_delegated() -> None:
    only = SYSTEM.model_copy(update={"scopes": ["x:deleg"]})
    usage = usage_for(API, only, KEY, FACTS)
    assert usage.own is None and len(usage.delegated) == 1


def test_the_key_file_follows_how_the_key_was_made() -> None:
    pem, jwk, p12 = key_file_names(KEY.kid)
    assert key_files(KEY.kid, "pkcs12") == [KeyFile(p12, "p12", True)]
    assert key_files(KEY.kid, "browser") == [KeyFile(pem, "pem", True), KeyFile(jwk, "jwk", True)]
    for origin in ("paste", "api", None):
        assert key_files(KEY.kid, origin) == [KeyFile(pem, "pem", False)]
    usage = usage_for(API, SYSTEM, KEY.model_copy(update={"origin": "pkcs12"}), FACTS)
    assert usage.own is not None and options(usage.own.cli)["--key"] == p12
    assert 'getpass.getpass("Password: ")' in usage.own.python and p12 in usage.own.python


def test_the_python_snippets_are_valid_python() -> None:
    for origin in ("pkcs12", "browser", None):
        usage = usage_for(API, SYSTEM, KEY.model_copy(update={"origin": origin}), FACTS)
        for shown in [usage.own, *(c.command for d in usage.delegated for c in d.customers)]:
            if shown is not None:
                compile(shown.python, "<snippet>", "exec")
                assert 'client_id="c-1"' in shown.python and 'kid="kid_ABC-123456789"' in shown.python


def test_file_names_are_safe() -> None:
    assert key_file_names("../../etc/x") == ("portvakt-etcx-private.pem", "portvakt-etcx-private.jwk.json",
                                              "portvakt-etcx.p12")


def test_a_command_quotes_what_the_shell_would_split() -> None:
    shown = command(API, "c 1", "k;id", KeyFile("my key.pem", "pem", False), ["a:b", "c:d"], "310838128")
    assert options(shown.cli) == {"--issuer": API, "--client-id": "c 1", "--kid": "k;id", "--key": "my key.pem",
                                  "--scope": "a:b c:d", "--consumer-org": "310838128"}


@pytest.mark.parametrize(("change", "keys", "facts", "expected"), [
    ({}, [KEY], FACTS, TokenState.READY),
    ({"active": False}, [KEY], FACTS, TokenState.DEACTIVATED),
    ({}, [], FACTS, TokenState.NO_KEY),
    ({"integration_type": "maskinporten"}, [], FACTS, TokenState.CERTIFICATE),
    ({}, [KEY.model_copy(update={"exp": int((NOW - timedelta(days=1)).timestamp())})], FACTS, TokenState.EXPIRED),
    ({}, [KEY.model_copy(update={"exp": int((NOW + timedelta(days=3)).timestamp())})], FACTS, TokenState.EXPIRING),
    ({"scopes": []}, [KEY], FACTS, TokenState.NO_SCOPES),
    ({}, [KEY], replace(FACTS, own=frozenset(), customer_access={}), TokenState.REVOKED),
    ({"scopes": ["x:deleg"]}, [KEY], replace(FACTS, customer_access={}), TokenState.NOT_DELEGATED),
    ({"scopes": ["x:deleg"]}, [KEY], FACTS, TokenState.READY),
])
def test_token_state(change: dict[str, Any], keys: list[JwkOut], facts: TokenFacts, expected: TokenState) -> None:
    assert token_state(SYSTEM.model_copy(update=change), keys, NOW, facts) is expected
    assert expected.can_get_tokens == (expected in (TokenState.READY, TokenState.EXPIRING, TokenState.CERTIFICATE))


# --- the commands a real server's system page shows, run ------------------------------------------------------------

@dataclass
class Live:
    """A real server (uvicorn in a thread, SQLite, the demo data, a second customer) and its portal."""

    url: str
    people: dict[str, str]
    turboskatt: str
    turboskatt_key: Path
    own_only: str
    own_only_key: PrivateKeyHandle


def _seed(store: Any, data_dir: Path) -> tuple[str, str, PrivateKeyHandle]:
    """A second customer that has access to the demo's delegated scope and delegated the demo's scheme to the
    vendor, and a system with own scopes only (a pasted key); (Turboskatt's client_id, that system's, its key)."""
    now = SystemClock().now()
    actor = Actor.operator("test")
    handle = PrivateKeyHandle.generate(2048)
    with store.begin() as uow:
        uc.add_org(uow, *OTHER_CUSTOMER, actor, now)
        uc.set_access(uow, DELEGATED_SCOPE, OTHER_CUSTOMER[0], AccessState.APPROVED, actor, now)
        (scheme,) = uow.list_schemes(owner_orgno=PROVIDER[0])
        delegate(uow, OTHER_CUSTOMER[0], VENDOR[0], scheme.scheme_id, actor, now)
        own = uc.new_client(uow, client_name="Egne scopes", client_orgno=VENDOR[0], scopes=[OPEN_SCOPE],
                            integration_type=IntegrationType.ALTINN_VIRKSYS, actor=actor, now=now)
        replace_client_keys(uow, own.client_id, [(handle.kid, handle.public_jwk)], actor, now,
                            {handle.kid: KeyOrigin.PASTE})
    demo = json.loads((data_dir / "demo" / "demo.json").read_text())
    return str(demo["client_id"]), own.client_id, handle


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Provisioned and seeded before it starts, so every node's caches already hold the seed."""
    sock = listening_socket()
    port = int(sock.getsockname()[1])
    data_dir = tmp_path_factory.mktemp("usage") / "var"
    settings = Settings(data_dir=data_dir, host="127.0.0.1", port=port, demo=True)
    store, people = provision(settings)
    turboskatt, own_only, handle = _seed(store, data_dir)
    app = assemble(settings, overrides=Overrides(store=store, outbox=DevOutbox()))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, args=([sock],), name="portvakt-usage-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/"
    for _ in range(300):
        try:
            if httpx.get(url + "jwk", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        threading.Event().wait(0.1)
    try:
        yield Live(url, people, turboskatt, data_dir / "demo" / "vendor.pem", own_only, handle)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _portal(live: Live) -> httpx.Client:
    """A person's browser, logged in as the demo's integration responsible. The portal's cookies are Secure, which
    a browser sends to http://127.0.0.1 (a secure context) and httpx's jar does not: they are kept here."""
    jar: dict[str, str] = {}

    def send_cookies(request: httpx.Request) -> None:
        if jar:
            request.headers["cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())

    def keep_cookies(response: httpx.Response) -> None:
        for line in response.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            jar[name.strip()] = rest.split(";")[0]

    client = httpx.Client(base_url=live.url.rstrip("/"), follow_redirects=True, timeout=30,
                          event_hooks={"request": [send_cookies], "response": [keep_cookies]})
    page = client.get("/portal/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    done = client.post("/portal/login", data={"username": "ida@turbo.demo", "password": live.people["ida@turbo.demo"],
                                              "csrf_token": csrf.group(1)})
    assert done.status_code == 200 and str(done.url).endswith("/portal/"), done.text[-2000:]
    return client


def _shown(page: str) -> dict[str, str]:
    """Every command box of a page: its id -> its text, as the person would copy it."""
    found = re.findall(r'<pre class="pv-command" id="([^"]+)"[^>]*><code>(.*?)</code></pre>', page, re.S)
    return {name: html.unescape(text) for name, text in found}


def _run(cli: str, key_file: Path) -> dict[str, Any]:
    """Run a shown `portvakt token` command with the key file where the test keeps it; the token's claims."""
    args = shlex.split(cli)
    assert args[:2] == ["portvakt", "token"]
    args[0] = str(PORTVAKT)
    args[args.index("--key") + 1] = str(key_file)
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False, env=dict(os.environ))
    assert done.returncode == 0, done.stderr + done.stdout
    body = json.loads(done.stdout)
    assert body["token_type"] == "Bearer"
    payload = body["access_token"].split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def test_the_demo_system_is_listed(live: Live) -> None:
    with closing(_portal(live)) as browser:
        page = browser.get("/portal/systems").text
    assert "Turboskatt</a>" in page and "Egne scopes</a>" in page and "Maskinporten-klient" in page


def test_a_system_with_own_scopes_only_shows_one_command_that_gives_a_token(live: Live, tmp_path: Path) -> None:
    with closing(_portal(live)) as browser:
        page = browser.get(f"/portal/systems/{live.own_only}").text
    shown = _shown(page)
    assert list(shown) == ["usage-cli-pem", "usage-python-pem"], "no customer section"
    assert "--consumer-org" not in shown["usage-cli-pem"]
    key_file = tmp_path / "mine.pem"
    key_file.write_bytes(live.own_only_key.to_pem())
    claims = _run(shown["usage-cli-pem"], key_file)
    assert claims["scope"] == OPEN_SCOPE and claims["consumer"]["ID"].endswith(VENDOR[0])


def test_delegated_scopes_show_one_command_per_customer_and_each_gives_a_token(live: Live, tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch,
                                                                               capsys: pytest.CaptureFixture[str],
                                                                               ) -> None:
    with closing(_portal(live)) as browser:
        page = browser.get(f"/portal/systems/{live.turboskatt}").text
    shown = _shown(page)
    own = shown.pop("usage-cli-pem")
    python = shown.pop("usage-python-pem")
    assert options(own)["--scope"] == OPEN_SCOPE and "--consumer-org" not in own, \
        "one command for the scopes the vendor may use itself: not the delegated ones"
    customers = {options(cli)["--consumer-org"]: cli for cli in shown.values()}
    assert sorted(customers) == sorted([CONSUMER[0], OTHER_CUSTOMER[0]]), "two customers, one command each"
    assert all(options(cli)["--scope"] == DELEGATED_SCOPE for cli in customers.values())
    assert CONSUMER[1] in page and OTHER_CUSTOMER[1] in page, "the customers by name"
    other_scope = next(s for s in DELEGATED_SCOPES if s != DELEGATED_SCOPE)
    assert f">{other_scope}</code></h4>" in page and page.count("har ikke selv tilgang") == 2, \
        "a scope the customers cannot use themselves gets no command"
    claims = _run(own, live.turboskatt_key)
    assert claims["scope"] == OPEN_SCOPE and claims["consumer"]["ID"].endswith(VENDOR[0])
    for orgno, cli in customers.items():
        claims = _run(cli, live.turboskatt_key)
        assert claims["scope"] == DELEGATED_SCOPE
        assert claims["consumer"]["ID"].endswith(orgno) and claims["supplier"]["ID"].endswith(VENDOR[0])
    named = re.search(r'load_private_key\("([^"]+)"\)', python)
    assert named
    shutil.copy(live.turboskatt_key, tmp_path / named.group(1))
    monkeypatch.chdir(tmp_path)
    exec(python, {})  # noqa: S102 (the snippet the page shows)
    assert capsys.readouterr().out.count(".") == 2, "the snippet printed a JWT"
