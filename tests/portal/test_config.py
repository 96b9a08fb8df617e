"""PortalConfig from Settings (PORTVAKT_PORTAL__*): defaults point at this server and its data_dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from portvakt.portal import PORTAL_SCOPES, portal_config
from portvakt.settings import Settings


def test_defaults_point_at_this_server(tmp_path: Path) -> None:
    cfg = portal_config(Settings(data_dir=tmp_path, host="127.0.0.1", port=8080))
    assert cfg.api_url == cfg.altinn_url == "http://127.0.0.1:8080/"
    assert cfg.token_endpoint == "http://127.0.0.1:8080/token"
    assert cfg.key_file == tmp_path / "portal-client-key.pem"
    assert cfg.settings.client_id == "portvakt-portal" and cfg.scopes == PORTAL_SCOPES
    assert cfg.settings.secure_cookies and not cfg.dev_mode and cfg.settings.default_language == "nb"
    assert len(cfg.session_secret) == 32
    assert portal_config(Settings(data_dir=tmp_path)).session_secret != cfg.session_secret, "random per start"
    assert "session_secret" not in repr(cfg)


def test_the_demo_turns_on_dev_mode_unless_told_otherwise(tmp_path: Path) -> None:
    assert portal_config(Settings(data_dir=tmp_path, demo=True)).dev_mode
    assert not portal_config(Settings.model_validate({"data_dir": tmp_path, "demo": True,
                                                      "portal": {"dev_mode": False}})).dev_mode


def test_environment_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"API_URL": "https://api.example/", "ALTINN_URL": "https://altinn.example",
                        "CLIENT_ID": "portal-2", "KEY_FILE": str(tmp_path / "k.pem"), "SESSION_SECRET": "s3cret",
                        "SECURE_COOKIES": "false", "DEFAULT_LANGUAGE": "en", "LOGIN_MAX_FAILURES": "3"}.items():
        monkeypatch.setenv(f"PORTVAKT_PORTAL__{name}", value)
    cfg = portal_config(Settings(data_dir=tmp_path))
    assert (cfg.api_url, cfg.altinn_url, cfg.settings.client_id) == ("https://api.example/", "https://altinn.example/",
                                                            "portal-2")
    assert cfg.key_file == tmp_path / "k.pem" and cfg.session_secret == b"s3cret"
    options = cfg.settings
    assert not options.secure_cookies and options.default_language == "en" and options.login_max_failures == 3
