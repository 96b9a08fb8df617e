"""Contract: client relationships (klientforhold, docs/protocol.md §6.4) on every store."""

from __future__ import annotations

import pytest

from portvakt.domain.errors import NotFound
from portvakt.domain.models import ClientRelationship, ClientRole
from portvakt.domain.ports import Store, UnitOfWork

from .builders import ORG_A, ORG_B, ORG_C, T0, at, org
from .conftest import Backend, RollbackError, fail_inside

REGN, REVI, FFOR = ClientRole.REGNSKAPSFORER, ClientRole.REVISOR, ClientRole.FORRETNINGSFORER


def client_relationship(client: str, facilitator: str, role: ClientRole = REGN,
                        created_by: str | None = "operator:cli") -> ClientRelationship:
    """The client has registered the facilitator in the role."""
    return ClientRelationship(client_orgno=client, facilitator_orgno=facilitator, role=role, created=T0,
                              created_by=created_by)


def _orgs(uow: UnitOfWork) -> None:
    for orgno in (ORG_A, ORG_B, ORG_C):
        uow.put_org(org(orgno, f"Org {orgno}"))


def test_round_trip_order_and_filters(store: Store) -> None:
    with store.begin() as uow:
        _orgs(uow)
        uow.put_client_relationship(client_relationship(ORG_B, ORG_A, REVI))
        uow.put_client_relationship(client_relationship(ORG_B, ORG_A, REGN, created_by=None))
        uow.put_client_relationship(client_relationship(ORG_C, ORG_A, FFOR))
        uow.put_client_relationship(client_relationship(ORG_A, ORG_C, REGN))
    everything = [client_relationship(ORG_C, ORG_A, FFOR), client_relationship(ORG_B, ORG_A, REGN, created_by=None),
                  client_relationship(ORG_B, ORG_A, REVI), client_relationship(ORG_A, ORG_C, REGN)]
    everything.sort(key=lambda r: (r.client_orgno, r.facilitator_orgno, r.role.value))
    with store.read() as uow:
        assert uow.list_client_relationships() == everything
        assert uow.list_client_relationships(client_orgno=ORG_B) == [
            client_relationship(ORG_B, ORG_A, REGN, created_by=None), client_relationship(ORG_B, ORG_A, REVI)]
        assert uow.list_client_relationships(facilitator_orgno=ORG_A) == [
            r for r in everything if r.facilitator_orgno == ORG_A]
        assert uow.list_client_relationships(client_orgno=ORG_A, facilitator_orgno=ORG_C) == [
            client_relationship(ORG_A, ORG_C, REGN)]
        assert uow.list_client_relationships(client_orgno=ORG_C, facilitator_orgno=ORG_B) == []
        (got,) = uow.list_client_relationships(client_orgno=ORG_C)
    assert got.created == T0 and got.created.tzinfo is not None and isinstance(got.role, ClientRole)


def test_put_again_replaces_and_delete_says_whether_it_was_there(store: Store) -> None:
    with store.begin() as uow:
        _orgs(uow)
        uow.put_client_relationship(client_relationship(ORG_B, ORG_A))
        uow.put_client_relationship(ClientRelationship(ORG_B, ORG_A, REGN, at(5), "per"))
        uow.put_client_relationship(client_relationship(ORG_B, ORG_A, REVI))
    with store.begin() as uow:
        assert uow.list_client_relationships(client_orgno=ORG_B) == [
            ClientRelationship(ORG_B, ORG_A, REGN, at(5), "per"), client_relationship(ORG_B, ORG_A, REVI)]
        assert uow.delete_client_relationship(ORG_B, ORG_A, REGN) is True
        assert uow.delete_client_relationship(ORG_B, ORG_A, REGN) is False
        assert uow.delete_client_relationship(ORG_B, ORG_A, FFOR) is False
        assert uow.delete_client_relationship(ORG_A, ORG_B, REVI) is False  # the pair is directed
        assert uow.list_client_relationships(client_orgno=ORG_B) == [client_relationship(ORG_B, ORG_A, REVI)]
    with store.read() as uow:
        assert uow.list_client_relationships() == [client_relationship(ORG_B, ORG_A, REVI)]


@pytest.mark.parametrize(("client", "facilitator", "missing"), [
    ("920000002", ORG_A, "920000002"), (ORG_B, "920000002", "920000002")])
def test_both_organisations_must_be_registered(store: Store, client: str, facilitator: str, missing: str) -> None:
    with store.begin() as uow:
        _orgs(uow)
    with pytest.raises(NotFound, match=f"no organisation {missing}"), store.begin() as uow:
        uow.put_client_relationship(client_relationship(client, facilitator))
    with store.read() as uow:
        assert uow.list_client_relationships() == []


def test_a_rollback_keeps_nothing(store: Store) -> None:
    with store.begin() as uow:
        _orgs(uow)
        uow.put_client_relationship(client_relationship(ORG_B, ORG_A))

    def change(uow: UnitOfWork) -> None:
        uow.put_client_relationship(client_relationship(ORG_C, ORG_A))
        assert uow.delete_client_relationship(ORG_B, ORG_A, REGN)
        assert uow.list_client_relationships() == [client_relationship(ORG_C, ORG_A)]  # its own writes

    with pytest.raises(RollbackError):
        fail_inside(store, change)
    with store.read() as uow:
        assert uow.list_client_relationships() == [client_relationship(ORG_B, ORG_A)]


def test_another_process_sees_the_commit(backend: Backend) -> None:
    with backend.store.begin() as uow:
        _orgs(uow)
        uow.put_client_relationship(client_relationship(ORG_B, ORG_A, FFOR))
    other, _ = backend.another()
    with other.read() as uow:
        assert uow.list_client_relationships(facilitator_orgno=ORG_A) == [client_relationship(ORG_B, ORG_A, FFOR)]
