"""`portvakt serve --only portal` against a remote token service and Altinn side (decision P11): the portal
process has no database of its own settings' making and reaches everything over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.api.test_serve import BIN, Server

pytestmark = pytest.mark.slow
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VENDOR = "314330897"


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(BIN), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_portal_alone_logs_in_and_lists_systems_through_the_remote_api(tmp_path: Path) -> None:
    server = Server(tmp_path / "server", "--only", "token", "--only", "altinn")
    portal = None
    try:
        env = {**server.env, "PORTVAKT_USER_PASSWORD": "a long enough password 1"}
        run(env, "org", "add", VENDOR, "--name", "Turbo Systemleverandør AS")
        run(env, "user", "add", "ida@turbo.test", "--name", "Ida", "--mobile", "+4790000001",
            "--role", f"{VENDOR}:integration_responsible")
        key_file = tmp_path / "portal-key.pem"
        made = json.loads(run(env, "portal-client", "--key-file", str(key_file)))
        assert made["key_file"] == str(key_file) and key_file.stat().st_mode & 0o077 == 0
        portal = Server(tmp_path / "portal", "--only", "portal", ready="healthz",
                        env={"PORTVAKT_PORTAL__API_URL": server.url, "PORTVAKT_PORTAL__KEY_FILE": str(key_file),
                             # httpx, unlike Chromium, sends no Secure cookie to http://127.0.0.1
                             "PORTVAKT_PORTAL__SECURE_COOKIES": "false"})
        assert not (tmp_path / "portal" / "portvakt.db").exists()
        with httpx.Client(base_url=portal.url, timeout=20) as browser:
            page = browser.get("/portal/login")
            token = CSRF.search(page.text)
            assert token is not None
            resp = browser.post("/portal/login", data={"username": "ida@turbo.test", "csrf_token": token.group(1),
                                                       "password": "a long enough password 1"})
            assert resp.status_code == 303, resp.text
            systems = browser.get(resp.headers["location"], follow_redirects=True)
            assert systems.status_code == 200 and "Turbo Systemleverandør AS" in systems.text
            assert "portvakt.db" not in systems.text
        assert server.proc.poll() is None and portal.proc.poll() is None
    finally:
        if portal is not None:
            portal.stop()
        server.stop()
