"""The pytest plugin (entry point `portvakt.testing` in `pytest11`): the `maskinporten` and `maskinporten_token`
fixtures. Nothing starts unless a test asks for one of them; importing this module loads no server code.

    def test_token(maskinporten, maskinporten_token):
        vendor = maskinporten.org()
        api = maskinporten.scope("brreg:test/read")
        maskinporten.grant_access(api, vendor)
        client = maskinporten.client(vendor, [api])
        assert maskinporten_token(client, [api]).claims["consumer"]["ID"] == f"0192:{vendor.orgno}"

The server's scope is `function` (a fresh server per test) unless the ini option `maskinporten_scope` or
`--maskinporten-scope` says `module` or `session`. Whatever its scope, an armed failure (`maskinporten.failing`)
is disarmed after every test.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Literal, Protocol

import pytest

if TYPE_CHECKING:
    from .seeding import Client, Org
    from .server import Maskinporten
    from .tokens import Token

Scope = Literal["function", "module", "session"]
_SCOPE_OF: dict[str, Scope] = {"function": "function", "module": "module", "session": "session"}
SCOPES = tuple(_SCOPE_OF)
_INI = "maskinporten_scope"
_LIVE = pytest.StashKey[set["Maskinporten"]]()


class TokenFactory(Protocol):
    """`maskinporten_token(client, scopes, consumer_org=None, resource=None, systemuser_org=None, external_ref=None)`:
    a real token from the real /token."""

    def __call__(self, client: Client, scopes: str | Iterable[object], consumer_org: str | Org | None = None,
                 resource: str | list[str] | None = None) -> Token:
        """The token, or TokenRefused with its MP code."""
        ...


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ini option and the command-line option that choose the server's scope."""
    parser.addini(_INI, f"scope of the maskinporten fixture: {', '.join(SCOPES)} (default function)",
                  default="function")
    parser.getgroup("portvakt").addoption(
        "--maskinporten-scope", dest=_INI, choices=SCOPES, default=None,
        help="scope of the maskinporten fixture (default: the ini option maskinporten_scope, else function)")


def maskinporten_scope(fixture_name: str, config: pytest.Config) -> Scope:
    """The configured scope of the `maskinporten` fixture (pytest's dynamic scope)."""
    value = str(config.getoption(_INI, None) or config.getini(_INI) or "function")
    if value not in _SCOPE_OF:
        raise pytest.UsageError(f"{_INI} must be one of {', '.join(SCOPES)}, not {value!r}")
    return _SCOPE_OF[value]


@pytest.fixture(scope=maskinporten_scope)
def maskinporten(request: pytest.FixtureRequest) -> Iterator[Maskinporten]:
    """A running portvakt on 127.0.0.1 with a free port, a temporary data dir and SQLite (portvakt.testing)."""
    from .server import Maskinporten

    mp = Maskinporten().start()
    live = request.config.stash.setdefault(_LIVE, set())
    live.add(mp)
    try:
        yield mp
    finally:
        live.discard(mp)
        mp.stop(wait=False)


@pytest.fixture
def maskinporten_token(maskinporten: Maskinporten) -> TokenFactory:
    """`maskinporten_token(client, scopes, consumer_org=None, resource=None, systemuser_org=None, external_ref=None)`:
    a real token from the real /token."""
    return maskinporten.token


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After every test: no failure stays armed on a server that outlives it."""
    for mp in item.config.stash.get(_LIVE, set()):
        mp.reset_failures()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Wait for the servers that were stopped without waiting (their threads remove their data dirs)."""
    from .server import wait_for_stopped

    if session.config.stash.get(_LIVE, None) is not None:
        wait_for_stopped()
