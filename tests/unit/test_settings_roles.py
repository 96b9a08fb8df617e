"""Which roles one `portvakt serve` process may combine (decisions D6, P11), checked in one place."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from portvakt.cli import app
from portvakt.settings import AltinnSettings, Settings


@pytest.mark.parametrize(("roles", "issuer", "problem"), [
    (["token", "altinn", "portal"], None, None),
    (["token"], None, None),
    (["portal"], None, None),
    (["altinn"], "http://127.0.0.1:8080/", None),
    (["altinn"], None, "needs the token service's issuer URL"),
    (["altinn", "portal"], "http://127.0.0.1:8080/", "not with the Altinn side alone"),
])
def test_role_problem(roles: list[str], issuer: str | None, problem: str | None) -> None:
    found = Settings(roles=roles, altinn=AltinnSettings(token_issuer=issuer)).role_problem()  # type: ignore[arg-type]
    assert found == problem if problem is None else problem in (found or "")


def test_serve_refuses_a_bad_combination_before_starting(tmp_path: object,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTVAKT_DATA_DIR", str(tmp_path))
    for name in ("PORTVAKT_HOST", "PORTVAKT_PORT", "PORTVAKT_ROLES"):  # serve sets these; restored afterwards
        monkeypatch.setenv(name, "")
    result = CliRunner().invoke(app, ["serve", "--only", "altinn", "--only", "portal", "--port", "1"])
    assert result.exit_code == 2
    assert "not with the Altinn side alone" in " ".join(result.output.split())
