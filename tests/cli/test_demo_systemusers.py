"""`portvakt serve --demo` and system users (docs/protocol.md §6): the vendor's system in the register with its client,
the customer's approved system user, the accounting firm's agent system user with one client, each made once; and
the printed `--systemuser-org` commands get a system user's token."""

from __future__ import annotations

import io
import json
import shlex
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from portvakt.cli import app, demo
from portvakt.domain.clock import SystemClock
from portvakt.domain.models import RequestStatus, SystemUserType
from portvakt.domain.systemusers import permits
from portvakt.jose import peek
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.portal.stack import CHEAP_HASHER

ISSUER = "http://portvakt.test/"
CUSTOMER, CLIENT = demo.CONSUMER[0], demo.ACCOUNTING_CLIENT[0]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MemoryStore, Settings, str]]:
    """The demo seeded twice into one store (a restart), once for the module, with cheap password hashes; what the
    second run printed. The printed paths are relative to the folder it ran in, which stays the cwd."""
    folder = tmp_path_factory.mktemp("demo")
    settings = Settings(issuer=ISSUER, data_dir=folder / "var", demo=True)
    store = MemoryStore()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setattr(demo, "Argon2PasswordHasher", lambda: CHEAP_HASHER)
        with redirect_stderr(io.StringIO()):
            demo.seed_demo(store, settings)
        with redirect_stderr(io.StringIO()) as printed:
            demo.seed_demo(store, settings)
        yield store, settings, printed.getvalue()


def systemuser_commands(stderr: str) -> list[list[str]]:
    return [shlex.split(ln.strip()) for ln in stderr.splitlines() if " --systemuser-org " in ln]


def test_the_system_is_registered_once_with_the_vendors_client(seeded: tuple[MemoryStore, Settings, str]) -> None:
    store, _, _ = seeded
    with store.read() as uow:
        systems = uow.list_systems(vendor_orgno=demo.VENDOR[0])
        [client] = [c for c in uow.list_clients(client_orgno=demo.VENDOR[0]) if c.client_name == "Turboskatt"]
    assert [s.system_id for s in systems] == [demo.SYSTEM_ID]
    system = systems[0]
    assert system.client_ids == (client.client_id,) and system.name["nb"] == "Turboskatt"
    assert [r.resource_ids for r in system.rights] == [(demo.SYSTEM_RESOURCE,)]
    assert system.access_packages == (demo.CLIENT_PACKAGE,) and not system.is_visible and not system.deleted


def test_the_customer_approved_a_system_user_and_an_agent_one_with_a_client(
        seeded: tuple[MemoryStore, Settings, str]) -> None:
    store, _, _ = seeded
    with store.read() as uow:
        users = {u.user_type: u for u in uow.list_system_users(system_id=demo.SYSTEM_ID)}
        assert len(users) == 2, "seeded twice, made once"
        standard, agent = users[SystemUserType.STANDARD], users[SystemUserType.AGENT]
        assert (standard.owner_orgno, standard.external_ref) == (CUSTOMER, CUSTOMER)
        assert (agent.owner_orgno, agent.external_ref) == (CUSTOMER, demo.AGENT_EXTERNAL_REF)
        assert agent.access_packages == (demo.CLIENT_PACKAGE,) and agent.rights == ()
        assert [c.client_orgno for c in uow.list_agent_clients(agent.system_user_id)] == [CLIENT]
        for user in (standard, agent):
            request = uow.get_request(user.request_id or "")
            assert request is not None and request.status is RequestStatus.ACCEPTED
            assert request.system_user_id == user.system_user_id
        assert uow.get_org(CLIENT) is not None
        # docs/protocol.md §6.6: the decision point's rule on what the demo made
        assert permits(uow, standard.system_user_id, demo.SYSTEM_RESOURCE, "read", CUSTOMER)
        assert not permits(uow, standard.system_user_id, demo.SYSTEM_RESOURCE, "read", CLIENT)
        assert permits(uow, agent.system_user_id, None, None, CLIENT, demo.CLIENT_PACKAGE)
        assert not permits(uow, agent.system_user_id, None, None, CUSTOMER, demo.CLIENT_PACKAGE)


def test_two_commands_name_the_system_users(seeded: tuple[MemoryStore, Settings, str]) -> None:
    _, _, stderr = seeded
    standard, agent = systemuser_commands(stderr)
    assert standard[-2:] == ["--systemuser-org", CUSTOMER] and "--external-ref" not in standard
    assert agent[-4:] == ["--systemuser-org", CUSTOMER, "--external-ref", demo.AGENT_EXTERNAL_REF]
    assert standard[standard.index("--scope") + 1] == demo.OPEN_SCOPE
    assert "Toten Trelast AS (311900048)" in " ".join(stderr.split())


def test_the_printed_commands_get_the_system_users_tokens(seeded: tuple[MemoryStore, Settings, str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    store, settings, stderr = seeded
    with store.read() as uow:
        ids = {u.external_ref: u.system_user_id for u in uow.list_system_users(system_id=demo.SYSTEM_ID)}
    asgi = assemble(settings, ("token", "altinn"), Overrides(store=store, clock=SystemClock(), kek=b"test-kek"))
    details = []
    with TestClient(asgi, base_url="http://portvakt.test") as http:

        @contextmanager
        def borrowed(**_: Any) -> Iterator[TestClient]:
            yield http

        monkeypatch.setattr("portvakt.cli.token.httpx", SimpleNamespace(Client=borrowed))
        for argv in systemuser_commands(stderr):
            result = CliRunner().invoke(app, argv[1:])
            assert result.exit_code == 0, result.output
            details.append(peek(json.loads(result.stdout)["access_token"]).claims)
    owner = {"authority": "iso6523-actorid-upis", "ID": f"0192:{CUSTOMER}"}
    assert [c["authorization_details"] for c in details] == [
        [{"type": "urn:altinn:systemuser", "systemuser_org": owner, "systemuser_id": [ids[CUSTOMER]],
          "system_id": demo.SYSTEM_ID, "externalRef": CUSTOMER}],
        [{"type": "urn:altinn:systemuser", "systemuser_org": owner, "systemuser_id": [ids[demo.AGENT_EXTERNAL_REF]],
          "system_id": demo.SYSTEM_ID, "externalRef": demo.AGENT_EXTERNAL_REF}]]
    assert all(c["consumer"]["ID"] == f"0192:{demo.VENDOR[0]}" and "supplier" not in c for c in details)
