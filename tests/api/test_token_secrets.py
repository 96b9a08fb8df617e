"""No grant, access token or key material is ever written to a log or echoed in an error (DESIGN: secrets)."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import World


def _pieces(jwt: str) -> list[str]:
    return [p for p in jwt.split(".") if len(p) > 16]


def test_success_and_refusals_log_no_grant_or_token(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ok_grant = world.grant()
    token = world.post(ok_grant).json()["access_token"]
    bad = [world.grant(aud="wrong"), world.grant(kid="unknown"), world.grant(scope="brreg:test/virksys"), ok_grant]
    bodies = [world.post(g).text for g in bad]
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for secret in [ok_grant, token, *bad]:
        for piece in _pieces(secret):
            assert piece not in logged
            for body in bodies:
                assert piece not in body
    assert "MP-110" in logged  # refusals are logged, by code and trace id


def test_unexpected_errors_are_generic(world: World, caplog: pytest.LogCaptureFixture,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(world.runtime.replay, "first_use", boom)
    grant = world.grant()
    r = world.post(grant)
    assert r.status_code == 500
    body = r.json()
    assert body["error"] == "server_error"
    assert body["error_uri"].endswith("/errors/MP-500")
    assert "fire" not in r.text and "Traceback" not in r.text
    for piece in _pieces(grant):
        assert piece not in caplog.text
