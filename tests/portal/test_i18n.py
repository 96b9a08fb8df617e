"""Bokmål by default, English on request: one catalogue per language with the same keys and placeholders,
and every key the templates and pages use exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from portvakt.portal.i18n import CATALOGUES, Translator

from .stack import Stack

PORTAL = Path(__file__).resolve().parents[2] / "src" / "portvakt" / "portal"
FILES = (".html", ".css", ".js", ".json", ".pem", ".p12")
KEY = re.compile(r"""["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_catalogues_have_the_same_keys_and_placeholders() -> None:
    nb, en = CATALOGUES["nb"], CATALOGUES["en"]
    assert set(nb) == set(en)
    for key in nb:
        assert placeholders(nb[key]) == placeholders(en[key]), key


def test_every_key_used_exists() -> None:
    used: set[str] = set()
    for path in [*PORTAL.glob("templates/*.html"), *PORTAL.glob("**/*.py")]:
        for found in KEY.findall(path.read_text()):
            if found.split(".")[0] in {k.split(".")[0] for k in CATALOGUES["nb"]} and not found.endswith(FILES):
                used.add(found)
    missing = sorted(k for k in used if k not in CATALOGUES["nb"] and not k.startswith(("role.", "keys.state.")))
    assert missing == []
    assert len(used) > 100


def test_role_and_state_keys_exist() -> None:
    for name in ("integration_responsible", "access_manager", "api_admin"):
        assert f"role.{name}" in CATALOGUES["nb"]
    for state in ("valid", "expiring", "expired", "none"):
        assert f"keys.state.{state}" in CATALOGUES["en"]


def test_a_missing_key_shows_the_key() -> None:
    assert Translator("en")("no.such.key") == "no.such.key"


def test_bokmal_by_default_and_english_on_request(stack: Stack) -> None:
    assert "Logg inn" in stack.browser.get("/portal/login").text
    resp = stack.browser.get("/portal/language?lang=en&next=/portal/login", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/portal/login"
    assert "portvakt_lang=en" in resp.headers["set-cookie"]
    page = stack.browser.get("/portal/login").text
    assert '<html lang="en"' in page and "Log in" in page and "Norsk (bokmål)" in page
    assert stack.login(password="wrong-wrong").text.count("Wrong username or password.") == 1


def test_the_language_survives_login(stack: Stack) -> None:
    stack.browser.get("/portal/language?lang=en&next=/portal/login")
    stack.login()
    assert "Acting for Vendor AS" in stack.browser.get("/portal/").text


def test_the_switch_goes_only_to_portal_pages(stack: Stack) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/portal//evil.example", "/elsewhere",
                   "/portal\\evil"):
        resp = stack.browser.get("/portal/language", params={"lang": "en", "next": target}, follow_redirects=False)
        assert resp.headers["location"] == "/portal/", target
    assert stack.browser.get("/portal/language?lang=xx").status_code == 400
