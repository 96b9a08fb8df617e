"""`portvakt serve --ephemeral --seed FILE.yaml`: a throwaway server that a test in another language starts from a
file, reads one line of JSON from, gets real tokens from, and stops with SIGTERM."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from portvakt.client import GrantSigner, fetch_token, load_private_key

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent / "portvakt"
SEED = """
orgs:
  provider: {orgno: "974760673", name: Brønnøysundregistrene}
  vendor: {name: Turbo Systemleverandør AS}
  customer: {}
scopes:
  brreg:reelle/offentlig: {owner: provider, delegable: true, at_max_age: 600}
  brreg:enhetsregisteret/oppslag: {owner: provider, accessible_for_all: true}
access:
  - {scope: brreg:reelle/offentlig, org: customer}
clients:
  turbo: {org: vendor, scopes: [brreg:reelle/offentlig, brreg:enhetsregisteret/oppslag]}
delegations:
  - {scope: brreg:reelle/offentlig, consumer: customer, supplier: vendor}
"""


def start(*args: str) -> subprocess.Popen[str]:
    """`portvakt serve ARGS` with the developer's PORTVAKT_* variables removed (the ephemeral server ignores them
    anyway)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTVAKT_")}
    return subprocess.Popen([str(BIN), "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def ready_line(proc: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
    """The JSON line the server prints when it accepts requests."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            proc.kill()
            raise AssertionError("the ephemeral server printed nothing")
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    data: dict[str, Any] = json.loads(line)
    return data


def test_a_seeded_ephemeral_server_gives_real_tokens_and_leaves_nothing(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED, encoding="utf-8")
    proc = start("--ephemeral", "--port", "0", "--seed", str(seed))
    try:
        ready = ready_line(proc)
        assert ready["issuer"].startswith("http://127.0.0.1:")
        assert ready["token_endpoint"] == ready["issuer"] + "token"
        assert ready["orgs"]["provider"] == "974760673"
        turbo = ready["clients"]["turbo"]
        key_file = Path(turbo["key_file"])
        assert key_file.stat().st_mode & 0o777 == 0o600
        signer = GrantSigner(client_id=turbo["client_id"], key=load_private_key(key_file), kid=turbo["kid"],
                             audience=ready["issuer"])
        own = fetch_token(signer, "brreg:enhetsregisteret/oppslag", token_endpoint=ready["token_endpoint"])
        assert own["scope"] == "brreg:enhetsregisteret/oppslag"
        delegated = fetch_token(signer, "brreg:reelle/offentlig", token_endpoint=ready["token_endpoint"],
                                consumer_org=ready["orgs"]["customer"])
        assert delegated["expires_in"] <= 600
    finally:
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert not key_file.parent.parent.exists()  # the data dir, keys and all


def test_a_seed_that_breaks_a_rule_exits_2_with_the_reason(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("clients:\n  turbo: {org: \"314330897\", scopes: [nobody:read], colour: blue}\n", encoding="utf-8")
    proc = start("--ephemeral", "--port", "0", "--seed", str(seed))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out == ""
    assert "clients.turbo: unknown field(s) colour" in err


@pytest.mark.parametrize("args", [["--seed", "seed.yaml"], ["--ephemeral", "--demo"], ["--ephemeral", "--only",
                                                                                        "token"]])
def test_ephemeral_is_a_mode_of_its_own(args: list[str]) -> None:
    proc = start(*args, "--port", "0")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "--seed needs --ephemeral" in err
