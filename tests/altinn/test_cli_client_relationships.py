"""`portvakt altinn client-relationship add|remove|list` (docs/protocol.md §6.4) on a SQLite database seeded through
the CLI itself."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from portvakt.cli import app
from portvakt.cli.common import open_store
from portvakt.domain.audit import Actor
from portvakt.domain.clock import FixedClock
from portvakt.domain.systemusers import add_agent_client, permits
from tests.altinn.systems import CLIENT_PACKAGE
from tests.altinn.test_cli import fails, run
from tests.altinn.test_systemusers import agent_user
from tests.conftest import CONSUMER, OTHER, PROVIDER, VENDOR

runner = CliRunner()
FIRM = PROVIDER
GROUP = ("altinn", "client-relationship")


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The firm, a vendor, a consumer and another organisation, registered through the CLI."""
    monkeypatch.setenv("PORTVAKT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PORTVAKT_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    for orgno, name in ((FIRM, "Firm"), (VENDOR, "Vendor"), (CONSUMER, "Consumer"), (OTHER, "Other")):
        run("org", "add", orgno, "--name", name)
    return tmp_path


def rel(command: str, client: str = CONSUMER, facilitator: str = FIRM, role: str = "regnskapsforer") -> Any:
    return run(*GROUP, command, "--client", client, "--facilitator", facilitator, "--role", role)


def test_add_list_and_remove(seeded: Path) -> None:
    made = rel("add")
    assert (made["client_orgno"], made["facilitator_orgno"], made["role"], made["created_by"]) == (
        CONSUMER, FIRM, "regnskapsforer", "operator:cli")
    again = runner.invoke(app, [*GROUP, "add", "--client", CONSUMER, "--facilitator", FIRM, "--role", "REGNSKAPSFORER"])
    assert again.exit_code == 0 and "registered already; nothing changed" in again.stderr
    auditor = rel("add", client=OTHER, role="revisor")
    assert run(*GROUP, "list") == [made, auditor]
    assert run(*GROUP, "list", "--client", OTHER) == [auditor]
    assert run(*GROUP, "list", "--facilitator", FIRM, "--client", CONSUMER) == [made]
    assert run(*GROUP, "list", "--facilitator", VENDOR) == []
    assert rel("remove") == made
    assert run(*GROUP, "list") == [auditor]
    with open_store().read() as uow:
        actions = [e.action for e in uow.list_audit(org=CONSUMER, entity_kind="clientrelationship")]
    assert sorted(actions) == ["clientrelationship.add", "clientrelationship.remove"]


def test_errors_are_one_readable_line(seeded: Path) -> None:
    fails(*GROUP, "add", "--client", "123456785", "--facilitator", FIRM, "--role", "revisor",
          text="no organisation 123456785")
    fails(*GROUP, "add", "--client", CONSUMER, "--facilitator", CONSUMER, "--role", "revisor",
          text="its own facilitator")
    fails(*GROUP, "add", "--client", "12", "--facilitator", FIRM, "--role", "revisor", text="client must be")
    fails(*GROUP, "remove", "--client", CONSUMER, "--facilitator", FIRM, "--role", "revisor",
          text="no client relationship")
    fails(*GROUP, "remove", "--client", CONSUMER, "--facilitator", "nope", "--role", "revisor",
          text="--facilitator must be")
    fails(*GROUP, "list", "--client", "nope", text="--client must be")
    bad_role = runner.invoke(app, [*GROUP, "add", "--client", CONSUMER, "--facilitator", FIRM, "--role", "styreleder"])
    assert bad_role.exit_code == 2 and "regnskapsforer" in bad_role.output and "Traceback" not in bad_role.output
    assert run(*GROUP, "list") == []


def test_removing_takes_the_client_off_the_firms_agent(seeded: Path) -> None:
    store = open_store()
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    agent = agent_user(store, clock)
    rel("add")
    with store.begin() as uow:
        add_agent_client(uow, agent, CONSUMER, Actor(FIRM, "portvakt-portal", "per@firm.test"), clock.now())
    with store.read() as uow:
        assert permits(uow, agent.system_user_id, None, "read", CONSUMER, CLIENT_PACKAGE)
    result = runner.invoke(app, [*GROUP, "remove", "--client", CONSUMER, "--facilitator", FIRM, "--role",
                                 "regnskapsforer"])
    assert result.exit_code == 0, result.output
    assert "removed from 1 agent system user(s)" in result.stderr
    with store.read() as uow:
        assert uow.list_agent_clients(agent.system_user_id) == []
        assert not permits(uow, agent.system_user_id, None, "read", CONSUMER, CLIENT_PACKAGE)
