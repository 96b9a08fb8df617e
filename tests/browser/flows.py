"""What a person does in the portal, step by step, with a screenshot of each page."""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from .server import LiveServer
from .support import Shots

VENDOR_PERSON = "ida@turbo.demo"
OPEN_SCOPE = "brreg:enhetsregisteret/oppslag"
SYSTEM_URL = re.compile(r".*/portal/systems/[0-9a-f-]{36}(\?.*)?$")
PORTVAKT = Path(sys.executable).parent / "portvakt"


def log_in(page: Any, live: LiveServer, shots: Shots, username: str = VENDOR_PERSON) -> None:
    """Log in with the keyboard: type, then Enter in the password field."""
    page.goto("/portal/login")
    shots.take(page, "login")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(live.people[username])
    page.get_by_label("Passord").press("Enter")
    page.wait_for_url("**/portal/")
    shots.take(page, "overview")


def create_system(page: Any, shots: Shots, name: str) -> str:
    """Systems list -> create form -> the new system's page; returns its client_id."""
    page.get_by_role("navigation").get_by_role("link", name="Systemer").click()
    page.wait_for_url("**/portal/systems")
    shots.take(page, "systems")
    page.get_by_role("link", name="Opprett system").click()
    shots.take(page, "new-system")
    page.get_by_label("Navn").fill(name)
    page.get_by_label("Beskrivelse (valgfri)").fill(f"{name}: laget av en nettlesertest")
    page.get_by_label(OPEN_SCOPE).check()
    page.get_by_role("button", name="Opprett system").click()
    page.wait_for_url(SYSTEM_URL)
    expect(page.locator("#no-key")).to_contain_text("kan ikke hente tokens")
    shots.take(page, "system-without-key")
    return str(page.locator("#client-id").inner_text())


def registered(page: Any, shots: Shots, *, told: bool = True) -> str:
    """On the system page after registering (told: with the success message): the kid of the newest key."""
    page.wait_for_url(SYSTEM_URL)
    if told:
        expect(page.get_by_role("status").first).to_contain_text("er registrert")
    expect(page.locator("#no-key")).to_have_count(0)
    shots.take(page, "system-with-key")
    kid = str(page.locator("#keys .pv-kid").last.inner_text())
    expect(page.locator("#usage-cli-pem")).to_contain_text(kid)
    return kid


def run_shown_command(page: Any, element: str, key_file: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the `portvakt token ...` command the system page shows in `element`, with --key pointing at `key_file`
    (extra `env` for it, e.g. the PKCS#12 password); the token response it prints."""
    args = shlex.split(page.locator(element).inner_text())
    assert args[:2] == ["portvakt", "token"]
    args[0] = str(PORTVAKT)
    args[args.index("--key") + 1] = str(key_file)
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    return body


def database_text(live: LiveServer) -> str:
    """Every row of every table of the SQLite database, as text."""
    with sqlite3.connect(Path(live.data_dir) / "portvakt.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = [repr(row) for t in tables for row in db.execute(f'SELECT * FROM "{t}"')]  # noqa: S608
    return "\n".join(rows)
