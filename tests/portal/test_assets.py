"""Designsystemet's CSS from node_modules; without it the portal works unstyled and says so in the log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from portvakt.portal.assets import find_assets

from .stack import Stack


def test_the_files_are_found_and_served(stack: Stack) -> None:
    page = stack.browser.get("/portal/login").text
    assert '<link rel="stylesheet" href="/portal/static/ds/theme.css">' in page
    css = stack.browser.get("/portal/static/ds/designsystemet.css")
    assert css.status_code == 200 and ".ds-button" in css.text
    assert "--ds-" in stack.browser.get("/portal/static/ds/theme.css").text
    assert stack.browser.get("/portal/static/ds/../../config.py").status_code == 404
    assert stack.browser.get("/portal/static/ds/other.css").status_code == 404


def test_missing_files_are_a_warning_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture,
                                                  make_stack: Callable[..., Stack]) -> None:
    monkeypatch.setattr("portvakt.portal.assets._candidates", lambda configured: [tmp_path / "node_modules"])
    assert find_assets(tmp_path) == {}
    assert "Designsystemet CSS not found (run `npm ci`" in caplog.text
    stack = make_stack()
    page = stack.browser.get("/portal/login")
    assert page.status_code == 200
    assert "/static/ds/" not in page.text and "/portal/static/portal.css" in page.text
