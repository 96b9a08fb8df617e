"""The grant's urn:altinn:systemuser details (docs/protocol.md §6.5): the reader's order of checks, the externalRef
default, and the token's details object."""

from __future__ import annotations

from typing import Any

import pytest

from portvakt.oauth.authorization_details import SystemUserDetails, check_details, from_claim
from portvakt.oauth.errors import OAuthError
from portvakt.oauth.minter import systemuser_details
from portvakt.oauth.systemuser import FoundSystemUser

OWNER = "310838128"
ORG = {"authority": "iso6523-actorid-upis", "ID": f"0192:{OWNER}"}


def code_of(value: Any) -> str:
    with pytest.raises(OAuthError) as err:
        check_details(value)
    return err.value.code


def test_a_valid_ask() -> None:
    asked = check_details([{"type": "urn:altinn:systemuser", "systemuser_org": ORG, "externalRef": "k-1"}])
    assert asked == SystemUserDetails(OWNER, "k-1") and asked.lookup_ref == "k-1"
    plain = check_details([{"type": "urn:altinn:systemuser", "systemuser_org": ORG}])
    assert plain == SystemUserDetails(OWNER) and plain.lookup_ref == OWNER
    assert check_details([{"type": "urn:altinn:systemuser", "systemuser_org": ORG, "externalRef": ""}]) == plain


def test_the_order_type_then_fields_then_values() -> None:
    assert code_of([{"type": "x", "extra": 1, "systemuser_org": "bad"}]) == "MP-301"
    assert code_of([{"type": "urn:altinn:systemuser", "extra": 1, "systemuser_org": "bad"}]) == "MP-302"
    assert code_of([{"type": "urn:altinn:systemuser", "systemuser_org": {**ORG, "x": 1, "authority": "y"}}]) \
        == "MP-302"
    assert code_of([{"type": "urn:altinn:systemuser", "systemuser_org": {**ORG, "authority": "y"}}]) == "MP-303"


def test_error_texts_name_the_part_and_stay_short() -> None:
    with pytest.raises(OAuthError) as err:
        check_details([{"type": "urn:altinn:systemuser", "systemuser_org": {**ORG, "ID": "0192:" + "9" * 5000}}])
    assert "systemuser_org.ID" in err.value.description and len(err.value.description) < 300


def test_no_claim_means_no_ask() -> None:
    assert from_claim({"scope": "x"}) is None


def test_the_token_details_object() -> None:
    found = FoundSystemUser("su-1", "314330897_regnskap", OWNER, "k-1")
    assert systemuser_details(found) == {
        "type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"0192:{OWNER}"},
        "systemuser_id": ["su-1"], "system_id": "314330897_regnskap", "externalRef": "k-1"}
