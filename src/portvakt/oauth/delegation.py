"""The port through which the token service asks whether a consumer delegated a scope (spec §4.2 step 4)."""

from __future__ import annotations

from typing import Protocol


class DelegationUnavailable(Exception):
    """The delegation source could not answer; delegated requests fail closed."""


class DelegationLookup(Protocol):
    """Answers has_delegation(consumer, supplier, scope); raises DelegationUnavailable when it cannot."""

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool: ...


class NoDelegations:
    """The lookup of a token service with no Altinn side attached: nothing is delegated."""

    def has_delegation(self, consumer_orgno: str, supplier_orgno: str, scope: str) -> bool:
        return False
