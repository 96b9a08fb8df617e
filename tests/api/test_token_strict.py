"""Strict mode on the wire (decision T13, docs/protocol.md §1.3): each rule refused when on, accepted when off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from portvakt.domain.clock import FixedClock
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import Settings, TokenSettings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.api.test_token_rejections import refused
from tests.conftest import ISSUER, World, seed


@pytest.fixture
def strict(rsa_keys: list[PrivateKeyHandle]) -> Iterator[World]:
    """The `world` server with PORTVAKT_TOKEN__STRICT=true."""
    store = MemoryStore()
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    client_id = seed(store, rsa_keys[0], clock.now())
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent", token=TokenSettings(strict=True))
    app = assemble(settings, ("token", "altinn"), Overrides(store=store, clock=clock, kek=b"test-kek"))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield World(store, clock, http, rsa_keys[0], client_id, app.runtime)


def description(body: dict[str, str]) -> str:
    return body["error_description"]


def test_strict_accepts_a_documented_grant(strict: World) -> None:
    now = int(strict.clock.now().timestamp())
    assert strict.post(strict.grant(iat=now - 10, resource="https://api.example/")).status_code == 200


def test_strict_refuses_an_undocumented_claim(strict: World) -> None:
    body = refused(strict.post(strict.grant(client_amr="private_key_jwt")), 400, "invalid_request", "MP-011",
                   "Invalid assertion. Invalid parameter value: claim 'client_amr' is not documented; strict mode")
    assert "docs/protocol.md section 1.3" in description(body)  # RFC 6749 §5.2: ASCII only


def test_strict_names_several_undocumented_claims(strict: World) -> None:
    body = refused(strict.post(strict.grant(zz=1, aa=2, mm=3, nn=4)), 400, "invalid_request", "MP-011")
    assert "claims 'aa', 'mm', 'nn' and 1 more are not documented" in description(body)


def test_default_ignores_an_undocumented_claim(world: World) -> None:
    assert world.post(world.grant(client_amr="private_key_jwt")).status_code == 200


def test_strict_refuses_an_array_aud(strict: World) -> None:
    body = refused(strict.post(strict.grant(aud=[ISSUER])), 400, "invalid_request", "MP-011",
                   "Invalid assertion. Invalid parameter value: claim aud must be a single string, not an array")
    assert "strict mode" in description(body)


def test_default_accepts_an_array_aud(world: World) -> None:
    assert world.post(world.grant(aud=[ISSUER])).status_code == 200


def test_strict_refuses_an_old_iat(strict: World) -> None:
    now = int(strict.clock.now().timestamp())
    body = refused(strict.post(strict.grant(iat=now - 11, exp=now + 60)), 400, "invalid_grant", "MP-133",
                   "Invalid assertion. Issue time is more than 10 seconds in the past")
    assert "strict mode" in description(body)
    assert strict.http.get("/errors/MP-133").status_code == 200


def test_strict_still_bounds_a_future_iat(strict: World) -> None:
    now = int(strict.clock.now().timestamp())
    refused(strict.post(strict.grant(iat=now + 11, exp=now + 60)), 400, "invalid_grant", "MP-131")
    assert strict.post(strict.grant(iat=now + 10, exp=now + 60)).status_code == 200


def test_default_accepts_an_old_iat(world: World) -> None:
    now = int(world.clock.now().timestamp())
    assert world.post(world.grant(iat=now - 100, exp=now + 20)).status_code == 200


def test_serve_demo_turns_strict_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve --demo` sets PORTVAKT_TOKEN__STRICT unless the operator set it (decision T13)."""
    import uvicorn

    from portvakt.cli import serve as cli

    for name in ("PORTVAKT_HOST", "PORTVAKT_PORT", "PORTVAKT_DEMO", "PORTVAKT_TOKEN__STRICT"):
        monkeypatch.setenv(name, "")  # recorded, so what serve() writes to os.environ is undone afterwards
        monkeypatch.delenv(name)
    monkeypatch.setattr(cli, "_prepare", lambda s, demo: None)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    assert not Settings().token.strict
    cli.serve(demo=True, only=None)
    assert Settings().token.strict
    monkeypatch.setenv("PORTVAKT_TOKEN__STRICT", "false")
    cli.serve(demo=True, only=None)
    assert not Settings().token.strict
