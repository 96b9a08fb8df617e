"""Threat: authorization_details silently ignored. Every request for details is refused (RFC 9396 §5)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import ISSUER, World

SYSTEMUSER = [{"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis",
                                                                 "ID": "0192:310838128"}}]


def refused(resp: Any) -> None:
    """400 invalid_authorization_details, MP-270, with its error page."""
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["error"] == "invalid_authorization_details", body
    assert body["error_uri"] == f"{ISSUER}errors/MP-270"
    assert "access_token" not in body


@pytest.mark.parametrize("details", [SYSTEMUSER, [{"type": "urn:example:unknown"}], "x", [], {"type": "x"}])
def test_grant_claim_is_refused(world: World, details: Any) -> None:
    refused(world.post(world.grant(authorization_details=details)))


@pytest.mark.parametrize("details", [json.dumps(SYSTEMUSER), json.dumps([{"type": "urn:example:unknown"}]), "x"])
def test_form_parameter_is_refused(world: World, details: str) -> None:
    refused(world.post(world.grant(), authorization_details=details))


def test_metadata_lists_no_types(world: World) -> None:
    meta = world.http.get("/.well-known/oauth-authorization-server").json()
    assert meta["authorization_details_types_supported"] == []


def test_error_page_renders(world: World) -> None:
    page = world.http.get("/errors/MP-270")
    assert page.status_code == 200
    assert "invalid_authorization_details" in page.text and "MP-270" in page.text
