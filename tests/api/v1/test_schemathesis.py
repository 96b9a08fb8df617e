"""schemathesis against /api/v1/openapi.json with an authenticated token: no 5xx, no response off-schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.v1.conftest import ALL_DCR
from tests.conftest import VENDOR, World

CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def api_schema(world: World) -> Any:
    """The live OpenAPI document of the app under test."""
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", world.http.app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case: Any, token_for: Callable[..., str]) -> None:
    token = token_for(VENDOR, *ALL_DCR, "idporten:scopes.write")
    case.call_and_validate(headers={"authorization": f"Bearer {token}"}, checks=CHECKS)
