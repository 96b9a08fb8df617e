"""Threat: authorization_details silently ignored. A request for details gets them in the token or is refused, never
a plain token (RFC 9396 §5, docs/protocol.md §6.5)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.test_token_success import verify
from tests.api.test_token_systemuser import add_system, add_user
from tests.conftest import CONSUMER, ISSUER, World

SYSTEMUSER = [{"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis",
                                                                 "ID": f"0192:{CONSUMER}"}}]


def refused(resp: Any, code: str, error: str = "invalid_authorization_details") -> None:
    """400 with the error and MP code, with its error page, and no token."""
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["error"] == error, body
    assert body["error_uri"] == f"{ISSUER}errors/{code}"
    assert "access_token" not in body


@pytest.mark.parametrize("details", [[{"type": "urn:example:unknown"}], "x", [], {"type": "x"},
                                     [*SYSTEMUSER, {"type": "urn:example:unknown"}]])
def test_unsupported_or_malformed_claim_is_refused(world: World, details: Any) -> None:
    refused(world.post(world.grant(authorization_details=details)), "MP-301")


def test_supported_type_without_a_system_user_is_refused_not_ignored(world: World) -> None:
    refused(world.post(world.grant(authorization_details=SYSTEMUSER)), "MP-303",
            "invalid_altinn_customer_configuration")


def test_supported_type_with_a_system_user_is_in_the_token(world: World) -> None:
    add_system(world)
    user = add_user(world)
    resp = world.post(world.grant(authorization_details=SYSTEMUSER))
    assert resp.status_code == 200, resp.text
    details = verify(world, resp.json()["access_token"])["authorization_details"]
    assert [d["systemuser_id"] for d in details] == [[user.system_user_id]]


@pytest.mark.parametrize("details", [json.dumps(SYSTEMUSER), json.dumps([{"type": "urn:example:unknown"}]), "x"])
def test_form_parameter_is_refused(world: World, details: str) -> None:
    add_system(world)
    add_user(world)  # even a parameter the grant could have carried is refused: only the signed grant counts
    refused(world.post(world.grant(), authorization_details=details), "MP-270")


def test_metadata_lists_exactly_the_supported_type(world: World) -> None:
    meta = world.http.get("/.well-known/oauth-authorization-server").json()
    assert meta["authorization_details_types_supported"] == ["urn:altinn:systemuser"]


@pytest.mark.parametrize("code", ["MP-270", "MP-301", "MP-302", "MP-303"])
def test_error_page_renders(world: World, code: str) -> None:
    page = world.http.get(f"/errors/{code}")
    assert page.status_code == 200
    assert "invalid_authorization_details" in page.text and code in page.text
