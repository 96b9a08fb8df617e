"""`portvakt user ...`: people (portal accounts) and their roles per organisation, on the configured database.

A password is never an argv option (it would show in `ps` and shell history): it comes from --password-file,
the environment variable PORTVAKT_USER_PASSWORD, or a hidden prompt with confirmation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.domain import people
from portvakt.domain.audit import Actor
from portvakt.domain.clock import SystemClock
from portvakt.domain.errors import Invalid, NotFound
from portvakt.domain.models import Person, PersonRole, PortalRole
from portvakt.domain.orgno import require_orgno

from .common import err, fail, open_store, print_json, readable_errors

user_app = typer.Typer(help="People: portal accounts and their roles per organisation.", no_args_is_help=True)
OPERATOR = Actor.operator()
PASSWORD_ENV = "PORTVAKT_USER_PASSWORD"  # noqa: S105 (the variable's name, not a password)
ROLE_HELP = f"ORGNO:ROLE, ROLE one of {', '.join(r.value for r in PortalRole)} (repeat for more)"
PasswordFile = Annotated[Path | None, typer.Option(help=f"read the password from this file's first line "
                                                         f"(else ${PASSWORD_ENV}, else a prompt)",
                                                    dir_okay=False)]


@contextmanager
def input_errors() -> Iterator[None]:
    """Bad input (Invalid, NotFound) exits 2 with one readable line; other domain errors exit 1."""
    with readable_errors():
        try:
            yield
        except (Invalid, NotFound) as exc:
            fail(exc.message)


def read_password(password_file: Path | None) -> str:
    """The new password: the file's first line, else $PORTVAKT_USER_PASSWORD, else a hidden prompt, twice."""
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            fail(f"cannot read the password file {password_file}")
        return lines[0] if lines else ""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env is not None:
        return from_env
    entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return entered


def _roles(texts: Sequence[str] | None) -> list[PersonRole]:
    """ORGNO:ROLE options as roles (the orgno's mod-11 is checked here, registration by the use-case)."""
    roles = [people.parse_role(t) for t in texts or ()]
    for r in roles:
        require_orgno(r.orgno, "roles")
    return roles


def _now() -> datetime:
    return SystemClock().now()


@user_app.command("add")
def user_add(
    username: str,
    name: Annotated[str, typer.Option(help="the person's full name")],
    mobile: Annotated[str, typer.Option(help="mobile number for SMS, e.g. +4791234567")],
    role: Annotated[list[str] | None, typer.Option(help=ROLE_HELP)] = None,
    password_file: PasswordFile = None,
) -> None:
    """Create a portal account; prints it as JSON (never the password or its hash)."""
    with input_errors():
        roles = _roles(role)
        password = read_password(password_file)
        people.check_password(password)
        with open_store().begin() as uow:
            person = people.add_person(uow, Argon2PasswordHasher(), username=username, name=name, mobile=mobile,
                                   password=password, roles=roles, actor=OPERATOR, now=_now())
    print_json(person)


def _table(found: Sequence[Person]) -> Table:
    table = Table("username", "name", "mobile", "active", "roles", title="people")
    for p in found:
        table.add_row(p.username, p.name, p.mobile, "yes" if p.active else "no",
                      "\n".join(f"{r.orgno}:{r.role.value}" for r in p.roles))
    return table


@user_app.command("list")
def user_list(org: Annotated[str | None, typer.Option(help="only people with a role for this orgno")] = None) -> None:
    """List people and their roles (no password hashes)."""
    with input_errors():
        if org is not None:
            require_orgno(org, "org")
        with open_store().read() as uow:
            found = uow.list_people(org)
    Console().print(_table(found))


@user_app.command("roles")
def user_roles(
    username: str,
    add: Annotated[list[str] | None, typer.Option("--add", help=f"grant {ROLE_HELP}")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help=f"revoke {ROLE_HELP}")] = None,
) -> None:
    """Grant and revoke a person's roles; prints the person as JSON."""
    with input_errors():
        granted, revoked = _roles(add), set(_roles(remove))
        if not granted and not revoked:
            fail("give at least one --add or --remove ORGNO:ROLE")
        with open_store().begin() as uow:
            current = people.require_person(uow, username).roles
            wanted = [r for r in (*current, *granted) if r not in revoked]
            person = people.set_roles(uow, username, wanted, OPERATOR, _now())
    print_json(person)


@user_app.command("passwd")
def user_passwd(username: str, password_file: PasswordFile = None) -> None:
    """Set a person's password."""
    with input_errors():
        with open_store().read() as uow:
            people.require_person(uow, username)
        password = read_password(password_file)
        people.check_password(password)
        with open_store().begin() as uow:
            person = people.set_password(uow, Argon2PasswordHasher(), username, password, OPERATOR, _now())
    err.print(f"password of {person.username} changed")


@user_app.command("deactivate")
def user_deactivate(username: str) -> None:
    """Deactivate a person: no more logins; the account stays for the audit trail."""
    with input_errors(), open_store().begin() as uow:
        person = people.deactivate_person(uow, username, OPERATOR, _now())
    err.print(f"{person.username} is deactivated")


def register(app: typer.Typer) -> None:
    """Attach `portvakt user ...`."""
    app.add_typer(user_app, name="user")
