"""`portvakt user ...` on a SQLite database: passwords from a file, the environment or a prompt, never argv;
bad input exits 2; no password or hash is printed or stored in clear."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from portvakt.cli import app
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR
from tests.people.conftest import PASSWORD

runner = CliRunner()
IR = f"{VENDOR}:integration_responsible"


def run(*args: str, code: int = 0, **kwargs: Any) -> Any:
    """Run the CLI; assert the exit code and that no traceback, password or hash is shown."""
    result = runner.invoke(app, list(args), **kwargs)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and PASSWORD not in result.output and "$argon2" not in result.output
    return result


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite database with the vendor, the consumer and the provider; a password file."""
    monkeypatch.setenv("PORTVAKT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PORTVAKT_DATABASE_URL", raising=False)
    monkeypatch.delenv("PORTVAKT_USER_PASSWORD", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    for orgno, name in ((PROVIDER, "Provider"), (VENDOR, "Vendor"), (CONSUMER, "Consumer")):
        run("org", "add", orgno, "--name", name)
    (tmp_path / "pw").write_text(PASSWORD + "\nsecond line ignored\n")
    return tmp_path


def add_ida(folder: Path) -> dict[str, Any]:
    made: dict[str, Any] = json.loads(run("user", "add", "Ida@Vendor.test", "--name", "Ida Ærlig", "--mobile",
                                          "912 34 567", "--role", IR, "--role", f"{CONSUMER}:access_manager",
                                          "--password-file", str(folder / "pw")).stdout)
    return made


def dump(folder: Path) -> str:
    """Every row of every table of the SQLite database, as text."""
    with sqlite3.connect(folder / "portvakt.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(repr(row) for t in tables for row in db.execute(f'SELECT * FROM "{t}"'))  # noqa: S608


def test_add_from_a_password_file_prints_no_secret(seeded: Path) -> None:
    made = add_ida(seeded)
    assert made["username"] == "ida@vendor.test" and made["mobile"] == "+4791234567"
    assert made["roles"] == [{"orgno": CONSUMER, "role": "access_manager"},
                             {"orgno": VENDOR, "role": "integration_responsible"}]
    assert "password_hash" not in made
    rows = dump(seeded)
    assert "ida@vendor.test" in rows and "$argon2id$" in rows
    assert PASSWORD not in rows and "second line ignored" not in rows


def test_add_from_the_environment_and_from_a_prompt(seeded: Path) -> None:
    run("user", "add", "ola", "--name", "Ola", "--mobile", "+4790000002", env={"PORTVAKT_USER_PASSWORD": PASSWORD})
    prompted = run("user", "add", "kari", "--name", "Kari", "--mobile", "+4790000003",
                   input=f"{PASSWORD}\n{PASSWORD}\n")
    assert "Password" in prompted.output
    listed = run("user", "list").stdout
    assert "ola" in listed and "kari" in listed
    mismatch = runner.invoke(app, ["user", "add", "per", "--name", "Per", "--mobile", "+4790000004"],
                             input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output.lower()


def test_there_is_no_password_option(seeded: Path) -> None:
    result = runner.invoke(app, ["user", "add", "ola", "--name", "Ola", "--mobile", "+4790000002",
                                 "--password", PASSWORD])
    assert result.exit_code == 2 and "No such option" in result.output


@pytest.mark.parametrize(("args", "text"), [
    (("ab",), "username must be"),
    (("ola", "--mobile", "123"), "mobile must be"),
    (("ola", "--role", f"{VENDOR}:boss"), "ORGNO:ROLE"),
    (("ola", "--role", "123456789:api_admin"), "9-digit organisation number"),
    (("ola", "--role", f"{OTHER}:api_admin"), "not a registered organisation"),
])
def test_bad_input_exits_2_with_one_line(seeded: Path, args: tuple[str, ...], text: str) -> None:
    base = {"--name": "Ola", "--mobile": "+4790000002", "--password-file": str(seeded / "pw")}
    given = list(args)
    for option, value in base.items():
        if option not in given:
            given += [option, value]
    result = run("user", "add", *given, code=2)
    assert "error:" in result.output and text in result.output


def test_short_password_unreadable_file_and_taken_username(seeded: Path) -> None:
    (seeded / "short").write_text("short\n")
    common = ("--name", "Ola", "--mobile", "+4790000002")
    result = run("user", "add", "ola", *common, "--password-file", str(seeded / "short"), code=2)
    assert "password must be" in result.output
    result = run("user", "add", "ola", *common, "--password-file", str(seeded / "missing"), code=2)
    assert "cannot read the password file" in result.output
    add_ida(seeded)
    result = run("user", "add", "ida@vendor.test", *common, "--password-file", str(seeded / "pw"), code=1)
    assert "taken" in result.output


def test_list_filters_by_organisation_and_shows_no_hash(seeded: Path) -> None:
    add_ida(seeded)
    run("user", "add", "ada", "--name", "Ada", "--mobile", "+4790000003", "--role", f"{PROVIDER}:api_admin",
        "--password-file", str(seeded / "pw"))
    everyone = run("user", "list").stdout
    assert "ida@vendor.test" in everyone and "ada" in everyone and "integration_responsible" in everyone
    only_vendor = run("user", "list", "--org", VENDOR).stdout
    assert "ida@vendor.test" in only_vendor and "Ada" not in only_vendor
    assert "error:" in run("user", "list", "--org", "123", code=2).output


def test_roles_passwd_and_deactivate(seeded: Path) -> None:
    add_ida(seeded)
    changed = json.loads(run("user", "roles", "ida@vendor.test", "--add", f"{PROVIDER}:api_admin",
                             "--remove", IR).stdout)
    assert [(r["orgno"], r["role"]) for r in changed["roles"]] == [(CONSUMER, "access_manager"),
                                                                    (PROVIDER, "api_admin")]
    assert "at least one" in run("user", "roles", "ida@vendor.test", code=2).output
    assert "no person" in run("user", "roles", "nobody", "--add", IR, code=2).output
    before = dump(seeded)
    result = run("user", "passwd", "ida@vendor.test", env={"PORTVAKT_USER_PASSWORD": "a brand new passphrase"})
    assert "changed" in result.output and "a brand new passphrase" not in dump(seeded) and dump(seeded) != before
    assert "no person" in run("user", "passwd", "nobody", code=2).output
    assert "deactivated" in run("user", "deactivate", "ida@vendor.test").output
    row = next(line for line in run("user", "list").stdout.splitlines() if "ida@vendor.test" in line)
    assert [cell.strip() for cell in row.split("│")][4] == "no", row
    assert "no person" in run("user", "deactivate", "nobody", code=2).output
