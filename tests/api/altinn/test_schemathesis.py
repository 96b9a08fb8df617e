"""schemathesis against /accessmanagement/openapi.json with the portal's token: no 5xx, no response off-schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from portvakt.domain.delegations import DELEGATIONS_ADMIN
from portvakt.domain.portal_client import PORTAL_CLIENT_SCOPES
from tests.api.v1.test_schemathesis import CHECKS
from tests.conftest import OPERATOR, World


@pytest.fixture
def altinn_schema(world: World) -> Any:
    """The live OpenAPI document of the Altinn side."""
    return schemathesis.openapi.from_asgi("/accessmanagement/openapi.json", world.http.app)


schema = schemathesis.pytest.from_fixture("altinn_schema")


@schema.parametrize()
# 12 examples an operation: the Altinn side has some 50 operations, so the suite's time stays bounded.
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_altinn_side_conforms(case: Any, token_for: Callable[..., str]) -> None:
    token = token_for(OPERATOR, *PORTAL_CLIENT_SCOPES, DELEGATIONS_ADMIN)
    case.call_and_validate(headers={"authorization": f"Bearer {token}"}, checks=CHECKS)
