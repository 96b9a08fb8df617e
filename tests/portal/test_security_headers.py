"""Security headers on every portal response, and no inline script or style anywhere (CSP Level 3)."""

from __future__ import annotations

import re

import pytest

from portvakt.portal.security import CONTENT_SECURITY_POLICY

from .stack import Stack

EXPECTED_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
                "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def pages(stack: Stack, client_id: str) -> list[str]:
    """Every page and static file of the portal, for a logged-in vendor person."""
    system = f"/portal/systems/{client_id}"
    return ["/portal/", "/portal/systems", "/portal/systems/new", system, f"{system}/keys/paste",
            f"{system}/keys/browser", f"{system}/keys/pkcs12", "/portal/dev/sms", "/portal/org",
            "/portal/no-such-page", "/portal/systems/no-such-system", "/portal/static/keygen.js",
            "/portal/static/portal.css", "/portal/static/ds/theme.css", "/portal/static/ds/designsystemet.css"]


def test_the_policy_is_exactly_the_specified_one() -> None:
    assert CONTENT_SECURITY_POLICY == EXPECTED_CSP


def test_every_response_carries_the_headers(ida: Stack) -> None:
    client_id = ida.create_system()
    for path in [*pages(ida, client_id), "/portal/login"]:
        resp = ida.browser.get(path, follow_redirects=False)
        assert resp.status_code < 500, path
        assert resp.headers["content-security-policy"] == EXPECTED_CSP, path
        assert resp.headers["x-content-type-options"] == "nosniff", path
        assert resp.headers["referrer-policy"] == "no-referrer", path
        assert resp.headers["x-frame-options"] == "DENY", path
        if resp.headers.get("content-type", "").startswith("text/html"):
            assert resp.headers["cache-control"] == "no-store", path


def test_anonymous_pages_and_errors_carry_them_too(stack: Stack) -> None:
    for path in ("/portal/login", "/portal/", "/portal/systems", "/portal/nothing"):
        resp = stack.browser.get(path, follow_redirects=False)
        assert resp.headers["content-security-policy"] == EXPECTED_CSP, path
        assert resp.headers["cache-control"] == "no-store", path
    refused = stack.browser.post("/portal/login", data={"username": "x"})
    assert refused.status_code == 403
    assert refused.headers["content-security-policy"] == EXPECTED_CSP


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_no_page_has_inline_script_style_or_handlers(ida: Stack, lang: str) -> None:
    client_id = ida.create_system()
    ida.browser.get(f"/portal/language?lang={lang}&next=/portal/")
    for path in pages(ida, client_id):
        resp = ida.browser.get(path)
        if not resp.headers.get("content-type", "").startswith("text/html"):
            continue
        html = resp.text
        assert not INLINE_SCRIPT.search(html), path
        assert not INLINE_STYLE.search(html), path
        assert not EVENT_HANDLER.search(html), path
        assert f'<html lang="{lang}"' in html, path


def test_static_files_may_be_cached_pages_not(ida: Stack) -> None:
    assert "max-age" in ida.browser.get("/portal/static/ds/theme.css").headers["cache-control"]
    assert ida.browser.get("/portal/systems").headers["cache-control"] == "no-store"
