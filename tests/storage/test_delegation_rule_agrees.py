"""Contract: the delegation rule (docs/protocol.md §4.2 step 4) is written three times, and the three agree.

`domain.delegations.delegations_between` (the Altinn side's lookup API), the memory store's `has_delegation` and the
SQL store's `has_delegation` (the token path) must give the same answer for every consumer, supplier and scope, over
generated sets of schemes, delegations and revocations: an unrevoked delegation of an active scheme that names the
scope.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest

from portvakt.domain.delegations import delegations_between
from portvakt.domain.models import Delegation, DelegationScheme
from portvakt.domain.ports import Store

from .builders import ORG_A, ORG_B, ORG_C, at, delegation, scheme

ORGS = (ORG_A, ORG_B, ORG_C)
SCOPES = ("brreg:a", "brreg:b", "brreg:c", "skatt:x")
#: What is asked: every scope, and names no scheme holds (a prefix, an unknown scope).
ASKED = (*SCOPES, "brreg", "brreg:unknown")
SEEDS = range(6)


def generated(seed: int) -> tuple[list[DelegationScheme], list[Delegation]]:
    """Schemes naming random scopes, some inactive; delegations between random orgs, some revoked (seeded)."""
    rnd = random.Random(seed)
    schemes = [scheme(f"s{i}", scopes=tuple(rnd.sample(SCOPES, rnd.randint(0, 3))), active=rnd.random() < 0.7)
               for i in range(5)]
    delegations = []
    for i in range(14):
        consumer, supplier = rnd.choice(ORGS), rnd.choice(ORGS)
        made = delegation(f"d{i}", consumer=consumer, supplier=supplier, scheme_id=rnd.choice(schemes).scheme_id,
                          created=at(i))
        delegations.append(replace(made, revoked=at(100 + i), revoked_by="x") if rnd.random() < 0.3 else made)
    return schemes, delegations


def expected(schemes: list[DelegationScheme], delegations: list[Delegation], consumer: str, supplier: str,
             scope: str) -> bool:
    """The rule, from the generated data alone."""
    by_id = {s.scheme_id: s for s in schemes}
    return any(d.consumer_orgno == consumer and d.supplier_orgno == supplier and d.revoked is None
               and by_id[d.scheme_id].active and scope in by_id[d.scheme_id].scopes for d in delegations)


@pytest.mark.parametrize("seed", SEEDS)
def test_has_delegation_and_delegations_between_agree(store: Store, seed: int) -> None:
    schemes, delegations = generated(seed)
    with store.begin() as uow:
        for s in schemes:
            uow.put_scheme(s)
        for d in delegations:
            uow.put_delegation(d)
    disagreements = []
    with store.read() as uow:
        for consumer, supplier, scope in itertools.product(ORGS, ORGS, ASKED):
            store_says = uow.has_delegation(consumer, supplier, scope)
            domain_says = bool(delegations_between(uow, consumer, supplier, scope))
            rule_says = expected(schemes, delegations, consumer, supplier, scope)
            if not store_says == domain_says == rule_says:
                disagreements.append((consumer, supplier, scope, store_says, domain_says, rule_says))
    assert disagreements == []


def test_the_generated_sets_have_both_answers() -> None:
    """The seeds make yes and no answers, revoked delegations and inactive schemes, so the agreement means something."""
    answers = set()
    for seed in SEEDS:
        schemes, delegations = generated(seed)
        assert any(d.revoked for d in delegations) and any(not s.active for s in schemes)
        answers |= {expected(schemes, delegations, c, s, scope) for c, s, scope in itertools.product(ORGS, ORGS, ASKED)}
    assert answers == {True, False}
