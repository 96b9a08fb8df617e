"""api.claims: replay claims recorded off the event loop, a batch at a time, every wait bounded."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from portvakt.api.claims import ClaimBatcher
from portvakt.domain.blocking import WouldBlock, may_block, non_blocking
from portvakt.domain.errors import StoreUnavailable
from portvakt.domain.ports import ClaimOutcome, IssuedBeforeLoss, ReplayClaim
from portvakt.storage.memory import MemoryReplayCache


def claim(name: str) -> ReplayClaim:
    return ReplayClaim(hashlib.sha256(name.encode()).digest(), datetime.now(UTC) + timedelta(seconds=120))


class Recording(MemoryReplayCache):
    """A memory replay cache that records each batch it is given, and the thread that gave it, and can be slowed."""

    def __init__(self, delay: float = 0.0, fail: Exception | None = None) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.threads: set[str] = set()
        self.delay = delay
        self.fail = fail

    def first_use_many(self, claims: Sequence[ReplayClaim], within: float | None = None) -> list[ClaimOutcome]:
        self.batches.append(len(claims))
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return super().first_use_many(claims, within)


async def until_busy(replay: Recording) -> None:
    """Until the claim thread has handed the first batch to the store (a thread's start is slow on a loaded host)."""
    deadline = time.monotonic() + 2
    while not replay.batches and time.monotonic() < deadline:
        await asyncio.sleep(0.002)


def test_claims_waiting_together_are_one_batch_off_the_loop() -> None:
    replay = Recording(delay=0.05)

    async def main() -> list[ClaimOutcome]:
        batcher = ClaimBatcher(replay, budget=2)
        first = asyncio.ensure_future(batcher.claim(claim("warm")))
        await until_busy(replay)  # the thread is busy with the first: the next ones queue up
        rest = [batcher.claim(claim(n)) for n in ("a", "b", "a", "c")]
        return [await first, *await asyncio.gather(*rest)]

    assert asyncio.run(main()) == [True, True, True, False, True]
    assert replay.batches == [1, 4]
    assert replay.threads == {"portvakt-claims"}


def test_a_store_failure_fails_every_claim_of_its_batch() -> None:
    replay = Recording(fail=StoreUnavailable("the replay store is unavailable: test"))

    async def main() -> list[BaseException | ClaimOutcome]:
        batcher = ClaimBatcher(replay, budget=2)
        return list(await asyncio.gather(*(batcher.claim(claim(n)) for n in "xyz"), return_exceptions=True))

    assert all(isinstance(r, StoreUnavailable) for r in asyncio.run(main()))


def test_a_loss_is_an_outcome_not_a_failure() -> None:
    lost = IssuedBeforeLoss(datetime.now(UTC), datetime.now(UTC) + timedelta(seconds=130))

    class Lossy:  # one first_use at a time, as a replay cache that can't batch
        def first_use(self, key: bytes, expires: datetime, issued_at: datetime | None = None) -> bool:
            raise lost

        def purge(self, now: datetime) -> int:
            return 0

    async def main() -> ClaimOutcome:
        return await ClaimBatcher(Lossy(), budget=2).claim(claim("old"))

    assert asyncio.run(main()) is lost


def test_a_claim_that_waited_its_whole_budget_is_refused_without_being_recorded() -> None:
    replay = Recording(delay=0.3)

    async def main() -> list[BaseException | ClaimOutcome]:
        batcher = ClaimBatcher(replay, budget=0.2)
        first = asyncio.ensure_future(batcher.claim(claim("slow")))
        await until_busy(replay)
        late = asyncio.ensure_future(batcher.claim(claim("late")))
        return list(await asyncio.gather(first, late, return_exceptions=True))

    started = time.monotonic()
    first, late = asyncio.run(main())
    assert first is True
    assert isinstance(late, StoreUnavailable)
    assert replay.batches == [1]  # "late" never reached the store
    assert time.monotonic() - started < 1.0


def test_shared_counts_are_one_call_per_batch_in_the_thread() -> None:
    calls: list[tuple[list[tuple[str, str | None]], list[str], str]] = []

    def shared(admits: Sequence[tuple[str, str | None]], issued: Sequence[str]) -> list[float]:
        calls.append((list(admits), list(issued), threading.current_thread().name))
        return [7.0 if address == "over" else 0.0 for address, _ in admits]

    async def main() -> list[float]:
        batcher = ClaimBatcher(MemoryReplayCache(), budget=2, shared=shared)

        async def issued_then_admit() -> float:
            batcher.issued("client-a")
            return await batcher.admit("192.0.2.1", "client-a")

        return list(await asyncio.gather(issued_then_admit(), batcher.admit("over", None)))  # one loop iteration

    assert asyncio.run(main()) == [0.0, 7.0]
    assert calls == [([("192.0.2.1", "client-a"), ("over", None)], ["client-a"], "portvakt-claims")]


def test_without_shared_counts_admit_asks_nobody() -> None:
    async def main() -> float:
        batcher = ClaimBatcher(MemoryReplayCache(), budget=2)
        batcher.issued("nobody counts this")
        return await batcher.admit("192.0.2.1", "c")

    assert asyncio.run(main()) == 0.0


def test_the_thread_ends_when_idle_and_starts_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("portvakt.api.claims._IDLE_SECONDS", 0.05)
    batcher = ClaimBatcher(MemoryReplayCache(), budget=2)

    assert asyncio.run(batcher.claim(claim("one"))) is True
    time.sleep(0.3)
    assert not batcher._running  # its thread has ended
    assert asyncio.run(batcher.claim(claim("two"))) is True


def test_may_block_refuses_only_inside_a_non_blocking_section() -> None:
    may_block()
    with non_blocking(), pytest.raises(WouldBlock):
        may_block()
    may_block()
