"""One test server per module (portvakt.testing.Maskinporten), for the tests of the test kit itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portvakt.testing import Maskinporten


@pytest.fixture(scope="module")
def mp() -> Iterator[Maskinporten]:
    """A running server shared by a module's tests (each makes its own organisations)."""
    with Maskinporten() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_failure_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """A module's server serves every test of the module without a failure left armed by another."""
    yield
    if "mp" in request.fixturenames:
        request.getfixturevalue("mp").reset_failures()


@pytest.fixture(scope="module")
def loaded() -> None:
    """Import everything a server and its first token import, before an in-process pytester run: the run forgets
    the modules first imported inside it, and importing them again later would make second copies."""
    import fastapi.testclient  # noqa: F401 (the README's provider example uses it)

    with Maskinporten() as server:
        vendor = server.org()
        api = server.scope("loaded:read", owner=vendor)
        server.token(server.client(vendor, [api]), [api])
