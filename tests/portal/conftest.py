"""Fixtures: an in-process server with the portal in front of it (see stack.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from portvakt.domain.clock import SystemClock
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import build_runtime

from .stack import ISSUER, PORTAL_URL, Stack, make_portal, seed, server_app


@pytest.fixture
def make_stack(tmp_path: Path, rsa_keys: list[PrivateKeyHandle]) -> Iterator[Callable[..., Stack]]:
    """make_stack(**portal_config) -> a fresh Stack; every browser it opened is closed afterwards."""
    opened: list[TestClient] = []

    def make(**config: Any) -> Stack:
        store = MemoryStore()
        clock = SystemClock()
        seed(store, rsa_keys[2], clock.now())
        settings = Settings(issuer=ISSUER, data_dir=tmp_path)
        rt = build_runtime(settings, store=store, clock=clock, kek=b"test-kek")
        root, cfg, recorder, outbox = make_portal(tmp_path, store, rt, rsa_keys[2], **config)
        browser = TestClient(root, base_url=PORTAL_URL)
        browser.__enter__()
        opened.append(browser)
        return Stack(store, rt, server_app(rt), outbox, recorder, browser, cfg)

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
