"""policy.acting_for: only the portal's token (altinn:portal) may act for an organisation, always for a person."""

from __future__ import annotations

import pytest

from portvakt.domain.errors import Forbidden, Invalid
from portvakt.domain.policy import DCR_WRITE, PORTAL, Caller, acting_for
from tests.conftest import CONSUMER, OPERATOR

PORTAL_CALLER = Caller(OPERATOR, "portal-client", frozenset({PORTAL, DCR_WRITE}))
#: The portal's own client_ids (wiring.portal_clients): the scope alone is not enough.
PORTALS = frozenset({"portal-client"})


def test_without_headers_the_caller_is_unchanged() -> None:
    assert acting_for(PORTAL_CALLER, None, None, PORTALS) is PORTAL_CALLER
    plain = Caller(CONSUMER, "c", frozenset({DCR_WRITE}))
    assert acting_for(plain, None, None, PORTALS) is plain


def test_the_portal_acts_for_the_organisation_and_the_person() -> None:
    acted = acting_for(PORTAL_CALLER, CONSUMER, "ida@vendor.test", PORTALS)
    assert acted == Caller(CONSUMER, "portal-client", PORTAL_CALLER.scopes, "ida@vendor.test")


@pytest.mark.parametrize(("orgno", "person"), [(CONSUMER, "ida"), (CONSUMER, None), (None, "ida"), ("x", "y")])
def test_any_other_token_is_forbidden(orgno: str | None, person: str | None) -> None:
    with pytest.raises(Forbidden, match="portal's own client"):
        acting_for(Caller(CONSUMER, "c", frozenset({DCR_WRITE})), orgno, person, PORTALS)


def test_the_portal_scope_on_another_client_is_forbidden() -> None:
    """docs/security.md, Privilege escalation: altinn:portal on any other client does not make it the portal."""
    with pytest.raises(Forbidden, match="portal's own client"):
        acting_for(Caller(OPERATOR, "another-client", PORTAL_CALLER.scopes), CONSUMER, "ida@vendor.test", PORTALS)


@pytest.mark.parametrize(("orgno", "person", "field"), [
    (CONSUMER, None, "Portvakt-Person"), (None, "ida", "Portvakt-Acting-For"),
    ("310838127", "ida", "Portvakt-Acting-For"), ("", "ida", "Portvakt-Acting-For"),
    (CONSUMER, "Ida Ærlig", "Portvakt-Person"), (CONSUMER, "", "Portvakt-Person"),
])
def test_bad_or_missing_values_are_invalid(orgno: str | None, person: str | None, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        acting_for(PORTAL_CALLER, orgno, person, PORTALS)
    assert caught.value.field == field
