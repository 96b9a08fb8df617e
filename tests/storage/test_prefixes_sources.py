"""Contract: prefixes listed by owner, and delegation sources (docs/protocol.md §3.4) kept by name with unique
issuers."""

from __future__ import annotations

import dataclasses

import pytest

from portvakt.domain.errors import Conflict
from portvakt.domain.ports import Store

from .builders import ORG_A, ORG_B, ORG_C, at, source
from .conftest import Backend


def test_list_prefixes_sorted_by_code_point_and_filtered_by_owner(store: Store) -> None:
    with store.begin() as uow:
        for prefix, owner in (("skatt", ORG_B), ("Zeta", ORG_A), ("brreg", ORG_A), ("ærø", ORG_A), ("a-b", ORG_B)):
            uow.put_prefix(prefix, owner)
        uow.put_prefix("skatt", ORG_A)  # reassigned
    with store.read() as uow:
        assert uow.list_prefixes() == [("Zeta", ORG_A), ("a-b", ORG_B), ("brreg", ORG_A), ("skatt", ORG_A),
                                       ("ærø", ORG_A)]
        assert uow.list_prefixes(ORG_B) == [("a-b", ORG_B)]
        assert uow.list_prefixes(owner_orgno=ORG_A)[0] == ("Zeta", ORG_A)
        assert uow.list_prefixes(ORG_C) == []
        assert all(type(pair) is tuple for pair in uow.list_prefixes())


def test_delegation_source_round_trips_and_is_found_by_name(store: Store) -> None:
    with store.begin() as uow:
        assert uow.get_delegation_source("altinn") is None
        uow.put_delegation_source(source("altinn", "https://platform.altinn.no/"))
        assert uow.get_delegation_source("altinn") == source("altinn", "https://platform.altinn.no/")
    with store.read() as uow:
        assert uow.get_delegation_source("altinn") == source("altinn", "https://platform.altinn.no/")
        assert uow.get_delegation_source("Altinn") is None
        assert uow.list_delegation_sources() == [source("altinn", "https://platform.altinn.no/")]


def test_put_delegation_source_upserts_by_name(store: Store) -> None:
    with store.begin() as uow:
        uow.put_delegation_source(source("altinn"))
    changed = dataclasses.replace(source("altinn", "https://tt02.altinn.no/"), last_updated=at(60))
    with store.begin() as uow:
        uow.put_delegation_source(changed)
        uow.put_delegation_source(source("old-altinn", "https://altinn.example/"))  # the freed issuer
    with store.read() as uow:
        assert uow.list_delegation_sources() == [changed, source("old-altinn", "https://altinn.example/")]


def test_list_delegation_sources_sorted_by_code_point(store: Store) -> None:
    with store.begin() as uow:
        for name in ("skatt", "Zeta", "altinn", "ærø"):
            uow.put_delegation_source(source(name, f"https://{len(name)}-{name}.example/"))
    with store.read() as uow:
        assert [s.name for s in uow.list_delegation_sources()] == ["Zeta", "altinn", "skatt", "ærø"]


def test_an_issuer_belongs_to_one_source(store: Store) -> None:
    with store.begin() as uow:
        uow.put_delegation_source(source("altinn", "https://altinn.example/"))

    def add_other_then_a_copy() -> None:
        with store.begin() as uow:
            uow.put_delegation_source(source("other", "https://other.example/"))
            uow.put_delegation_source(source("copy", "https://altinn.example/"))

    with pytest.raises(Conflict, match="altinn"):
        add_other_then_a_copy()
    with store.read() as uow:  # the whole unit of work rolled back
        assert [s.name for s in uow.list_delegation_sources()] == ["altinn"]


def test_sources_are_shared_between_stores_on_one_database(backend: Backend) -> None:
    other, _ = backend.another()
    with backend.store.begin() as uow:
        uow.put_delegation_source(source("altinn"))
    with other.read() as uow:
        assert uow.list_delegation_sources() == [source("altinn")]
