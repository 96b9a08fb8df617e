"""Fixtures: an in-process server with the portal in front of it (see stack.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from portvakt.jose import PrivateKeyHandle

from .stack import Stack
from .stack import make_stack as make_stack_in


@pytest.fixture
def make_stack(tmp_path: Path, rsa_keys: list[PrivateKeyHandle]) -> Iterator[Callable[..., Stack]]:
    """make_stack(**portal_config) -> a fresh Stack; every browser it opened is closed afterwards."""
    opened: list[TestClient] = []

    def make(**config: Any) -> Stack:
        made = make_stack_in(tmp_path, rsa_keys[2], **config)
        made.browser.__enter__()
        opened.append(made.browser)
        return made

    yield make
    for browser in opened:
        browser.__exit__(None, None, None)


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Stack:
    """A stack in dev mode."""
    return make_stack()


@pytest.fixture
def ida(stack: Stack) -> Stack:
    """The stack with Ida (integration responsible for the vendor) logged in."""
    assert stack.login().status_code == 303
    return stack
