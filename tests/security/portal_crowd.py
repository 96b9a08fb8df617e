"""Helpers for the portal threat tests: a stack whose Altinn side checks passwords slowly, and async browsers
that send many requests at the portal at once from different client addresses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import tests.portal.stack as portal_stack
from portvakt.altinn.passwords import Argon2PasswordHasher
from tests.portal.stack import CSRF, PORTAL_URL, Stack


class SlowHasher(Argon2PasswordHasher):
    """The tests' cheap argon2id, but every verification takes `seconds` of wall time in its thread
    (as the real parameters do on a busy machine), so that parallel requests really overlap."""

    def __init__(self, seconds: float, **gate: Any) -> None:
        super().__init__(time_cost=1, memory_cost=8 * 1024, parallelism=1, **gate)
        self.seconds = seconds

    def _verify(self, password_hash: str, password: str) -> bool:
        time.sleep(self.seconds)
        return super()._verify(password_hash, password)


@pytest.fixture
def slow_stack(make_stack: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
               ) -> Callable[..., Stack]:
    """slow_stack(hasher, **portal_config) -> a Stack whose Altinn side checks passwords with `hasher`."""

    def make(hasher: Argon2PasswordHasher, **config: Any) -> Stack:
        monkeypatch.setattr(portal_stack, "CHEAP_HASHER", hasher)
        return make_stack(**config)

    return make


def client(stack: Stack, ip: str = "198.51.100.7") -> httpx.AsyncClient:
    """An async browser at the stack's portal, seen by the portal as coming from `ip`."""
    transport = httpx.ASGITransport(app=stack.browser.app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url=PORTAL_URL)


async def login(browser: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    """GET the login form (its cookie and token), then POST it; no redirect followed."""
    form = await browser.get("/portal/login")
    found = CSRF.search(form.text)
    assert found, form.text[:300]
    return await browser.post("/portal/login", data={"username": username, "password": password,
                                                     "csrf_token": found.group(1)})


def run(coroutine: Any) -> Any:
    """Run a coroutine on a loop of its own (the portal's test client keeps one in another thread)."""
    return asyncio.run(coroutine)
