"""A local Maskinporten for test suites: a real portvakt, started and torn down by the tests, seeded in a few lines.

* `Maskinporten`: the server as a context manager (`with portvakt.testing.Maskinporten() as mp:`), for unittest
  and scripts; `issuer`, `token_endpoint`, `jwks_uri`, the seeding API (`org`, `scope`, `grant_access`,
  `revoke_access`, `client`, `scheme`, `delegate`, `revoke`, `system`, `system_user`, `remove_system_user`),
  `token(...)` and `failing(...)`.
* The pytest plugin (this package, entry point `portvakt.testing`; or `pytest -p portvakt.testing`): the fixtures
  `maskinporten` and `maskinporten_token` (portvakt.testing.plugin).
* `portvakt serve --ephemeral --seed FILE.yaml`: the same server for tests in other languages
  (portvakt.testing.ephemeral, portvakt.testing.seedfile).

Importing this package (as pytest does with every plugin) loads no server code: the names below are imported on
first use, and a server's first start loads the rest.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .seeding import ApiScope, Client, Delegation, Org, Scheme, SeedError, System, SystemUser
    from .server import FailureHandle, Maskinporten, wait_for_stopped
    from .tokens import Token, TokenRefused

_LAZY = {"ApiScope": "seeding", "Client": "seeding", "Delegation": "seeding", "Org": "seeding", "Scheme": "seeding",
         "SeedError": "seeding", "System": "seeding", "SystemUser": "seeding", "FailureHandle": "server",
         "Maskinporten": "server", "wait_for_stopped": "server",
         "Token": "tokens", "TokenRefused": "tokens"}

__all__ = ["ApiScope", "Client", "Delegation", "FailureHandle", "Maskinporten", "Org", "Scheme", "SeedError",
           "System", "SystemUser", "Token", "TokenRefused", "wait_for_stopped"]


def __getattr__(name: str) -> Any:
    """The public names, imported when first used (PEP 562)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if importlib.util.find_spec("pytest") is not None:  # this package is the pytest plugin too
    from .plugin import (
        maskinporten,
        maskinporten_token,
        pytest_addoption,
        pytest_runtest_teardown,
        pytest_sessionfinish,
    )

    __all__ += ["maskinporten", "maskinporten_token", "pytest_addoption", "pytest_runtest_teardown",
                "pytest_sessionfinish"]
