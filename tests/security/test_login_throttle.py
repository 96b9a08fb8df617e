"""Threat: login brute force in parallel, and a login flood (docs/security.md, Login brute force; Login flood).

Every attempt is counted before its password is checked, so requests sent at once cannot all slip under
the limit; the Altinn side runs a bounded number of argon2id verifications and refuses the rest with 429,
so a storm of logins cannot starve the pages of people who are already logged in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from tests.portal.conftest import make_stack
from tests.portal.stack import PEOPLE, Stack

from .portal_crowd import SlowHasher, client, login, run, slow_stack

__all__ = ["make_stack", "slow_stack"]
#: Timing-sensitive: under pytest-xdist these run one after another on one worker (docs/testing.md).
pytestmark = pytest.mark.timing

IDA = "ida@vendor.test"
RIGHT = PEOPLE[IDA][0]


def test_eleven_wrong_and_the_right_password_at_once_do_not_log_in(slow_stack: Callable[..., Stack]) -> None:
    stack = slow_stack(SlowHasher(0.4, max_running=12, max_waiting=0))

    async def attack() -> tuple[list[httpx.Response], httpx.Response]:
        browsers = [client(stack) for _ in range(12)]
        wrong = [asyncio.create_task(login(b, IDA, f"guess-{n}")) for n, b in enumerate(browsers[:11])]
        await asyncio.sleep(0.1)  # the wrong ones are being verified now
        right = await login(browsers[11], IDA, RIGHT)
        return await asyncio.gather(*wrong), right

    wrong, right = run(attack())
    assert right.status_code == 429, "the right password must not win once the limit is reached"
    assert int(right.headers["retry-after"]) > 0
    assert sorted(r.status_code for r in wrong) == [401] * 5 + [429] * 6
    locked = [r for r in wrong if r.status_code == 429]
    assert all(int(r.headers["retry-after"]) > 0 for r in locked)
    assert "For mange mislykkede innlogginger" in locked[0].text
    assert len(stack.recorder.api_calls("POST", "/portal/login")) == 5, "over-limit attempts never reach the API"


def test_a_login_storm_does_not_slow_people_already_logged_in(slow_stack: Callable[..., Stack]) -> None:
    stack = slow_stack(SlowHasher(1.5, max_running=2, max_waiting=2), roles_refresh_seconds=0)

    async def storm() -> tuple[list[httpx.Response], httpx.Response, float, httpx.Response]:
        ida = client(stack, "192.0.2.1")
        assert (await login(ida, IDA, RIGHT)).status_code == 303
        crowd = [client(stack, f"203.0.113.{n}") for n in range(45)]
        tasks = [asyncio.create_task(login(b, f"user{n}@x.test", "guess")) for n, b in enumerate(crowd)]
        await asyncio.sleep(0.3)
        started = time.monotonic()
        page = await ida.get("/portal/systems")  # reads Ida's roles from the Altinn side again
        took = time.monotonic() - started
        answers = await asyncio.gather(*tasks)
        late = await login(client(stack, "192.0.2.2"), "multi@vendor.test", PEOPLE["multi@vendor.test"][0])
        return answers, page, took, late

    answers, page, took, late = run(storm())
    assert page.status_code == 200
    assert took < 1.0, f"a logged-in page took {took:.2f} s during the storm"
    assert {r.status_code for r in answers} <= {401, 429}, "a storm answers 401 or 429, never 5xx"
    busy = [r for r in answers if r.status_code == 429]
    assert busy and all(int(r.headers["retry-after"]) > 0 for r in busy)
    assert "prøv igjen" in busy[0].text.lower()
    assert late.status_code == 303, "after the storm a real person logs in"
