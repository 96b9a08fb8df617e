"""`portvakt keys rotate`: the token service's signing keys, or with --altinn the Altinn side's exchange keys, each
rotation leaving the other set as it was (decision K4)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portvakt.cli import app
from portvakt.domain.models import SigningKey, SigningKeyState
from portvakt.settings import Settings
from portvakt.wiring.stores import open_store

runner = CliRunner()


def states(keys: Sequence[SigningKey]) -> dict[str, SigningKeyState]:
    return {k.kid: k.state for k in keys}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SQLite registry the CLI makes in tmp_path."""
    monkeypatch.setenv("PORTVAKT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PORTVAKT_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["keys", "rotate"]).exit_code == 0
    return tmp_path


def read_keys(data_dir: Path) -> tuple[dict[str, SigningKeyState], dict[str, SigningKeyState]]:
    store = open_store(Settings(data_dir=data_dir), migrate=False)
    try:
        with store.read() as uow:
            return states(uow.list_signing_keys()), states(uow.list_altinn_keys())
    finally:
        store.close()


def test_rotate_altinn_signs_with_its_next_key_and_leaves_the_token_keys(data_dir: Path) -> None:
    token_before, _ = read_keys(data_dir)
    first = runner.invoke(app, ["keys", "rotate", "--altinn"])
    assert first.exit_code == 0, first.output
    _, altinn_once = read_keys(data_dir)
    second = runner.invoke(app, ["keys", "rotate", "--altinn"])
    assert second.exit_code == 0 and "the Altinn side now signs with" in second.output
    token_after, altinn_twice = read_keys(data_dir)
    assert token_after == token_before
    active_once = [kid for kid, state in altinn_once.items() if state is SigningKeyState.ACTIVE]
    active_twice = [kid for kid, state in altinn_twice.items() if state is SigningKeyState.ACTIVE]
    assert len(active_once) == len(active_twice) == 1 and active_once != active_twice
    assert altinn_twice[active_once[0]] is SigningKeyState.RETIRED
    assert not set(altinn_twice) & set(token_after)


def test_rotate_leaves_the_altinn_keys(data_dir: Path) -> None:
    assert runner.invoke(app, ["keys", "rotate", "--altinn"]).exit_code == 0
    _, altinn_before = read_keys(data_dir)
    assert runner.invoke(app, ["keys", "rotate"]).exit_code == 0
    assert read_keys(data_dir)[1] == altinn_before
